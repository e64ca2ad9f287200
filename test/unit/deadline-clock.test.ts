// Expected values are worked out by hand from the official 2025/2026 calendars; all due instants
// are 24:00 Asia/Shanghai = 16:00Z on the last working day.
import { beforeEach, describe, expect, it } from 'vitest'
import { WorkingCalendar } from '../../src/domain/calendar.ts'
import { DeadlineError, addWorkingDays, computeDeadline } from '../../src/domain/deadline-clock.ts'
import type { DeadlineSpec } from '../../src/domain/deadline-clock.ts'
import { LimitError, parseDurationMs, validateLimit } from '../../src/domain/limit.ts'
import { officialCalendarYears } from '../../src/domain/official-calendar.ts'

// The official years through 2026: 2027 stays unpublished here whatever the package ships. Built
// for each test, not as the file loads (docs/mutation.md, static mutants).
let calendar: WorkingCalendar
beforeEach(() => {
  calendar = WorkingCalendar.from({ version: 1, years: officialCalendarYears().filter((y) => y.year <= 2026) })
})
const due = (startAt: string, workingDays: number, extra: Partial<DeadlineSpec> = {}) =>
  computeDeadline(calendar, { limit: { workingDays }, startAt, ...extra }).dueAt

describe('working-day limits across official holidays', () => {
  it.each([
    // Spring Festival 2026: 2/14 Sat works, 2/15–2/23 off, 2/28 Sat works
    ['2026-02-13T10:00:00+08:00', 0, '2026-02-13T16:00:00.000Z'],
    ['2026-02-13T10:00:00+08:00', 1, '2026-02-14T16:00:00.000Z'],
    ['2026-02-13T10:00:00+08:00', 2, '2026-02-24T16:00:00.000Z'],
    ['2026-02-13T10:00:00+08:00', 5, '2026-02-27T16:00:00.000Z'],
    ['2026-02-13T10:00:00+08:00', 6, '2026-02-28T16:00:00.000Z'],
    ['2026-02-13T10:00:00+08:00', 7, '2026-03-02T16:00:00.000Z'],
    ['2026-02-14T10:00:00+08:00', 1, '2026-02-24T16:00:00.000Z'], // start on the make-up Saturday
    ['2026-02-17T10:00:00+08:00', 1, '2026-02-24T16:00:00.000Z'], // start inside the holiday
    // National Day 2025: 9/28 Sun works, 10/1–10/8 off, 10/11 Sat works
    ['2025-09-26T17:00:00+08:00', 1, '2025-09-28T16:00:00.000Z'],
    ['2025-09-26T17:00:00+08:00', 3, '2025-09-30T16:00:00.000Z'],
    ['2025-09-26T17:00:00+08:00', 4, '2025-10-09T16:00:00.000Z'],
    ['2025-09-30T09:00:00+08:00', 1, '2025-10-09T16:00:00.000Z'],
    ['2025-09-30T09:00:00+08:00', 3, '2025-10-11T16:00:00.000Z'],
    ['2025-09-30T09:00:00+08:00', 4, '2025-10-13T16:00:00.000Z'],
    // Year end: 2026-01-01..03 off, 2026-01-04 Sun works
    ['2025-12-31T15:00:00+08:00', 1, '2026-01-04T16:00:00.000Z'],
    ['2025-12-31T15:00:00+08:00', 2, '2026-01-05T16:00:00.000Z'],
    ['2025-12-30T15:59:59Z', 1, '2025-12-31T16:00:00.000Z'], // 23:59:59 local on the 30th
    ['2025-12-30T16:00:00Z', 1, '2026-01-04T16:00:00.000Z'], // 00:00 local on the 31st
  ])('rule 8: from %s, %i working days → %s', (startAt, n, expected) => {
    expect(due(startAt, n)).toBe(expected)
  })

  it('rule 9: gives a Saturday start the same deadline as a Friday start', () => {
    for (const n of [1, 2, 10, 20]) {
      expect(due('2026-03-07T10:00:00+08:00', n)).toBe(due('2026-03-06T10:00:00+08:00', n))
    }
    expect(due('2026-03-07T10:00:00+08:00', 1)).toBe('2026-03-09T16:00:00.000Z')
  })

  it('rule 15: marks a deadline reaching into unpublished 2027 as provisional', () => {
    const at = (n: number) => computeDeadline(calendar, { limit: { workingDays: n }, startAt: '2026-12-15T10:00:00+08:00' })
    expect(at(5)).toMatchObject({ dueAt: '2026-12-22T16:00:00.000Z', provisional: false })
    expect(at(12)).toMatchObject({ dueAt: '2026-12-31T16:00:00.000Z', provisional: false })
    // 2027-01-01 is counted as an ordinary Friday until the 2027 calendar is published
    expect(at(13)).toMatchObject({ dueAt: '2027-01-01T16:00:00.000Z', dueDate: '2027-01-01', provisional: true })
    expect(at(20)).toMatchObject({ dueAt: '2027-01-12T16:00:00.000Z', provisional: true })
  })

  it('offers addWorkingDays for plain working-day deadlines', () => {
    expect(addWorkingDays(calendar, '2026-02-13T10:00:00+08:00', 2)).toEqual({
      dueAt: '2026-02-24T16:00:00.000Z',
      dueDate: '2026-02-24',
      provisional: false,
    })
    expect(addWorkingDays(calendar, '2026-12-30T10:00:00+08:00', 5).provisional).toBe(true)
  })
})

