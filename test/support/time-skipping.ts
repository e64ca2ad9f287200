import { WorkflowUpdateFailedError } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { temporal } from '@temporalio/proto'
import { TestWorkflowEnvironment } from '@temporalio/testing'
import { Worker } from '@temporalio/worker'
import { inject } from 'vitest'
import { type ActivityDeps, createActivities } from '../../src/activities/index.ts'
import { createCaseReads } from '../../src/db/cases.ts'
import type { ApplicationCommand } from '../../src/domain/application/application-case.ts'
import { OFFICIAL_YEARS, officialCalendarYears } from '../../src/domain/official-calendar.ts'
import type { CalendarData, CalendarDay } from '../../src/domain/calendar.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import type { Actor } from '../../src/domain/roles.ts'
import { GUIDE_DEFAULTS, type Guide } from '../../src/domain/service-item.ts'
import {
  actionUpdate, type NewApplication, submittedUpdate, viewQuery,
} from '../../src/workflows/application/contract.ts'
import { CURRENT_RUN } from '../../src/workflows/case/contract.ts'
import { SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes.ts'
import { createTestDatabase, type TestDatabase, uniqueName } from './system.ts'
import { sleepToTestEpoch, testYear } from './test-epoch.ts'

const INDEXED_TYPES = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
} as const

export interface TimeSkipping {
  env: TestWorkflowEnvironment
  db: TestDatabase
  taskQueue: string
  /** The cases this file started (`startKind`): what `sleepUntil` describes when the clock will not move. */
  started: Set<string>
  stop(): Promise<void>
}

/**
 * A time-skipping test server (one clock for the file, moved to BANJIAN_TEST_EPOCH when set) and a
 * fresh schema for the projections; `deps` swaps what the activities reach outside (a treasury).
 */
export async function startTimeSkipping(deps: Omit<ActivityDeps, 'database'> = {}): Promise<TimeSkipping> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('testServerPath') } },
  })
  await sleepToTestEpoch(env)
  // The test server starts with no custom search attributes; the workflows upsert these.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, INDEXED_TYPES[type]])),
  })
  const db = await createTestDatabase()
  const taskQueue = uniqueName('ts-')
  const worker = await Worker.create({
    connection: env.nativeConnection, taskQueue, workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: createActivities({ ...deps, database: db.database }),
  })
  const running = worker.run()
  return {
    env, db, taskQueue, started: new Set(),
    async stop() {
      worker.shutdown()
      await running
      await env.teardown()
      await db.drop()
    },
  }
}

export const DEPARTMENT: Actor = { organizationId: 'gz-amr', role: 'department' }
export const WINDOW: Actor = { organizationId: 'gz-center', role: 'window' }
export const SUPERVISOR: Actor = { organizationId: 'gz', role: 'supervisor' }
export const actorOf = (organizationId: string, role: Actor['role'] = 'department'): Actor => ({ organizationId, role })

export const testGuide = (overrides: Partial<Guide> = {}): Guide => ({
  code: 'ITEM-1', version: 1, name: 'Test item', departmentId: 'gz-amr', processing: 'promised',
  acceptanceLimit: GUIDE_DEFAULTS.acceptanceLimit, promisedLimit: { workingDays: 5 }, statutoryLimit: { workingDays: 20 },
  resultLimit: GUIDE_DEFAULTS.resultLimit, maxExtensionWorkingDays: 10,
  materials: [{ code: 'form', name: 'Form', required: true }], channels: ['window'], publishedAt: '2026-01-01T00:00:00Z',
  ...overrides,
})

/** Years a test calendar publishes beyond the test's "now": more than any test's clock moves. */
const PINNED_YEARS_AHEAD = 3

/**
 * The official calendar with `holidays` (YYYY-MM-DD weekdays) made non-working, and every year
 * from the first official one to a few years past the test's "now" published (a year the official
 * data lacks: Monday–Friday), so that no deadline in a test depends on which years are published.
 */
export function calendarWith(holidays: string[] = [], version = 1): CalendarData {
  const byYear = new Map(officialCalendarYears().map((y) => [y.year, { ...y, published: true }]))
  const lastYear = Math.max(OFFICIAL_YEARS.last, testYear()) + PINNED_YEARS_AHEAD
  for (let year = OFFICIAL_YEARS.first; year <= lastYear; year++) {
    if (!byYear.has(year)) byYear.set(year, { year, published: true, days: [] })
  }
  for (const date of holidays) {
    const year = Number(date.slice(0, 4))
    const entry = byYear.get(year) ?? { year, published: true, days: [] as CalendarDay[] }
    entry.days = [...entry.days.filter((d) => d.date !== date), { date, working: false, name: 'test holiday' }]
    byYear.set(year, entry)
  }
  return { version, years: [...byYear.values()].sort((a, b) => a.year - b.year) }
}

export function newApplication(caseId: string, overrides: Partial<NewApplication> = {}): NewApplication {
  return {
    kind: 'new', caseId, guide: testGuide(), actor: WINDOW, calendar: calendarWith(),
    submission: {
      applicant: { type: 'person', name: '李四', idNumber: '440106198805052345' }, channel: 'window',
      priority: { greenChannel: false, urgent: false }, materials: [{ code: 'form', ref: 'doc://form', source: 'applicant' }],
    },
    ...overrides,
  }
}

