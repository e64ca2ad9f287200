import fc from 'fast-check'
import { beforeEach, describe, expect, it } from 'vitest'
import { WorkingCalendar, dayOfDate, dayOfMs, endOfDayMs, formatInstant, parseInstant, weekdayOf, yearOfDay } from '../../src/domain/calendar.ts'
import type { CalendarYear } from '../../src/domain/calendar.ts'
import { addWorkingDays, computeDeadline, workingDueAtMs } from '../../src/domain/deadline-clock.ts'
import type { Pause } from '../../src/domain/deadline-clock.ts'
import { officialCalendarYears } from '../../src/domain/official-calendar.ts'
import { runs } from '../support/property-runs.ts'

// Built for each test, not as the file loads (docs/mutation.md, static mutants).
let calendar: WorkingCalendar
// Reference: walk one day at a time over the raw exception list.
let exceptions: Map<number, boolean>
beforeEach(() => {
  const years = officialCalendarYears()
  calendar = WorkingCalendar.from({ version: 1, years })
  exceptions = new Map(years.flatMap((y) => y.days.map((d) => [dayOfDate(d.date), d.working] as const)))
})
const naiveWorking = (day: number) => exceptions.get(day) ?? (weekdayOf(day) !== 0 && weekdayOf(day) !== 6)
function naiveAdd(day: number, n: number): number {
  let d = day
  for (let left = n; left > 0; ) if (naiveWorking(++d)) left--
  return d
}
function naiveCount(fromDay: number, toDay: number): number {
  let count = 0
  for (let d = fromDay; d < toDay; d++) if (naiveWorking(d)) count++
  return count
}

const HOUR = 3_600_000
// Bounds by Date.parse: the arbitraries are built as the file loads.
const instant = (from: string, to: string) =>
  fc.integer({ min: Date.parse(from), max: Date.parse(to) }).map((ms) => formatInstant(ms))
const start = instant('2004-01-01T00:00:00+08:00', '2030-06-30T23:59:59+08:00')
const start2025 = instant('2025-01-01T00:00:00+08:00', '2026-12-31T23:59:59+08:00')
const plus = (iso: string, ms: number) => formatInstant(parseInstant(iso) + ms)
const workingDue = (startAt: string, n: number, pauses: Pause[] = []) =>
  computeDeadline(calendar, { limit: { workingDays: n }, startAt, pauses }).dueAt
const durationDue = (startAt: string, duration: string, pauses: Pause[] = []) =>
  computeDeadline(calendar, { limit: { duration }, startAt, pauses }).dueAt

