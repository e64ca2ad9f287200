// Records the Temporal histories that test/workflow/replay.test.ts replays against the current
// workflow code on every run. Re-record only for a deliberate, released change to workflow code
// (see test/fixtures/histories/README.md); otherwise guard the change with `patched()`.
//
// Usage: DATABASE_URL=postgres://… node --import tsx scripts/record-histories.ts [--overwrite] [--out <dir>]
//        (or TEST_DATABASE_URL; a fresh schema is created and dropped). It starts its own
//        in-memory Temporal dev servers and drives the cases through the HTTP API (inject).
//        Only histories that have no file yet are written (and only the scenarios that produce
//        them are run); `--overwrite` re-records every one. `--out` records into another directory
//        (default test/fixtures/histories), e.g. to compare a recording with the committed one.
import type { Client } from '@temporalio/client'
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js'
import { DefaultLogger, Runtime } from '@temporalio/worker'
import { randomBytes } from 'node:crypto'
import { access, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import type { App } from '../src/api/app.ts'
import { type Config, parseConfig } from '../src/config.ts'
import { loadCalendarWindow } from '../src/db/calendar.ts'
import type { Database } from '../src/db/client.ts'
import { openScratchDatabase } from '../src/db/prepare.ts'
import type { ApplicationAction } from '../src/domain/application/actions.ts'
import { opinionKey } from '../src/domain/application/application-case.ts'
import type { CalendarData } from '../src/domain/calendar.ts'
import type { CaseView } from '../src/domain/case-view.ts'
import type { ServiceItemDraft } from '../src/domain/service-item.ts'
import { PROJECT_ROOT } from '../src/infra/temporal-binaries.ts'
import { assemble } from '../src/system.ts'
import { calendarChangedSignal } from '../src/workflows/application/contract.ts'
import { watchWorkflowId } from '../src/workflows/deadline-watch/contract.ts'
import { freePort } from '../src/infra/ports.ts'

const OUT_DIR = join(PROJECT_ROOT, 'test/fixtures/histories')
const ADMIN_KEY = 'record-histories-admin-key'

type Injector = Pick<App, 'inject'>
/** `opinion` belongs to gz-hr, the department asked for an opinion that gives it. */
interface Keys { window: string; department: string; opinion: string; reviewer: string }
interface Stack { app: Injector; client: Client; keys: Keys }
interface Recording { name: string; workflowId: string; runId?: string }


type Cleanups = Array<() => Promise<unknown>>
async function runCleanups(cleanups: Cleanups): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup()
    } catch (err) {
      console.error('clean-up failed:', err)
    }
  }
}

/** A dev server, a worker and the API on one schema; `prefix` keeps task queues and data apart. */
async function startStack(config: Config, database: Database, prefix: string, cleanups: Cleanups,
  extraDynamicConfig: Record<string, unknown> = {}): Promise<Stack> {
  const system = await assemble(config, {
    logger: false, pathVar: process.env.PATH, database,
    temporal: { devServer: { port: await freePort(), namespace: 'banjian-record', retentionDays: 1, extraDynamicConfig } },
    taskQueuePrefix: prefix, listen: false, archive: false,
    // Fixtures stay readable and replay without a key, as the histories of cases started before encryption do.
    dataKeys: false,
  })
  cleanups.push(system.stop)
  const app = system.app!
  return { app, client: system.client, keys: await seed(app, prefix) }
}

async function call<T>(app: Injector, key: string, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown,
  headers: Record<string, string> = {}): Promise<T> {
  const response = await app.inject({
    method, url, headers: { authorization: `Bearer ${key}`, ...headers }, ...(body === undefined ? {} : { payload: body as object }),
  })
  if (response.statusCode >= 300) throw new Error(`${method} ${url} → ${response.statusCode}: ${response.body}`)
  return response.json() as T
}

const draft = (name: string, overrides: Partial<ServiceItemDraft> = {}): ServiceItemDraft => ({
  name,
  departmentId: 'gz-amr',
  processing: 'promised',
  promisedLimit: { workingDays: 5 },
  statutoryLimit: { workingDays: 20 },
  materials: [
    { code: 'application-form', name: 'Application form', required: true },
    { code: 'id-card', name: 'Identity card', required: true, sharedSource: 'resident-id' },
  ],
  channels: ['window', 'online'],
  ...overrides,
})

