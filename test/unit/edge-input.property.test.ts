import fc from 'fast-check'
import { Compile } from 'typebox/compile'
import { describe, expect, it } from 'vitest'
import { clientErrorProblem } from '../../src/api/client-errors.ts'
import { nestsDeeperThan } from '../../src/api/json-body.ts'
import { Instant } from '../../src/api/schemas/common.ts'
import { isSafeText, unsafeTextPath } from '../../src/domain/safe-text.ts'
import { runs } from '../support/property-runs.ts'

/** Text is safe exactly when it has no NUL and survives UTF-8 unchanged (a lone surrogate does not). */
const survivesUtf8 = (text: string) => !text.includes('\u0000') && Buffer.from(text, 'utf8').toString('utf8') === text

describe('safe text', () => {
  it('is text without U+0000 that UTF-8 carries unchanged', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => {
      expect(isSafeText(text)).toBe(survivesUtf8(text))
    }), runs(5_000))
    fc.assert(fc.property(fc.array(fc.constantFrom('a', '\u0000', '\ud800', '\udc00', '😀', '\ud83d', '\ude00')), (parts) => {
      const text = parts.join('')
      expect(isSafeText(text)).toBe(survivesUtf8(text))
    }), runs(20_000))
  })

  it('is found, by JSON pointer, in strings and property names at any depth', () => {
    expect(unsafeTextPath({ a: ['ok', { 'b/c~d': 'x\u0000' }] })).toBe('/a/1/b~1c~0d')
    expect(unsafeTextPath({ a: { 'k\ud800': 1 } })).toBe('/a/k\ud800')
    expect(unsafeTextPath('\udfff')).toBe('')
    expect(unsafeTextPath({ a: [1, true, null, '😀', { b: 'ok' }] })).toBeUndefined()
    let deep: unknown = 'bad\u0000'
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(unsafeTextPath(deep)).toBe('/0'.repeat(100_000))
  })
})

describe('JSON nesting', () => {
  it('counts arrays and objects, never brackets inside strings', () => {
    expect(nestsDeeperThan('[[1]]', 2)).toBe(false)
    expect(nestsDeeperThan('[[[1]]]', 2)).toBe(true)
    expect(nestsDeeperThan('{"a":{"b":[]}}', 3)).toBe(false)
    expect(nestsDeeperThan('{"a":{"b":[{}]}}', 3)).toBe(true)
    expect(nestsDeeperThan(JSON.stringify({ a: '[[[[{{{{"\\' }), 1)).toBe(false)
    expect(nestsDeeperThan('[[],[],[],[]]', 2)).toBe(false)
  })

  it('agrees with the depth of any parsed JSON value', () => {
    const depth = (value: unknown): number =>
      typeof value === 'object' && value !== null ? 1 + Math.max(0, ...Object.values(value).map(depth)) : 0
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 9 }), (value, limit) => {
      expect(nestsDeeperThan(JSON.stringify(value), limit)).toBe(depth(value) > limit)
    }), runs(5_000))
  })
})

describe('Instant', () => {
  const check = Compile(Instant)

  it('holds what Postgres and Date hold: no leap second, no impossible day, years 1900–9999', () => {
    for (const good of ['2026-12-02T23:59:59Z', '2024-02-29T00:00:00Z', '1900-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z',
      '2026-12-02T10:00:00+08:00', '2026-12-02T10:00:00.5-03:30', '9999-12-31T23:59:59+01:00']) {
      expect(check.Check(good), good).toBe(true)
    }
    for (const bad of ['2026-12-02T23:59:60Z', '0000-01-01T00:00:00Z', '1899-12-31T23:59:59Z', '2026-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z', '2026-12-02T24:00:00Z', '2026-12-02T10:00Z', '2026-12-02T10:00:00', '2026-12-02 10:00:00Z',
      '9999-12-31T23:00:00-05:00', '+012026-12-02T10:00:00Z', '2026-12-02T10:00:00+24:00', '2026-12-02t10:00:00z']) {
      expect(check.Check(bad), bad).toBe(false)
    }
  })

  it('is always an instant Date reads, within years 1899–9999 in UTC', () => {
    const min = Date.UTC(1899, 11, 31)
    const max = Date.UTC(10000, 0, 1)
    fc.assert(fc.property(fc.date({ min: new Date(min), max: new Date(max - 1), noInvalidDate: true }),
      fc.integer({ min: -14 * 60, max: 14 * 60 }), (date, offsetMinutes) => {
        const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19)
        const sign = offsetMinutes < 0 ? '-' : '+'
        const abs = Math.abs(offsetMinutes)
        const iso = `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
        if (!check.Check(iso)) return
        const ms = Date.parse(iso)
        expect(ms).toBeGreaterThanOrEqual(min)
        expect(ms).toBeLessThan(max)
      }), runs(20_000))
  })
})

describe("what Node's HTTP parser refuses", () => {
  it('gets a contract code and status for each kind of refusal', () => {
    const answer = (code: string) => {
      const { status, code: problemCode } = clientErrorProblem(Object.assign(new Error(code), { code }))
      return [status, problemCode]
    }
    expect(answer('HPE_HEADER_OVERFLOW')).toEqual([431, 'headers_too_large'])
    expect(answer('ERR_HTTP_REQUEST_TIMEOUT')).toEqual([408, 'request_timeout'])
    expect(answer('HPE_INVALID_METHOD')).toEqual([400, 'validation_failed'])
  })
})
