// Lifecycle throughput: whole applications through the HTTP API — submit, accept, approve,
// issue_result, deliver, each step by the role the contract requires — whole escalations — file,
// accept, assign, respond, feedback, close — and whole 12345 work orders — file, dispatch, sign,
// respond, reply, callback — each against bare Temporal workflows started and completed on the same
// dev server in the same run (bench/intake's baseline), and whole applications against bare
// workflows that take as many Updates (Update-with-Start, then one Update per action): the fair
// baseline, with each action's p50 over a bare Update's; and against the guarantees' floor
// (bench/floor.ts), as many commands over HTTP, each Update writing its event to Postgres first.
// Usage: node --import tsx bench/lifecycle.ts [N] [concurrency] [--apis 1,2] [--workers 1,2] [--knee]
//   (defaults 150 and 8, in this process). `--apis`/`--workers`: one run per pairing, as that many
//   `banjian start --role api`/`--role worker` processes on one dev server and one database, then a
//   table of full cases' rate by process count. `--knee`: in each run, also the concurrency of full
//   cases at which the p95 of their commands passes 1 s.
// Needs Postgres in DATABASE_URL or TEST_DATABASE_URL; works in a fresh schema (or database) it drops at the end.
import { APPLICATION_QUEUE } from '../src/workflows/application/contract.ts'
import type { ApplicationAction } from '../src/domain/application/actions.ts'
import {
  benchArgs, findKnee, gained, layoutName, measure, percentile, printKnee, printScaleTable, report, type ScaleRow, type Scrape,
  summarize, withBenchSystem, type BenchSystem,
} from './support.ts'

const args = benchArgs({ n: 150, concurrency: 8, warmUp: 10 })
const rows: ScaleRow[] = []

/** After submission: each action, whose key takes it, its parameters and the status it leads to. */
const STEPS: Array<[ApplicationAction, 'department' | 'window', Record<string, unknown>, string]> = [
  ['accept', 'department', {}, 'accepted'],
  ['approve', 'department', { note: 'conditions met' }, 'approved'],
  ['issue_result', 'department', { certificateNo: 'BENCH' }, 'result_issued'],
  ['deliver', 'window', { method: 'window' }, 'completed'],
]

/** A work order's steps after filing, by the window that received it (its owner) or the unit dispatched to. */
const COMPLAINT_STEPS: Array<[string, 'department' | 'window', Record<string, unknown>, string]> = [
  ['dispatch', 'window', { toOrganizationId: 'gz-amr' }, 'dispatched'],
  ['sign', 'department', {}, 'dispatched'],
  ['respond', 'department', { answer: 'handled' }, 'responded'],
  ['reply', 'window', { message: 'told the citizen' }, 'replied'],
  ['callback', 'window', { satisfied: true }, 'closed'],
]

/** One full work order, filed at the comprehensive window (rule 38) and closed on a satisfied callback. */
async function fullComplaint(system: BenchSystem, tag: string, i: number, steps?: Map<string, number[]>): Promise<void> {
  const timed = async <T>(name: string, step: () => Promise<T>): Promise<T> => {
    const began = performance.now()
    const out = await step()
    if (steps) steps.set(name, [...(steps.get(name) ?? []), performance.now() - began])
    return out
  }
  const { id } = await timed('file', () => system.expect(201, system.keys.window, 'POST', '/v1/complaints', {
    type: 'complaint', channel: 'window', content: `bench ${tag} ${i}`, citizen: { name: `市民${i}` },
  }, { 'idempotency-key': `bench-complaint-${tag}-${i}` }))
  for (const [action, role, params, status] of COMPLAINT_STEPS) {
    const view = await timed(action, () => system.expect(200, system.keys[role], 'POST', `/v1/cases/${id}/actions`, { action, ...params }))
    if (view.status !== status) throw new Error(`${id}: ${action} left the work order ${view.status}, not ${status}`)
  }
}

/** One full case; each step's latency goes into `steps` when given. */
async function fullCase(system: BenchSystem, tag: string, i: number, steps?: Map<string, number[]>): Promise<void> {
  const timed = async <T>(name: string, step: () => Promise<T>): Promise<T> => {
    const began = performance.now()
    const out = await step()
    const elapsed = performance.now() - began
    if (steps) steps.set(name, [...(steps.get(name) ?? []), elapsed])
    return out
  }
  const { id } = await timed('submit', () => system.submit(tag, i))
  for (const [action, role, params, status] of STEPS) {
    const view = await timed(action, () => system.expect(200, system.keys[role], 'POST', `/v1/cases/${id}/actions`, { action, ...params }))
    if (view.status !== status) throw new Error(`${id}: ${action} left the case ${view.status}, not ${status}`)
  }
}