const ITEM = 'REC-1'
/** Its acceptance limit passes in real time, so the case is deemed accepted while we watch. */
const FAST_ITEM = 'REC-FAST'
/** A lease that may be handed in after acceptance (容缺, rule 35). */
const DEFER_ITEM = 'REC-DEFER'
/** Promised in two seconds: its promise is missed at once, and supervised. */
const LATE_ITEM = 'REC-LATE'

async function seed(app: Injector, prefix: string): Promise<Keys> {
  const organizations = [
    ['gz', 'government', 'root'], ['gz-center', 'service-center', 'gz'], ['gz-amr', 'department', 'gz'],
    ['gz-hr', 'department', 'gz'], ['gz-tax', 'department', 'gz'],
  ]
  for (const [id, kind, parentId] of organizations) {
    await call(app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })
  }
  const key = async (organizationId: string, role: string) =>
    (await call<{ key: string }>(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role, name: `record ${prefix}` })).key
  // Another key than the drafts' author reviews them (rule 40).
  const reviewer = await key('gz', 'supervisor')
  const items: Array<[string, Partial<ServiceItemDraft>]> = [[ITEM, {}], [FAST_ITEM, { acceptanceLimit: { duration: 'PT2S' } }],
    [DEFER_ITEM, { materials: [...draft(DEFER_ITEM).materials, { code: 'lease', name: 'Lease', required: true, deferrable: true }] }],
    [LATE_ITEM, { promisedLimit: { duration: 'PT2S' }, statutoryLimit: { duration: 'P30D' } }]]
  for (const [code, overrides] of items) {
    await call(app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, draft(`Recorded item ${code}`, overrides))
    await call(app, reviewer, 'POST', `/v1/service-items/${code}/review`, { approved: true, note: 'recorded item' })
    await call(app, ADMIN_KEY, 'POST', `/v1/service-items/${code}/publish`)
  }
  return {
    window: await key('gz-center', 'window'), department: await key('gz-amr', 'department'), opinion: await key('gz-hr', 'department'), reviewer,
  }
}

const application = (code: string) => ({
  serviceItemCode: code,
  applicant: { type: 'person', name: '张三', idNumber: '440106199001011234' },
  channel: 'window',
  materials: [{ code: 'application-form', ref: 'doc://form/1' }],
})

