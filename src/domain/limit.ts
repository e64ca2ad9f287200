// A time limit is either a number of working days (Art. 82: all statutory limits) or a fixed
// calendar duration (urgent matters, hotline hours). Pure: imported by workflow code.
import { Refusal } from './refusal.ts'

export type Limit = { workingDays: number } | { duration: string }

export type LimitErrorCode = 'INVALID_LIMIT' | 'INVALID_DURATION' | 'UNSUPPORTED_DURATION'

/** A limit that cannot be used: a refusal of the input (400), with the precise reason. */
export class LimitError extends Refusal {
  readonly reason: LimitErrorCode
  constructor(reason: LimitErrorCode, message: string) {
    super('validation_failed', message)
    this.name = 'LimitError'
    this.reason = reason
  }
}

const MS = { W: 7 * 86_400_000, D: 86_400_000, H: 3_600_000, M: 60_000, S: 1_000 } as const

/**
 * The longest limit, in working days or in calendar days: ten years. Longer would run past the
 * working-day calendar's range (to 2200) and fail where the deadline is computed, in a case.
 */
export const MAX_LIMIT_DAYS = 3650

/** One component: digits, with a fraction only when it is the last component (ISO 8601). */
const component = (designator: keyof typeof MS) => `(?:(\\d+(?:[.,]\\d+(?=${designator}$))?)${designator})?`

/**
 * Exactly the durations parseDurationMs reads, as a JSON Schema pattern: the wire schema
 * (limit-schema.ts) publishes this one, so the edge and the parser cannot disagree on the grammar.
 */
export const DURATION_PATTERN =
  `^P(?!$)${component('W')}${component('D')}(?:T(?=\\d)${component('H')}${component('M')}${component('S')})?$`
const DURATION = new RegExp(DURATION_PATTERN)

// Only to say precisely why a duration is refused: years, months, or a fraction before the end.
const LOOSE =
  /^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?(?:T(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?$/

/**
 * Milliseconds of an ISO 8601 duration such as `PT2H`, `P3D`, `P1DT12H`, `PT0.5S`.
 * `P1D` is exactly 24 hours of calendar time, `P1W` 7 days. Years and months have no fixed
 * length and are rejected; only the last component may carry a fraction (ISO 8601).
 */
export function parseDurationMs(iso: string): number {
  if (typeof iso !== 'string') throw new LimitError('INVALID_DURATION', 'duration must be an ISO 8601 string such as "PT2H"')
  const m = DURATION.exec(iso)
  if (m === null) throw durationRefusal(iso)
  const units = [MS.W, MS.D, MS.H, MS.M, MS.S]
  let total = 0
  m.slice(1).forEach((text, i) => {
    if (text !== undefined) total += Number(text.replace(',', '.')) * units[i]!
  })
  const ms = Math.round(total)
  if (!(ms <= MAX_LIMIT_DAYS * MS.D)) throw new LimitError('INVALID_DURATION', `"${iso}" is longer than ${MAX_LIMIT_DAYS} days`)
  return ms
}

/** Why a string that does not match DURATION_PATTERN is not a duration. */
function durationRefusal(iso: string): LimitError {
  const loose = LOOSE.exec(iso)
  if (loose !== null && iso !== 'P' && !iso.endsWith('T')) {
    if (loose[1] !== undefined || loose[2] !== undefined) {
      return new LimitError('UNSUPPORTED_DURATION',
        `"${iso}": years and months have no fixed length; use days (P30D) or a working-day limit`)
    }
    return new LimitError('INVALID_DURATION', `"${iso}": only the last component may have a fraction`)
  }
  return new LimitError('INVALID_DURATION', `"${iso}" is not an ISO 8601 duration such as "PT2H", "P3D" or "P1DT12H"`)
}

export function isWorkingDays(limit: Limit): limit is { workingDays: number } {
  return 'workingDays' in limit
}

/** Checks an untrusted value (workflow input, API body) and returns it as a Limit. */
export function validateLimit(limit: unknown): Limit {
  if (typeof limit !== 'object' || limit === null) {
    throw new LimitError('INVALID_LIMIT', 'a limit is { workingDays: n } or { duration: "PT2H" }')
  }
  const hasDays = 'workingDays' in limit
  const hasDuration = 'duration' in limit
  if (hasDays === hasDuration) {
    throw new LimitError('INVALID_LIMIT', 'a limit has exactly one of workingDays or duration')
  }
  if (hasDays) {
    const n = (limit as { workingDays: unknown }).workingDays
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_LIMIT_DAYS) {
      throw new LimitError('INVALID_LIMIT', `workingDays must be an integer from 0 to ${MAX_LIMIT_DAYS}, got ${typeof n === 'number' ? n : typeof n}`)
    }
    return { workingDays: n }
  }
  const duration = (limit as { duration: unknown }).duration
  parseDurationMs(duration as string)
  return { duration: duration as string }
}
