// The working-day calendar (Art. 82; rule 8 and 15). Pure: imported by workflow code, so no I/O,
// no clock, no imports. Days are integers ("day numbers"): days since 1970-01-01 in Asia/Shanghai,
// which is UTC+8 all year (no DST since 1991).

/** An exception to Monday–Friday: a weekday holiday (working:false) or a make-up 调休 day (working:true). */
export interface CalendarDay {
  date: string;
  working: boolean;
  name?: string;
}

/** A year as published by the State Council; unpublished years make deadlines provisional. */
export interface CalendarYear {
  year: number;
  published: boolean;
  days: CalendarDay[];
}

/** Plain serializable calendar: passed to workflows as input or signal payload. */
export interface CalendarData {
  version: number;
  years: CalendarYear[];
}

export type CalendarErrorCode = 'INVALID_DATE' | 'INVALID_CALENDAR' | 'OUT_OF_RANGE'

export class CalendarError extends Error {
  readonly code: CalendarErrorCode
  constructor(code: CalendarErrorCode, message: string) {
    super(message)
    this.name = 'CalendarError'
    this.code = code
  }
}

export const DAY_MS = 86_400_000
/** Asia/Shanghai offset from UTC. */
export const SHANGHAI_OFFSET_MS = 8 * 3_600_000

/** Local (Asia/Shanghai) day number of an instant. */
export function dayOfMs(ms: number): number {
  return Math.floor((ms + SHANGHAI_OFFSET_MS) / DAY_MS)
}

/** The instant 00:00 Asia/Shanghai starting a day. */
export function startOfDayMs(day: number): number {
  return day * DAY_MS - SHANGHAI_OFFSET_MS
}

/** The instant 24:00 Asia/Shanghai ending a day (= 16:00 UTC that day). */
export function endOfDayMs(day: number): number {
  return (day + 1) * DAY_MS - SHANGHAI_OFFSET_MS
}

/** 0 = Sunday … 6 = Saturday. Day 0 (1970-01-01) was a Thursday. */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** Day number of a local `YYYY-MM-DD` date. */
export function dayOfDate(date: string): number {
  const m = DATE.exec(date)
  if (m === null) throw new CalendarError('INVALID_DATE', `"${date}" is not a YYYY-MM-DD date`)
  const y = Number(m[1])
  const mo = Number(m[2])
  const d = Number(m[3])
  const ms = Date.UTC(y, mo - 1, d)
  const back = new Date(ms)
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    throw new CalendarError('INVALID_DATE', `"${date}" is not a calendar date`)
  }
  return ms / DAY_MS
}

// Day numbers and civil dates convert by arithmetic (the days-from-civil / civil-from-days method
// of proleptic Gregorian eras of 146,097 days): formatting and parsing deadlines is most of what the
// clock costs, and Date does it several times slower. Results equal Date's (property-tested).
const DAYS_BEFORE_1970 = 719_468
const ERA_DAYS = 146_097

/** Day number of a proleptic Gregorian date; month 1–12. */
function dayOfCivil(year: number, month: number, dayOfMonth: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + dayOfMonth - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * ERA_DAYS + dayOfEra - DAYS_BEFORE_1970
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`)
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`)

/** `YYYY-MM-DD` of a day number, for years 1000–9999 (the caller checks). */
function civilDate(day: number): string {
  const z = day + DAYS_BEFORE_1970
  const era = Math.floor(z / ERA_DAYS)
  const dayOfEra = z - era * ERA_DAYS
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365)
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const shifted = Math.floor((5 * dayOfYear + 2) / 153)
  const dayOfMonth = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1
  const month = shifted < 10 ? shifted + 3 : shifted - 9
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  return `${year}-${pad2(month)}-${pad2(dayOfMonth)}`
}

/** Day numbers whose dates have four-digit years, where the arithmetic formats are exact. */
const FIRST_FAST_DAY = dayOfCivil(1000, 1, 1)
const LAST_FAST_DAY = dayOfCivil(9999, 12, 31)

