// The deadline clock at its edges, on pinned data (2026 Monday–Friday with one holiday on Monday
// 9 March): the exact instants a state changes, pauses in any order, zero limits, and refusals.
import { describe, expect, it } from 'vitest'
import { WorkingCalendar } from '../../src/domain/calendar.ts'
import { addWorkingDays, computeDeadline, DeadlineError, type DeadlineSpec, workingDueAtMs } from '../../src/domain/deadline-clock.ts'
import { LimitError } from '../../src/domain/limit.ts'

const calendar = () => WorkingCalendar.from({
  version: 1, years: [{ year: 2026, published: true, days: [{ date: '2026-03-09', working: false, name: 'test holiday' }] }],
})
const at = (spec: DeadlineSpec, now?: string) => computeDeadline(calendar(), spec, now)
const MONDAY = '2026-03-02T10:00:00+08:00'
/** 5 working days from Monday 2 March: due at the end of Tuesday 10 March, warned at the end of Friday 6 March. */
const fiveDays: DeadlineSpec = { limit: { workingDays: 5 }, startAt: MONDAY }
const DUE = '2026-03-10T16:00:00.000Z'
const WARN = '2026-03-06T16:00:00.000Z'
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString()

describe('the state at an instant', () => {
  it('turns to warning at the warning instant and to overdue at the due instant, to the millisecond', () => {
    expect(at(fiveDays, plus(WARN, -1)).state).toBe('running')
    expect(at(fiveDays, WARN).state).toBe('warning')
    expect(at(fiveDays, plus(DUE, -1))).toMatchObject({ state: 'warning', workingDaysLeft: 0 })
    expect(at(fiveDays, DUE)).toMatchObject({ state: 'overdue', workingDaysLeft: 0 })
  })

  it('counts the working days left after today and those used up to today', () => {
    // Friday: the 10th is left (the 9th is a holiday); the 3rd to the 6th are used.
    expect(at(fiveDays, '2026-03-06T09:00:00+08:00')).toMatchObject({ workingDaysLeft: 1, workingDaysUsed: 4 })
    // The day it starts: nothing used yet.
    expect(at(fiveDays, '2026-03-02T23:00:00+08:00')).toMatchObject({ workingDaysLeft: 5, workingDaysUsed: 0 })
    // Overdue: nothing left, and the days go on being used.
    expect(at(fiveDays, '2026-03-12T09:00:00+08:00')).toMatchObject({ state: 'overdue', workingDaysLeft: 0, workingDaysUsed: 7 })
  })

  it('reports nothing of the kind without an instant', () => {
    const d = at(fiveDays)
    expect(d).toStrictEqual({ dueAt: DUE, dueDate: '2026-03-10', warnAt: WARN, provisional: false, paused: false })
  })

  it('stands still while a pause is open, whatever the instant', () => {
    const spec = { ...fiveDays, pauses: [{ from: '2026-03-03T10:00:00+08:00' }] }
    expect(at(spec, '2026-04-30T10:00:00+08:00')).toMatchObject({ state: 'paused', paused: true })
    // The open pause runs to the instant asked about: the 41 working days from 3 March to 29 April
    // are paused, so 46 are counted, to Wednesday 6 May (the pinned data has no May Day).
    expect(at(spec, '2026-04-30T10:00:00+08:00').dueAt).toBe('2026-05-06T16:00:00.000Z')
  })

  it('does not count a pause that opens after the instant asked about', () => {
    const spec = { ...fiveDays, pauses: [{ from: '2026-03-05T10:00:00+08:00' }] }
    expect(at(spec, '2026-03-04T10:00:00+08:00')).toMatchObject({ dueAt: DUE, workingDaysUsed: 2, workingDaysLeft: 3 })
  })
})

describe('pauses', () => {
  it('count once however they are ordered and overlap', () => {
    const a = { from: '2026-03-03T10:00:00+08:00', to: '2026-03-05T10:00:00+08:00' } // the 3rd and 4th
    const b = { from: '2026-03-04T10:00:00+08:00', to: '2026-03-06T10:00:00+08:00' } // the 4th and 5th
    const c = { from: '2026-03-11T10:00:00+08:00', to: '2026-03-12T10:00:00+08:00' } // the 11th
    const due = (pauses: DeadlineSpec['pauses']) => at({ ...fiveDays, pauses }).dueAt
    // The 3rd, 4th and 5th: three working days more, to Friday 13 March.
    expect(due([a, b])).toBe('2026-03-13T16:00:00.000Z')
    expect(due([b, a])).toBe('2026-03-13T16:00:00.000Z')
    expect(due([c, b, a])).toBe('2026-03-16T16:00:00.000Z')
    expect(due([b, c, a, b])).toBe('2026-03-16T16:00:00.000Z')
  })

  it('before the start do not count, and one across the start counts from the day after', () => {
    const before = { from: '2026-02-20T10:00:00+08:00', to: '2026-03-01T10:00:00+08:00' }
    const across = { from: '2026-02-27T10:00:00+08:00', to: '2026-03-04T10:00:00+08:00' } // the 3rd
    expect(at({ ...fiveDays, pauses: [before] }).dueAt).toBe(DUE)
    expect(at({ ...fiveDays, pauses: [across] }).dueAt).toBe('2026-03-11T16:00:00.000Z')
  })

  it('add their calendar time to durations, once, and only after the start', () => {
    const hours: DeadlineSpec = { limit: { duration: 'PT10H' }, startAt: MONDAY }
    const due = (pauses: DeadlineSpec['pauses']) => at({ ...hours, pauses }).dueAt
    expect(due([])).toBe('2026-03-02T12:00:00.000Z')
    expect(due([{ from: '2026-03-02T09:00:00+08:00', to: '2026-03-02T11:00:00+08:00' }])).toBe('2026-03-02T13:00:00.000Z')
    expect(due([
      { from: '2026-03-02T13:00:00+08:00', to: '2026-03-02T14:00:00+08:00' },
      { from: '2026-03-02T11:00:00+08:00', to: '2026-03-02T13:30:00+08:00' },
    ])).toBe('2026-03-02T15:00:00.000Z')
  })

  it('refuse one that ends before it starts, saying so', () => {
    const pauses = [{ from: '2026-03-05T10:00:00+08:00', to: '2026-03-04T10:00:00+08:00' }]
    expect(() => at({ ...fiveDays, pauses })).toThrow(expect.objectContaining({
      name: 'DeadlineError', code: 'INVALID_PAUSE',
      message: 'pause ends (2026-03-04T10:00:00+08:00) before it starts (2026-03-05T10:00:00+08:00)',
    }))
    // One that ends as it starts is no pause at all.
    expect(at({ ...fiveDays, pauses: [{ from: MONDAY, to: MONDAY }] }).dueAt).toBe(DUE)
  })
})

