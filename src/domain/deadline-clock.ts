// The deadline clock: the one place working days are counted (rules 8–15; Arts. 42, 45, 82;
// Civil Code Art. 201). Pure and deterministic: workflows pass `now` in (workflow time).
//
// Working-day limit n from a start instant: the start's local day is not counted; the deadline
// is 24:00 Asia/Shanghai at the end of the n-th working day after it (n = 0: the end of the
// start's own day). Duration limits are plain calendar time.
import type { WorkingCalendar } from './calendar.ts'
import { dateOfDay, dayOfMs, endOfDayMs, formatInstant, parseInstant, startOfDayMs } from './calendar.ts'
import type { Limit } from './limit.ts'
import { isWorkingDays, parseDurationMs, validateLimit } from './limit.ts'

/** A suspension (特别程序, Art. 45). No `to`: still suspended. */
export interface Pause {
  from: string;
  to?: string;
}

export interface DeadlineSpec {
  limit: Limit;
  startAt: string;
  pauses?: Pause[];
  /** The one approved extension (延期), in working days. */
  extensionWorkingDays?: number;
  /** Default: 1 working day for working-day limits, 20% of the duration for duration limits. */
  warnBefore?: Limit;
}

export type ClockState = 'running' | 'warning' | 'overdue' | 'paused'

export interface ComputedDeadline {
  /** The instant the limit expires (for working-day limits 24:00 local = 16:00Z). */
  dueAt: string;
  /** Local date of the last day of the limit (the day that ends at dueAt). */
  dueDate: string;
  /** When the yellow warning starts; never before startAt. */
  warnAt: string;
  /** Some day from the start date to dueDate lies in an unpublished calendar year (rule 15). */
  provisional: boolean;
  /** A pause is open: the clock stands still and dueAt assumes it resumes at `now`. */
  paused: boolean;
  /** The fields below are present only when `now` is given. */
  state?: ClockState;
  /** Working days after now's local date up to dueDate; 0 on the due day and when overdue. */
  workingDaysLeft?: number;
  /** Working days after the start date up to and including now's date, less paused ones. */
  workingDaysUsed?: number;
}

export type DeadlineErrorCode = 'INVALID_PAUSE' | 'INVALID_EXTENSION'

export class DeadlineError extends Error {
  readonly code: DeadlineErrorCode
  constructor(code: DeadlineErrorCode, message: string) {
    super(message)
    this.name = 'DeadlineError'
    this.code = code
  }
}

/**
 * Fast path in epoch milliseconds: the end of the n-th working day after startMs's local day.
 * No validation beyond the calendar's range check.
 */
export function workingDueAtMs(calendar: WorkingCalendar, startMs: number, workingDays: number): number {
  return endOfDayMs(calendar.addWorkingDays(dayOfMs(startMs), workingDays))
}

/** A plain working-day deadline from an instant (acceptance notices, supervision orders). */
export function addWorkingDays(
  calendar: WorkingCalendar,
  fromInstant: string,
  n: number,
): { dueAt: string; dueDate: string; provisional: boolean } {
  const { workingDays } = validateLimit({ workingDays: n }) as { workingDays: number }
  const startDay = dayOfMs(parseInstant(fromInstant))
  const dueDay = calendar.addWorkingDays(startDay, workingDays)
  return {
    dueAt: formatInstant(endOfDayMs(dueDay)),
    dueDate: dateOfDay(dueDay),
    provisional: calendar.touchesUnpublished(startDay, dueDay),
  }
}

/**
 * Computes a deadline.
 * - Pauses on working-day limits consume whole working days: those with local date d where
 *   localDate(from) <= d < localDate(to) and d is after the start date (the start day is never
 *   counted, so it cannot be paused either). Overlapping pauses count once. The due date moves by
 *   exactly that many working days.
 * - Pauses on duration limits add the paused calendar time after startAt (overlaps once).
 * - An open pause runs until `now`; without `now` it counts as zero so far (dueAt is then the
 *   earliest possible). While a pause is open, state is 'paused'.
 * - Extension on a duration limit moves the due instant's local day forward that many working
 *   days, keeping the time of day (a due at Friday 18:30 extended by 1 is Monday 18:30).
 * - warnBefore in working days k: the same time of day k working days before the due day (for
 *   working-day limits: the end of the k-th working day before the due working day).
 */
