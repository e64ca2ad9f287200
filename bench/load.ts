// Load at the edge of what one machine holds (issue 14): the API driven open-loop at increasing
// target rates with a realistic mix — 70% reads (the department's work queue, the window's list,
// one case), 20% actions (accept, approve, issue_result, deliver, each on a case in the status it
// needs) and 10% submissions — after seeding cases for them to work on. Prints per step the rate
// achieved, p50/p95/p99, errors and 409s, each class's p99, and the knee: the first target rate
// whose p99 passes 1 s. Stops early once a step's p99 passes 5 s or its errors 5%.
// Usage: node --import tsx bench/load.ts [--rates 10,20,40,60,80,120,160] [--seconds 20] [--settle 5]
//          [--seed 200] [--warm-up 5]   (seconds at the first rate, before the steps, not measured)
// Needs Postgres in DATABASE_URL or TEST_DATABASE_URL; works in a fresh schema it drops at the end.
// The load comes from the process that runs the API and the worker, as in the other benches: on a
// small machine its own lag is part of what a caller would wait.
import { availableParallelism } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import type { ApplicationAction } from '../src/domain/application/actions.ts'
import type { CaseView } from '../src/domain/case-view.ts'
import { measure, percentile, withBenchSystem, type BenchSystem } from './support.ts'

const KNEE_MS = 1000
/** Past this p99, or this share of errors, a faster step would only queue more. */
const GIVE_UP_MS = 5 * KNEE_MS
const GIVE_UP_ERRORS = 0.05
/** A request unanswered this long is an error, and this is its latency. */
const TIMEOUT_MS = 30_000
const SEED_CONCURRENCY = 8

type Role = 'department' | 'window'
type Kind = 'read' | 'action' | 'submit'
type Outcome = 'ok' | 'conflict' | 'error'

/** Ten requests in the issue's proportions, interleaved so that no class comes in a burst. */
const MIX: readonly Kind[] = ['read', 'read', 'action', 'read', 'read', 'submit', 'read', 'action', 'read', 'read']

/** The reads take turns: the department's work queue, the window's list, one case by id. */
const READS: ReadonlyArray<(caseId: string) => [Role, string]> = [
  () => ['department', '/v1/cases?handlingOrganizationId=gz-amr&limit=50'],
  () => ['window', '/v1/cases?limit=50'],
  (caseId) => ['department', `/v1/cases/${caseId}`],
]

type Step = [ApplicationAction, Role, Record<string, unknown>]

/** For each status an action can move on: the action, whose key takes it, and its parameters. */
const NEXT: ReadonlyMap<string, Step> = new Map<string, Step>([
  ['submitted', ['accept', 'department', {}]],
  ['accepted', ['approve', 'department', { note: 'conditions met' }]],
  ['approved', ['issue_result', 'department', { certificateNo: 'BENCH' }]],
  ['result_issued', ['deliver', 'window', { method: 'window' }]],
])

interface LoadArgs { rates: number[]; seconds: number; settle: number; seed: number; warmUp: number }

