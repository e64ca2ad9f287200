// Rule 34 on pinned years: the holidays the law fixes count in a year the State Council has not
// published, as data the calendar is built from; a published year is left exactly as published.
// Calendars are built inside each test, never as the file loads (docs/mutation.md).
import { describe, expect, it } from 'vitest'
import { type CalendarYear, dayOfDate, WorkingCalendar, weekdayOf } from '../../src/domain/calendar.ts'
import { addWorkingDays, computeDeadline } from '../../src/domain/deadline-clock.ts'
import { officialCalendarData, officialCalendarYears } from '../../src/domain/official-calendar.ts'
import {
  provisionalYear, STATUTORY_YEARS, statutoryHolidays, withStatutoryHolidays,
} from '../../src/domain/statutory-holidays.ts'
import { LUNAR_REFERENCE } from '../fixtures/lunar-reference.ts'

/** The official years through 2026 only: 2027 and later unpublished whatever the package ships. */
const officialThrough2026 = () => officialCalendarYears().filter((y) => y.year <= 2026)
/** The calendar a case loaded from 2025 to 2030 carries (src/db/calendar.ts loadCalendarWindow). */
const loaded = (years: CalendarYear[] = officialThrough2026(), version = 1) =>
  WorkingCalendar.from({ version, years: withStatutoryHolidays(years, 2025, 2030) })
const dates = (year: number, name: string) => statutoryHolidays(year).filter((d) => d.name?.includes(name)).map((d) => d.date)
const isWeekend = (date: string) => [0, 6].includes(weekdayOf(dayOfDate(date)))

