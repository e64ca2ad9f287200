// The official State Council holiday calendars (rule 15) as shipped by the `chinese-days` package.
// Not for workflow code: it imports package data. Workflows receive the resulting CalendarData.
import official from 'chinese-days/dist/chinese-days.json' with { type: 'json' }
import type { CalendarData, CalendarDay, CalendarYear } from './calendar.ts'
import { weekdayOf, dayOfDate } from './calendar.ts'

// Values look like "Spring Festival,春节,4": English name, Chinese name, length in days.
type Entries = Record<string, string>
const holidays: Entries = official.holidays
const makeUpDays: Entries = official.workdays

function chineseName(value: string): string {
  return value.split(',')[1] ?? value
}

function yearsIn(entries: Entries): number[] {
  return Object.keys(entries).map((date) => Number(date.slice(0, 4)))
}

const allYears = [...yearsIn(holidays), ...yearsIn(makeUpDays)]

/** The years the package publishes, inclusive (2004–2026 for chinese-days 1.5.7). */
export const OFFICIAL_YEARS: { readonly first: number; readonly last: number } = Object.freeze({
  first: Math.min(...allYears),
  last: Math.max(...allYears),
})

function isWeekend(date: string): boolean {
  const wd = weekdayOf(dayOfDate(date))
  return wd === 0 || wd === 6
}

/**
 * Every official year, published, listing only exceptions to Monday–Friday (the data travels in
 * workflow inputs, so it stays small): weekday holidays as `working:false` named after the
 * holiday, make-up weekend days (调休) as `working:true` named "<holiday>调休".
 */
export function officialCalendarYears(): CalendarYear[] {
  const byYear = new Map<number, CalendarDay[]>()
  for (let y = OFFICIAL_YEARS.first; y <= OFFICIAL_YEARS.last; y++) byYear.set(y, [])
  for (const [date, value] of Object.entries(holidays)) {
    if (isWeekend(date)) continue // off anyway
    byYear.get(Number(date.slice(0, 4)))!.push({ date, working: false, name: chineseName(value) })
  }
  for (const [date, value] of Object.entries(makeUpDays)) {
    if (!isWeekend(date)) continue // a weekday is a working day anyway
    byYear.get(Number(date.slice(0, 4)))!.push({ date, working: true, name: `${chineseName(value)}调休` })
  }
  for (const [year, days] of byYear) {
    if (days.length === 0) throw new Error(`chinese-days has no calendar for ${year}; the package data is incomplete`)
  }
  return [...byYear].map(([year, days]) => ({
    year,
    published: true,
    days: days.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0)),
  }))
}

/** The official calendar as CalendarData; administrators' edits get a new version. */
export function officialCalendarData(version = 1): CalendarData {
  return { version, years: officialCalendarYears() }
}
