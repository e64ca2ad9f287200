import { beforeEach, describe, expect, it } from 'vitest'
import { CalendarError, WorkingCalendar, dayOfDate, dateOfDay, parseInstant } from '../../src/domain/calendar.ts'
import type { CalendarYear } from '../../src/domain/calendar.ts'
import { OFFICIAL_YEARS, officialCalendarData, officialCalendarYears } from '../../src/domain/official-calendar.ts'

const day = (date: string) => dayOfDate(date)
// Built for each test, not as the file loads: what runs while a file loads is "static" to mutation
// testing, which then reruns every test for each of its mutants (docs/mutation.md).
let official: WorkingCalendar
/** The official years through 2026 only: 2027 unpublished whatever the package ships. */
let through2026: CalendarYear[]
let until2026: WorkingCalendar
beforeEach(() => {
  official = WorkingCalendar.from(officialCalendarData())
  through2026 = officialCalendarYears().filter((y) => y.year <= 2026)
  until2026 = WorkingCalendar.from({ version: 1, years: through2026 })
})

describe('official calendar (chinese-days)', () => {
  it('covers every year from 2004 through at least 2026, one published entry per year', () => {
    expect(OFFICIAL_YEARS.first).toBe(2004)
    expect(OFFICIAL_YEARS.last).toBeGreaterThanOrEqual(2026)
    const years = officialCalendarYears()
    const length = OFFICIAL_YEARS.last - OFFICIAL_YEARS.first + 1
    expect(years.map((y) => y.year)).toEqual(Array.from({ length }, (_, i) => 2004 + i))
    expect(years.every((y) => y.published && y.days.length > 0)).toBe(true)
    for (let y = 2004; y <= OFFICIAL_YEARS.last; y++) expect(official.isPublished(y)).toBe(true)
    expect(official.isPublished(OFFICIAL_YEARS.last + 1)).toBe(false)
  })

  it('rule 15: has exactly the 2026 make-up working days', () => {
    const y2026 = officialCalendarYears().find((y) => y.year === 2026)!
    expect(y2026.days.filter((d) => d.working).map((d) => d.date)).toEqual([
      '2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10',
    ])
    for (const date of ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']) {
      expect(official.isWorkingDay(date)).toBe(true)
    }
  })

  it('knows Spring Festival 2026 and National Day 2025', () => {
    for (let d = day('2026-02-15'); d <= day('2026-02-23'); d++) expect(official.isWorkingDay(d)).toBe(false)
    expect(official.isWorkingDay('2026-02-13')).toBe(true)
    expect(official.isWorkingDay('2026-02-24')).toBe(true)
    for (let d = day('2025-10-01'); d <= day('2025-10-08'); d++) expect(official.isWorkingDay(d)).toBe(false)
    expect(official.isWorkingDay('2025-09-28')).toBe(true) // Sunday, make-up
    expect(official.isWorkingDay('2025-10-11')).toBe(true) // Saturday, make-up
    expect(official.isWorkingDay('2026-01-01')).toBe(false)
    expect(official.isWorkingDay('2026-01-02')).toBe(false)
    expect(official.isWorkingDay('2026-03-07')).toBe(false) // an ordinary Saturday
  })

  it('names holidays and make-up days', () => {
    const y2026 = officialCalendarYears().find((y) => y.year === 2026)!
    expect(y2026.days.find((d) => d.date === '2026-02-16')).toEqual({ date: '2026-02-16', working: false, name: '春节' })
    expect(y2026.days.find((d) => d.date === '2026-02-14')).toEqual({ date: '2026-02-14', working: true, name: '春节调休' })
  })
})