describe('duration limits are calendar time', () => {
  it.each([
    ['P1D', '2026-03-06T15:00:00+08:00', '2026-03-07T07:00:00.000Z'], // Friday → Saturday 15:00
    ['PT2H', '2026-03-06T16:30:00+08:00', '2026-03-06T10:30:00.000Z'],
    ['P1DT12H', '2026-03-06T15:00:00+08:00', '2026-03-07T19:00:00.000Z'],
    ['PT5S', '2026-02-16T12:00:00+08:00', '2026-02-16T04:00:05.000Z'], // on a holiday, too
  ])('rule 14: %s from %s → %s', (duration, startAt, expected) => {
    expect(computeDeadline(calendar, { limit: { duration }, startAt }).dueAt).toBe(expected)
  })

  it('adds paused calendar time', () => {
    const d = computeDeadline(calendar, {
      limit: { duration: 'PT2H' },
      startAt: '2026-03-06T10:00:00+08:00',
      pauses: [{ from: '2026-03-06T10:30:00+08:00', to: '2026-03-06T11:00:00+08:00' }],
    })
    expect(d.dueAt).toBe('2026-03-06T04:30:00.000Z')
  })
})

describe('suspensions (Art. 45)', () => {
  const startAt = '2026-03-02T09:00:00+08:00' // Monday
  const thuToTue = { from: '2026-03-05T10:00:00+08:00', to: '2026-03-10T09:00:00+08:00' }

  it('moves the due date by the 3 working days Thursday, Friday, Monday', () => {
    expect(due(startAt, 10)).toBe('2026-03-16T16:00:00.000Z')
    expect(due(startAt, 10, { pauses: [thuToTue] })).toBe('2026-03-19T16:00:00.000Z')
  })

  it('moves the due date across Spring Festival by paused working days only', () => {
    // 2/12 Thu → 2/25 Wed pauses 2/12, 2/13, 2/14 (make-up) and 2/24
    const pauses = [{ from: '2026-02-12T10:00:00+08:00', to: '2026-02-25T10:00:00+08:00' }]
    expect(due('2026-02-09T10:00:00+08:00', 5)).toBe('2026-02-14T16:00:00.000Z')
    expect(due('2026-02-09T10:00:00+08:00', 5, { pauses })).toBe('2026-02-27T16:00:00.000Z')
  })

  it('treats an open pause as resuming now, and reports it as paused', () => {
    const open = [{ from: thuToTue.from }]
    const now = computeDeadline(calendar, { limit: { workingDays: 10 }, startAt, pauses: open }, '2026-03-10T09:00:00+08:00')
    expect(now).toMatchObject({ dueAt: '2026-03-19T16:00:00.000Z', paused: true, state: 'paused' })
    const noNow = computeDeadline(calendar, { limit: { workingDays: 10 }, startAt, pauses: open })
    expect(noNow).toMatchObject({ dueAt: '2026-03-16T16:00:00.000Z', paused: true })
  })

  it('does not count a pause on the start day, which is not counted anyway', () => {
    const pauses = [{ from: '2026-03-02T11:00:00+08:00', to: '2026-03-03T09:00:00+08:00' }]
    expect(due(startAt, 1, { pauses })).toBe('2026-03-03T16:00:00.000Z')
  })

  it('counts overlapping pauses once', () => {
    const pauses = [thuToTue, { from: '2026-03-06T10:00:00+08:00', to: '2026-03-09T09:00:00+08:00' }]
    expect(due(startAt, 10, { pauses })).toBe('2026-03-19T16:00:00.000Z')
  })

  it('rejects a pause that ends before it starts', () => {
    expect(() => due(startAt, 10, { pauses: [{ from: thuToTue.to, to: thuToTue.from }] })).toThrow(DeadlineError)
  })
})

