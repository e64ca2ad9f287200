import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { propagateCalendarChange, runPropagation, startPropagationRetries } from '../../src/api/calendar-propagation.ts'
import { claimPropagation } from '../../src/db/calendar-propagations.ts'
import { loadCalendarWindow } from '../../src/db/calendar.ts'
import type { CalendarData } from '../../src/domain/calendar.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { applicationBody, call, type Directory, itemDraft, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'
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
/** The first Monday of February: an illustrative calendar gives its week off. */
const firstFebruaryMonday = (year: number) =>
  [...Array(7).keys()].map((i) => Date.UTC(year, 1, 1 + i)).find((ms) => new Date(ms).getUTCDay() === 1)!

/** An illustrative year (no State Council notice is in the seed for it): the weekdays among 1–3 January and of the first full week of February off. */
function illustrativeDays(year: number): Array<{ date: string; working: boolean; name: string }> {
  const dates: string[] = []
  const weekday = (d: Date) => d.getUTCDay() !== 0 && d.getUTCDay() !== 6
  for (let d = 1; d <= 3; d++) if (weekday(new Date(Date.UTC(year, 0, d)))) dates.push(new Date(Date.UTC(year, 0, d)).toISOString().slice(0, 10))
  for (let i = 0; i < 5; i++) dates.push(dateOf(firstFebruaryMonday(year) + i * DAY_MS))
  return dates.map((date) => ({ date, working: false, name: '节假日' }))
}