describe('WorkingCalendar', () => {
  it('follows Monday–Friday, unpublished, for years not in the data', () => {
    expect(until2026.isPublished(2027)).toBe(false)
    expect(until2026.isPublished(2003)).toBe(false)
    // A Friday: the index knows only its data. Loaded calendars bring rule 34's holidays as data
    // (statutory-holidays.test.ts).
    expect(until2026.isWorkingDay('2027-01-01')).toBe(true)
    expect(until2026.isWorkingDay('2027-01-02')).toBe(false)
    expect(until2026.isWorkingDay('2027-02-08')).toBe(true)
    expect(until2026.isWorkingDay('2003-10-01')).toBe(true)
  })

  it('lets custom data replace a year', () => {
    const custom: CalendarYear = {
      year: 2026,
      published: true,
      days: [{ date: '2026-03-02', working: false, name: 'local holiday' }, { date: '2026-03-07', working: true }],
    }
    const years = officialCalendarYears().filter((y) => y.year !== 2026).concat(custom)
    const cal = WorkingCalendar.from({ version: 7, years })
    expect(cal.version).toBe(7)
    expect(cal.isWorkingDay('2026-02-16')).toBe(true) // the official Spring Festival is gone
    expect(cal.isWorkingDay('2026-02-14')).toBe(false) // and so is its make-up Saturday
    expect(cal.isWorkingDay('2026-03-02')).toBe(false)
    expect(cal.isWorkingDay('2026-03-07')).toBe(true)
    expect(cal.isWorkingDay('2025-10-01')).toBe(false) // other years untouched
  })

  it('applies a draft (unpublished) year but keeps it unpublished', () => {
    const draft: CalendarYear = { year: 2027, published: false, days: [{ date: '2027-01-01', working: false, name: '元旦' }] }
    const cal = WorkingCalendar.from({ version: 2, years: [...through2026, draft] })
    expect(cal.isWorkingDay('2027-01-01')).toBe(false)
    expect(cal.isPublished(2027)).toBe(false)
  })

  it('counts working days in half-open ranges and finds the n-th working day', () => {
    // 2026-02-13 Fri .. 2026-02-28 Sat: 13, 14 (make-up), 24, 25, 26, 27 are working
    expect(official.workingDaysBetween(day('2026-02-13'), day('2026-02-28'))).toBe(6)
    expect(official.workingDaysBetween(day('2026-02-13'), day('2026-03-01'))).toBe(7)
    expect(official.workingDaysBetween(day('2026-02-15'), day('2026-02-24'))).toBe(0)
    expect(official.workingDaysBetween(day('2026-02-28'), day('2026-02-13'))).toBe(-6)
    expect(dateOfDay(official.addWorkingDays(day('2026-02-13'), 2))).toBe('2026-02-24')
    expect(dateOfDay(official.addWorkingDays(day('2026-02-15'), 1))).toBe('2026-02-24')
    expect(dateOfDay(official.addWorkingDays(day('2026-02-24'), -1))).toBe('2026-02-14')
    expect(dateOfDay(official.addWorkingDays(day('2026-02-22'), -1))).toBe('2026-02-14')
    expect(dateOfDay(official.addWorkingDays(day('2026-02-22'), 0))).toBe('2026-02-22')
  })

  it('reports which spans touch an unpublished year', () => {
    expect(until2026.touchesUnpublished(day('2026-12-01'), day('2026-12-31'))).toBe(false)
    expect(until2026.touchesUnpublished(day('2026-12-31'), day('2027-01-01'))).toBe(true)
    expect(until2026.touchesUnpublished(day('2003-12-31'), day('2004-01-05'))).toBe(true)
    expect(until2026.touchesUnpublished(day('2004-01-01'), day('2026-12-31'))).toBe(false)
  })

  it('rejects malformed data and out-of-range days', () => {
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        return e instanceof CalendarError ? e.code : 'other'
      }
      return 'none'
    }
    const y = (days: CalendarYear['days'], year = 2026): CalendarYear => ({ year, published: true, days })
    expect(code(() => WorkingCalendar.from({ version: 1, years: [y([]), y([])] }))).toBe('INVALID_CALENDAR')
    expect(code(() => WorkingCalendar.from({ version: 1, years: [y([{ date: '2025-05-01', working: false }])] }))).toBe('INVALID_CALENDAR')
    expect(code(() => WorkingCalendar.from({ version: 1, years: [y([{ date: '2026-02-30', working: false }])] }))).toBe('INVALID_DATE')
    expect(code(() => WorkingCalendar.from({ version: 1.5, years: [] }))).toBe('INVALID_CALENDAR')
    expect(code(() => official.isWorkingDay('1985-06-03'))).toBe('OUT_OF_RANGE')
    expect(code(() => official.addWorkingDays(day('2200-12-01'), 100))).toBe('OUT_OF_RANGE')
  })
})

describe('instants', () => {
  it('requires an explicit offset so the host zone never matters', () => {
    expect(parseInstant('2026-02-13T10:00:00+08:00')).toBe(Date.UTC(2026, 1, 13, 2))
    expect(parseInstant('2026-02-13T02:00:00Z')).toBe(Date.UTC(2026, 1, 13, 2))
    expect(() => parseInstant('2026-02-13T10:00:00')).toThrow(CalendarError)
    expect(() => parseInstant('2026-02-13')).toThrow(CalendarError)
  })
})
