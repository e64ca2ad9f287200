import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CalendarError, DAY_MS, dateOfDay, formatInstant, parseInstant } from '../../src/domain/calendar.ts'
import { runs } from '../support/property-runs.ts'

// formatInstant, parseInstant and dateOfDay compute dates by arithmetic rather than through Date;
// these properties hold them to exactly what Date does, including where Date is lenient.
const YEAR_1000 = Date.UTC(1000, 0, 1)
const YEAR_10000 = Date.UTC(10000, 0, 1)
const RUNS = runs(20_000)

/** What parseInstant did before the arithmetic path: Date.parse behind the same shape check. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/
const reference = (iso: string) => (INSTANT.test(iso) ? Date.parse(iso) : Number.NaN)

const outcome = (iso: string) => {
  try {
    return parseInstant(iso)
  } catch (err) {
    expect(err).toBeInstanceOf(CalendarError)
    return Number.NaN
  }
}

describe('instants by arithmetic', () => {
  it('formats every millisecond of years 1000–9999 as toISOString does', () => {
    fc.assert(fc.property(fc.integer({ min: YEAR_1000 - DAY_MS, max: YEAR_10000 + DAY_MS }), (ms) => {
      expect(formatInstant(ms)).toBe(new Date(ms).toISOString())
    }), RUNS)
  })

  it('formats the edges: epoch, leap days, century years, the last millisecond of 9999', () => {
    for (const ms of [0, -1, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(1900, 2, 1), Date.UTC(2100, 1, 28, 16),
      Date.UTC(2024, 11, 31, 15, 59, 59, 999), YEAR_1000, YEAR_10000 - 1, YEAR_10000, YEAR_1000 - 1]) {
      expect(formatInstant(ms)).toBe(new Date(ms).toISOString())
    }
  })

  it('reads back what it writes, and dates days as Date does', () => {
    fc.assert(fc.property(fc.integer({ min: YEAR_1000, max: YEAR_10000 - 1 }), (ms) => {
      expect(parseInstant(formatInstant(ms))).toBe(ms)
      const day = Math.floor(ms / DAY_MS)
      expect(dateOfDay(day)).toBe(new Date(day * DAY_MS).toISOString().slice(0, 10))
    }), RUNS)
  })

  it('parses any canonical-looking string exactly as Date.parse did, impossible dates and times included', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'))
    const canonical = fc.tuple(fc.integer({ min: 0, max: 9999 }), two(13), two(32), two(25), two(61), two(61), fc.integer({ min: 0, max: 999 }))
      .map(([y, mo, d, h, mi, s, ms]) => `${String(y).padStart(4, '0')}-${mo}-${d}T${h}:${mi}:${s}.${String(ms).padStart(3, '0')}Z`)
    fc.assert(fc.property(canonical, (iso) => {
      expect(outcome(iso)).toBe(reference(iso))
    }), RUNS)
    for (const iso of ['2027-02-29T00:00:00.000Z', '2024-02-29T00:00:00.000Z', '2026-04-31T08:00:00.000Z', '2026-01-01T24:00:00.000Z',
      '2026-01-01T10:00:00.000+08:00', '2026-01-01T10:00Z', '2026-01-01 10:00:00.000Z', '2026-01-01T10:00:00.000z', '２026-01-01T10:00:00.000Z']) {
      expect(outcome(iso), iso).toBe(reference(iso))
    }
  })
})