function driver({ app, client, keys }: Stack) {
  const d = {
    submit: (code = ITEM, idempotencyKey?: string) => call<CaseView>(app, keys.window, 'POST', '/v1/applications',
      application(code), idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    accept: (id: string) => d.act(id, 'accept'),
    act: (id: string, action: ApplicationAction, params: Record<string, unknown> = {}, key = keys.department) =>
      call<CaseView>(app, key, 'POST', `/v1/cases/${id}/actions`, { action, ...params }),
    /** Accepted, approved, result issued and delivered at the window. */
    async complete(id: string): Promise<void> {
      await d.accept(id)
      await d.act(id, 'approve', { note: 'conditions met' })
      await d.act(id, 'issue_result', { certificateNo: 'REC-CERT-1' })
      await d.act(id, 'deliver', { method: 'window' }, keys.window)
    },
    async waitForEvent(id: string, type: string, key = keys.department): Promise<void> {
      await waitFor(async () => (await call<{ events: Array<{ type: string }> }>(app, key, 'GET', `/v1/cases/${id}/history`))
        .events.some((e) => e.type === type), `${id}: ${type}`)
    },
    /**
     * Worked on, and no workflow task or activity in flight: the history ends where the workflow
     * waits. (A continued run's first task comes after a back-off, so "nothing pending" alone is not enough.)
     */
    async waitUntilIdle(workflowId: string, runId?: string): Promise<void> {
      const handle = client.workflow.getHandle(workflowId, runId)
      await waitFor(async () => {
        const { raw, status } = await handle.describe()
        if (status.name !== 'RUNNING') return true
        if (raw.pendingWorkflowTask || (raw.pendingActivities?.length ?? 0) > 0) return false
        return (await handle.fetchHistory()).events?.some((e) => e.workflowTaskCompletedEventAttributes) === true
      }, `${workflowId} to be idle`)
    },
  }
  return d
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(250)
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** One case per path through the application workflow that running cases may be in. */
async function applicationScenarios(stack: Stack, database: Database): Promise<Recording[]> {
  const d = driver(stack)
  const out: Recording[] = []

  out.push({ name: 'submitted', workflowId: (await d.submit()).id })

  // Update-with-Start on a running case: the second submission is a second `submitted` update.
  const first = await d.submit(ITEM, 'record-resubmit')
  const again = await d.submit(ITEM, 'record-resubmit')
  if (again.id !== first.id) throw new Error('an idempotent resubmission created a second case')
  out.push({ name: 'resubmitted', workflowId: first.id })

  const accepted = await d.submit()
  await d.accept(accepted.id)
  out.push({ name: 'accepted', workflowId: accepted.id })

  const deemed = await d.submit(FAST_ITEM)
  await d.waitForEvent(deemed.id, 'deemed_accepted')
  out.push({ name: 'deemed-accepted', workflowId: deemed.id })

  // A calendar change reaching a running case: its next three working days become holidays.
  const recalendared = await d.submit()
  const view = await d.accept(recalendared.id)
  const year = new Date(view.updatedAt).getUTCFullYear()
  const current = await loadCalendarWindow(database.db, year - 1, year + 2)
  const changed = withHolidays(current, nextWorkingDays(current, new Date(view.updatedAt), 3))
  await stack.client.workflow.getHandle(recalendared.id).signal(calendarChangedSignal, changed)
  await d.waitForEvent(recalendared.id, 'deadlines_recomputed')
  out.push({ name: 'calendar-changed', workflowId: recalendared.id })

  for (const r of out) await d.waitUntilIdle(r.workflowId)
  return out
}

/**
 * Joint handling, ratings and rectification: the paths that start, settle and lose child
 * workflows (deadline watches), and a case that runs to its end.
 */
async function laterPathScenarios(stack: Stack): Promise<Recording[]> {
  const d = driver(stack)
  const { keys } = stack
  const out: Recording[] = []

  // Two opinions asked with a 3-second limit: gz-hr answers at once, gz-tax lets it pass
  // (its watch warns, then reports it missed, and the case opens a supervision on gz-tax).
  const joint = await d.submit()
  await d.accept(joint.id)
  await d.act(joint.id, 'request_opinions', { organizationIds: ['gz-hr', 'gz-tax'], within: { duration: 'PT3S' } })
  await d.act(joint.id, 'give_opinion', { opinion: 'no objection', agree: true }, keys.opinion)
  await d.waitForEvent(joint.id, 'supervision_opened')
  out.push(
    { name: 'joint-opinions', workflowId: joint.id },
    { name: 'opinion-watch-given', workflowId: watchWorkflowId(joint.id, opinionKey('gz-hr')) },
    { name: 'opinion-watch-missed', workflowId: watchWorkflowId(joint.id, opinionKey('gz-tax')) },
  )

  // To the end: delivered and rated well, so the case closes.
  const rated = await d.submit()
  await d.complete(rated.id)
  await d.act(rated.id, 'rate', { score: 5 }, keys.window)
  out.push({ name: 'rated', workflowId: rated.id })

  // Rated badly: a rectification opens with a watch of its own, still running.
  const rectification = await d.submit()
  await d.complete(rectification.id)
  await d.act(rectification.id, 'rate', { score: 1, comment: 'kept waiting' }, keys.window)
  out.push(
    { name: 'rectification-opened', workflowId: rectification.id },
    { name: 'rectification-watch', workflowId: watchWorkflowId(rectification.id, 'rectification') },
  )

  // …and the same carried through: rectified (its watch settled), called back, closed.
  const rectified = await d.submit()
  await d.complete(rectified.id)
  await d.act(rectified.id, 'rate', { score: 2 }, keys.window)
  await d.act(rectified.id, 'rectify', { note: 'queue reorganised' })
  await d.act(rectified.id, 'call_back', { satisfied: true }, keys.window)
  out.push({ name: 'rectified', workflowId: rectified.id })

  for (const r of out) await d.waitUntilIdle(r.workflowId)
  return out
}

/**
 * The rules of issue 9 (cases started under patch `application-rules-2`): a withdrawn case waits
 * for its rating; a deferred material that never came and the approval revoked; a dissatisfied
 * call-back and the second rectification with its watch.
 */
async function rulesTwoScenarios(stack: Stack): Promise<Recording[]> {
  const d = driver(stack)
  const { app, keys } = stack
  const out: Recording[] = []

  const withdrawn = await d.submit()
  await d.act(withdrawn.id, 'withdraw', { reason: 'moved away' }, keys.window)
  out.push({ name: 'withdrawn-rating', workflowId: withdrawn.id })

  // The deferral limit passes in real time: 2 seconds for this case only.
  await call(app, ADMIN_KEY, 'PUT', '/v1/settings/limits', { 'application.deferred': { duration: 'PT2S' } })
  const deferred = await d.submit(DEFER_ITEM)
  await call(app, ADMIN_KEY, 'PUT', '/v1/settings/limits', { 'application.deferred': { workingDays: 5 } })
  await d.act(deferred.id, 'accept', { deferred: ['lease'] })
  await d.act(deferred.id, 'approve', { note: 'conditions met, lease to follow' })
  await d.waitForEvent(deferred.id, 'deferred_materials_missed')
  await d.act(deferred.id, 'revoke', { reason: 'the lease never came' })
  out.push({ name: 'deferred-revoked', workflowId: deferred.id })

  const second = await d.submit()
  await d.complete(second.id)
  await d.act(second.id, 'rate', { score: 1 }, keys.window)
  await d.act(second.id, 'rectify', { note: 'apologised' })
  await d.act(second.id, 'call_back', { satisfied: false, note: 'not enough' }, keys.window)
  out.push(
    { name: 'second-rectification', workflowId: second.id },
    { name: 'second-rectification-watch', workflowId: watchWorkflowId(second.id, 'rectification:2') },
  )

  for (const r of out) await d.waitUntilIdle(r.workflowId)
  return out
}

/** The rules named in the start input (`rulesVersion`), so no patch marker: withdrawn, rating period running. */
async function rulesInInputScenario(stack: Stack): Promise<Recording[]> {
  const d = driver(stack)
  const withdrawn = await d.submit()
  await d.act(withdrawn.id, 'withdraw', { reason: 'moved away' }, stack.keys.window)
  await d.waitUntilIdle(withdrawn.id)
  return [{ name: 'withdrawn-rating-rules-in-input', workflowId: withdrawn.id }]
}

/** On a server that suggests continue-as-new early: the closing run and the run that carries on. */
async function continueAsNewScenario(stack: Stack): Promise<Recording[]> {
  const d = driver(stack)
  const submitted = await d.submit()
  const { runId: firstRunId } = await stack.client.workflow.getHandle(submitted.id).describe()
  await d.accept(submitted.id)
  const handle = stack.client.workflow.getHandle(submitted.id)
  await waitFor(async () => (await handle.describe()).runId !== firstRunId, `${submitted.id} to continue as new`)
  await d.waitUntilIdle(submitted.id)
  return [
    { name: 'continued-as-new', workflowId: submitted.id, runId: firstRunId },
    { name: 'continued-as-new-own-task', workflowId: submitted.id, runId: firstRunId },
    { name: 'continued-run', workflowId: submitted.id },
  ]
}

/** The next `n` working days (Asia/Shanghai) after `from` under `calendar`, as YYYY-MM-DD. */
function nextWorkingDays(calendar: CalendarData, from: Date, n: number): string[] {
  const exceptions = new Map(calendar.years.flatMap((y) => y.days.map((day) => [day.date, day.working] as const)))
  const dates: string[] = []
  const day = new Date(from.getTime() + 8 * 3_600_000)
  while (dates.length < n) {
    day.setUTCDate(day.getUTCDate() + 1)
    const date = day.toISOString().slice(0, 10)
    const weekday = day.getUTCDay()
    if (exceptions.get(date) ?? (weekday !== 0 && weekday !== 6)) dates.push(date)
  }
  return dates
}

function withHolidays(calendar: CalendarData, dates: string[]): CalendarData {
  const years = calendar.years.map((y) => ({
    ...y,
    days: [...y.days.filter((day) => !dates.includes(day.date)),
      ...dates.filter((date) => date.startsWith(`${y.year}-`)).map((date) => ({ date, working: false, name: 'recorded holiday' }))]
      .sort((a, b) => a.date.localeCompare(b.date)),
  }))
  return { version: calendar.version + 1, years }
}

async function save(client: Client, recordings: Recording[], wanted: ReadonlySet<string>, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const { name, workflowId, runId } of recordings) {
    if (!wanted.has(name)) continue
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory()
    await writeFile(join(dir, `${name}.json`), `${historyToJSON(history)}\n`)
    console.log(`recorded ${name}.json (${history.events?.length ?? 0} events)`)
  }
}

/**
 * Supervision that climbs the tree: the promise missed, level 1 on gz-amr unanswered, level 2 on
 * gz, level 3 on the root, unanswered too; then gz-amr answers its own. Supervision records must be
 * answered within two seconds here.
 */
async function supervisionLevelsScenario(stack: Stack): Promise<Recording[]> {
  const d = driver(stack)
  await call(stack.app, ADMIN_KEY, 'PUT', '/v1/settings/limits', { 'supervision.respond': { duration: 'PT2S' } })
  try {
    const late = await d.submit(LATE_ITEM)
    await d.accept(late.id)
    await waitFor(async () => {
      const events = (await call<{ events: Array<{ type: string; data: Record<string, unknown> }> }>(stack.app, stack.keys.department, 'GET',
        `/v1/cases/${late.id}/history`)).events
      return events.some((e) => e.type === 'deadline_missed' && e.data.key === 'supervision:S3')
    }, `${late.id}: level 3 unanswered`)
    await d.act(late.id, 'respond_supervision', { note: 'decision tomorrow' })
    await d.waitUntilIdle(late.id)
    return [{ name: 'supervision-levels', workflowId: late.id }]
  } finally {
    await call(stack.app, ADMIN_KEY, 'PUT', '/v1/settings/limits', { 'supervision.respond': { workingDays: 3 } })
  }
}

/**
 * Fulfilments (政策兑现) applied for at the window under an application-mode policy that verifies
 * on its own: one paid at once; one whose policy's budget is smaller than its amount, waiting for
 * money with its retry timer running.
 */
async function fulfilmentScenarios(stack: Stack): Promise<Recording[]> {
  const d = driver(stack)
  const publish = async (code: string, budget: number) => {
    await call(stack.app, ADMIN_KEY, 'PUT', `/v1/policies/${code}`, {
      name: `Recorded policy ${code}`, departmentId: 'gz-hr', mode: 'application', autoVerify: true,
      eligibility: { '>=': [{ var: 'age' }, 18] }, amount: 100, budget, payWithin: { workingDays: 10 },
    })
    await call(stack.app, stack.keys.reviewer, 'POST', `/v1/policies/${code}/review`, { approved: true, note: 'recorded policy' })
    await call(stack.app, ADMIN_KEY, 'POST', `/v1/policies/${code}/publish`)
  }
  const apply = (code: string) => call<CaseView>(stack.app, stack.keys.window, 'POST', '/v1/fulfilments', {
    policyCode: code, beneficiary: { id: '440106199001011234', type: 'person', name: '张三', attributes: { age: 30 } },
  })
  await publish('REC-GRANT', 1_000_000)
  await publish('REC-TIGHT', 50)
  const paid = await apply('REC-GRANT')
  const waiting = await apply('REC-TIGHT')
  // gz-hr's department handles these cases (the recordings' department key is gz-amr's).
  await d.waitForEvent(paid.id, 'completed', stack.keys.opinion)
  await d.waitForEvent(waiting.id, 'budget_exhausted', stack.keys.opinion)
  await d.waitUntilIdle(paid.id)
  await d.waitUntilIdle(waiting.id)
  // Named for the run they record (activities 'local-reservation'), as the fixtures are: a default run finds them there.
  return [{ name: 'reserved-fulfilment-paid', workflowId: paid.id }, { name: 'reserved-fulfilment-awaiting-budget', workflowId: waiting.id }]
}

/** Which scenarios write which files, and on which kind of server. */
const GROUPS: Array<{ names: string[]; earlyContinueAsNew: boolean; run(stack: Stack, database: Database): Promise<Recording[]> }> = [
  { names: ['submitted', 'resubmitted', 'accepted', 'deemed-accepted', 'calendar-changed'], earlyContinueAsNew: false, run: applicationScenarios },
  {
    names: ['joint-opinions', 'opinion-watch-given', 'opinion-watch-missed', 'rated', 'rectification-opened', 'rectification-watch', 'rectified'],
    earlyContinueAsNew: false,
    run: laterPathScenarios,
  },
  { names: ['continued-as-new', 'continued-as-new-own-task', 'continued-run'], earlyContinueAsNew: true, run: continueAsNewScenario },
  {
    names: ['withdrawn-rating', 'deferred-revoked', 'second-rectification', 'second-rectification-watch'],
    earlyContinueAsNew: false,
    run: rulesTwoScenarios,
  },
  { names: ['withdrawn-rating-rules-in-input'], earlyContinueAsNew: false, run: rulesInInputScenario },
  { names: ['supervision-levels'], earlyContinueAsNew: false, run: supervisionLevelsScenario },
  { names: ['reserved-fulfilment-paid', 'reserved-fulfilment-awaiting-budget'], earlyContinueAsNew: false, run: fulfilmentScenarios },
]

const exists = (dir: string, name: string) => access(join(dir, `${name}.json`)).then(() => true, () => false)

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { overwrite: { type: 'boolean', default: false }, out: { type: 'string', default: OUT_DIR } }, strict: true,
  })
  const wanted = new Set<string>()
  for (const name of GROUPS.flatMap((g) => g.names)) {
    if (values.overwrite || !(await exists(values.out, name))) wanted.add(name)
    else console.log(`kept ${name}.json (already recorded; --overwrite re-records it)`)
  }
  const groups = GROUPS.filter((g) => g.names.some((name) => wanted.has(name)))
  if (groups.length === 0) return

  const config = { ...parseConfig(), BANJIAN_SHUTDOWN_GRACE_SECONDS: 0 }
  const databaseUrl = config.DATABASE_URL ?? process.env.TEST_DATABASE_URL
  if (!databaseUrl) throw new Error('set DATABASE_URL or TEST_DATABASE_URL to a Postgres this script may create a schema in')
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] })

  const cleanups: Cleanups = []
  try {
    const scratch = await openScratchDatabase({ url: databaseUrl, schemaName: `record_${randomBytes(5).toString('hex')}`, adminKey: ADMIN_KEY, max: 4 })
    cleanups.push(scratch.drop)
    const { database } = scratch

    const plain = groups.filter((g) => !g.earlyContinueAsNew)
    if (plain.length > 0) {
      const stack = await startStack(config, database, 'record', cleanups)
      for (const group of plain) await save(stack.client, await group.run(stack, database), wanted, values.out)
      await runCleanups(cleanups.splice(1))
    }
    if (groups.some((g) => g.earlyContinueAsNew)) {
      // A submitted case has 9 events (started with its search attributes, it upserts none; 10
      // before), and accept's workflow task is the 10th (with local activities; 28 of 34 before):
      // suggesting continue-as-new at 10 makes accept trigger it.
      const early = await startStack(config, database, 'record-can', cleanups, { 'limit.historyCount.suggestContinueAsNew': 10 })
      for (const group of groups.filter((g) => g.earlyContinueAsNew)) await save(early.client, await group.run(early, database), wanted, values.out)
    }
  } finally {
    await runCleanups(cleanups)
  }
}

await main()