describe('extension (延期)', () => {
  it('adds 10 working days once to a 20-day limit across National Day 2025', () => {
    expect(due('2025-09-15T10:00:00+08:00', 20)).toBe('2025-10-17T16:00:00.000Z')
    expect(due('2025-09-15T10:00:00+08:00', 20, { extensionWorkingDays: 10 })).toBe('2025-10-31T16:00:00.000Z')
  })

  it('moves a duration due by working days, keeping the time of day', () => {
    const ext = (duration: string, startAt: string) =>
      computeDeadline(calendar, { limit: { duration }, startAt, extensionWorkingDays: 1 }).dueAt
    expect(ext('PT2H', '2026-03-06T16:30:00+08:00')).toBe('2026-03-09T10:30:00.000Z') // Fri 18:30 → Mon 18:30
    expect(ext('PT2H', '2026-02-13T16:30:00+08:00')).toBe('2026-02-14T10:30:00.000Z') // → make-up Saturday
    expect(ext('P1D', '2026-03-05T00:00:00+08:00')).toBe('2026-03-06T16:00:00.000Z') // 24:00 Thu → 24:00 Fri
  })

  it('rejects a negative or fractional extension', () => {
    expect(() => due('2025-09-15T10:00:00+08:00', 20, { extensionWorkingDays: -1 })).toThrow(DeadlineError)
    expect(() => due('2025-09-15T10:00:00+08:00', 20, { extensionWorkingDays: 1.5 })).toThrow(DeadlineError)
  })
})

describe('warnings (黄牌)', () => {
  const warn = (spec: DeadlineSpec) => computeDeadline(calendar, spec).warnAt

  it('defaults to the end of the previous working day', () => {
    expect(warn({ limit: { workingDays: 20 }, startAt: '2025-09-15T10:00:00+08:00' })).toBe('2025-10-16T16:00:00.000Z')
    // due 2/24; the working day before is the make-up Saturday 2/14
    expect(warn({ limit: { workingDays: 2 }, startAt: '2026-02-13T10:00:00+08:00' })).toBe('2026-02-14T16:00:00.000Z')
  })

  it('takes k working days before the due working day', () => {
    const spec = { limit: { workingDays: 5 }, startAt: '2026-02-13T10:00:00+08:00' }
    expect(warn({ ...spec, warnBefore: { workingDays: 3 } })).toBe('2026-02-24T16:00:00.000Z')
    expect(warn({ ...spec, warnBefore: { workingDays: 0 } })).toBe('2026-02-27T16:00:00.000Z')
    expect(warn({ ...spec, warnBefore: { duration: 'PT4H' } })).toBe('2026-02-27T12:00:00.000Z')
  })

  it('defaults to 20% of a duration', () => {
    expect(warn({ limit: { duration: 'PT2H' }, startAt: '2026-03-06T16:30:00+08:00' })).toBe('2026-03-06T10:06:00.000Z')
    expect(warn({ limit: { duration: 'PT5S' }, startAt: '2026-03-06T16:30:00+08:00' })).toBe('2026-03-06T08:30:04.000Z')
    expect(warn({ limit: { duration: 'P3D' }, startAt: '2026-03-09T10:00:00+08:00', warnBefore: { workingDays: 1 } }))
      .toBe('2026-03-11T02:00:00.000Z')
  })

  it('is never earlier than the start', () => {
    // Saturday start, due Monday: the previous working day (Friday) ended before the start
    expect(warn({ limit: { workingDays: 1 }, startAt: '2026-03-07T10:00:00+08:00' })).toBe('2026-03-07T02:00:00.000Z')
    expect(warn({ limit: { workingDays: 5 }, startAt: '2026-02-13T10:00:00+08:00', warnBefore: { workingDays: 9 } }))
      .toBe('2026-02-13T02:00:00.000Z')
  })
})