/** After filing: each escalation action, whose key takes it, its parameters and the status it leads to. */
const ESCALATION_STEPS: Array<[string, 'department' | 'window', Record<string, unknown>, string]> = [
  ['accept', 'window', {}, 'accepted'],
  ['assign', 'window', { toOrganizationId: 'gz-amr' }, 'assigned'],
  ['respond', 'department', { resolution: 'handled', resolved: true }, 'responded'],
  ['feedback', 'window', { message: 'handled' }, 'feedback_given'],
  ['close', 'window', { satisfied: true }, 'closed'],
]

/** One whole escalation (办不成事) through the API. */
async function fullEscalation(system: BenchSystem, tag: string, i: number): Promise<void> {
  const { id } = await system.expect(201, system.keys.window, 'POST', '/v1/escalations', {
    category: 'overdue', complainant: { name: `申请人${i}` }, description: `escalation ${tag} ${i}`,
  }, { 'idempotency-key': `bench-escalation-${tag}-${i}` })
  for (const [action, role, params, status] of ESCALATION_STEPS) {
    const view = await system.expect(200, system.keys[role], 'POST', `/v1/cases/${id}/actions`, { action, ...params })
    if (view.status !== status) throw new Error(`${id}: ${action} left the escalation ${view.status}, not ${status}`)
  }
}

/**
 * Where a full case's commands spent their time (issue 13's profile), as means per command over the
 * API full cases: from the API's command histogram, its Temporal call histogram and the worker's
 * own metrics (workflow tasks, local activities, task queue waits) between two scrapes.
 */
function printBreakdown(before: Scrape, after: Scrape, steps: Map<string, number[]>): void {
  const commands = [...steps.values()].reduce((n, l) => n + l.length, 0)
  const perCommand = (seconds: number) => `${((seconds * 1000) / commands).toFixed(1)} ms`
  const waited = [...steps.values()].flat().reduce((sum, l) => sum + l, 0) / 1000
  const api = gained(before, after, 'banjian_command_duration_seconds', { kind: 'application', outcome: 'done' })
  const temporal = gained(before, after, 'banjian_temporal_call_duration_seconds')
  const workflow = { workflow_type: 'applicationWorkflow' }
  const tasks = gained(before, after, 'temporal_workflow_task_execution_latency_seconds', workflow)
  const projection = gained(before, after, 'temporal_local_activity_execution_latency_seconds', { ...workflow, activity_type: 'recordCaseEvents' })
  const preReview = gained(before, after, 'temporal_local_activity_execution_latency_seconds', { ...workflow, activity_type: 'attachSharedMaterials' })
  // Labelled by task queue, not workflow type: the applications' queue (src/infra/temporal.ts).
  const queued = gained(before, after, 'temporal_workflow_task_schedule_to_start_latency_seconds', { task_queue: `bench-${APPLICATION_QUEUE}` })
  const rows: Array<[string, number, string]> = [
    ['the caller waited (HTTP over loopback)', waited, `${commands} commands`],
    ['  the API handled the request', api.seconds, `${api.count} observed`],
    ['    the API\'s own work: key, parsing, reads, access log, answer', api.seconds - temporal.seconds, 'the two lines above and below apart'],
    ['    Temporal answered the Update (or Update-with-Start)', temporal.seconds, `${temporal.count} calls`],
    ['      the worker ran workflow tasks', tasks.seconds, `${(tasks.count / commands).toFixed(2)} tasks per command`],
    ['        of which the projection into Postgres (local activity)', projection.seconds, `${projection.count} runs`],
    ['        of which pre-review (local activity, submissions only)', preReview.seconds, `${preReview.count} runs`],
    ['      workflow tasks waited for the worker (schedule to start)', queued.seconds, ''],
    ['      the server and the round trips: the rest', temporal.seconds - tasks.seconds - queued.seconds, ''],
  ]
  console.log('  where a command\'s time went (mean per command over the API full cases):')
  const width = Math.max(...rows.map(([label]) => label.length))
  for (const [label, seconds, note] of rows) console.log(`    ${label.padEnd(width)} ${perCommand(seconds).padStart(9)}  ${note}`)
}

