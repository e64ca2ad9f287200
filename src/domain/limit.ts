// A time limit is either a number of working days (Art. 82: all statutory limits) or a fixed
// calendar duration (urgent matters, hotline hours). Pure: imported by workflow code.

export type Limit = { workingDays: number } | { duration: string }

export type LimitErrorCode = 'INVALID_LIMIT' | 'INVALID_DURATION' | 'UNSUPPORTED_DURATION'

export class LimitError extends Error {
  readonly code: LimitErrorCode
  constructor(code: LimitErrorCode, message: string) {
    super(message)
    this.name = 'LimitError'
    this.code = code
  }
}

const MS = { W: 7 * 86_400_000, D: 86_400_000, H: 3_600_000, M: 60_000, S: 1_000 } as const

// Years and months are matched only to be rejected with a precise message.
const DURATION =
  /^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/

/**
 * Milliseconds of an ISO 8601 duration such as `PT2H`, `P3D`, `P1DT12H`, `PT0.5S`.
 * `P1D` is exactly 24 hours of calendar time, `P1W` 7 days. Years and months have no fixed
 * length and are rejected; only the last component may carry a fraction (ISO 8601).
 */
export function parseDurationMs(iso: string): number {
  if (typeof iso !== 'string') throw new LimitError('INVALID_DURATION', 'duration must be an ISO 8601 string such as "PT2H"')
  const m = DURATION.exec(iso)
  if (m === null || iso === 'P' || iso.endsWith('T')) {
    throw new LimitError('INVALID_DURATION', `"${iso}" is not an ISO 8601 duration such as "PT2H", "P3D" or "P1DT12H"`)
  }
  const [, years, months, weeks, days, hours, minutes, seconds] = m
  if (years !== undefined || months !== undefined) {
    throw new LimitError(
      'UNSUPPORTED_DURATION',
      `"${iso}": years and months have no fixed length; use days (P30D) or a working-day limit`,
    )
  }
  const parts: Array<[string | undefined, number]> = [
    [weeks, MS.W], [days, MS.D], [hours, MS.H], [minutes, MS.M], [seconds, MS.S],
  ]
  const present = parts.filter((p): p is [string, number] => p[0] !== undefined)
  let total = 0
  present.forEach(([text, unit], i) => {
    const fractional = /[.,]/.test(text)
    if (fractional && i !== present.length - 1) {
      throw new LimitError('INVALID_DURATION', `"${iso}": only the last component may have a fraction`)
    }
    total += Number(text.replace(',', '.')) * unit
  })
  const ms = Math.round(total)
  if (!Number.isSafeInteger(ms)) throw new LimitError('INVALID_DURATION', `"${iso}" is too long`)
  return ms
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
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new LimitError('INVALID_LIMIT', `workingDays must be a non-negative integer, got ${String(n)}`)
    }
    return { workingDays: n }
  }
  const duration = (limit as { duration: unknown }).duration
  parseDurationMs(duration as string)
  return { duration: duration as string }
}
