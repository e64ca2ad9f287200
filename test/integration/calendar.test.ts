import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type CalendarSignal, signalThroughWorker } from '../../src/activities/calendar-propagation.ts'
import { buildApp } from '../../src/api/app.ts'
import { createCaseGateway } from '../../src/api/case-gateway.ts'
import { publishCalendarCommand } from '../../src/cli/admin-commands.ts'
import { publishCalendarYear } from '../../src/db/calendar.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { provisionalYear } from '../../src/domain/statutory-holidays.ts'
import { startCalendarPropagation } from '../../src/infra/calendar-propagation.ts'
import { createWorkers, taskQueues } from '../../src/infra/temporal.ts'
import {
  calendarPropagationId, type CalendarPropagationResult,
} from '../../src/workflows/calendar-propagation/contract.ts'
import { applicationBody, call, type Directory, itemDraft, publishItem, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, testTarget, type TestSystem, uniqueName } from '../support/system.ts'
import { shanghaiYear } from '../support/test-epoch.ts'

// Cases here start at the real now. The calendar is pinned so that this year is published and the
// next ones are not, whichever years the official data covers.
const THIS_YEAR = shanghaiYear(Date.now())
const NEXT_YEAR = THIS_YEAR + 1
/** A year nobody publishes in this file. */
const FAR_YEAR = THIS_YEAR + 5

let sys: TestSystem
let dir: Directory

beforeAll(async () => {
  sys = await startTestSystem({ calendarPublishedThrough: THIS_YEAR })
  dir = await seedDirectory(sys.app)
})
afterAll(async () => sys?.stop())

interface CalendarYearBody {
  year: number
  published: boolean
  days: Array<{ date: string; working: boolean; name?: string }>
  version: number | null
  recomputing?: number
}
interface Due { dueAt: string; dueDate: string; provisional: boolean; calendarVersion: number }

const add = async (from: string, limit: string) => {
  const r = await call(sys.app, dir.windowKey, 'GET', `/v1/calendar/add?from=${encodeURIComponent(from)}&${limit}`)
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body as Due
}
const versionCount = async () =>
  (await sys.db.database.pool.query('SELECT count(*)::int AS n FROM calendar_versions')).rows[0].n as number

const DAY_MS = 86_400_000
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10)
/** The first Monday of March: an illustrative calendar gives its week off. No statutory holiday (rule 34) is ever in it. */
const firstMarchMonday = (year: number) =>
  [...Array(7).keys()].map((i) => Date.UTC(year, 2, 1 + i)).find((ms) => new Date(ms).getUTCDay() === 1)!

/** An illustrative year (no State Council notice is in the seed for it): the weekdays among 1–3 January and of the first full week of March off. */
function illustrativeDays(year: number): Array<{ date: string; working: boolean; name: string }> {
  const dates: string[] = []
  const weekday = (d: Date) => d.getUTCDay() !== 0 && d.getUTCDay() !== 6
  for (let d = 1; d <= 3; d++) if (weekday(new Date(Date.UTC(year, 0, d)))) dates.push(new Date(Date.UTC(year, 0, d)).toISOString().slice(0, 10))
  for (let i = 0; i < 5; i++) dates.push(dateOf(firstMarchMonday(year) + i * DAY_MS))
  return dates.map((date) => ({ date, working: false, name: '节假日' }))
}

let longItem: Promise<void> | undefined
/** A new case whose acceptance deadline (300 working days, over a year) reaches into the next, unpublished year. */
async function submitProvisional(): Promise<CaseView> {
  const code = 'LONG-ACCEPTANCE'
  longItem ??= (async () => {
    expect((await call(sys.app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, itemDraft())).status).toBe(200)
    expect((await publishItem(sys.app, code)).status).toBe(200)
    // No draft may set more than 5 working days now (rule 5): a guide published before that could.
    await sys.db.database.pool.query(`UPDATE service_item_versions SET guide = jsonb_set(guide, '{acceptanceLimit}', '{"workingDays":300}')
      WHERE code = $1`, [code])
  })()
  await longItem
  const submitted = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody({ serviceItemCode: code }))
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201)
  return submitted.body as CaseView
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const openProvisional = async () =>
  (await sys.db.database.pool.query('SELECT id FROM cases WHERE open AND provisional ORDER BY id')).rows.map((r) => r.id as string)