export function computeDeadline(calendar: WorkingCalendar, spec: DeadlineSpec, now?: string): ComputedDeadline {
  const limit = validateLimit(spec.limit)
  const startMs = parseInstant(spec.startAt)
  const nowMs = now === undefined ? undefined : parseInstant(now)
  const extension = spec.extensionWorkingDays ?? 0
  if (!Number.isSafeInteger(extension) || extension < 0) {
    throw new DeadlineError('INVALID_EXTENSION', `extensionWorkingDays must be a non-negative integer, got ${String(extension)}`)
  }
  const pauses = toIntervals(spec.pauses ?? [], nowMs)
  const paused = pauses.some((p) => p.open)
  const startDay = dayOfMs(startMs)

  let dueMs: number
  let dueDay: number
  if (isWorkingDays(limit)) {
    const pausedDays = pausedWorkingDays(calendar, startDay, pauses, Infinity)
    dueDay = calendar.addWorkingDays(startDay, limit.workingDays + extension + pausedDays)
    dueMs = endOfDayMs(dueDay)
  } else {
    const plainDueMs = startMs + parseDurationMs(limit.duration) + pausedMs(startMs, pauses)
    const plainDay = lastDayOf(plainDueMs, startDay)
    dueDay = calendar.addWorkingDays(plainDay, extension)
    dueMs = startOfDayMs(dueDay) + (plainDueMs - startOfDayMs(plainDay))
  }
  const provisional = calendar.touchesUnpublished(startDay, dueDay)
  const warnMs = Math.max(startMs, warnAtMs(calendar, limit, spec.warnBefore, dueMs, dueDay))

  const result: ComputedDeadline = {
    dueAt: formatInstant(dueMs),
    dueDate: dateOfDay(dueDay),
    warnAt: formatInstant(warnMs),
    provisional,
    paused,
  }
  if (nowMs !== undefined) {
    const nowDay = dayOfMs(nowMs)
    result.state = paused ? 'paused' : nowMs >= dueMs ? 'overdue' : nowMs >= warnMs ? 'warning' : 'running'
    result.workingDaysLeft = nowMs >= dueMs ? 0 : Math.max(0, calendar.workingDaysBetween(nowDay + 1, dueDay + 1))
    const elapsed = nowDay > startDay ? calendar.workingDaysBetween(startDay + 1, nowDay + 1) : 0
    result.workingDaysUsed = Math.max(0, elapsed - pausedWorkingDays(calendar, startDay, pauses, nowDay + 1))
  }
  return result
}

interface Interval {
  fromMs: number;
  toMs: number;
  open: boolean;
}

function toIntervals(pauses: Pause[], nowMs: number | undefined): Interval[] {
  return pauses.map((p) => {
    const fromMs = parseInstant(p.from)
    if (p.to === undefined) return { fromMs, toMs: Math.max(fromMs, nowMs ?? fromMs), open: true }
    const toMs = parseInstant(p.to)
    if (toMs < fromMs) throw new DeadlineError('INVALID_PAUSE', `pause ends (${p.to}) before it starts (${p.from})`)
    return { fromMs, toMs, open: false }
  })
}

/** Length of the union of half-open ranges, each clipped to [min, max). */
function unionLength(ranges: Array<[number, number]>, min: number, max: number, measure: (a: number, b: number) => number): number {
  const clipped = ranges
    .map(([a, b]): [number, number] => [Math.max(a, min), Math.min(b, max)])
    .filter(([a, b]) => a < b)
    .sort((x, y) => x[0] - y[0])
  let total = 0
  let curFrom = 0
  let curTo = -Infinity
  for (const [a, b] of clipped) {
    if (a > curTo) {
      if (curTo > -Infinity) total += measure(curFrom, curTo)
      curFrom = a
      curTo = b
    } else if (b > curTo) {
      curTo = b
    }
  }
  if (curTo > -Infinity) total += measure(curFrom, curTo)
  return total
}

/** Working days paused after the start day and before `untilDay` (exclusive). */
function pausedWorkingDays(calendar: WorkingCalendar, startDay: number, pauses: Interval[], untilDay: number): number {
  const days = pauses.map((p): [number, number] => [dayOfMs(p.fromMs), dayOfMs(p.toMs)])
  return unionLength(days, startDay + 1, untilDay, (a, b) => calendar.workingDaysBetween(a, b))
}

function pausedMs(startMs: number, pauses: Interval[]): number {
  return unionLength(pauses.map((p): [number, number] => [p.fromMs, p.toMs]), startMs, Infinity, (a, b) => b - a)
}

/** The local day whose end-of-day or earlier time is `ms` (24:00 belongs to the day it ends). */
function lastDayOf(ms: number, startDay: number): number {
  return Math.max(startDay, dayOfMs(ms - 1))
}

function warnAtMs(calendar: WorkingCalendar, limit: Limit, warnBefore: Limit | undefined, dueMs: number, dueDay: number): number {
  if (warnBefore === undefined) {
    return isWorkingDays(limit)
      ? shiftKeepingTime(calendar, dueMs, dueDay, -1)
      : dueMs - Math.round(parseDurationMs(limit.duration) / 5)
  }
  const before = validateLimit(warnBefore)
  return isWorkingDays(before)
    ? shiftKeepingTime(calendar, dueMs, dueDay, -before.workingDays)
    : dueMs - parseDurationMs(before.duration)
}

function shiftKeepingTime(calendar: WorkingCalendar, ms: number, day: number, n: number): number {
  const timeOfDay = ms - startOfDayMs(day)
  return startOfDayMs(calendar.addWorkingDays(day, n)) + timeOfDay
}