describe('statutory holidays (全国年节及纪念日放假办法, 2025 revision)', () => {
  it('rule 34: 2027 has New Year\'s Day, Spring Festival from New Year\'s Eve, Qingming, Labour Day, Dragon Boat, Mid-Autumn and National Day', () => {
    expect(statutoryHolidays(2027)).toEqual([
      { date: '2027-01-01', working: false, name: '元旦' },
      { date: '2027-02-05', working: false, name: '春节' }, // 除夕 (29th of the 12th month)
      { date: '2027-02-06', working: false, name: '春节' }, // 正月初一
      { date: '2027-02-07', working: false, name: '春节' },
      { date: '2027-02-08', working: false, name: '春节' }, // 初三
      { date: '2027-04-05', working: false, name: '清明节' },
      { date: '2027-05-01', working: false, name: '劳动节' },
      { date: '2027-05-02', working: false, name: '劳动节' },
      { date: '2027-06-09', working: false, name: '端午节' },
      { date: '2027-09-15', working: false, name: '中秋节' },
      { date: '2027-10-01', working: false, name: '国庆节' },
      { date: '2027-10-02', working: false, name: '国庆节' },
      { date: '2027-10-03', working: false, name: '国庆节' },
    ])
  })

  it('rule 34: the lunar holidays and Qingming of 2028–2034 fall on their known dates, a leap fifth month (2028) and the 2033 leap month included', () => {
    expect(dates(2028, '春节')).toEqual(['2028-01-25', '2028-01-26', '2028-01-27', '2028-01-28'])
    expect(dates(2028, '清明节')).toEqual(['2028-04-04'])
    expect(dates(2028, '端午节')).toEqual(['2028-05-28']) // before the leap fifth month
    expect(dates(2029, '春节')).toEqual(['2029-02-12', '2029-02-13', '2029-02-14', '2029-02-15'])
    expect(dates(2029, '端午节')).toEqual(['2029-06-16'])
    expect(dates(2029, '中秋节')).toEqual(['2029-09-22'])
    // 初一 2030 is 3 February: the new moon is seven minutes after midnight, Beijing time.
    expect(dates(2030, '春节')).toEqual(['2030-02-02', '2030-02-03', '2030-02-04', '2030-02-05'])
    expect(dates(2030, '清明节')).toEqual(['2030-04-05'])
    expect(dates(2030, '端午节')).toEqual(['2030-06-05'])
    expect(dates(2030, '中秋节')).toEqual(['2030-09-12'])
    expect(dates(2033, '中秋节')).toEqual(['2033-09-08'])
    expect(dates(2034, '春节')).toEqual(['2034-02-18', '2034-02-19', '2034-02-20', '2034-02-21']) // after the leap 11th month of 2033
  })

  it('rule 34: a day two holidays share is listed once under both names (Mid-Autumn on National Day 2028)', () => {
    const october = statutoryHolidays(2028).filter((d) => d.date.startsWith('2028-10'))
    expect(october).toEqual([
      { date: '2028-10-01', working: false, name: '国庆节' },
      { date: '2028-10-02', working: false, name: '国庆节' },
      { date: '2028-10-03', working: false, name: '中秋节、国庆节' },
    ])
    expect(statutoryHolidays(2028)).toHaveLength(12)
  })

  it('rule 34: every year 2025–2099 agrees with an independent astronomical computation', () => {
    expect(LUNAR_REFERENCE.map(([year]) => year)).toEqual(Array.from({ length: 75 }, (_, i) => 2025 + i))
    for (const [year, eve, qingming, dragonBoat, midAutumn] of LUNAR_REFERENCE) {
      const days = statutoryHolidays(year)
      const eveDay = dayOfDate(`${year}-${eve}`)
      const spring = days.filter((d) => d.name?.includes('春节')).map((d) => dayOfDate(d.date))
      expect(spring, `${year}`).toEqual([eveDay, eveDay + 1, eveDay + 2, eveDay + 3])
      expect(dates(year, '清明节'), `${year}`).toEqual([`${year}-${qingming}`])
      expect(dates(year, '端午节'), `${year}`).toEqual([`${year}-${dragonBoat}`])
      expect(dates(year, '中秋节'), `${year}`).toEqual([`${year}-${midAutumn}`])
      expect(dates(year, '元旦'), `${year}`).toEqual([`${year}-01-01`])
      expect(dates(year, '劳动节'), `${year}`).toEqual([`${year}-05-01`, `${year}-05-02`])
      expect(dates(year, '国庆节'), `${year}`).toEqual([`${year}-10-01`, `${year}-10-02`, `${year}-10-03`])
      expect(days.map((d) => d.date), `${year}`).toEqual([...new Set(days.map((d) => d.date))].sort())
    }
  })

  it('rule 34: every statutory day of 2025 and 2026 is a holiday in the State Council\'s published calendars', () => {
    const official = WorkingCalendar.from(officialCalendarData())
    for (const year of [2025, 2026]) {
      const days = statutoryHolidays(year)
      expect(days.length).toBeGreaterThanOrEqual(12)
      for (const d of days) expect(official.isWorkingDay(d.date), d.date).toBe(false)
    }
    // The 2025 revision's new days: New Year's Eve and the second of May.
    expect(dates(2025, '春节')[0]).toBe('2025-01-28')
    expect(dates(2026, '春节')[0]).toBe('2026-02-16')
    expect(dates(2025, '劳动节')).toEqual(['2025-05-01', '2025-05-02'])
  })

  it('rule 34: none before the 2025 revision nor past 2099, where the lunar table and solar-term constants end', () => {
    expect(STATUTORY_YEARS).toEqual({ first: 2025, last: 2099 })
    for (const year of [1990, 2024, 2100, 2200, 2026.5, Number.NaN]) expect(statutoryHolidays(year), String(year)).toEqual([])
    expect(dates(2099, '元旦')).toEqual(['2099-01-01'])
    expect(dates(2099, '春节')).toEqual(['2099-01-20', '2099-01-21', '2099-01-22', '2099-01-23'])
    expect(withStatutoryHolidays([], 2100, 2102)).toEqual([])
    expect(withStatutoryHolidays([], 2020, 2024)).toEqual([])
  })

  // Setting TZ moves this process's zone under vitest's forks pool (npm test), not in a worker
  // thread, whose process.env is a copy (Stryker's runner): there the zones cannot be tried.
  it.skipIf(!zoneFollowsTz())('rule 34: the holidays do not depend on the host\'s time zone (the package writes some dates in local time)', () => {
    const zone = process.env.TZ
    try {
      for (const tz of ['America/New_York', 'Pacific/Pago_Pago', 'Pacific/Kiritimati', 'Asia/Shanghai', 'UTC']) {
        process.env.TZ = tz
        expect(new Date(Date.UTC(2027, 3, 5)).getDate(), tz).toBe(tz.startsWith('America') || tz.endsWith('Pago') ? 4 : 5)
        expect(dates(2027, '清明节'), tz).toEqual(['2027-04-05'])
        expect(dates(2030, '清明节'), tz).toEqual(['2030-04-05'])
        expect(dates(2027, '春节'), tz).toEqual(['2027-02-05', '2027-02-06', '2027-02-07', '2027-02-08'])
        expect(dates(2027, '中秋节'), tz).toEqual(['2027-09-15'])
      }
    } finally {
      if (zone === undefined) delete process.env.TZ
      else process.env.TZ = zone
    }
  })
})