/** Starts a case of any kind (its workflow type) and returns the view its submission answers with. */
export async function startKind(ts: TimeSkipping, workflowType: string, input: { caseId: string }): Promise<CaseView> {
  ts.started.add(input.caseId)
  // Started as the API starts every case, so that these paths are the ones production runs.
  const args = [{ ...input, ...CURRENT_RUN }]
  const handle = await ts.env.client.workflow.start(workflowType, { workflowId: input.caseId, taskQueue: ts.taskQueue, args })
  return handle.executeUpdate(submittedUpdate)
}

export const startCase = (ts: TimeSkipping, input: NewApplication): Promise<CaseView> => startKind(ts, 'applicationWorkflow', input)

/** The type of the typed refusal (ApplicationFailure) an update was refused with; undefined when it was taken. */
export async function refusalType(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) return err.cause.type ?? undefined
    throw err
  }
  return undefined
}

/** The types of a case's events on the read side, in order. */
export const eventTypes = async (ts: TimeSkipping, caseId: string): Promise<string[]> =>
  (await createCaseReads(ts.db.database.db, ts.db.database.personal).history(caseId)).map((e) => e.type)

/** The types of a workflow's history events, as `EVENT_TYPE_…` names. */
export async function historyEventTypes(ts: TimeSkipping, workflowId: string): Promise<string[]> {
  const { events } = await ts.env.client.workflow.getHandle(workflowId).fetchHistory()
  return (events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]!)
}

/** How long `sleepUntil` waits in real time before it describes the cases that hold the clock. */
const STUCK_CLOCK_MS = 20_000

/**
 * Moves the test server's clock to `instant` plus `offsetMs` (at once if that is past), firing every
 * timer due by then. The server moves its clock only while nothing is in flight (an activity, a
 * workflow task), so a sleep that takes more than a few seconds of real time means something is
 * holding it: after STUCK_CLOCK_MS it prints, for each case this file started that is still running,
 * its pending activities and children and its last events, so that the failure says where.
 */
export async function sleepUntil(ts: TimeSkipping, instant: string | number, offsetMs = 0): Promise<void> {
  const wait = (typeof instant === 'number' ? instant : Date.parse(instant)) + offsetMs - (await ts.env.currentTimeMs())
  if (wait <= 0) return
  const watchdog = setTimeout(() => void describeStuck(ts, wait), STUCK_CLOCK_MS)
  try {
    await ts.env.sleep(wait)
  } finally {
    clearTimeout(watchdog)
  }
}

async function describeStuck(ts: TimeSkipping, wait: number): Promise<void> {
  const lines = [`the test server's clock has not moved ${wait} ms on in ${STUCK_CLOCK_MS} ms; running cases:`]
  for (const id of ts.started) {
    try {
      const handle = ts.env.client.workflow.getHandle(id)
      const described = await handle.describe()
      if (described.status.name !== 'RUNNING') continue
      const activities = (described.raw.pendingActivities ?? []).map((a) =>
        `${a.activityType?.name} (state ${a.state}, attempt ${a.attempt}${a.lastFailure?.message ? `, last failure: ${a.lastFailure.message}` : ''})`)
      const children = (described.raw.pendingChildren ?? []).map((c) => c.workflowId)
      const events = ((await handle.fetchHistory()).events ?? []).slice(-8).map((e) => `${e.eventId}:${temporal.api.enums.v1.EventType[e.eventType ?? 0]}`)
      lines.push(`  ${id}: activities [${activities.join('; ')}] children [${children.join(', ')}] last events ${events.join(' ')}`)
    } catch (err) {
      lines.push(`  ${id}: not described (${String(err)})`)
    }
  }
  console.error(lines.join('\n'))
}

export function act(ts: TimeSkipping, caseId: string, action: string, actor: Actor, params: Record<string, unknown> = {}) {
  const command: ApplicationCommand = { action, params, actor }
  return ts.env.client.workflow.getHandle(caseId).executeUpdate(actionUpdate, { args: [command] })
}

export const view = (ts: TimeSkipping, caseId: string) => ts.env.client.workflow.getHandle(caseId).query(viewQuery)

/**
 * The case once `holds` is true of it: for what a case does on a signal (a watch reporting a
 * missed deadline), which it handles after the sender has already finished. Polls in real time,
 * so the test server's clock does not move; fails after `timeoutMs`.
 */
export async function viewWhen(ts: TimeSkipping, caseId: string, holds: (v: CaseView) => boolean, timeoutMs = 10_000): Promise<CaseView> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const current = await view(ts, caseId)
    if (holds(current)) return current
    if (Date.now() > until) throw new Error(`case ${caseId} never reached the state awaited: ${JSON.stringify(current)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export const deadline = (v: CaseView, key: string) => {
  const d = v.deadlines.find((x) => x.key === key)
  if (!d) throw new Error(`no deadline ${key} in ${JSON.stringify(v.deadlines)}`)
  return d
}
