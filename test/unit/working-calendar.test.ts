// The working-day calendar on pinned data: what it refuses to be built from, the range it covers,
// and counting and stepping over working days, checked against a day-by-day walk.
import fc from 'fast-check'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  CalendarError, type CalendarData, type CalendarYear, dateOfDay, dayOfDate, dayOfMs, endOfDayMs, formatInstant,
  parseInstant, startOfDayMs, WorkingCalendar, weekdayOf, yearOfDay,
} from '../../src/domain/calendar.ts'
import { OFFICIAL_YEARS, officialCalendarData, officialCalendarYears } from '../../src/domain/official-calendar.ts'
import { runs } from '../support/property-runs.ts'

const day = (date: string) => dayOfDate(date)
/** The same day number by Date, for what is built as the file loads (docs/mutation.md, static mutants). */
const utcDay = (date: string) => Date.parse(date) / 86_400_000
const year = (y: number, days: CalendarYear['days'] = [], published = true): CalendarYear => ({ year: y, published, days })
const build = (...years: CalendarYear[]) => WorkingCalendar.from({ version: 1, years })

/** The CalendarError code and message a call throws. */
function refusal(f: () => unknown): { code: string; message: string } | undefined {
  try {
    f()
    return undefined
  } catch (err) {
    if (!(err instanceof CalendarError)) throw err
    expect(err.name).toBe('CalendarError')
    return { code: err.code, message: err.message }
  }
}

describe('building a calendar', () => {
  it('refuses data that is not { version, years: [] }', () => {
    const message = 'calendar data must be { version, years: [] }'
    for (const data of [null, undefined, 'x', { version: 1 }, { version: 1, years: {} }]) {
      expect(refusal(() => WorkingCalendar.from(data as unknown as CalendarData))).toEqual({ code: 'INVALID_CALENDAR', message })
    }
  })

  it('refuses a version that is not a whole number', () => {
    for (const version of [1.5, '1', Number.NaN, 2 ** 53]) {
      expect(refusal(() => WorkingCalendar.from({ version: version as number, years: [] }))).toEqual({
        code: 'INVALID_CALENDAR', message: `calendar version must be an integer, got ${String(version)}`,
      })
    }
    expect(WorkingCalendar.from({ version: 0, years: [] }).version).toBe(0)
  })

  it('refuses years outside 1900–2399, where the index would grow without bound', () => {
    for (const y of [1899, 2400, 2026.5, Number.NaN]) {
      expect(refusal(() => build(year(y)))).toEqual({ code: 'INVALID_CALENDAR', message: `calendar year ${String(y)} is outside 1900–2399` })
    }
    expect(build(year(1900)).isPublished(1900)).toBe(true)
    expect(build(year(2399)).isPublished(2399)).toBe(true)
  })

  it('refuses a year twice, a malformed year and a malformed or misplaced day', () => {
    expect(refusal(() => build(year(2026), year(2026)))).toEqual({ code: 'INVALID_CALENDAR', message: 'calendar year 2026 appears twice' })
    const needs = { code: 'INVALID_CALENDAR', message: 'calendar year 2026 needs published: boolean and days: []' }
    expect(refusal(() => build({ year: 2026, published: 'yes', days: [] } as unknown as CalendarYear))).toEqual(needs)
    expect(refusal(() => build({ year: 2026, published: true } as unknown as CalendarYear))).toEqual(needs)
    expect(refusal(() => build(year(2026, [{ date: '2026-10-01', working: 'no' as unknown as boolean }])))).toEqual({
      code: 'INVALID_CALENDAR', message: '2026-10-01 needs working: boolean',
    })
    expect(refusal(() => build(year(2026, [{ date: '2025-10-01', working: false }])))).toEqual({
      code: 'INVALID_CALENDAR', message: '2025-10-01 is listed under year 2026',
    })
    expect(refusal(() => build(year(2026, [{ date: '2026-10-01', working: false }, { date: '2026-10-01', working: true }])))).toEqual({
      code: 'INVALID_CALENDAR', message: '2026-10-01 appears twice',
    })
    expect(refusal(() => build(year(2026, [{ date: '2026-10-32', working: false }])))?.code).toBe('INVALID_DATE')
  })

  it('applies each day\'s flag, whatever the weekday', () => {
    const cal = build(year(2026, [
      { date: '2026-10-01', working: false }, { date: '2026-10-10', working: true }, { date: '2026-10-12', working: true },
    ]))
    expect(cal.isWorkingDay('2026-10-01')).toBe(false) // a Thursday off
    expect(cal.isWorkingDay('2026-10-10')).toBe(true) // a Saturday at work
    expect(cal.isWorkingDay('2026-10-12')).toBe(true) // a Monday, listed though redundant
    expect(cal.isWorkingDay('2026-10-02')).toBe(true)
    expect(cal.isWorkingDay(day('2026-10-11'))).toBe(false)
  })
})