function loadArgs(): LoadArgs {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string', default: '10,20,40,60,80,120,160' },
      seconds: { type: 'string', default: '20' },
      settle: { type: 'string', default: '5' },
      seed: { type: 'string', default: '200' },
      'warm-up': { type: 'string', default: '5' },
    },
    strict: true,
  })
  const rates = values.rates.split(',').map(Number)
  // The knee is read off steps in order, so they must climb.
  if (rates.some((r, i) => !(r > 0 && Number.isFinite(r)) || (i > 0 && r <= rates[i - 1]!))) {
    throw new Error(`--rates must be increasing positive numbers, got ${values.rates}`)
  }
  const number = (name: 'seconds' | 'settle' | 'seed' | 'warm-up', min: number) => {
    const n = Number(values[name])
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${values[name]}`)
    return n
  }
  return { rates, seconds: number('seconds', 1), settle: number('settle', 0), seed: number('seed', 1), warmUp: number('warm-up', 0) }
}

/** The cases the load works on: every id for reads, and each one an action can move, by status. */
class CasePool {
  readonly ids: string[] = []
  private readonly byStatus = new Map([...NEXT.keys()].map((status) => [status, [] as string[]]))
  private turn = 0

  added(view: CaseView): void {
    this.ids.push(view.id)
    this.place(view.id, view.status)
  }

  /** Where a case goes after an answer; a status no action moves on leaves the pools. */
  place(id: string, status: string): void {
    this.byStatus.get(status)?.push(id)
  }

  /**
   * The next action's case, out of its pool until the answer says where it goes, so that no two
   * actions race for one case. The statuses take turns; one with no case passes its turn on.
   */
  take(): { id: string; status: string } | undefined {
    const statuses = [...this.byStatus.keys()]
    for (let k = 0; k < statuses.length; k++) {
      const status = statuses[(this.turn + k) % statuses.length]!
      const id = this.byStatus.get(status)!.shift()
      if (id !== undefined) {
        this.turn = (this.turn + k + 1) % statuses.length
        return { id, status }
      }
    }
    return undefined
  }
}

interface Sample { kind: Kind; ms: number; outcome: Outcome; reason?: string }

const TIMED_OUT = Symbol('timed out')

/** `work`, or TIMED_OUT once TIMEOUT_MS pass first. */
async function withinTimeout<T>(work: Promise<T>): Promise<T | typeof TIMED_OUT> {
  const timer = new AbortController()
  try {
    return await Promise.race([work, sleep(TIMEOUT_MS, TIMED_OUT, { signal: timer.signal })])
  } finally {
    timer.abort()
  }
}

/** The sender of request i of a step (class MIX[i % 10]); a read stands in for an action with no case to act on. */
function requests(system: BenchSystem, pool: CasePool) {
  let reads = 0
  let submissions = 0
  const status = (expected: number, got: number): Pick<Sample, 'outcome' | 'reason'> =>
    (got === expected ? { outcome: 'ok' } : { outcome: 'error', reason: `status ${got}` })

  const read = async (): Promise<Pick<Sample, 'outcome' | 'reason'>> => {
    const n = reads++
    const [role, path] = READS[n % READS.length]!(pool.ids[n % pool.ids.length]!)
    return status(200, (await system.http(system.keys[role], 'GET', path)).status)
  }
  const act = async (id: string, from: string): Promise<Pick<Sample, 'outcome' | 'reason'>> => {
    const [action, role, params] = NEXT.get(from)!
    const answer = await system.http(system.keys[role], 'POST', `/v1/cases/${id}/actions`, { action, ...params })
    if (answer.status === 200) pool.place(id, (answer.body as CaseView).status)
    // A 409 leaves the case out of the pools: its status is no longer the one we knew.
    return answer.status === 409 ? { outcome: 'conflict' } : status(200, answer.status)
  }
  const submit = async (): Promise<Pick<Sample, 'outcome' | 'reason'>> => {
    pool.added(await system.submit('load', submissions++))
    return { outcome: 'ok' }
  }

  return async (i: number): Promise<Omit<Sample, 'ms'>> => {
    const planned = MIX[i % MIX.length]!
    const target = planned === 'action' ? pool.take() : undefined
    const kind = planned === 'action' && !target ? 'read' : planned
    const work = kind === 'submit' ? submit() : target ? act(target.id, target.status) : read()
    try {
      const answer = await withinTimeout(work)
      return answer === TIMED_OUT ? { kind, outcome: 'error', reason: 'timeout' } : { kind, ...answer }
    } catch (err) {
      // Network failures, and a submission answered other than 201 (BenchSystem.submit throws).
      return { kind, outcome: 'error', reason: err instanceof Error ? err.message.replace(/: \{.*$/s, '') : String(err) }
    }
  }
}

/**
 * One step, open loop: request i starts at `i / rate` seconds whether or not earlier ones were
 * answered, and its latency counts from that instant, so that a lagging client cannot hide a slow
 * server. (Not autocannon: it sends a connection's next request only after its answer, which
 * lowers the offered rate as latency grows; and an action's case depends on earlier answers.)
 */
async function runStep(rate: number, seconds: number, send: (i: number) => Promise<Omit<Sample, 'ms'>>)
  : Promise<{ samples: Sample[]; seconds: number }> {
  const began = performance.now()
  const inFlight: Array<Promise<Sample>> = []
  for (let i = 0; i < Math.round(rate * seconds); i++) {
    const due = began + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    inFlight.push(send(i).then((s) => ({ ...s, ms: s.reason === 'timeout' ? TIMEOUT_MS : performance.now() - due })))
  }
  const samples = await Promise.all(inFlight)
  // Over the step's own length at least: answers that all came in time give the target rate, not more.
  return { samples, seconds: Math.max(seconds, (performance.now() - began) / 1000) }
}

interface StepResult { rate: number; achieved: number; p50: number; p95: number; p99: number; errors: number; conflicts: number; count: number }

const p = (samples: readonly Sample[], at: number) => percentile(samples.map((s) => s.ms).sort((a, b) => a - b), at)
const cell = (v: number | undefined, width = 8) => (v === undefined ? '–' : v.toFixed(0)).padStart(width)

/** One table row, printed as the step ends so that a long run shows its progress. */
function printStep(rate: number, samples: Sample[], seconds: number): StepResult {
  const answered = samples.filter((s) => s.reason !== 'timeout').length
  const result: StepResult = {
    rate, achieved: answered / seconds, p50: p(samples, 50), p95: p(samples, 95), p99: p(samples, 99), count: samples.length,
    errors: samples.filter((s) => s.outcome === 'error').length, conflicts: samples.filter((s) => s.outcome === 'conflict').length,
  }
  const byKind = (['read', 'action', 'submit'] as const).map((kind) => {
    const of = samples.filter((s) => s.kind === kind)
    return cell(of.length ? p(of, 99) : undefined, 7)
  })
  console.log(`  ${`${rate}/s`.padStart(7)} ${`${result.achieved.toFixed(1)}/s`.padStart(9)} ${cell(result.p50)} ${cell(result.p95)} ${cell(result.p99)}`
    + ` ${String(result.errors).padStart(7)} ${String(result.conflicts).padStart(5)}   ${byKind.join(' ')}`)
  const reasons = new Map<string, number>()
  for (const { reason } of samples) if (reason) reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
  if (reasons.size) console.log(`          errors: ${[...reasons].map(([reason, n]) => `${reason} ×${n}`).join(', ')}`)
  return result
}

/** Why the next step is not worth running, if it is not. */
function giveUpReason(step: StepResult): string | undefined {
  if (step.p99 > GIVE_UP_MS) return `p99 ${step.p99.toFixed(0)} ms passed ${GIVE_UP_MS} ms`
  if (step.errors > GIVE_UP_ERRORS * step.count) return `errors ${((100 * step.errors) / step.count).toFixed(1)}% passed ${100 * GIVE_UP_ERRORS}%`
  return undefined
}

/** The first target rate whose p99 passes KNEE_MS, placed between it and the step before. */
function knee(steps: readonly StepResult[]): string {
  const at = steps.findIndex((s) => s.p99 > KNEE_MS)
  const passed = steps[at]
  if (!passed) {
    const last = steps[steps.length - 1]!
    return `not reached up to ${last.rate} req/s (p99 ${last.p99.toFixed(0)} ms there)`
  }
  const before = steps[at - 1]
  if (!before) return `at or below the first step, ${passed.rate} req/s (p99 ${passed.p99.toFixed(0)} ms)`
  // Straight-line interpolation of p99 between the two steps: a rough figure, named as such.
  const estimate = before.rate + ((passed.rate - before.rate) * (KNEE_MS - before.p99)) / (passed.p99 - before.p99)
  return `${passed.rate} req/s: p99 ${before.p99.toFixed(0)} ms at ${before.rate} req/s, ${passed.p99.toFixed(0)} ms at ${passed.rate}`
    + ` (about ${estimate.toFixed(0)} req/s by linear interpolation)`
}

const args = loadArgs()
// The bench stands for many windows and departments through two keys: the per-key limit would
// measure the limiter, not the machine.
process.env.BANJIAN_RATE_LIMIT_PER_MINUTE ??= '0'

await withBenchSystem(async (system) => {
  const pool = new CasePool()
  await measure('seed submissions', args.seed, SEED_CONCURRENCY, async (i) => pool.added(await system.submit('seed', i)))
  const send = requests(system, pool)
  // The first requests of each kind compile code and load workflows into the worker's cache: not the first step's p99.
  process.stderr.write(`warm-up at ${args.rates[0]} req/s for ${args.warmUp} s, not measured\n`)
  await runStep(args.rates[0]!, args.warmUp, send)

  console.log(`load: mix 70% reads / 20% actions / 10% submissions, ${args.seconds} s a step, ${args.settle} s settle between,`
    + ` ${args.seed} cases seeded, ${args.warmUp} s warm-up, cores=${availableParallelism()}; latencies in ms from each request's scheduled start`)
  console.log('   target  achieved      p50      p95      p99  errors  409s   p99 read  action  submit')
  const steps: StepResult[] = []
  for (const [i, rate] of args.rates.entries()) {
    if (i > 0) await sleep(args.settle * 1000)
    process.stderr.write(`step ${rate} req/s for ${args.seconds} s\n`)
    const { samples, seconds } = await runStep(rate, args.seconds, send)
    const step = printStep(rate, samples, seconds)
    steps.push(step)
    const reason = giveUpReason(step)
    if (reason && i < args.rates.length - 1) {
      console.log(`  stopped after ${rate} req/s: ${reason}`)
      break
    }
  }
  console.log(`knee (p99 > ${KNEE_MS} ms): ${knee(steps)}`)
})