const propagatedAt = async (version: number) => (await sys.db.database.pool.query(
  'SELECT propagated_at FROM calendar_versions WHERE version = $1', [version])).rows[0].propagated_at as Date | null
const propagationResult = (version: number, queue = sys.queues.calendar) =>
  sys.client.workflow.getHandle<() => Promise<CalendarPropagationResult>>(calendarPropagationId(queue, version)).result()

/** A worker of its own for calendar propagations, handing cases the calendar through `signal`. */
async function calendarWorker(signal: CalendarSignal) {
  const queues = taskQueues(uniqueName('q'))
  const { workers, connection } = await createWorkers({
    target: testTarget(), queues, dataConverter: sys.dataConverter,
    deps: { database: sys.db.database, signalCalendar: signal }, workflowBundle: { codePath: inject('workflowBundlePath') },
  })
  const running = workers.map((w) => w.run())
  return {
    taskQueue: queues.calendar,
    async stop() {
      for (const w of workers) w.shutdown()
      await Promise.allSettled(running)
      await connection.close()
    },
  }
}

/** How many runs a workflow id's chain of continue-as-new has, walking back from the latest. */
async function runsOf(workflowId: string): Promise<number> {
  let runId: string | undefined = (await sys.client.workflow.getHandle(workflowId).describe()).runId
  let runs = 0
  while (runId) {
    runs += 1
    const history = await sys.client.workflow.getHandle(workflowId, runId).fetchHistory()
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined
  }
  return runs
}

describe('GET /v1/calendar/{year}', () => {
  it('serves a published year to any role: only the exceptions to Monday–Friday, with its version', async () => {
    const r = await call(sys.app, dir.windowKey, 'GET', '/v1/calendar/2026')
    expect(r.status).toBe(200)
    const year = r.body as CalendarYearBody
    expect(year).toMatchObject({ year: 2026, published: true, version: 1 })
    expect(year.days.filter((d) => d.working).map((d) => d.date)).toEqual([
      '2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10',
    ])
    expect(year.days).toContainEqual({ date: '2026-02-16', working: false, name: '春节' })
    expect(year.days.some((d) => d.date === '2026-02-21')).toBe(false) // a Saturday holiday is off anyway
    for (const key of [dir.auditorKey, dir.supervisorKey, dir.departmentKey, ADMIN_KEY]) {
      expect((await call(sys.app, key, 'GET', '/v1/calendar/2026')).status).toBe(200)
    }
  })

  it('rule 34: answers a year never stored as unpublished, listing its statutory holidays on weekdays', async () => {
    const r = await call(sys.app, dir.windowKey, 'GET', `/v1/calendar/${FAR_YEAR}`)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ year: FAR_YEAR, published: false, days: provisionalYear(FAR_YEAR).days, version: null })
    // Spring Festival's four days in a row hold at least two weekdays, National Day's three one.
    const days = (r.body as CalendarYearBody).days
    expect(days.filter((d) => d.name === '春节').length).toBeGreaterThanOrEqual(2)
    expect(days.filter((d) => d.name?.includes('国庆节')).length).toBeGreaterThanOrEqual(1)
    expect(days.every((d) => !d.working && ![0, 6].includes(new Date(`${d.date}T00:00:00Z`).getUTCDay()))).toBe(true)
  })

  it('refuses a missing key and a year that is not one', async () => {
    const anonymous = await sys.app.inject({ method: 'GET', url: '/v1/calendar/2026' })
    expect(anonymous.statusCode).toBe(401)
    const notAYear = await call(sys.app, dir.windowKey, 'GET', '/v1/calendar/twenty')
    expect(notAYear.status).toBe(400)
    expect(notAYear.body).toMatchObject({ code: 'validation_failed' })
  })
})