describe('calendars built again from equal data', () => {
  const data = (version: number, working: boolean): CalendarData => ({ version, years: [year(2026, [{ date: '2026-10-10', working }])] })

  it('are the index already built, each different datum its own', () => {
    const first = WorkingCalendar.from(data(7, true))
    expect(WorkingCalendar.from(structuredClone(data(7, true)))).toBe(first)
    const otherDay = WorkingCalendar.from(data(7, false))
    expect(otherDay).not.toBe(first)
    expect([first.isWorkingDay('2026-10-10'), otherDay.isWorkingDay('2026-10-10')]).toEqual([true, false])
    const otherVersion = WorkingCalendar.from(data(8, true))
    expect(otherVersion).not.toBe(first)
    expect(otherVersion.version).toBe(8)
  })

  it('keep 16, forget the oldest, and never keep data they refuse', () => {
    const first = WorkingCalendar.from(data(100, true))
    for (let v = 101; v < 116; v++) WorkingCalendar.from(data(v, true))
    expect(WorkingCalendar.from(data(100, true))).toBe(first)
    for (let v = 116; v < 132; v++) WorkingCalendar.from(data(v, true))
    const again = WorkingCalendar.from(data(100, true))
    expect(again).not.toBe(first)
    expect(again.isWorkingDay('2026-10-10')).toBe(true)
    const twice = { version: 1, years: [year(2026), year(2026)] }
    expect(refusal(() => WorkingCalendar.from(twice))?.message).toBe('calendar year 2026 appears twice')
    expect(refusal(() => WorkingCalendar.from(twice))?.message).toBe('calendar year 2026 appears twice')
  })
})

describe('the range a calendar covers', () => {
  it('is 1990–2200, widened by the data\'s years', () => {
    const plain = build()
    expect([dateOfDay(plain.firstDay), dateOfDay(plain.lastDay)]).toEqual(['1990-01-01', '2200-12-31'])
    const wide = build(year(1950), year(2300, [], false))
    expect([dateOfDay(wide.firstDay), dateOfDay(wide.lastDay)]).toEqual(['1950-01-01', '2300-12-31'])
    expect(wide.isWorkingDay('1950-01-02')).toBe(true) // a Monday
    expect(wide.isWorkingDay('2300-12-31')).toBe(true) // a Monday
  })

  it('follows Monday–Friday on every day it covers but the data\'s exceptions', () => {
    const cal = build(year(2026, [{ date: '2026-10-01', working: false }]))
    fc.assert(fc.property(fc.integer({ min: cal.firstDay, max: cal.lastDay }), (d) => {
      const weekday = weekdayOf(d)
      expect(cal.isWorkingDay(d)).toBe(dateOfDay(d) !== '2026-10-01' && weekday !== 0 && weekday !== 6)
    }), runs(3000))
    expect(cal.isWorkingDay(cal.firstDay)).toBe(true) // 1 January 1990 was a Monday
    expect(cal.isWorkingDay(cal.lastDay - 1)).toBe(true)
  })

  it('refuses days outside it, naming them', () => {
    const cal = build()
    expect(refusal(() => cal.isWorkingDay('1989-12-31'))).toEqual({ code: 'OUT_OF_RANGE', message: 'day 1989-12-31 is outside the calendar range' })
    expect(refusal(() => cal.isWorkingDay('2201-01-01'))).toEqual({ code: 'OUT_OF_RANGE', message: 'day 2201-01-01 is outside the calendar range' })
    expect(refusal(() => cal.isWorkingDay(Number.NaN))).toEqual({ code: 'OUT_OF_RANGE', message: 'day NaN is outside the calendar range' })
    expect(refusal(() => cal.isWorkingDay(day('2026-10-01') + 0.5))?.code).toBe('OUT_OF_RANGE')
    expect(refusal(() => cal.workingDaysBetween(cal.lastDay, cal.lastDay + 2))?.code).toBe('OUT_OF_RANGE')
    expect(refusal(() => cal.workingDaysBetween(cal.firstDay - 1, cal.lastDay))?.code).toBe('OUT_OF_RANGE')
    expect(refusal(() => cal.touchesUnpublished(cal.firstDay - 1, cal.firstDay))?.code).toBe('OUT_OF_RANGE')
  })

  it('counts up to the end of its last day', () => {
    const cal = build()
    // 31 December 2200 is a Wednesday.
    expect(cal.workingDaysBetween(cal.lastDay, cal.lastDay + 1)).toBe(1)
    expect(cal.workingDaysBetween(cal.firstDay, cal.lastDay + 1)).toBe(cal.workingDaysBetween(cal.firstDay, cal.lastDay) + 1)
  })
})

