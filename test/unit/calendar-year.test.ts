// What an administrator may enter as a year's working-day calendar: only real exceptions to
// Monday–Friday, each a date of that year, once; every mistake reported at its place in the list.
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import {
  CalendarDaySchema, CalendarYearNumber, calendarYearProblems, sortCalendarDays,
} from '../../src/domain/calendar-year.ts'

const off = (date: string, name?: string): CalendarDaySchema => ({ date, working: false, ...(name ? { name } : {}) })
const on = (date: string): CalendarDaySchema => ({ date, working: true })

describe('a year\'s exceptions', () => {
  it('accepts weekday holidays and make-up weekend days of that year', () => {
    // 2026: 1 January is a Thursday, 4 January a Sunday (make-up), 1 October a Thursday.
    expect(calendarYearProblems(2026, [off('2026-01-01', '元旦'), on('2026-01-04'), off('2026-10-01')])).toEqual([])
    expect(calendarYearProblems(2026, [])).toEqual([])
  })

  it('refuses dates that do not exist or are not dates, at their place', () => {
    expect(calendarYearProblems(2026, [off('2026-01-01'), off('2026-02-30'), off('2026-2-3')])).toEqual([
      { path: '/days/1/date', message: '"2026-02-30" is not a calendar date' },
      { path: '/days/2/date', message: '"2026-2-3" is not a YYYY-MM-DD date' },
    ])
    expect(calendarYearProblems(2027, [off('2027-02-29')])).toEqual([
      { path: '/days/0/date', message: '"2027-02-29" is not a calendar date' },
    ])
  })

  it('refuses dates of another year', () => {
    expect(calendarYearProblems(2026, [off('2025-12-31'), off('2027-01-01')])).toEqual([
      { path: '/days/0/date', message: '2025-12-31 is not in 2026' },
      { path: '/days/1/date', message: '2027-01-01 is not in 2026' },
    ])
  })

  it('refuses a date listed twice, pointing at its first listing', () => {
    expect(calendarYearProblems(2026, [off('2026-10-01'), off('2026-10-02'), off('2026-10-01'), on('2026-10-01')])).toEqual([
      { path: '/days/2/date', message: '2026-10-01 is already listed at /days/0' },
      { path: '/days/3/date', message: '2026-10-01 is already listed at /days/0' },
    ])
  })

  it('refuses redundant entries, which would hide a holiday typed on the wrong day, naming the weekday', () => {
    // 1–7 March 2026 runs from Sunday to Saturday: each day with the flag it has anyway.
    const week = [off('2026-03-01'), on('2026-03-02'), on('2026-03-03'), on('2026-03-04'), on('2026-03-05'), on('2026-03-06'), off('2026-03-07')]
    expect(calendarYearProblems(2026, week)).toEqual([
      { path: '/days/0/working', message: '2026-03-01 is a Sunday, off anyway; list only weekday holidays as not working' },
      { path: '/days/1/working', message: '2026-03-02 is a Monday, a working day anyway; list only make-up days on weekends as working' },
      { path: '/days/2/working', message: '2026-03-03 is a Tuesday, a working day anyway; list only make-up days on weekends as working' },
      { path: '/days/3/working', message: '2026-03-04 is a Wednesday, a working day anyway; list only make-up days on weekends as working' },
      { path: '/days/4/working', message: '2026-03-05 is a Thursday, a working day anyway; list only make-up days on weekends as working' },
      { path: '/days/5/working', message: '2026-03-06 is a Friday, a working day anyway; list only make-up days on weekends as working' },
      { path: '/days/6/working', message: '2026-03-07 is a Saturday, off anyway; list only weekday holidays as not working' },
    ])
    // The opposite flags are exactly the meaningful exceptions.
    expect(calendarYearProblems(2026, week.map((d) => ({ ...d, working: !d.working })))).toEqual([])
  })

  it('reports each mistake once, and checks a date for duplicates only once it is a date of the year', () => {
    expect(calendarYearProblems(2026, [off('2025-10-01'), off('2025-10-01'), off('2026-03-07'), off('2026-03-07')])).toEqual([
      { path: '/days/0/date', message: '2025-10-01 is not in 2026' },
      { path: '/days/1/date', message: '2025-10-01 is not in 2026' },
      { path: '/days/2/working', message: '2026-03-07 is a Saturday, off anyway; list only weekday holidays as not working' },
      { path: '/days/3/date', message: '2026-03-07 is already listed at /days/2' },
    ])
  })
})

describe('the wire shapes', () => {
  it('admit the years the working-day index covers', () => {
    for (const year of [1990, 2026, 2200]) expect(Value.Check(CalendarYearNumber, year)).toBe(true)
    for (const year of [1989, 2201, 2026.5, '2026']) expect(Value.Check(CalendarYearNumber, year)).toBe(false)
  })

  it('admit a day as a date, a working flag and an optional short name, nothing else', () => {
    expect(Value.Check(CalendarDaySchema, { date: '2026-10-01', working: false, name: '国庆节' })).toBe(true)
    expect(Value.Check(CalendarDaySchema, { date: '2026-10-01', working: false })).toBe(true)
    expect(Value.Check(CalendarDaySchema, { date: '2026-10-01', working: false, name: 'x'.repeat(100) })).toBe(true)
    for (const bad of [
      { date: '2026-10-1', working: false }, { date: ' 2026-10-01', working: false }, { date: '2026-10-01x', working: false },
      { date: '2026-10-01', working: 'no' }, { date: '2026-10-01' }, { working: false },
      { date: '2026-10-01', working: false, name: '' }, { date: '2026-10-01', working: false, name: 'x'.repeat(101) },
      { date: '2026-10-01', working: false, holiday: true },
    ]) {
      expect(Value.Check(CalendarDaySchema, bad), JSON.stringify(bad)).toBe(false)
    }
  })
})

describe('sorting a year\'s days', () => {
  it('puts them in date order without touching the list it was given', () => {
    const days = [off('2026-10-01'), on('2026-01-04'), off('2026-01-01'), off('2026-02-16')]
    const copy = structuredClone(days)
    expect(sortCalendarDays(days).map((d) => d.date)).toEqual(['2026-01-01', '2026-01-04', '2026-02-16', '2026-10-01'])
    expect(days).toEqual(copy)
  })

  it('keeps the order of entries with the same date', () => {
    const days = [{ date: '2026-01-02', n: 1 }, { date: '2026-01-01', n: 2 }, { date: '2026-01-02', n: 3 }, { date: '2026-01-01', n: 4 }]
    expect(sortCalendarDays(days).map((d) => d.n)).toEqual([2, 4, 1, 3])
  })
})
