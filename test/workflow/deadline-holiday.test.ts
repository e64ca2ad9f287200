// Deadlines across a holiday, on the time-skipping server. Its clock starts at real "now" (or at
// BANJIAN_TEST_EPOCH) and only moves forward (the real Spring Festival 2026 is behind it), so the
// holiday is made to lie just ahead: a custom calendar with a Golden-Week-like holiday and a
// make-up Saturday after it, every year it touches published. Rule 34's test loads its calendar as
// the API does (src/db/calendar.ts), next year unpublished with its statutory holidays as data.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js'
import { readFile } from 'node:fs/promises'
import { TestWorkflowEnvironment } from '@temporalio/testing'
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createActivities } from '../../src/activities/index.ts'
import { loadCalendarWindow, publishCalendarYear } from '../../src/db/calendar.ts'
import { createCaseReads } from '../../src/db/cases.ts'
import type { ApplicationCommand } from '../../src/domain/application/application-case.ts'
import type { CalendarData, CalendarDay, CalendarYear } from '../../src/domain/calendar.ts'
import { dateOfDay, dayOfDate, dayOfMs, endOfDayMs, startOfDayMs, WorkingCalendar, weekdayOf, yearOfDay } from '../../src/domain/calendar.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { publishGuide, type ServiceItemDraft } from '../../src/domain/service-item.ts'
import { provisionalYear } from '../../src/domain/statutory-holidays.ts'
import {
  actionUpdate, type ApplicationWorkflowInput, calendarChangedSignal, submittedUpdate, viewQuery,
} from '../../src/workflows/application/contract.ts'
import { CURRENT_RUN } from '../../src/workflows/case/contract.ts'
import { SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes.ts'
import { createTestDatabase, pinCalendarThrough, type TestDatabase, uniqueName } from '../support/system.ts'
import { sleepToTestEpoch } from '../support/test-epoch.ts'

let env: TestWorkflowEnvironment
let db: TestDatabase
let worker: Worker
let running: Promise<void>
const taskQueue = uniqueName('holiday-')

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] })
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('testServerPath') } },
  })
  await sleepToTestEpoch(env)
  // The test server refuses unknown search attributes, and the workflows upsert ours.
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) =>
      [name, encodeSearchAttributeIndexedValueType(type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase() as 'KEYWORD')!])),
  })
  db = await createTestDatabase()
  worker = await Worker.create({
    connection: env.nativeConnection, taskQueue, workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: createActivities({ database: db.database }),
  })
  running = worker.run()
})
afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown()
  await running
  await env?.teardown()
  await db?.drop()
})

const draft = (overrides: Partial<ServiceItemDraft>): ServiceItemDraft => ({
  name: 'Holiday test item', departmentId: 'gz-amr', processing: 'promised',
  promisedLimit: { workingDays: 5 }, statutoryLimit: { workingDays: 20 },
  materials: [{ code: 'form', name: 'Form', required: true }], channels: ['window'],
  ...overrides,
})

async function startCase(caseId: string, calendar: CalendarData, item: Partial<ServiceItemDraft>): Promise<CaseView> {
  const input: Extract<ApplicationWorkflowInput, { kind: 'new' }> = {
    kind: 'new', caseId, calendar, ...CURRENT_RUN,
    guide: publishGuide('HOLIDAY-1', 1, draft(item), '2026-01-01T00:00:00Z'),
    actor: { organizationId: 'gz-center', role: 'window' },
    submission: {
      applicant: { type: 'person', name: '王五', idNumber: '440106199202023456' }, channel: 'window',
      priority: { greenChannel: false, urgent: false }, materials: [{ code: 'form', ref: 'doc://form', source: 'applicant' }],
    },
  }
  const handle = await env.client.workflow.start('applicationWorkflow', { workflowId: caseId, taskQueue, args: [input] })
  return handle.executeUpdate(submittedUpdate)
}

const view = (caseId: string) => env.client.workflow.getHandle(caseId).query(viewQuery)

function accept(caseId: string): Promise<CaseView> {
  const command: ApplicationCommand = { action: 'accept', params: {}, actor: { organizationId: 'gz-amr', role: 'department' } }
  return env.client.workflow.getHandle(caseId).executeUpdate(actionUpdate, { args: [command] })
}

function deadline(v: CaseView, kind: string) {
  const d = v.deadlines.find((x) => x.kind === kind)
  if (!d) throw new Error(`no ${kind} deadline in ${JSON.stringify(v.deadlines)}`)
  return d
}

const SECOND = 1000
const HOUR = 3_600_000
const isWeekend = (day: number) => weekdayOf(day) === 0 || weekdayOf(day) === 6

/** Sleeps the test server's clock to `instantMs + offsetMs`. */
async function sleepUntil(instantMs: number, offsetMs = 0): Promise<void> {
  const wait = instantMs + offsetMs - (await env.currentTimeMs())
  if (wait > 0) await env.sleep(wait)
}