describe('state at a given now', () => {
  const spec: DeadlineSpec = { limit: { workingDays: 10 }, startAt: '2026-03-02T09:00:00+08:00' } // due 3/16

  it.each([
    ['2026-03-02T12:00:00+08:00', 'running', 10, 0],
    ['2026-03-13T10:00:00+08:00', 'running', 1, 9],
    ['2026-03-14T10:00:00+08:00', 'warning', 1, 9], // Saturday after the warning instant
    ['2026-03-16T12:00:00+08:00', 'warning', 0, 10], // the due day itself
    ['2026-03-17T00:00:00+08:00', 'overdue', 0, 11],
  ] as const)('at %s: %s, %i left, %i used', (now, state, left, used) => {
    expect(computeDeadline(calendar, spec, now)).toMatchObject({ state, workingDaysLeft: left, workingDaysUsed: used })
  })

  it('does not count paused days as used', () => {
    const pauses = [{ from: '2026-03-05T10:00:00+08:00', to: '2026-03-10T09:00:00+08:00' }]
    const d = computeDeadline(calendar, { ...spec, pauses }, '2026-03-11T10:00:00+08:00')
    expect(d).toMatchObject({ dueAt: '2026-03-19T16:00:00.000Z', workingDaysUsed: 4, workingDaysLeft: 6, state: 'running' })
  })
})

describe('limits', () => {
  it.each([
    ['PT2H', 7_200_000],
    ['PT5S', 5_000],
    ['P3D', 259_200_000],
    ['P1DT12H', 129_600_000],
    ['PT0.5S', 500],
    ['PT1M', 60_000],
    ['P1W', 604_800_000],
    ['PT0S', 0],
  ])('%s is %i ms', (iso, ms) => {
    expect(parseDurationMs(iso)).toBe(ms)
  })

  it.each(['', 'P', 'PT', 'P1DT', '2H', 'PT-1H', 'P1.5DT2H', 'pt2h'])('rejects %j', (iso) => {
    expect(() => parseDurationMs(iso)).toThrow(expect.objectContaining({ reason: 'INVALID_DURATION' }))
  })

  it('rejects months and years, which have no fixed length', () => {
    expect(() => parseDurationMs('P1M')).toThrow(/no fixed length/)
    expect(() => parseDurationMs('P1Y')).toThrow(expect.objectContaining({ reason: 'UNSUPPORTED_DURATION' }))
  })

  it('validates working days and the shape', () => {
    expect(validateLimit({ workingDays: 20 })).toEqual({ workingDays: 20 })
    for (const bad of [{ workingDays: -1 }, { workingDays: 1.5 }, {}, { workingDays: 1, duration: 'PT1H' }, null, 'P1D']) {
      expect(() => validateLimit(bad)).toThrow(LimitError)
    }
    expect(() => due('2026-02-13T10:00:00', 1)).toThrow(/offset/)
  })
})