describe('GET /v1/calendar/add', () => {
  it('counts the Spring Festival 2026 make-up Saturday as the next working day', async () => {
    expect(await add('2026-02-13T02:00:00Z', 'workingDays=1')).toEqual({
      dueAt: '2026-02-14T16:00:00.000Z', dueDate: '2026-02-14', provisional: false, calendarVersion: 1,
    })
    // Then the festival: 15–23 February are off, 24 February is the next working day.
    expect(await add('2026-02-13T02:00:00Z', 'workingDays=2')).toMatchObject({ dueDate: '2026-02-24', dueAt: '2026-02-24T16:00:00.000Z' })
  })

  it('skips National Day 2025 and counts from the day after the start', async () => {
    expect(await add('2025-09-30T02:00:00Z', 'workingDays=1')).toMatchObject({ dueDate: '2025-10-09', provisional: false })
    expect(await add('2025-09-30T02:00:00Z', 'workingDays=0')).toMatchObject({ dueAt: '2025-09-30T16:00:00.000Z' })
    // 23:30 local on 30 September is still that day (UTC+8).
    expect(await add('2025-09-30T15:30:00Z', 'workingDays=1')).toMatchObject({ dueDate: '2025-10-09' })
  })

  it('rule 34: skips the statutory holidays of a year not yet published and marks the deadline provisional', async () => {
    // The first statutory holiday on a weekday of next year, and the working day after it.
    const holidays = provisionalYear(NEXT_YEAR).days.map((d) => d.date)
    const holiday = Date.parse(`${holidays[0]}T00:00:00Z`)
    let after = holiday + DAY_MS
    while ([0, 6].includes(new Date(after).getUTCDay()) || holidays.includes(dateOf(after))) after += DAY_MS
    expect(await add(`${dateOf(holiday - DAY_MS)}T02:00:00Z`, 'workingDays=1')).toMatchObject({
      dueDate: dateOf(after), provisional: true,
    })
  })

  it('adds a duration as calendar time', async () => {
    expect(await add('2026-02-13T02:00:00Z', 'duration=PT2H')).toMatchObject({ dueAt: '2026-02-13T04:00:00.000Z', provisional: false })
    expect(await add('2026-02-13T02:00:00+08:00', 'duration=P7D')).toMatchObject({ dueAt: '2026-02-19T18:00:00.000Z' })
  })

  it('refuses a missing or doubled limit, a bad instant and a bad duration', async () => {
    const from = encodeURIComponent('2026-02-13T02:00:00Z')
    for (const query of [`from=${from}`, `from=${from}&workingDays=1&duration=PT1H`, 'workingDays=1',
      'from=2026-02-13&workingDays=1', `from=${from}&workingDays=-1`, `from=${from}&duration=P1M`, `from=${from}&duration=P1.5DT2H`]) {
      const r = await call(sys.app, dir.windowKey, 'GET', `/v1/calendar/add?${query}`)
      expect(r.status, query).toBe(400)
      expect(r.body, query).toMatchObject({ code: 'validation_failed' })
    }
  })
})

