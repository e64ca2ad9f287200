// What an administrator may enter as a year's calendar (rules 8 and 15): only the exceptions to
// Monday–Friday, each a real date of that year, once. Pure: no I/O.
import { Type, type Static } from 'typebox'
import { CalendarError, dayOfDate, weekdayOf, yearOfDay, INDEX_FIRST_YEAR, INDEX_LAST_YEAR } from './calendar.ts'

export const CalendarYearNumber = Type.Integer({ minimum: INDEX_FIRST_YEAR, maximum: INDEX_LAST_YEAR, description: 'a calendar year' })

export const CalendarDaySchema = Type.Object({
  date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'local date, YYYY-MM-DD (Asia/Shanghai)' }),
  working: Type.Boolean({ description: 'true: a make-up working day (调休) on a weekend; false: a holiday on a weekday' }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
}, { additionalProperties: false })
export type CalendarDaySchema = Static<typeof CalendarDaySchema>

export interface CalendarYearProblem {
  /** JSON pointer into the list of days, e.g. `/days/3/date`. */
  path: string
  message: string
}

const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

/**
 * Every reason the days cannot be `year`'s exceptions: dates that do not exist or lie in another
 * year, dates listed twice, and redundant entries (a weekday marked working, a weekend marked off),
 * which would hide typos such as a holiday entered on the wrong day.
 */
export function calendarYearProblems(year: number, days: readonly CalendarDaySchema[]): CalendarYearProblem[] {
  const problems: CalendarYearProblem[] = []
  const firstIndex = new Map<string, number>()
  days.forEach((d, i) => {
    let day: number
    try {
      day = dayOfDate(d.date)
    } catch (err) {
      if (!(err instanceof CalendarError)) throw err
      problems.push({ path: `/days/${i}/date`, message: err.message })
      return
    }
    if (yearOfDay(day) !== year) {
      problems.push({ path: `/days/${i}/date`, message: `${d.date} is not in ${year}` })
      return
    }
    const seen = firstIndex.get(d.date)
    if (seen !== undefined) {
      problems.push({ path: `/days/${i}/date`, message: `${d.date} is already listed at /days/${seen}` })
      return
    }
    firstIndex.set(d.date, i)
    const weekday = weekdayOf(day)
    const weekend = weekday === 0 || weekday === 6
    if (d.working && !weekend) {
      problems.push({ path: `/days/${i}/working`, message: `${d.date} is a ${WEEKDAY_NAMES[weekday]}, a working day anyway; list only make-up days on weekends as working` })
    } else if (!d.working && weekend) {
      problems.push({ path: `/days/${i}/working`, message: `${d.date} is a ${WEEKDAY_NAMES[weekday]}, off anyway; list only weekday holidays as not working` })
    }
  })
  return problems
}

/** The days in date order, as stored and served. */
export function sortCalendarDays<T extends { date: string }>(days: readonly T[]): T[] {
  return [...days].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
}