describe('published years', () => {
  let cal: WorkingCalendar
  beforeEach(() => {
    cal = build(year(2025), year(2026, [], false), year(2027))
  })

  it('are the years the data publishes', () => {
    expect([1990, 2024, 2025, 2026, 2027, 2028, 2200, 1989, 2201, 1800].map((y) => cal.isPublished(y)))
      .toEqual([false, false, true, false, true, false, false, false, false, false])
  })

  it('make a span provisional exactly when a day of it lies in an unpublished year', () => {
    const touches = (from: string, to: string) => cal.touchesUnpublished(day(from), day(to))
    expect(touches('2025-01-01', '2025-12-31')).toBe(false)
    expect(touches('2025-12-31', '2026-01-01')).toBe(true)
    expect(touches('2026-06-01', '2026-06-01')).toBe(true)
    expect(touches('2027-01-01', '2027-12-31')).toBe(false)
    expect(touches('2025-06-01', '2027-06-01')).toBe(true)
    expect(touches('2024-12-31', '2025-01-01')).toBe(true)
    expect(touches('2027-12-31', '2028-01-01')).toBe(true)
    // An empty span touches nothing.
    expect(touches('2026-06-02', '2026-06-01')).toBe(false)
  })

  it('are found for the first and last day of every year, leap years included', () => {
    const years = Array.from({ length: 211 }, (_, i) => 1990 + i)
    // Every other year, and every third: a day put in the year two on (the estimate of its year
    // overshoots on 31 December 2092 and 2096) or the last year (2200) miscounted shows in one.
    for (const every of [2, 3]) {
      const cal = build(...years.filter((y) => y % every === 0).map((y) => year(y)))
      for (const y of years) {
        const first = day(`${y}-01-01`)
        const last = day(`${y}-12-31`)
        expect(cal.touchesUnpublished(first, first), `${y}-01-01, every ${every}`).toBe(y % every !== 0)
        expect(cal.touchesUnpublished(last, last), `${y}-12-31, every ${every}`).toBe(y % every !== 0)
      }
    }
    // Data widening the index to 2300: its first day, where the estimate falls a year short, is in 2300.
    const wider = build(year(2300))
    expect(wider.touchesUnpublished(day('2300-01-01'), day('2300-01-01'))).toBe(false)
    expect(wider.touchesUnpublished(day('2299-12-31'), day('2299-12-31'))).toBe(true)
  })
})