describe('deadline clock properties', () => {
  it('matches a day-by-day walk over the official calendar, 2004–2030', () => {
    fc.assert(
      fc.property(start, fc.integer({ min: 0, max: 400 }), (startAt, n) => {
        const expected = endOfDayMs(naiveAdd(dayOfMs(parseInstant(startAt)), n))
        expect(workingDue(startAt, n)).toBe(formatInstant(expected))
        expect(workingDueAtMs(calendar, parseInstant(startAt), n)).toBe(expected)
      }),
      runs(2000),
    )
  })

  it('adding n then m working days equals adding n + m', () => {
    fc.assert(
      fc.property(start, fc.nat(200), fc.nat(200), (startAt, n, m) => {
        const first = addWorkingDays(calendar, startAt, n).dueAt
        // continue from the last moment of the first deadline's day
        const chained = addWorkingDays(calendar, plus(first, -1), m).dueAt
        expect(chained).toBe(addWorkingDays(calendar, startAt, n + m).dueAt)
        expect(computeDeadline(calendar, { limit: { workingDays: n }, startAt, extensionWorkingDays: m }).dueAt).toBe(chained)
      }),
    )
  })

  it('ends a working-day deadline at 24:00 of a working day, with exactly n working days counted', () => {
    fc.assert(
      fc.property(start, fc.integer({ min: 1, max: 300 }), (startAt, n) => {
        const d = computeDeadline(calendar, { limit: { workingDays: n }, startAt })
        const dueMs = parseInstant(d.dueAt)
        expect(dueMs).toBe(endOfDayMs(dayOfDate(d.dueDate)))
        expect(calendar.isWorkingDay(d.dueDate)).toBe(true)
        expect(naiveCount(dayOfMs(parseInstant(startAt)) + 1, dayOfDate(d.dueDate) + 1)).toBe(n)
      }),
    )
  })

  it('pausing and resuming at the same instant, or on the same day, changes nothing', () => {
    fc.assert(
      fc.property(start2025, fc.nat(60), fc.nat(90 * 24), fc.nat(23), (startAt, n, hoursLater, within) => {
        const from = plus(startAt, hoursLater * HOUR)
        const sameDayTo = formatInstant(Math.min(endOfDayMs(dayOfMs(parseInstant(from))) - 1, parseInstant(from) + within * HOUR))
        for (const to of [from, sameDayTo]) {
          expect(workingDue(startAt, n, [{ from, to }])).toBe(workingDue(startAt, n))
        }
        expect(durationDue(startAt, 'PT8H', [{ from, to: from }])).toBe(durationDue(startAt, 'PT8H'))
      }),
    )
  })

  it('pauses are additive: a→b then b→c equals a→c', () => {
    fc.assert(
      fc.property(start2025, fc.nat(60), fc.array(fc.nat(40 * 24 * 60), { minLength: 3, maxLength: 3 }), (startAt, n, offsets) => {
        const [a, b, c] = [...offsets].sort((x, y) => x - y).map((min) => plus(startAt, (min - 5 * 24 * 60) * 60_000)) as [string, string, string]
        expect(workingDue(startAt, n, [{ from: a, to: b }, { from: b, to: c }])).toBe(workingDue(startAt, n, [{ from: a, to: c }]))
        expect(durationDue(startAt, 'P2DT3H', [{ from: a, to: b }, { from: b, to: c }])).toBe(
          durationDue(startAt, 'P2DT3H', [{ from: a, to: c }]),
        )
      }),
    )
  })

  it('a pause covering k working days moves the due date by exactly k working days', () => {
    fc.assert(
      fc.property(start2025, fc.integer({ min: 1, max: 60 }), fc.nat(60 * 24), fc.nat(30 * 24), (startAt, n, fromH, lengthH) => {
        const from = plus(startAt, fromH * HOUR)
        const to = plus(from, lengthH * HOUR)
        const startDay = dayOfMs(parseInstant(startAt))
        const k = naiveCount(Math.max(dayOfMs(parseInstant(from)), startDay + 1), dayOfMs(parseInstant(to)))
        const plain = dayOfMs(parseInstant(workingDue(startAt, n)) - 1)
        expect(workingDue(startAt, n, [{ from, to }])).toBe(formatInstant(endOfDayMs(naiveAdd(plain, k))))
      }),
    )
  })

  it('adds exactly the paused calendar time to durations', () => {
    fc.assert(
      fc.property(start2025, fc.nat(48 * 60), fc.nat(48 * 60), (startAt, fromMin, lengthMin) => {
        const from = plus(startAt, fromMin * 60_000)
        const to = plus(from, lengthMin * 60_000)
        expect(durationDue(startAt, 'PT2H', [{ from, to }])).toBe(plus(startAt, 2 * HOUR + lengthMin * 60_000))
      }),
    )
  })

  it('keeps warnAt between the start and the due instant', () => {
    fc.assert(
      fc.property(start2025, fc.nat(60), fc.nat(10), (startAt, n, k) => {
        const d = computeDeadline(calendar, { limit: { workingDays: n }, startAt, warnBefore: { workingDays: k } })
        expect(parseInstant(d.warnAt)).toBeGreaterThanOrEqual(parseInstant(startAt))
        expect(parseInstant(d.warnAt)).toBeLessThanOrEqual(parseInstant(d.dueAt))
      }),
    )
  })

  it('is provisional exactly when a day from start to due lies in an unpublished year', () => {
    const publishedFlags = fc.array(fc.boolean(), { minLength: 12, maxLength: 12 })
    // Half the cases start in the last days of a year so that year boundaries are hit exactly.
    const nearYearEnd = fc
      .record({ year: fc.integer({ min: 2020, max: 2030 }), daysBefore: fc.nat(8), minute: fc.nat(24 * 60 - 1) })
      .map(({ year, daysBefore, minute }) => formatInstant(endOfDayMs(dayOfDate(`${year}-12-31`) - daysBefore) - (minute + 1) * 60_000))
    const startAt = fc.oneof(instant('2020-01-01T00:00:00+08:00', '2030-12-31T23:59:59+08:00'), nearYearEnd)
    const n = fc.oneof(fc.nat(10), fc.nat(400))
    fc.assert(
      fc.property(publishedFlags, startAt, n, (flags, startAt, n) => {
        const custom: CalendarYear[] = flags.map((published, i) => ({ year: 2020 + i, published, days: [] }))
        const cal = WorkingCalendar.from({ version: 1, years: custom })
        const d = computeDeadline(cal, { limit: { workingDays: n }, startAt })
        const firstYear = yearOfDay(dayOfMs(parseInstant(startAt)))
        const lastYear = yearOfDay(dayOfDate(d.dueDate))
        let touched = false
        for (let y = firstYear; y <= lastYear; y++) touched ||= !(flags[y - 2020] ?? false)
        expect(d.provisional).toBe(touched)
      }),
    )
  })
})
