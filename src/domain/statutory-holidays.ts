// Rule 34: the holidays the law itself fixes, for years the State Council has not yet published
// (rule 15). 全国年节及纪念日放假办法 as revised by State Council Decree 795, in force from
// 1 January 2025: New Year's Day 1/1; Spring Festival on New Year's Eve (除夕) and the 1st–3rd of the
// first lunar month; Qingming on the solar term; Labour Day 5/1–5/2; Dragon Boat on 5/5 and
// Mid-Autumn on 8/15 of the lunar calendar; National Day 10/1–10/3. Make-up days and bridges come
// only with the yearly notice, so an unpublished year gets none and stays provisional.
//
// Not for workflow code (like official-calendar.ts): lunar dates and the solar term come from the
// `chinese-days` package, and are worked out where calendars are loaded (src/db/calendar.ts) and
// handed to workflows as data, an unpublished year as { published: false, days: its weekday
// statutory holidays }. Data rather than code in the sandbox because a case's history records the
// calendar it was given: a replay counts exactly the days it counted then, whatever this file or the
// package become later (histories recorded before this rule still replay as Monday–Friday), and
// the package, which reads the host's time zone in places (see qingming), stays out of the
// workflow bundle.
import chineseDays from 'chinese-days'
import type { CalendarDay, CalendarYear } from './calendar.ts'
import { dateOfDay, dayOfDate, weekdayOf } from './calendar.ts'

/**
 * The years this file knows the statutory holidays of: the revision applies from 2025 (earlier
 * years had other rules, and have published calendars); the package's lunar table ends with 2100
 * and its solar-term constants are the 21st century's. Outside them: none (Monday–Friday).
 */
export const STATUTORY_YEARS: { readonly first: number; readonly last: number } = Object.freeze({ first: 2025, last: 2099 })

const day = (year: number, month: number, dayOfMonth: number) =>
  dayOfDate(`${year}-${month < 10 ? '0' : ''}${month}-${dayOfMonth < 10 ? '0' : ''}${dayOfMonth}`)

/**
 * The day that is day `lunarDay` of lunar month `lunarMonth` (not a leap month), searched from
 * `from` to `to`, which must hold it. getLunarDate reads a `YYYY-MM-DD` as a fixed instant and
 * counts whole days from its base, so its lunar fields do not depend on the host's zone. Each step
 * jumps as far as the target surely is (a lunar month has at least 29 days): a few calls, not one a day.
 */
function lunarDayIn(from: number, to: number, lunarMonth: number, lunarDay: number): number {
  for (let d = from; d <= to;) {
    const lunar = chineseDays.getLunarDate(dateOfDay(d))
    if (lunar.lunarMon === lunarMonth && lunar.lunarDay === lunarDay && !lunar.isLeap) return d
    const sameMonthAhead = lunar.lunarMon === lunarMonth && !lunar.isLeap && lunar.lunarDay < lunarDay
    const months = sameMonthAhead ? 0 : (lunarMonth - lunar.lunarMon + 11) % 12 + 1
    d += Math.max(1, months * 29 + lunarDay - lunar.lunarDay)
  }
  throw new Error(`chinese-days has no lunar ${lunarMonth}/${lunarDay} between ${dateOfDay(from)} and ${dateOfDay(to)}`)
}

/**
 * The day of the solar term 清明 in `year`. The package computes it as a UTC midnight but writes it
 * with the host's local getters, so west of UTC it comes out a day early; getLunarDate echoes a date
 * through the same parse-and-write, and the echo of 5 April shows that shift, which is taken back.
 */
function qingming(year: number): number {
  const written = dayOfDate(chineseDays.getSolarTermDate(year, 4, 'pure_brightness'))
  const probe = day(year, 4, 5)
  const shift = dayOfDate(chineseDays.getLunarDate(dateOfDay(probe)).date) - probe
  return written - shift
}

/**
 * Every day the law makes a holiday in `year`, weekends included, in date order, named as the
 * official calendar names them; a day two holidays share (Mid-Autumn on National Day) once, with
 * both names. None for a year outside STATUTORY_YEARS.
 */
export function statutoryHolidays(year: number): CalendarDay[] {
  if (!Number.isSafeInteger(year) || year < STATUTORY_YEARS.first || year > STATUTORY_YEARS.last) return []
  const names = new Map<number, string[]>()
  const add = (d: number, name: string) => names.set(d, [...(names.get(d) ?? []), name])
  add(day(year, 1, 1), '元旦')
  // The first day of the first month lies between 21 January and 20 February; 除夕 is the day before.
  const newYear = lunarDayIn(day(year, 1, 15), day(year, 2, 25), 1, 1)
  for (let d = newYear - 1; d <= newYear + 2; d++) add(d, '春节')
  add(qingming(year), '清明节')
  add(day(year, 5, 1), '劳动节')
  add(day(year, 5, 2), '劳动节')
  add(lunarDayIn(day(year, 5, 20), day(year, 7, 5), 5, 5), '端午节') // between 28 May and 25 June
  add(lunarDayIn(day(year, 9, 1), day(year, 10, 15), 8, 15), '中秋节') // between 8 September and 8 October
  for (let d = 1; d <= 3; d++) add(day(year, 10, d), '国庆节')
  return [...names].sort(([a], [b]) => a - b).map(([d, n]) => ({ date: dateOfDay(d), working: false, name: n.join('、') }))
}

const isWeekend = (d: number) => weekdayOf(d) === 0 || weekdayOf(d) === 6

/**
 * A year without the State Council's notice as the law alone makes it: unpublished, with the days
 * `stored` lists (a draft kept for the year, if any) and, on the weekdays it does not list, the
 * statutory holidays; never a make-up day. Only exceptions to Monday–Friday are listed, as in every
 * calendar year, so a holiday on a weekend is left out. A published year is returned as it is.
 */
export function provisionalYear(year: number, stored?: CalendarYear): CalendarYear {
  if (stored?.published === true) return stored
  const own = stored?.days ?? []
  const listed = new Set(own.map((d) => d.date))
  const holidays = statutoryHolidays(year).filter((h) => !listed.has(h.date) && !isWeekend(dayOfDate(h.date)))
  const days = [...own, ...holidays].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
  return { year, published: false, days }
}

/**
 * The years of a calendar window from `fromYear` to `toYear` as they count: `years` (the stored
 * ones) with every unpublished year that has statutory holidays given them (provisionalYear), in
 * year order. A year none apply to is left as it was (absent: Monday–Friday, unpublished).
 */
export function withStatutoryHolidays(years: readonly CalendarYear[], fromYear: number, toYear: number): CalendarYear[] {
  const byYear = new Map(years.map((y) => [y.year, y]))
  for (let y = Math.max(fromYear, STATUTORY_YEARS.first); y <= Math.min(toYear, STATUTORY_YEARS.last); y++) {
    const stored = byYear.get(y)
    if (stored?.published !== true) byYear.set(y, provisionalYear(y, stored))
  }
  return [...byYear.values()].sort((a, b) => a.year - b.year)
}