describe('PUT /v1/calendar/{year}', () => {
  it('refuses what cannot be the year\'s exceptions, naming each bad entry, and records nothing', async () => {
    const before = await versionCount()
    const yearBefore = (await call(sys.app, dir.windowKey, 'GET', '/v1/calendar/2027')).body
    const r = await call(sys.app, ADMIN_KEY, 'PUT', '/v1/calendar/2027', {
      days: [
        { date: '2027-01-01', working: false, name: '元旦' },
        { date: '2026-12-31', working: false },
        { date: '2027-02-30', working: false },
        { date: '2027-01-01', working: false },
        { date: '2027-01-04', working: true },
        { date: '2027-01-09', working: false },
      ],
    })
    expect(r.status).toBe(400)
    expect(r.headers['content-type']).toContain('application/problem+json')
    const body = r.body as { code: string; errors: Array<{ path: string; message: string }> }
    expect(body.code).toBe('validation_failed')
    expect(body.errors.map((e) => e.path)).toEqual([
      'body/days/1/date', 'body/days/2/date', 'body/days/3/date', 'body/days/4/working', 'body/days/5/working',
    ])
    expect(body.errors[3]!.message).toMatch(/Monday/)
    expect(body.errors[4]!.message).toMatch(/Saturday/)

    const malformed = await call(sys.app, ADMIN_KEY, 'PUT', '/v1/calendar/2027', { days: [{ date: '2027-1-1', working: false }] })
    expect(malformed.status).toBe(400)
    const extraField = await call(sys.app, ADMIN_KEY, 'PUT', '/v1/calendar/2027', { days: [], note: 'x' })
    expect(extraField.status).toBe(400)
    expect(await versionCount()).toBe(before)
    expect((await call(sys.app, dir.windowKey, 'GET', '/v1/calendar/2027')).body).toEqual(yearBefore)
  })

  it('is for administrators only', async () => {
    const r = await call(sys.app, dir.supervisorKey, 'PUT', `/v1/calendar/${NEXT_YEAR}`, { days: illustrativeDays(NEXT_YEAR) })
    expect(r.status).toBe(403)
    expect(r.body).toMatchObject({ code: 'forbidden' })
  })

  it('answers a version whose handing out could not start with every case it may move unreached, and the next API start starts it', async () => {
    while ((await openProvisional()).length < 2) await submitProvisional()
    const ids = await openProvisional()
    const refusing = await buildApp({ database: sys.db.database, gateway: {
      ...createCaseGateway(sys.client, sys.queues), propagateCalendar: () => Promise.reject(new Error('Temporal unreachable')),
    } })
    const year = FAR_YEAR + 1
    let version: number
    try {
      const r = await call(refusing, ADMIN_KEY, 'PUT', `/v1/calendar/${year}`, { days: illustrativeDays(year) })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      // Stored all the same, and not propagated: nothing has started handing it out.
      expect(r.body).toMatchObject({ year, published: true, recomputing: ids.length, signalFailures: ids.length })
      version = (r.body as CalendarYearBody).version!
    } finally {
      await refusing.close()
    }
    expect(await propagatedAt(version)).toBeNull()

    const restarted = await buildApp({ database: sys.db.database, gateway: createCaseGateway(sys.client, sys.queues) })
    try {
      await restarted.ready()
      await waitFor(() => propagatedAt(version), (at) => at !== null, 'the restarted API to hand the version out')
      expect(await propagationResult(version)).toEqual({ version, passes: 1, reached: ids.length })
    } finally {
      await restarted.close()
    }
  })

  it('hands a version to every open case it may move, a page per run, continuing as new between pages', async () => {
    // An ended workflow the read side still shows open counts as reached.
    const ended = await submitProvisional()
    await sys.client.workflow.getHandle(ended.id).terminate('test: a workflow that is gone')
    while ((await openProvisional()).length < 7) await submitProvisional()
    const ids = await openProvisional()
    const year = FAR_YEAR + 2
    const { version } = await publishCalendarYear(sys.db.database.db, { year, days: [], changedBy: 'test' })
    const handed: Array<{ id: string; years: number[]; version: number }> = []
    const worker = await calendarWorker(async (caseId, data) => {
      handed.push({ id: caseId, years: data.years.map((y) => y.year), version: data.version })
      return signalThroughWorker(caseId, data)
    })
    try {
      await startCalendarPropagation(sys.client, worker.taskQueue, version, { pageSize: 3 })
      expect(await propagationResult(version, worker.taskQueue)).toEqual({ version, passes: 1, reached: ids.length })
    } finally {
      await worker.stop()
    }
    // Each case once, in keyset pages of 3: a full page continues as new, the short one ends the pass.
    expect(handed.map((h) => h.id).sort()).toEqual(ids)
    expect(await runsOf(calendarPropagationId(worker.taskQueue, version))).toBe(Math.floor(ids.length / 3) + 1)
    // Each with the current calendar over its window: from the year before it was created to the changed year.
    const createdYear = shanghaiYear(Date.parse(ended.createdAt))
    for (const h of handed) {
      expect(h.version).toBeGreaterThanOrEqual(version)
      expect([h.years[0], h.years.at(-1)]).toEqual([createdYear - 1, year])
    }
    expect(await propagatedAt(version)).not.toBeNull()
  })

  it('runs another pass after a backoff for a case it could not reach, until one pass reaches them all', async () => {
    const ids = await openProvisional()
    const { version } = await publishCalendarYear(sys.db.database.db, { year: FAR_YEAR + 3, days: [], changedBy: 'test' })
    const attempts: string[] = []
    const worker = await calendarWorker(async (caseId, data) => {
      attempts.push(caseId)
      if (caseId === ids[1] && attempts.filter((id) => id === caseId).length === 1) throw new Error('Temporal unreachable')
      return signalThroughWorker(caseId, data)
    })
    try {
      await startCalendarPropagation(sys.client, worker.taskQueue, version, { retryAfterMs: 200 })
      expect(await propagationResult(version, worker.taskQueue)).toEqual({ version, passes: 2, reached: ids.length })
    } finally {
      await worker.stop()
    }
    // The second pass tries every case again (each ignores a version it has).
    expect([...attempts].sort()).toEqual([...ids, ...ids].sort())
    expect(await propagatedAt(version)).not.toBeNull()
  })

  it('starts one workflow per version however often it is started: while it runs and after it finished', async () => {
    const ids = await openProvisional()
    const { version } = await publishCalendarYear(sys.db.database.db, { year: FAR_YEAR + 4, days: [], changedBy: 'test' })
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    const handed: string[] = []
    const worker = await calendarWorker(async (caseId, data) => {
      await gate
      handed.push(caseId)
      return signalThroughWorker(caseId, data)
    })
    // The deployment under test is the one whose calendar queue this worker serves.
    const gateway = createCaseGateway(sys.client, { ...sys.queues, calendar: worker.taskQueue })
    const handle = sys.client.workflow.getHandle(calendarPropagationId(worker.taskQueue, version))
    try {
      await startCalendarPropagation(sys.client, worker.taskQueue, version)
      const { runId } = await handle.describe()
      // The API, a retry and the CLI all find the running one.
      await Promise.all([
        gateway.propagateCalendar(version),
        startCalendarPropagation(sys.client, worker.taskQueue, version),
        startCalendarPropagation(sys.client, worker.taskQueue, version),
      ])
      expect(await handle.describe()).toMatchObject({ runId, status: { name: 'RUNNING' } })
      open()
      expect(await propagationResult(version, worker.taskQueue)).toMatchObject({ passes: 1, reached: ids.length })
      // Finished: starting it again runs nothing.
      await gateway.propagateCalendar(version)
      expect(await handle.describe()).toMatchObject({ runId, status: { name: 'COMPLETED' } })
    } finally {
      open()
      await worker.stop()
    }
    expect([...handed].sort()).toEqual(ids)
  })

  it('starts handing out a year the CLI publishes when Temporal is reachable', async () => {
    const ids = await openProvisional()
    const year = FAR_YEAR + 5
    const file = join(tmpdir(), `${uniqueName('calendar-')}.json`)
    await writeFile(file, JSON.stringify(illustrativeDays(year)))
    const lines: string[] = []
    expect(await publishCalendarCommand(sys.db.database, year, file, (line) => lines.push(line),
      (v) => startCalendarPropagation(sys.client, sys.queues.calendar, v))).toBe(0)
    const version = Number(/calendar version (\d+)/.exec(lines[0]!)![1])
    expect(lines[1]).toBe(`workflow ${calendarPropagationId(sys.queues.calendar, version)} hands it to the open cases it may move`)
    expect(await propagationResult(version)).toEqual({ version, passes: 1, reached: ids.length })
    expect(await propagatedAt(version)).not.toBeNull()
  })

  it('publishes next year: its deadlines stop being provisional and running cases recompute theirs', async () => {
    const created = await submitProvisional()
    const acceptance = created.deadlines.find((d) => d.kind === 'acceptance')!
    expect(acceptance.provisional).toBe(true)
    expect(acceptance.dueAt).toBe((await add(created.createdAt, 'workingDays=300')).dueAt)

    // A provisional case whose workflow has ended without the read side noticing: no failure.
    const ended = await submitProvisional()
    await sys.client.workflow.getHandle(ended.id).terminate('test: a workflow that is gone')

    // From the Friday before the first Monday of March, one working day: that Monday while the year
    // is unpublished (Monday–Friday and the statutory holidays, none then), the Monday after once its
    // illustrative calendar is out.
    const monday = firstMarchMonday(NEXT_YEAR)
    const probeFrom = `${dateOf(monday - 3 * DAY_MS)}T02:00:00Z`
    expect(await add(probeFrom, 'workingDays=1')).toMatchObject({ dueDate: dateOf(monday), provisional: true })

    const dueYear = Number((await add(created.createdAt, 'workingDays=300')).dueDate.slice(0, 4))
    const thisYear = Number(created.createdAt.slice(0, 4))
    const years = [...new Set([NEXT_YEAR, ...Array.from({ length: dueYear - thisYear + 1 }, (_, i) => thisYear + i)])].sort()
    const provisionalOpen = async () => (await sys.db.database.pool.query(
      'SELECT count(*)::int AS n FROM cases WHERE open AND provisional')).rows[0].n as number
    const versionsBefore = await versionCount()
    let published = 0
    for (const year of years) {
      const current = (await call(sys.app, ADMIN_KEY, 'GET', `/v1/calendar/${year}`)).body as CalendarYearBody
      if (current.published) continue
      const expected = await provisionalOpen()
      const r = await call(sys.app, ADMIN_KEY, 'PUT', `/v1/calendar/${year}`, { days: illustrativeDays(year) })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      published += 1
      const answer = r.body as CalendarYearBody
      expect(answer).toMatchObject({ year, published: true, version: versionsBefore + published })
      // The ended workflow is counted too: it still reads as open and provisional, and handing
      // it the calendar finds it ended.
      expect(answer).toMatchObject({ recomputing: expected, signalFailures: 0 })
      expect(await propagationResult(answer.version!)).toEqual({ version: answer.version, passes: 1, reached: expected })
      expect(await propagatedAt(answer.version!)).not.toBeNull()
      expect(answer.days.map((d) => d.date)).toEqual([...answer.days.map((d) => d.date)].sort())
    }
    expect(published).toBeGreaterThan(0)
    expect(await versionCount()).toBe(versionsBefore + published)

    const stored = (await call(sys.app, dir.auditorKey, 'GET', `/v1/calendar/${NEXT_YEAR}`)).body as CalendarYearBody
    expect(stored).toMatchObject({ year: NEXT_YEAR, published: true, days: illustrativeDays(NEXT_YEAR) })
    expect(await add(probeFrom, 'workingDays=1')).toMatchObject({ dueDate: dateOf(monday + 7 * DAY_MS), provisional: false })

    const expectedDue = await add(created.createdAt, 'workingDays=300')
    expect(expectedDue.provisional).toBe(false)
    const recomputed = await waitFor(
      async () => (await call(sys.app, dir.departmentKey, 'GET', `/v1/cases/${created.id}`)).body as CaseView,
      (view) => view.deadlines.every((d) => !d.provisional), 'the case to recompute its deadlines')
    expect(recomputed.deadlines.find((d) => d.kind === 'acceptance')).toMatchObject({
      state: 'running', provisional: false, dueAt: expectedDue.dueAt,
    })
    expect(recomputed.status).toBe('submitted')
    const history = await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${created.id}/history`)
    const events = (history.body as { events: Array<{ type: string; data: Record<string, unknown> }> }).events
    const event = events.findLast((e) => e.type === 'deadlines_recomputed')
    expect(event?.data).toMatchObject({ calendarVersion: versionsBefore + published })
    const row = await sys.db.database.pool.query('SELECT provisional FROM cases WHERE id = $1', [created.id])
    expect(row.rows[0].provisional).toBe(false)
  })

  it('keeps every version, and a correction of a published year moves deadlines that were final', async () => {
    const submitted = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())
    const created = submitted.body as CaseView
    const acceptance = created.deadlines.find((d) => d.kind === 'acceptance')!
    // Declare the next working day a holiday: the acceptance deadline moves one working day on.
    const next = await add(created.createdAt, 'workingDays=1')
    const year = Number(next.dueDate.slice(0, 4))
    const current = (await call(sys.app, ADMIN_KEY, 'GET', `/v1/calendar/${year}`)).body as CalendarYearBody
    const weekend = [0, 6].includes(new Date(`${next.dueDate}T00:00:00Z`).getUTCDay())
    const days = weekend
      ? current.days.filter((d) => d.date !== next.dueDate) // a make-up Saturday withdrawn
      : [...current.days, { date: next.dueDate, working: false, name: '临时假日' }]
    const versionsBefore = await versionCount()
    const r = await call(sys.app, ADMIN_KEY, 'PUT', `/v1/calendar/${year}`, { days })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect((r.body as CalendarYearBody).recomputing).toBeGreaterThanOrEqual(1)
    expect(await versionCount()).toBe(versionsBefore + 1)
    const versions = await sys.db.database.pool.query('SELECT version, years, changed_by FROM calendar_versions ORDER BY version')
    expect(versions.rows.map((v) => v.version)).toEqual(Array.from({ length: versionsBefore + 1 }, (_, i) => i + 1))
    expect(versions.rows.at(-1)).toMatchObject({ years: [year], changed_by: expect.stringContaining('root/') })

    const moved = await waitFor(
      async () => (await call(sys.app, dir.departmentKey, 'GET', `/v1/cases/${created.id}`)).body as CaseView,
      (view) => view.deadlines[0]!.dueAt !== acceptance.dueAt, 'the acceptance deadline to move')
    expect(moved.deadlines[0]!.dueAt).toBe((await add(created.createdAt, 'workingDays=5')).dueAt)
    expect(Date.parse(moved.deadlines[0]!.dueAt)).toBeGreaterThan(Date.parse(acceptance.dueAt))
  })
})