let longItem: Promise<void> | undefined
/** A new case whose acceptance deadline (300 working days, over a year) reaches into the next, unpublished year. */
async function submitProvisional(): Promise<CaseView> {
  const code = 'LONG-ACCEPTANCE'
  longItem ??= (async () => {
    expect((await call(sys.app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, itemDraft({ acceptanceLimit: { workingDays: 300 } }))).status).toBe(200)
    expect((await call(sys.app, ADMIN_KEY, 'POST', `/v1/service-items/${code}/publish`)).status).toBe(200)
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

  it('answers an unknown year as unpublished with no exceptions', async () => {
    const r = await call(sys.app, dir.windowKey, 'GET', `/v1/calendar/${FAR_YEAR}`)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ year: FAR_YEAR, published: false, days: [], version: null })
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

  it('hands the change to the cases it finds in keyset batches, each once, and survives ended and unreachable ones', async () => {
    const created = await Promise.all([1, 2, 3, 4, 5].map(() => submitProvisional()))
    const ids = created.map((c) => c.id)
    const windows = new Set<string>()
    const found = await sys.db.database.pool.query('SELECT id FROM cases WHERE open AND provisional ORDER BY id')
    expect(found.rows.map((r) => r.id)).toEqual([...ids].sort())
    const seen: string[] = []
    const gateway = {
      async signalCalendar(caseId: string, _data: CalendarData): Promise<'signalled' | 'closed'> {
        seen.push(caseId)
        if (caseId === ids[0]) return 'closed'
        if (caseId === ids[1]) throw new Error('Temporal unreachable')
        return 'signalled'
      },
    }
    const result = await propagateCalendarChange(
      { db: sys.db.database.db, gateway, window: (from, to) => {
        windows.add(`${from}-${to}`)
        return loadCalendarWindow(sys.db.database.db, from, to)
      } },
      { year: FAR_YEAR, correction: false }, { batchSize: 2, concurrency: 2 },
    )
    expect([...seen].sort()).toEqual([...ids].sort())
    // The years around the case, widened to the published one.
    const createdYear = new Date(Date.parse(created[0]!.createdAt) + 8 * 3_600_000).getUTCFullYear()
    expect([...windows]).toEqual([`${createdYear - 1}-${FAR_YEAR}`])
    expect(result).toEqual({ signalled: 3, closed: 1, failed: 1 })
  })

  /** A propagation row as a publisher records it, for a version no test publishes. */
  const recordRow = async (version: number) => sys.db.database.pool.query(
    'INSERT INTO calendar_propagations (version, year, correction, passes, claimed_until) VALUES ($1, $2, false, 1, now())', [version, FAR_YEAR])
  const readRow = async (version: number) => (await sys.db.database.pool.query(
    'SELECT after, signalled, closed, failed, passes, done_at FROM calendar_propagations WHERE version = $1', [version])).rows[0]
  const openProvisional = async () =>
    (await sys.db.database.pool.query('SELECT id FROM cases WHERE open AND provisional ORDER BY id')).rows.map((r) => r.id as string)
  const window = (from: number, to: number) => loadCalendarWindow(sys.db.database.db, from, to)

  it('resumes a pass cut short after its last saved batch, once its claim runs out, and finishes it', async () => {
    const ids = await openProvisional()
    expect(ids.length).toBeGreaterThanOrEqual(5)
    await recordRow(9001)
    const seen: string[] = []
    const gateway = { signalCalendar: async (caseId: string) => { seen.push(caseId); return 'signalled' as const } }
    // The publisher dies (here: its database reads fail) during the second batch.
    let reads = 0
    const dying = (from: number, to: number) => (++reads > 2 ? Promise.reject(new Error('process killed')) : window(from, to))
    const deps = { db: sys.db.database.db, gateway, leaseMs: 1500 }
    await expect(runPropagation({ ...deps, window: dying }, {
      version: 9001, year: FAR_YEAR, correction: false, after: undefined, counts: { signalled: 0, closed: 0, failed: 0 },
    }, { batchSize: 2, concurrency: 1 })).rejects.toThrow('process killed')
    expect(await readRow(9001)).toMatchObject({ after: ids[1], signalled: 2, done_at: null })

    // Nobody may take it over while the claim holds; afterwards the retry loop resumes after ids[1].
    expect(await claimPropagation(sys.db.database.db, 1500)).toBeUndefined()
    seen.length = 0
    const retries = startPropagationRetries({ ...deps, window }, 20)
    try {
      const done = await waitFor(() => readRow(9001), (row) => row.done_at !== null, 'the propagation to finish')
      expect(done).toMatchObject({ after: null, signalled: ids.length, failed: 0, passes: 1 })
    } finally {
      await retries.stop()
    }
    expect([...seen].sort()).toEqual(ids.slice(2).sort())
  })

  it('stops a pass between batches when its process shuts down, and gives it back at once with its progress', async () => {
    const ids = await openProvisional()
    await recordRow(9003)
    await sys.db.database.pool.query('UPDATE calendar_propagations SET claimed_until = now() - interval \'1 second\' WHERE version = 9003')
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    const seen: string[] = []
    const gateway = {
      async signalCalendar(caseId: string) {
        seen.push(caseId)
        await gate
        return 'signalled' as const
      },
    }
    const retries = startPropagationRetries({ db: sys.db.database.db, gateway, window, leaseMs: 60_000 }, 10, { batchSize: 1, concurrency: 1 })
    await waitFor(async () => seen.length, (n) => n === 1, 'the first batch to start')
    const stopping = retries.stop()
    open()
    await stopping
    expect(seen).toEqual([ids[0]])
    expect(await readRow(9003)).toMatchObject({ after: ids[0], signalled: 1, done_at: null })
    // Released, not held for the rest of its 60 s lease: the next process resumes it right away.
    expect(await claimPropagation(sys.db.database.db, 60_000)).toMatchObject({ version: 9003, after: ids[0] })
    await sys.db.database.pool.query('UPDATE calendar_propagations SET done_at = now() WHERE version = 9003')
  })

  it('runs a pass again for the cases it could not reach, until one pass reaches them all', async () => {
    const ids = await openProvisional()
    await recordRow(9002)
    const unreachable = new Set([ids[0]])
    const seen: string[] = []
    const gateway = {
      async signalCalendar(caseId: string) {
        seen.push(caseId)
        if (unreachable.has(caseId)) throw new Error('Temporal unreachable')
        return 'signalled' as const
      },
    }
    const deps = { db: sys.db.database.db, gateway, window, leaseMs: 50, retryAfterMs: 50 }
    const first = await runPropagation(deps, {
      version: 9002, year: FAR_YEAR, correction: false, after: undefined, counts: { signalled: 0, closed: 0, failed: 0 },
    })
    expect(first).toEqual({ signalled: ids.length - 1, closed: 0, failed: 1 })
    expect(await readRow(9002)).toMatchObject({ done_at: null, failed: 1, passes: 1 })

    unreachable.clear()
    seen.length = 0
    const retries = startPropagationRetries(deps, 20)
    try {
      const done = await waitFor(() => readRow(9002), (row) => row.done_at !== null, 'a pass that reaches every case')
      expect(done).toMatchObject({ signalled: ids.length, failed: 0, passes: 2 })
    } finally {
      await retries.stop()
    }
    expect([...seen].sort()).toEqual([...ids].sort())
  })

  it('publishes next year: its deadlines stop being provisional and running cases recompute theirs', async () => {
    const created = await submitProvisional()
    const acceptance = created.deadlines.find((d) => d.kind === 'acceptance')!
    expect(acceptance.provisional).toBe(true)
    expect(acceptance.dueAt).toBe((await add(created.createdAt, 'workingDays=300')).dueAt)

    // A provisional case whose workflow has ended without the read side noticing: no failure.
    const ended = await submitProvisional()
    await sys.client.workflow.getHandle(ended.id).terminate('test: a workflow that is gone')

    // From the Friday before the first Monday of February, one working day: that Monday while the
    // year is unpublished (Monday–Friday), the Monday after once its illustrative calendar is out.
    const monday = firstFebruaryMonday(NEXT_YEAR)
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
      // The ended workflow is found (it still reads as open and provisional) but not counted.
      expect(answer).toMatchObject({ recomputing: expected - 1, signalFailures: 0 })
      // Recorded with the version, and done: one pass reached every case.
      expect((await readRow(answer.version!))).toMatchObject({ signalled: expected - 1, closed: 1, failed: 0, passes: 1, done_at: expect.any(Date) })
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