describe('an unpublished year counts its statutory holidays', () => {
  it('rule 34: New Year\'s Day 2027 (a Friday) is not a working day while 2027 is unpublished', () => {
    const calendar = loaded()
    expect(calendar.isPublished(2027)).toBe(false)
    expect(weekdayOf(dayOfDate('2027-01-01'))).toBe(5)
    expect(calendar.isWorkingDay('2027-01-01')).toBe(false)
    expect(calendar.isWorkingDay('2026-12-31')).toBe(true)
    expect(calendar.isWorkingDay('2027-01-04')).toBe(true)
    // The same years without rule 34: Monday–Friday, New Year's Day a working day.
    expect(WorkingCalendar.from({ version: 1, years: officialThrough2026() }).isWorkingDay('2027-01-01')).toBe(true)
  })

  it('rule 34: the weekday holidays of Spring Festival, Qingming, Dragon Boat, Mid-Autumn and National Day 2027 are off; no make-up day is invented', () => {
    const calendar = loaded()
    for (const date of ['2027-02-05', '2027-02-08', '2027-04-05', '2027-06-09', '2027-09-15', '2027-10-01']) {
      expect(calendar.isWorkingDay(date), date).toBe(false)
    }
    for (const date of ['2027-02-04', '2027-02-09', '2027-04-06', '2027-06-08', '2027-09-16', '2027-10-04']) {
      expect(calendar.isWorkingDay(date), date).toBe(true)
    }
    const y2027 = provisionalYear(2027)
    expect(y2027.published).toBe(false)
    expect(y2027.days.map((d) => d.date)).toEqual(['2027-01-01', '2027-02-05', '2027-02-08', '2027-04-05', '2027-06-09', '2027-09-15', '2027-10-01'])
    expect(y2027.days.every((d) => !d.working && !isWeekend(d.date))).toBe(true)
    // Weekends stay off and no weekend becomes a working day: Saturday 2027-02-06 (初一), the Sunday after National Day.
    expect(calendar.isWorkingDay('2027-02-06')).toBe(false)
    expect(calendar.isWorkingDay('2027-10-03')).toBe(false)
    expect(calendar.isWorkingDay('2027-02-20')).toBe(false)
  })

  it('rule 34: in 2028 and 2030 too, only the weekday holidays are listed', () => {
    expect(provisionalYear(2028).days.map((d) => d.date)).toEqual([
      '2028-01-25', '2028-01-26', '2028-01-27', '2028-01-28', '2028-04-04', '2028-05-01', '2028-05-02', '2028-10-02', '2028-10-03',
    ]) // 1 January a Saturday, Dragon Boat a Sunday, 1 October a Sunday
    expect(provisionalYear(2030).days.map((d) => d.date)).toEqual([
      '2030-01-01', '2030-02-04', '2030-02-05', '2030-04-05', '2030-05-01', '2030-05-02', '2030-06-05', '2030-09-12',
      '2030-10-01', '2030-10-02', '2030-10-03',
    ])
  })

  it('rule 34: a deadline over New Year\'s Day or Spring Festival 2027 skips them and stays provisional', () => {
    const calendar = loaded()
    expect(addWorkingDays(calendar, '2026-12-31T10:00:00+08:00', 1)).toEqual({
      dueAt: '2027-01-04T16:00:00.000Z', dueDate: '2027-01-04', provisional: true,
    })
    expect(addWorkingDays(calendar, '2027-02-04T10:00:00+08:00', 1)).toEqual({
      dueAt: '2027-02-09T16:00:00.000Z', dueDate: '2027-02-09', provisional: true,
    })
    const due = computeDeadline(calendar, { limit: { workingDays: 5 }, startAt: '2027-09-30T10:00:00+08:00' }, '2027-10-05T09:00:00+08:00')
    // 1 October off, 2–3 a weekend: 4, 5, 6, 7 and 8 October.
    expect(due).toMatchObject({ dueDate: '2027-10-08', provisional: true, state: 'running', workingDaysUsed: 2, workingDaysLeft: 3 })
  })

  it('rule 34: when 2027 is published the official year wins, make-up days included, and the deadline is final', () => {
    // An illustrative notice (not the real one): Spring Festival 5–11 February, a make-up Sunday
    // 31 January and Saturday 20 February; New Year's Day not listed.
    const notice: CalendarYear = { year: 2027, published: true, days: [
      { date: '2027-01-31', working: true, name: '春节调休' },
      ...['2027-02-05', '2027-02-08', '2027-02-09', '2027-02-10', '2027-02-11'].map((date) => ({ date, working: false, name: '春节' })),
      { date: '2027-02-20', working: true, name: '春节调休' },
    ] }
    const years = withStatutoryHolidays([...officialThrough2026(), notice], 2025, 2030)
    expect(years.find((y) => y.year === 2027)).toEqual(notice)
    const calendar = WorkingCalendar.from({ version: 2, years })
    expect(calendar.isPublished(2027)).toBe(true)
    expect(calendar.isWorkingDay('2027-01-01')).toBe(true) // the notice does not list it
    expect(calendar.isWorkingDay('2027-01-31')).toBe(true)
    expect(calendar.isWorkingDay('2027-02-20')).toBe(true)
    expect(addWorkingDays(calendar, '2027-02-04T10:00:00+08:00', 1)).toEqual({
      dueAt: '2027-02-12T16:00:00.000Z', dueDate: '2027-02-12', provisional: false,
    })
    expect(addWorkingDays(calendar, '2027-02-19T10:00:00+08:00', 1)).toMatchObject({ dueDate: '2027-02-20', provisional: false })
    // Before the notice the same deadlines were provisional and counted the statutory days only.
    expect(addWorkingDays(loaded(), '2027-02-19T10:00:00+08:00', 1)).toMatchObject({ dueDate: '2027-02-22', provisional: true })
  })

  it('rule 34: a draft kept for an unpublished year keeps its own days and gains the statutory holidays it does not list', () => {
    const draft: CalendarYear = { year: 2027, published: false, days: [
      { date: '2027-02-20', working: true, name: '调休（草案）' },
      { date: '2027-01-01', working: false, name: '元旦（草案）' },
    ] }
    const year = provisionalYear(2027, draft)
    expect(year.published).toBe(false)
    expect(year.days.map((d) => `${d.date} ${d.name}`)).toEqual([
      '2027-01-01 元旦（草案）', '2027-02-05 春节', '2027-02-08 春节', '2027-02-20 调休（草案）', '2027-04-05 清明节',
      '2027-06-09 端午节', '2027-09-15 中秋节', '2027-10-01 国庆节',
    ])
    const calendar = WorkingCalendar.from({ version: 1, years: withStatutoryHolidays([draft], 2027, 2027) })
    expect(calendar.isPublished(2027)).toBe(false)
    expect(calendar.isWorkingDay('2027-02-20')).toBe(true)
    expect(calendar.isWorkingDay('2027-02-05')).toBe(false)
  })

  it('rule 34: a window gives holidays to the unpublished years inside it only, in year order', () => {
    const stored = officialThrough2026().filter((y) => y.year >= 2025)
    const years = withStatutoryHolidays(stored, 2026, 2028)
    expect(years.map((y) => [y.year, y.published])).toEqual([[2025, true], [2026, true], [2027, false], [2028, false]])
    expect(years[2]).toEqual(provisionalYear(2027))
    expect(withStatutoryHolidays([], 2027, 2027)).toEqual([provisionalYear(2027)])
    // Out of order in, year order out; the stored list itself is not changed.
    const later: CalendarYear = { year: 2031, published: true, days: [] }
    const input = [later, ...stored]
    expect(withStatutoryHolidays(input, 2030, 2030).map((y) => y.year)).toEqual([2025, 2026, 2030, 2031])
    expect(input.map((y) => y.year)).toEqual([2031, 2025, 2026])
  })

  it('rule 15: the published 2026 calendar is untouched, its make-up days included', () => {
    const years = withStatutoryHolidays(officialCalendarYears(), 2025, 2030)
    const y2026 = years.find((y) => y.year === 2026)!
    expect(y2026).toEqual(officialCalendarYears().find((y) => y.year === 2026))
    expect(y2026.days.filter((d) => d.working).map((d) => d.date)).toEqual([
      '2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10',
    ])
    const calendar = loaded()
    expect(calendar.isPublished(2026)).toBe(true)
    for (let d = dayOfDate('2026-02-15'); d <= dayOfDate('2026-02-23'); d++) expect(calendar.isWorkingDay(d)).toBe(false)
    expect(calendar.isWorkingDay('2026-02-14')).toBe(true)
    expect(addWorkingDays(calendar, '2026-02-13T10:00:00+08:00', 1)).toMatchObject({ dueDate: '2026-02-14', provisional: false })
    // Asked for one year (the calendar API's GET of a year), a published year is returned as it is.
    const published = officialCalendarYears().find((y) => y.year === 2026)!
    expect(provisionalYear(2026, published)).toBe(published)
  })
})

/** Whether assigning process.env.TZ changes the zone Date uses in this process. */
function zoneFollowsTz(): boolean {
  const zone = process.env.TZ
  try {
    process.env.TZ = 'America/New_York'
    return new Date(Date.UTC(2027, 3, 5)).getDate() === 4
  } finally {
    if (zone === undefined) delete process.env.TZ
    else process.env.TZ = zone
  }
}