/** Polls a query until `done` (workflow tasks run in real time once the clock has moved). */
async function viewWhen(caseId: string, done: (v: CaseView) => boolean, what: string): Promise<CaseView> {
  const until = Date.now() + 15_000
  for (;;) {
    const current = await view(caseId)
    if (done(current)) return current
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(current)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * A published calendar around `today` in which the seven days after it are a holiday week (the
 * weekdays among them off) and day 8 is a working day: a make-up day (调休) if it falls on a weekend.
 */
function holidayWeekAfter(today: number): { calendar: CalendarData; firstWorkingDay: number } {
  const exceptions: CalendarDay[] = []
  for (let day = today + 1; day <= today + 7; day++) {
    if (!isWeekend(day)) exceptions.push({ date: dateOfDay(day), working: false, name: '测试假期' })
  }
  const firstWorkingDay = today + 8
  if (isWeekend(firstWorkingDay)) exceptions.push({ date: dateOfDay(firstWorkingDay), working: true, name: '测试假期调休' })
  const thisYear = yearOfDay(today)
  const years: CalendarYear[] = []
  for (let year = thisYear - 1; year <= thisYear + 2; year++) {
    years.push({ year, published: true, days: exceptions.filter((d) => d.date.startsWith(`${year}-`)) })
  }
  return { calendar: { version: 1, years }, firstWorkingDay }
}

describe('deadlines across a holiday (time-skipping)', () => {
  it('deems an application accepted, and marks a case overdue, exactly at the end of the working day after the holiday', async () => {
    // Start on the coming Friday at 10:00 local: the holiday week then runs Saturday to Friday and
    // the first working day after it is a make-up Saturday, the second the Monday after.
    let today = dayOfMs(await env.currentTimeMs()) + 1
    while (weekdayOf(today) !== 5) today++
    await sleepUntil(startOfDayMs(today) + 10 * HOUR)
    expect(dayOfMs(await env.currentTimeMs())).toBe(today)
    const { calendar, firstWorkingDay } = holidayWeekAfter(today)
    expect(weekdayOf(firstWorkingDay)).toBe(6)
    const secondWorkingDay = firstWorkingDay + 2

    // A: nobody decides; acceptance limit 1 working day → the end of the first day after the holiday.
    const waiting = uniqueName('holiday-deemed-')
    const createdA = await startCase(waiting, calendar, { acceptanceLimit: { workingDays: 1 } })
    // B: accepted at once; promised limit 2 working days → the end of the second day after it.
    const accepted = uniqueName('holiday-overdue-')
    await startCase(accepted, calendar, { promisedLimit: { workingDays: 2 } })
    const acceptedB = await accept(accepted)
    expect(dayOfMs(Date.parse(createdA.createdAt))).toBe(today)
    expect(dayOfMs(Date.parse(acceptedB.updatedAt))).toBe(today)

    const acceptanceDueMs = endOfDayMs(firstWorkingDay)
    const promisedDueMs = endOfDayMs(secondWorkingDay)
    expect(deadline(createdA, 'acceptance')).toMatchObject({
      dueAt: new Date(acceptanceDueMs).toISOString(), provisional: false, state: 'running',
    })
    expect(deadline(acceptedB, 'promised')).toMatchObject({
      dueAt: new Date(promisedDueMs).toISOString(), warnAt: new Date(acceptanceDueMs).toISOString(), provisional: false,
    })

    // One second before: still waiting for a decision, nothing warned on B.
    await sleepUntil(acceptanceDueMs, -SECOND)
    expect(await env.currentTimeMs()).toBeLessThan(acceptanceDueMs)
    const beforeA = await view(waiting)
    expect(beforeA.status).toBe('submitted')
    expect(deadline(beforeA, 'acceptance').state).toBe('running')
    expect((await view(accepted)).warned).toBe(false)

    // Past it: deemed accepted (Art. 32), and B's warning has started.
    await sleepUntil(acceptanceDueMs, SECOND)
    const afterA = await viewWhen(waiting, (v) => v.status !== 'submitted', 'deemed acceptance')
    expect(afterA.status).toBe('accepted')
    expect(['missed', 'cancelled']).toContain(deadline(afterA, 'acceptance').state)
    await viewWhen(accepted, (v) => v.warned, 'the promised deadline to warn')
    const reads = createCaseReads(db.database.db, db.database.personal)
    const deemed = (await reads.history(waiting)).find((e) => e.type === 'deemed_accepted')
    expect(deemed).toBeDefined()
    expect(Date.parse(deemed!.at)).toBeGreaterThanOrEqual(acceptanceDueMs)
    expect(Date.parse(deemed!.at)).toBeLessThan(acceptanceDueMs + 5 * SECOND)

    // B one second before its promised deadline: not overdue; past it: overdue.
    await sleepUntil(promisedDueMs, -SECOND)
    expect(await env.currentTimeMs()).toBeLessThan(promisedDueMs)
    const beforeB = await view(accepted)
    expect(beforeB.overdue).toBe(false)
    expect(deadline(beforeB, 'promised').state).toBe('running')
    await sleepUntil(promisedDueMs, SECOND)
    const afterB = await viewWhen(accepted, (v) => v.overdue, 'the promised deadline to be missed')
    expect(deadline(afterB, 'promised').state).toBe('missed')
    expect(deadline(afterB, 'statutory').state).toBe('running')
    const missed = (await reads.history(accepted)).find((e) => e.type === 'deadline_missed')
    expect(missed?.data).toMatchObject({ kind: 'promised', dueAt: new Date(promisedDueMs).toISOString() })
    expect(Date.parse(missed!.at)).toBeGreaterThanOrEqual(promisedDueMs)
  })

  it('rule 34: the workflow bundle holds no chinese-days code (it names the packages it bundles): workflows get holidays as data', async () => {
    const bundle = await readFile(inject('workflowBundlePath'), 'utf8')
    expect(bundle).toContain('json-logic-js') // the check can see a package the domain imports
    expect(bundle).not.toContain('chinese-days')
    expect(bundle).not.toContain('statutory-holidays')
  })

  it('rule 34: a deadline over next year\'s statutory holiday skips it while the year is unpublished, and the published year wins when it comes', async () => {
    // The calendar as the API loads it for a case: this year published, next year not (pinned, so
    // whichever years the official data covers), next year's weekday statutory holidays as data.
    const today = dayOfMs(await env.currentTimeMs())
    const thisYear = yearOfDay(today)
    const nextYear = thisYear + 1
    await pinCalendarThrough(db, thisYear)
    const loaded = await loadCalendarWindow(db.database.db, thisYear - 1, thisYear + 2)
    expect(loaded.years.find((y) => y.year === nextYear)).toEqual(provisionalYear(nextYear))
    const before = WorkingCalendar.from(loaded)

    // A promised limit that ends just over next year's first statutory holiday on a weekday.
    const holiday = dayOfDate(provisionalYear(nextYear).days[0]!.date)
    const limit = before.workingDaysBetween(today + 1, holiday) + 1
    const caseId = uniqueName('holiday-statutory-')
    await startCase(caseId, loaded, { promisedLimit: { workingDays: limit }, statutoryLimit: { workingDays: limit + 20 } })
    const accepted = await accept(caseId)
    const acceptedDay = dayOfMs(Date.parse(accepted.updatedAt))
    const provisionalDue = before.addWorkingDays(acceptedDay, limit)
    expect(provisionalDue).toBeGreaterThan(holiday)
    expect(before.isWorkingDay(holiday)).toBe(false)
    expect(deadline(accepted, 'promised')).toMatchObject({ dueAt: new Date(endOfDayMs(provisionalDue)).toISOString(), provisional: true })
    // Monday–Friday alone, as before rule 34, would have counted the holiday.
    const mondayToFriday = WorkingCalendar.from({ ...loaded, years: loaded.years.filter((y) => y.published) })
    expect(mondayToFriday.addWorkingDays(acceptedDay, limit)).toBeLessThan(provisionalDue)

    // The State Council's notice (an illustration): the statutory holidays, a bridge day off after
    // the first (the first working day after it so far) and a make-up Saturday after that.
    const bridge = before.addWorkingDays(holiday, 1)
    let makeUp = bridge + 1
    while (weekdayOf(makeUp) !== 6) makeUp++
    const notice: CalendarDay[] = [...provisionalYear(nextYear).days, { date: dateOfDay(bridge), working: false, name: '假日' },
      { date: dateOfDay(makeUp), working: true, name: '假日调休' }].sort((a, b) => a.date.localeCompare(b.date))
    expect(notice.every((d) => d.date.startsWith(`${nextYear}-`))).toBe(true)
    await publishCalendarYear(db.database.db, { year: nextYear, changedBy: 'test', days: notice })
    const published = await loadCalendarWindow(db.database.db, thisYear - 1, thisYear + 2)
    expect(published.version).toBeGreaterThan(loaded.version)
    expect(published.years.find((y) => y.year === nextYear)).toEqual({ year: nextYear, published: true, days: notice })
    const after = WorkingCalendar.from(published)
    expect(after.isWorkingDay(bridge)).toBe(false)
    expect(after.isWorkingDay(makeUp)).toBe(true)
    const finalDue = after.addWorkingDays(acceptedDay, limit)
    expect(finalDue).toBeGreaterThan(provisionalDue)
    await env.client.workflow.getHandle(caseId).signal(calendarChangedSignal, published)
    const recomputed = await viewWhen(caseId, (v) => !deadline(v, 'promised').provisional, 'the promised deadline to become final')
    expect(deadline(recomputed, 'promised')).toMatchObject({ dueAt: new Date(endOfDayMs(finalDue)).toISOString(), provisional: false })
  })
})