describe('counting and stepping over working days', () => {
  // Random exceptions over 2025–2027, checked against a walk over the same flags.
  const exceptions = fc.uniqueArray(
    fc.record({ d: fc.integer({ min: utcDay('2025-01-01'), max: utcDay('2027-12-31') }), working: fc.boolean() }),
    { selector: (e) => e.d, maxLength: 60 },
  )
  const calendarOf = (list: Array<{ d: number; working: boolean }>) => {
    const byYear = new Map<number, CalendarYear>([2025, 2026, 2027].map((y) => [y, year(y)]))
    for (const e of list) byYear.get(yearOfDay(e.d))!.days.push({ date: dateOfDay(e.d), working: e.working })
    const flags = new Map(list.map((e) => [e.d, e.working]))
    const working = (d: number) => flags.get(d) ?? (weekdayOf(d) !== 0 && weekdayOf(d) !== 6)
    return { cal: build(...byYear.values()), working }
  }
  const span = fc.integer({ min: utcDay('2025-03-01'), max: utcDay('2027-10-01') })

  it('counts the working days of a half-open span, negative when reversed', () => {
    fc.assert(fc.property(exceptions, span, fc.integer({ min: -60, max: 60 }), (list, from, length) => {
      const { cal, working } = calendarOf(list)
      const [a, b] = length >= 0 ? [from, from + length] : [from + length, from]
      let count = 0
      for (let d = a; d < b; d++) if (working(d)) count++
      // (+ 0: no count is -0)
      expect(cal.workingDaysBetween(from, from + length) + 0).toBe((length >= 0 ? count : -count) + 0)
    }), runs(300))
  })

  it('steps n working days forward or back, and stays put for 0', () => {
    fc.assert(fc.property(exceptions, span, fc.integer({ min: -40, max: 40 }), (list, from, n) => {
      const { cal, working } = calendarOf(list)
      let d = from
      for (let left = Math.abs(n); left > 0;) {
        d += Math.sign(n)
        if (working(d)) left--
      }
      expect(cal.addWorkingDays(from, n)).toBe(d)
    }), runs(300))
  })

  it('refuses to step off the calendar or by part of a day', () => {
    const cal = build()
    expect(refusal(() => cal.addWorkingDays(day('2200-12-01'), 100))).toEqual({
      code: 'OUT_OF_RANGE', message: '100 working days from 2200-12-01 leaves the calendar range',
    })
    expect(refusal(() => cal.addWorkingDays(day('1990-01-10'), -10))).toEqual({
      code: 'OUT_OF_RANGE', message: '-10 working days from 1990-01-10 leaves the calendar range',
    })
    expect(refusal(() => cal.addWorkingDays(day('2026-10-01'), 1.5))).toEqual({
      code: 'OUT_OF_RANGE', message: 'working days must be an integer, got 1.5',
    })
    // The last working day of the range can be reached, not the one after.
    expect(dateOfDay(cal.addWorkingDays(day('2200-12-30'), 1))).toBe('2200-12-31')
    expect(refusal(() => cal.addWorkingDays(day('2200-12-31'), 1))?.code).toBe('OUT_OF_RANGE')
    expect(dateOfDay(cal.addWorkingDays(day('1990-01-02'), -1))).toBe('1990-01-01')
  })
})