/** Local `YYYY-MM-DD` date of a day number. */
export function dateOfDay(day: number): string {
  if (Number.isInteger(day) && day >= FIRST_FAST_DAY && day <= LAST_FAST_DAY) return civilDate(day)
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

export function yearOfDay(day: number): number {
  return new Date(day * DAY_MS).getUTCFullYear()
}

// An explicit offset is required: without one, Date.parse would use the host's zone.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/

const ZERO = 48

/** Value of `length` decimal digits at `at`, or -1 when any is not a digit. */
function digitsAt(text: string, at: number, length: number): number {
  let value = 0
  for (let i = at; i < at + length; i++) {
    const digit = text.charCodeAt(i) - ZERO
    if (digit < 0 || digit > 9) return -1
    value = value * 10 + digit
  }
  return value
}

/**
 * Epoch milliseconds of the canonical UTC form `YYYY-MM-DDTHH:mm:ss.sssZ` (what toISOString and
 * this module write), or NaN for anything else, which then takes the general path.
 */
function parseCanonicalInstant(iso: string): number {
  if (iso.length !== 24 || iso.charCodeAt(23) !== 90 /* Z */ || iso[4] !== '-' || iso[7] !== '-' || iso[10] !== 'T'
    || iso[13] !== ':' || iso[16] !== ':' || iso[19] !== '.') return Number.NaN
  const year = digitsAt(iso, 0, 4)
  const month = digitsAt(iso, 5, 2)
  const dayOfMonth = digitsAt(iso, 8, 2)
  const hour = digitsAt(iso, 11, 2)
  const minute = digitsAt(iso, 14, 2)
  const second = digitsAt(iso, 17, 2)
  const milli = digitsAt(iso, 20, 3)
  if (year < 1000 || month < 1 || month > 12 || dayOfMonth < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59
    || second < 0 || second > 59 || milli < 0) return Number.NaN
  const day = dayOfCivil(year, month, dayOfMonth)
  if (dayOfMonth > 28 && civilDate(day) !== iso.slice(0, 10)) return Number.NaN // 31 April, 29 February 2027, …
  return day * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli
}

/** Epoch milliseconds of an ISO 8601 instant with `Z` or an explicit offset. */
export function parseInstant(iso: string): number {
  if (typeof iso === 'string') {
    const canonical = parseCanonicalInstant(iso)
    if (!Number.isNaN(canonical)) return canonical
  }
  const ms = typeof iso === 'string' && INSTANT.test(iso) ? Date.parse(iso) : Number.NaN
  if (Number.isNaN(ms)) {
    throw new CalendarError('INVALID_DATE', `"${String(iso)}" is not an ISO 8601 instant with an offset, e.g. 2026-02-13T10:00:00+08:00`)
  }
  return ms
}

/** The canonical UTC form `YYYY-MM-DDTHH:mm:ss.sssZ`, as toISOString writes it. */
export function formatInstant(ms: number): string {
  const day = Math.floor(ms / DAY_MS)
  if (!Number.isInteger(ms) || day < FIRST_FAST_DAY || day > LAST_FAST_DAY) return new Date(ms).toISOString()
  let rest = ms - day * DAY_MS
  const hour = Math.floor(rest / 3_600_000)
  rest -= hour * 3_600_000
  const minute = Math.floor(rest / 60_000)
  rest -= minute * 60_000
  const second = Math.floor(rest / 1000)
  return `${civilDate(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}.${pad3(rest - second * 1000)}Z`
}

/** Years the index covers; years outside are rejected rather than guessed. */
export const INDEX_FIRST_YEAR = 1990
export const INDEX_LAST_YEAR = 2200
// Data may widen the index a little, not without bound (memory grows with the range).
const MIN_DATA_YEAR = 1900
const MAX_DATA_YEAR = 2399

/** Indexes built by `WorkingCalendar.from`, by their data (JSON), the oldest forgotten first. */
const BUILT = new Map<string, WorkingCalendar>()
const BUILT_KEPT = 16

/**
 * An immutable index over a CalendarData: one flag per day, prefix sums of working days and the
 * list of working day numbers, so counting and "the n-th working day after d" are O(1).
 * Build once per calendar version (well under a few ms) and reuse.
 * Years absent from the data follow Monday–Friday and are unpublished.
 */
export class WorkingCalendar {
  readonly version: number
  /** First and last day numbers covered. */
  readonly firstDay: number
  readonly lastDay: number
  private readonly firstYear: number
  private readonly working: Uint8Array
  /** countBefore[i] = working days in [firstDay, firstDay + i). Length = days + 1. */
  private readonly countBefore: Int32Array
  /** workingDays[k] = day number of the (k+1)-th working day from firstDay. */
  private readonly workingDayList: Int32Array
  private readonly published: Uint8Array
  /** yearStart[y - firstYear] = first day of year y (one extra entry closes the last year). */
  private readonly yearStart: Int32Array
  /** unpublishedBefore[y - firstYear] = unpublished years in [firstYear, y). */
  private readonly unpublishedBefore: Int32Array

  private constructor(data: CalendarData) {
    if (typeof data !== 'object' || data === null || !Array.isArray(data.years)) {
      throw new CalendarError('INVALID_CALENDAR', 'calendar data must be { version, years: [] }')
    }
    if (!Number.isSafeInteger(data.version)) {
      throw new CalendarError('INVALID_CALENDAR', `calendar version must be an integer, got ${String(data.version)}`)
    }
    this.version = data.version
    let firstYear = INDEX_FIRST_YEAR
    let lastYear = INDEX_LAST_YEAR
    for (const y of data.years) {
      if (!Number.isSafeInteger(y.year) || y.year < MIN_DATA_YEAR || y.year > MAX_DATA_YEAR) {
        throw new CalendarError(
          'INVALID_CALENDAR',
          `calendar year ${String(y.year)} is outside ${MIN_DATA_YEAR}–${MAX_DATA_YEAR}`,
        )
      }
      firstYear = Math.min(firstYear, y.year)
      lastYear = Math.max(lastYear, y.year)
    }
    this.firstYear = firstYear
    this.firstDay = Date.UTC(firstYear, 0, 1) / DAY_MS
    this.lastDay = Date.UTC(lastYear, 11, 31) / DAY_MS
    const size = this.lastDay - this.firstDay + 1

    // Monday–Friday: write one week, then double it with native copies (cheap even when cold).
    const working = new Uint8Array(size)
    for (let i = 0; i < 7 && i < size; i++) {
      const wd = weekdayOf(this.firstDay + i)
      working[i] = wd === 0 || wd === 6 ? 0 : 1
    }
    for (let filled = 7; filled < size; filled *= 2) working.copyWithin(filled, 0, Math.min(filled, size - filled))
    const published = new Uint8Array(lastYear - firstYear + 1)
    const seenYears = new Set<number>()
    for (const y of data.years) {
      if (seenYears.has(y.year)) throw new CalendarError('INVALID_CALENDAR', `calendar year ${y.year} appears twice`)
      seenYears.add(y.year)
      if (typeof y.published !== 'boolean' || !Array.isArray(y.days)) {
        throw new CalendarError('INVALID_CALENDAR', `calendar year ${y.year} needs published: boolean and days: []`)
      }
      published[y.year - firstYear] = y.published ? 1 : 0
      const seenDates = new Set<string>()
      for (const d of y.days) {
        if (typeof d.working !== 'boolean') {
          throw new CalendarError('INVALID_CALENDAR', `${String(d.date)} needs working: boolean`)
        }
        const day = dayOfDate(d.date)
        if (yearOfDay(day) !== y.year) {
          throw new CalendarError('INVALID_CALENDAR', `${d.date} is listed under year ${y.year}`)
        }
        if (seenDates.has(d.date)) throw new CalendarError('INVALID_CALENDAR', `${d.date} appears twice`)
        seenDates.add(d.date)
        working[day - this.firstDay] = d.working ? 1 : 0
      }
    }

    const countBefore = new Int32Array(size + 1)
    const list = new Int32Array(size)
    let total = 0
    for (let i = 0; i < size; i++) {
      countBefore[i] = total
      if (working[i] === 1) list[total++] = this.firstDay + i
    }
    countBefore[size] = total

    const years = lastYear - firstYear + 1
    const yearStart = new Int32Array(years + 1)
    const unpublishedBefore = new Int32Array(years + 1)
    for (let i = 0; i <= years; i++) {
      yearStart[i] = Date.UTC(firstYear + i, 0, 1) / DAY_MS
      if (i > 0) unpublishedBefore[i] = unpublishedBefore[i - 1]! + (published[i - 1] === 1 ? 0 : 1)
    }

    this.working = working
    this.countBefore = countBefore
    this.workingDayList = list.subarray(0, total)
    this.published = published
    this.yearStart = yearStart
    this.unpublishedBefore = unpublishedBefore
  }

  /**
   * The index of `data`. Every case brings its calendar as data and indexes it, and a worker sees
   * the same few windows again and again (its workflows share this module: SHARED_WORKFLOW_MODULES
   * in src/infra/temporal.ts), so an index already built from equal data is given again: it is
   * immutable, and equal data index alike. Keyed by the data itself, since one version number
   * names many windows. Invalid data is never kept: it throws every time.
   */
  static from(data: CalendarData): WorkingCalendar {
    let key: string
    try {
      key = JSON.stringify(data)
    } catch {
      return new WorkingCalendar(data)
    }
    const kept = BUILT.get(key)
    if (kept) return kept
    const built = new WorkingCalendar(data)
    if (BUILT.size >= BUILT_KEPT) BUILT.delete(BUILT.keys().next().value!)
    BUILT.set(key, built)
    return built
  }

  /** Whether a local date (`YYYY-MM-DD` or day number) is a working day. */
  isWorkingDay(date: string | number): boolean {
    const day = typeof date === 'string' ? dayOfDate(date) : date
    return this.working[this.index(day)] === 1
  }

  isPublished(year: number): boolean {
    const i = year - this.firstYear
    return i >= 0 && i < this.published.length && this.published[i] === 1
  }

  /** Whether any day in [fromDay, toDay] lies in an unpublished year. */
  touchesUnpublished(fromDay: number, toDay: number): boolean {
    if (toDay < fromDay) return false
    const to = this.yearIndex(toDay)
    return this.unpublishedBefore[to + 1]! - this.unpublishedBefore[this.yearIndex(fromDay)]! > 0
  }

  /** Working days d with fromDay <= d < toDay (negative when toDay < fromDay). */
  workingDaysBetween(fromDay: number, toDay: number): number {
    return this.countBefore[this.index(toDay, 1)]! - this.countBefore[this.index(fromDay, 1)]!
  }

  /**
   * The n-th working day strictly after `day` (n > 0), strictly before it (n < 0), or `day`
   * itself (n = 0). Composes: addWorkingDays(addWorkingDays(d, n), m) = addWorkingDays(d, n + m)
   * for n, m >= 0.
   */
  addWorkingDays(day: number, n: number): number {
    if (n === 0) return day
    const i = this.index(day)
    const k = n > 0 ? this.countBefore[i + 1]! + n - 1 : this.countBefore[i]! + n
    const result = this.workingDayList[k]
    if (result === undefined) {
      if (!Number.isInteger(n)) throw new CalendarError('OUT_OF_RANGE', `working days must be an integer, got ${n}`)
      throw new CalendarError('OUT_OF_RANGE', `${n} working days from ${dateOfDay(day)} leaves the calendar range`)
    }
    return result
  }

  private yearIndex(day: number): number {
    this.index(day)
    let i = Math.floor((day - this.firstDay) / 365.2425)
    if (this.yearStart[i]! > day) i--
    else if (this.yearStart[i + 1]! <= day) i++
    return i
  }

  private index(day: number, extra = 0): number {
    const i = day - this.firstDay
    if (!(i >= 0 && i < this.working.length + extra) || !Number.isInteger(day)) {
      throw new CalendarError(
        'OUT_OF_RANGE',
        `day ${Number.isFinite(day) ? dateOfDay(day) : String(day)} is outside the calendar range`,
      )
    }
    return i
  }
}