for (const layout of args.layouts) {
  const name = layoutName(layout)
  await withBenchSystem(async (system) => {
    await measure('warm-up', args.warmUp, args.concurrency, async (i) => {
      await fullCase(system, 'warm', i)
      await fullComplaint(system, 'warm', i)
      await fullEscalation(system, 'warm', i)
      await system.runBare('warm', i)
      await system.runBareUpdates('warm', i, STEPS.length)
      await system.runFloor('warm', i, STEPS.length)
    })
    const steps = new Map<string, number[]>()
    const complaintSteps = new Map<string, number[]>()
    const beforeCases = await system.scrape()
    const api = summarize(await measure('API full cases', args.n, args.concurrency, (i) => fullCase(system, 'run', i, steps)))
    const afterCases = await system.scrape()
    const complaints = summarize(await measure('API full work orders', args.n, args.concurrency, (i) => fullComplaint(system, 'run', i, complaintSteps)))
    const escalations = summarize(await measure('API escalations', args.n, args.concurrency, (i) => fullEscalation(system, 'run', i)))
    const raw = summarize(await measure('bare workflows', args.n, args.concurrency, (i) => system.runBare('run', i)))
    const bareUpdateLatencies: number[] = []
    const rawCases = summarize(await measure('bare cases', args.n, args.concurrency,
      (i) => system.runBareUpdates('run', i, STEPS.length, bareUpdateLatencies)))
    const floorLatencies: number[] = []
    const floor = summarize(await measure('floor cases', args.n, args.concurrency,
      (i) => system.runFloor('run', i, STEPS.length, floorLatencies)))
    await system.expectFloorWritten((args.warmUp + args.n) * (STEPS.length + 1))

    const at = (latencies: number[], p: number) => percentile([...latencies].sort((a, b) => a - b), p)
    const ms = (latencies: number[], p: number) => at(latencies, p).toFixed(1)
    const perStep = (timings: Map<string, number[]>) => [...timings].map(([name, l]) => `${name} ${ms(l, 50)}/${ms(l, 95)}`).join(', ')
    report(`lifecycle (${name})`, args, [
      ['API full cases', 'submit → accept → approve → issue_result → deliver', api],
      ['bare workflows', 'client start + result', raw],
    ])
    // The fair baseline (issue 13): as many round trips as a full case, each an Update with an empty handler.
    report(`lifecycle (${name}, against bare cases)`, args, [
      ['API full cases', 'submit → accept → approve → issue_result → deliver', api],
      ['bare cases', `Update-with-Start, ${STEPS.length} Updates, result`, rawCases],
    ])
    console.log(`  per step p50/p95 ms: ${perStep(steps)}`)
    const bareUpdateP50 = at(bareUpdateLatencies, 50)
    const actionOverBare = STEPS.map(([action]) => `${action} ${(at(steps.get(action)!, 50) / bareUpdateP50).toFixed(2)}`).join(', ')
    console.log(`  bare Update p50/p95 ms: ${ms(bareUpdateLatencies, 50)}/${ms(bareUpdateLatencies, 95)}; each action's p50 over it: ${actionOverBare}`)
    printBreakdown(beforeCases, afterCases, steps)
    // What the promises cost with nothing else (bench/floor.ts): the API against it, it against bare cases.
    report(`lifecycle (${name}, against the guarantees' floor)`, args, [
      ['API full cases', 'submit → accept → approve → issue_result → deliver', api],
      ['floor cases', `${STEPS.length + 1} commands over HTTP, each an Update writing its event to Postgres first`, floor],
    ])
    const floorP50 = at(floorLatencies, 50)
    console.log(`  ratio floor cases/bare cases: ${(floor.rate / rawCases.rate).toFixed(3)}; floor command p50/p95 ms: ${ms(floorLatencies, 50)}/${ms(floorLatencies, 95)}`
      + `, over a bare Update's p50: ${(floorP50 / bareUpdateP50).toFixed(2)}; each action's p50 over the floor's: `
      + STEPS.map(([action]) => `${action} ${(at(steps.get(action)!, 50) / floorP50).toFixed(2)}`).join(', '))
    report(`lifecycle (${name}, escalations)`, args, [
      ['API escalations', 'file → accept → assign → respond → feedback → close', escalations],
      ['bare workflows', 'client start + result', raw],
    ])
    report(`lifecycle (${name}, complaints)`, args, [
      ['API full work orders', 'file → dispatch → sign → respond → reply → callback', complaints],
      ['bare workflows', 'client start + result', raw],
    ])
    console.log(`  per step p50/p95 ms: ${perStep(complaintSteps)}`)

    const row: ScaleRow = { layout, api, bare: rawCases, kneeMeasured: args.knee }
    if (args.knee) {
      const knee = await findKnee(args.n, async (concurrency, count) => {
        const timings = new Map<string, number[]>()
        const measured = await measure(`full cases at ${concurrency}`, count, concurrency, (i) => fullCase(system, `knee-${concurrency}`, i, timings))
        // The cases' rate and CPU, the latency of their commands.
        const commands = [...timings.values()].flat().sort((a, b) => a - b)
        return { ...summarize(measured), p50: percentile(commands, 50), p95: percentile(commands, 95) }
      })
      printKnee('API full cases (cases/s; p50 and p95 of each command)', knee)
      row.knee = knee.knee
    }
    rows.push(row)
  }, layout)
}
if (rows.length > 1 || args.knee) printScaleTable(`lifecycle, full applications against bare cases, N=${args.n} concurrency=${args.concurrency}`, rows)