describe('dates and instants', () => {
  it('reads only real YYYY-MM-DD dates', () => {
    expect(dayOfDate('1970-01-01')).toBe(0)
    expect(dayOfDate('2026-03-02')).toBe(20514)
    expect(refusal(() => dayOfDate('2026-3-2'))).toEqual({ code: 'INVALID_DATE', message: '"2026-3-2" is not a YYYY-MM-DD date' })
    for (const date of ['2026-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '2026-01-00']) {
      expect(refusal(() => dayOfDate(date)), date).toEqual({ code: 'INVALID_DATE', message: `"${date}" is not a calendar date` })
    }
    expect(dayOfDate('2028-02-29')).toBe(dayOfDate('2028-03-01') - 1)
    // Date.UTC reads the years 0–99 as 1900–1999: such a date is refused, never taken for another.
    for (const date of ['0050-06-15', '0000-01-01', '0099-12-31']) {
      expect(refusal(() => dayOfDate(date)), date).toEqual({ code: 'INVALID_DATE', message: `"${date}" is not a calendar date` })
    }
  })

  it('reads a date only when the whole text is one', () => {
    for (const date of ['x2026-10-01', '2026-10-01x', '12026-10-01', '2026-10-011', '226-10-01', '2026-1-01', '2026/10/01', '2026-10-01T00:00']) {
      expect(refusal(() => dayOfDate(date)), date).toEqual({ code: 'INVALID_DATE', message: `"${date}" is not a YYYY-MM-DD date` })
    }
  })

  it('reads an instant only when the whole text is one, each separator in its place', () => {
    expect(parseInstant('2026-02-13T02:00:00.000Z')).toBe(Date.UTC(2026, 1, 13, 2))
    for (const bad of [
      '2026/02-13T02:00:00.000Z', '2026-02/13T02:00:00.000Z', '2026-02-13 02:00:00.000Z', '2026-02-13T02-00:00.000Z',
      '2026-02-13T02:00-00.000Z', '2026-02-13T02:00:00,000Z', '2026-02-13T02:00:00.000z', '2026-02-13T02:00:00.000+',
      '2026-13-01T00:00:00.000Z', '2026-00-01T00:00:00.000Z', '2026-01-00T00:00:00.000Z', '2026-01-32T00:00:00.000Z',
      '2026-01-01T00:60:00.000Z', '2026-01-01T00:00:60.000Z', '2026-01-01T25:00:00.000Z', '2026-0a-01T00:00:00.000Z',
      'x2026-02-13T10:00:00+08:00', '2026-02-13T10:00:00+08:00x', '2026-02-13T10:00:00+0800', '2026-02-13T10+08:00',
      '2026-02-13T10:00:0+08:00', '2026-02-13T10:00:00.+08:00', '2026-02-13T10:00:00.1234567890+08:00',
      '26-02-13T10:00:00+08:00', '2026-2-13T10:00:00+08:00', '2026-02-13T1:00:00+08:00', '2026-02-13T10:00:00+8:00',
      // The canonical form's own reader (the fast path) must refuse these too, not read them wrong:
      // a letter where a digit would keep the field in range, a non-digit leading a field, a tail after Z.
      '2026-01-01T10:0a:00.000Z', '2026-01-01Tx0:00:00.000Z', '2026-01-01T10:x0:00.000Z', '2026-01-01T10:00:x0.000Z',
      '2026-01-01T10:00:00.x00Z', '2026-02-13T02:00:00.000Z0', '2026-01-01T10:1/:00.000Z',
    ]) {
      expect(refusal(() => parseInstant(bad)), bad).toEqual({
        code: 'INVALID_DATE', message: `"${bad}" is not an ISO 8601 instant with an offset, e.g. 2026-02-13T10:00:00+08:00`,
      })
    }
  })

  it('rule 9: places an instant in its Asia/Shanghai day, 24:00 ending it', () => {
    const d = day('2026-03-02')
    expect(dayOfMs(parseInstant('2026-03-02T00:00:00+08:00'))).toBe(d)
    expect(dayOfMs(parseInstant('2026-03-01T23:59:59.999+08:00'))).toBe(d - 1)
    expect(formatInstant(startOfDayMs(d))).toBe('2026-03-01T16:00:00.000Z')
    expect(formatInstant(endOfDayMs(d))).toBe('2026-03-02T16:00:00.000Z')
    expect(weekdayOf(d)).toBe(1)
    expect(weekdayOf(-1)).toBe(3) // 31 December 1969 was a Wednesday
    expect(yearOfDay(day('2026-12-31'))).toBe(2026)
    expect(yearOfDay(day('2027-01-01'))).toBe(2027)
  })

  it('reads instants with any offset and precision, and nothing without an offset', () => {
    expect(parseInstant('2026-02-13T10:00+08:00')).toBe(Date.UTC(2026, 1, 13, 2))
    expect(parseInstant('2026-02-13T10:00:00.123456789+08:00')).toBe(Date.UTC(2026, 1, 13, 2, 0, 0, 123))
    expect(parseInstant('2026-02-13T02:00:00.5Z')).toBe(Date.UTC(2026, 1, 13, 2, 0, 0, 500))
    expect(parseInstant('2026-02-12T20:00:00-06:00')).toBe(Date.UTC(2026, 1, 13, 2))
    for (const bad of ['2026-02-13T10:00:00', '2026-02-13', '2026-02-13 10:00:00Z', '2026-02-13T10:00:00z', 'tomorrow', '']) {
      expect(refusal(() => parseInstant(bad)), bad).toEqual({
        code: 'INVALID_DATE', message: `"${bad}" is not an ISO 8601 instant with an offset, e.g. 2026-02-13T10:00:00+08:00`,
      })
    }
    expect(refusal(() => parseInstant(5 as unknown as string))?.message).toMatch(/^"5" is not an ISO 8601 instant/)
    // Only a string is read: not something that merely turns into one.
    const lookalike = { toString: () => '2026-02-13T10:00:00+08:00' } as unknown as string
    expect(refusal(() => parseInstant(lookalike))?.code).toBe('INVALID_DATE')
    // Nor something as long as the canonical form that has no characters to read.
    expect(refusal(() => parseInstant(Array.from({ length: 24 }, () => '0') as unknown as string))?.code).toBe('INVALID_DATE')
  })

  it('writes milliseconds with three digits, 10 and 100 included', () => {
    expect(formatInstant(Date.UTC(2026, 0, 1, 0, 0, 0, 10))).toBe('2026-01-01T00:00:00.010Z')
    expect(formatInstant(Date.UTC(2026, 0, 1, 0, 0, 0, 100))).toBe('2026-01-01T00:00:00.100Z')
    expect(formatInstant(Date.UTC(2026, 0, 1, 0, 0, 0, 9))).toBe('2026-01-01T00:00:00.009Z')
    expect(formatInstant(Date.UTC(2026, 0, 1, 0, 0, 0, 99))).toBe('2026-01-01T00:00:00.099Z')
  })

  it('writes instants and dates outside four-digit years as Date does', () => {
    expect(dateOfDay(dayOfDate('1000-01-01') - 1)).toBe('0999-12-31')
    const after9999 = dayOfDate('9999-12-31') + 1
    expect(dateOfDay(after9999)).toBe(new Date(after9999 * 86_400_000).toISOString().slice(0, 10))
    expect(dateOfDay(2.5)).toBe(new Date(2.5 * 86_400_000).toISOString().slice(0, 10))
    expect(formatInstant(Date.UTC(999, 11, 31, 23, 59, 59, 999))).toBe('0999-12-31T23:59:59.999Z')
    expect(formatInstant(1.5)).toBe(new Date(1.5).toISOString())
  })
})

describe('the official calendar data (chinese-days, pinned in package.json)', () => {
  let years: CalendarYear[]
  beforeEach(() => {
    years = officialCalendarYears()
  })

  it('lists only weekday holidays as off and only weekend days as make-up working days', () => {
    for (const y of years) {
      for (const d of y.days) {
        const weekday = weekdayOf(day(d.date))
        expect(weekday === 0 || weekday === 6, `${d.date} ${d.name}`).toBe(d.working)
      }
    }
    // Sunday 15 February 2026 is part of the Spring Festival, but off anyway: not listed.
    expect(years.find((y) => y.year === 2026)!.days.some((d) => d.date === '2026-02-15')).toBe(false)
  })

  it('names holidays in Chinese and make-up days after their holiday', () => {
    const all = years.flatMap((y) => y.days)
    const holidayNames = new Set(all.filter((d) => !d.working).map((d) => d.name))
    expect([...holidayNames].filter((name) => !/^[^,A-Za-z]+$/.test(name!))).toEqual([])
    expect(holidayNames).toContain('国庆节')
    expect(all.filter((d) => d.working && !holidayNames.has(d.name!.replace(/调休$/, '')))).toEqual([])
  })

  it('lists each year\'s days in date order, each in its own year', () => {
    for (const y of years) {
      expect(y.days.every((d, i) => d.date.startsWith(`${y.year}-`) && (i === 0 || y.days[i - 1]!.date < d.date)), String(y.year)).toBe(true)
    }
    expect(years[0]!.year).toBe(OFFICIAL_YEARS.first)
    expect(years.at(-1)!.year).toBe(OFFICIAL_YEARS.last)
  })

  it('is version 1 unless told otherwise', () => {
    expect(officialCalendarData().version).toBe(1)
    expect(officialCalendarData(7)).toEqual({ version: 7, years })
  })
})