describe('limits of zero and extensions', () => {
  it('ends a zero working-day limit at the end of the start day, a holiday included', () => {
    expect(at({ limit: { workingDays: 0 }, startAt: '2026-03-09T10:00:00+08:00' }).dueAt).toBe('2026-03-09T16:00:00.000Z')
  })

  it('extends a duration that ends at 00:00 on a weekend from that day, not the day before', () => {
    // Zero hours from 00:00 Saturday, extended by one working day: 00:00 Tuesday (Monday is the holiday).
    const spec: DeadlineSpec = { limit: { duration: 'PT0S' }, startAt: '2026-03-07T00:00:00+08:00', extensionWorkingDays: 1 }
    expect(at(spec).dueAt).toBe('2026-03-09T16:00:00.000Z')
    // Over the holiday: 18:30 Friday + 1 working day is 18:30 Tuesday.
    expect(at({ limit: { duration: 'PT30M' }, startAt: '2026-03-06T18:00:00+08:00', extensionWorkingDays: 1 }).dueAt)
      .toBe('2026-03-10T10:30:00.000Z')
  })

  it('refuses an extension that is not a whole number of working days', () => {
    for (const extensionWorkingDays of [-1, 0.5, Number.NaN]) {
      expect(() => at({ ...fiveDays, extensionWorkingDays })).toThrow(expect.objectContaining({
        code: 'INVALID_EXTENSION', message: `extensionWorkingDays must be a non-negative integer, got ${String(extensionWorkingDays)}`,
      }))
    }
    expect(() => at({ ...fiveDays, extensionWorkingDays: -1 })).toThrow(DeadlineError)
    expect(at({ ...fiveDays, extensionWorkingDays: 0 }).dueAt).toBe(DUE)
  })
})

describe('warnings', () => {
  it('come a fifth of a duration early by default, rounded to the millisecond', () => {
    expect(at({ limit: { duration: 'PT0.007S' }, startAt: '2026-03-02T02:00:00.000Z' }).warnAt).toBe('2026-03-02T02:00:00.006Z')
    expect(at({ limit: { duration: 'PT0.008S' }, startAt: '2026-03-02T02:00:00.000Z' }).warnAt).toBe('2026-03-02T02:00:00.006Z')
  })

  it('come k working days before a due day, keeping a duration\'s time of day', () => {
    const spec: DeadlineSpec = { limit: { duration: 'P10D' }, startAt: MONDAY, warnBefore: { workingDays: 2 } }
    // Due Thursday 12 March 10:00; two working days before is Tuesday 10 March (the 9th is a holiday).
    expect(at(spec)).toMatchObject({ dueAt: '2026-03-12T02:00:00.000Z', warnAt: '2026-03-10T02:00:00.000Z' })
    expect(at({ ...spec, warnBefore: { duration: 'PT1H' } }).warnAt).toBe('2026-03-12T01:00:00.000Z')
  })

  it('refuse a warning that is not a limit', () => {
    expect(() => at({ ...fiveDays, warnBefore: { workingDays: -1 } })).toThrow(LimitError)
  })
})

describe('plain working-day deadlines', () => {
  it('refuse a count that is not a whole number of working days', () => {
    expect(() => addWorkingDays(calendar(), MONDAY, -1)).toThrow(LimitError)
    expect(() => addWorkingDays(calendar(), MONDAY, 1.5)).toThrow(LimitError)
    expect(addWorkingDays(calendar(), MONDAY, 5)).toEqual({ dueAt: DUE, dueDate: '2026-03-10', provisional: false })
  })

  it('run to the end of the n-th working day after an instant\'s day, in milliseconds too', () => {
    expect(new Date(workingDueAtMs(calendar(), Date.parse(MONDAY), 5)).toISOString()).toBe(DUE)
    expect(new Date(workingDueAtMs(calendar(), Date.parse(MONDAY), 0)).toISOString()).toBe('2026-03-02T16:00:00.000Z')
  })

  it('are provisional when they reach into an unpublished year', () => {
    expect(addWorkingDays(calendar(), '2026-12-30T10:00:00+08:00', 2)).toEqual({
      dueAt: '2027-01-01T16:00:00.000Z', dueDate: '2027-01-01', provisional: true,
    })
    expect(at({ limit: { workingDays: 0 }, startAt: '2027-01-04T10:00:00+08:00' }).provisional).toBe(true)
  })
})
