// Time limits as administrators write them (service items, settings): working days or an ISO 8601
// duration, read the same way by the edge's schema and by the parser the deadline clock uses.
import fc from 'fast-check'
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import { LimitSchema, limitProblem } from '../../src/domain/limit-schema.ts'
import { DEFAULT_LIMIT_SETTINGS, isLimitSettingName, LIMIT_SETTING_NAMES } from '../../src/domain/limit-settings.ts'
import {
  DURATION_PATTERN, isWorkingDays, LimitError, MAX_LIMIT_DAYS, parseDurationMs, validateLimit,
} from '../../src/domain/limit.ts'
import { Refusal } from '../../src/domain/refusal.ts'
import { runs } from '../support/property-runs.ts'

const SECOND = 1_000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** The LimitError a parse throws, or undefined when it parses. */
function refusalOf(read: () => unknown): LimitError | undefined {
  try {
    read()
    return undefined
  } catch (err) {
    if (err instanceof LimitError) return err
    throw err
  }
}

describe('durations', () => {
  it.each([
    ['P2W', 14 * DAY],
    ['P3D', 3 * DAY],
    ['PT4H', 4 * HOUR],
    ['PT5M', 5 * MINUTE],
    ['PT6S', 6 * SECOND],
    ['P1W2DT3H4M5S', 9 * DAY + 3 * HOUR + 4 * MINUTE + 5 * SECOND],
    ['P1DT12H', 36 * HOUR],
    ['PT1H30M', 90 * MINUTE],
    ['PT1.5H', 90 * MINUTE],
    ['PT0,5S', 500],
    ['P1.5D', 36 * HOUR],
    ['P1W2.5D', 9 * DAY + 12 * HOUR],
    ['P0D', 0],
    ['PT0.0004S', 0], // rounded to the millisecond
    ['PT0.0005S', 1],
    ['P3650D', MAX_LIMIT_DAYS * DAY],
    ['P521W3D', MAX_LIMIT_DAYS * DAY],
  ])('%s is %i ms', (iso, ms) => {
    expect(parseDurationMs(iso)).toBe(ms)
  })

  it('refuses years and months, which have no fixed length, and says so', () => {
    for (const iso of ['P1Y', 'P1M', 'P1Y2M', 'P2M3D', 'P1,5Y', 'P1.5M', 'P1YT2H']) {
      const refusal = refusalOf(() => parseDurationMs(iso))
      expect(refusal, iso).toMatchObject({ reason: 'UNSUPPORTED_DURATION', code: 'validation_failed' })
      expect(refusal!.message, iso).toBe(`"${iso}": years and months have no fixed length; use days (P30D) or a working-day limit`)
    }
  })

  it('refuses a fraction anywhere but in the last component, and says so', () => {
    for (const iso of ['P1.5W2D', 'P1.5DT2H', 'PT1.5H2M', 'PT1,5M30S', 'P0.5WT1S']) {
      const refusal = refusalOf(() => parseDurationMs(iso))
      expect(refusal, iso).toMatchObject({ reason: 'INVALID_DURATION' })
      expect(refusal!.message, iso).toBe(`"${iso}": only the last component may have a fraction`)
    }
  })

  it('tells a misplaced fraction from malformed text with many digits, in every component', () => {
    for (const iso of ['P12.5W2D', 'P1.25W2D', 'P1.5DT1.25S', 'P1.5DT1.5S', 'PT12.5H30M', 'PT1.25H2M', 'PT1.5H30M', 'PT12.5M3S', 'PT1.25M3S']) {
      expect(refusalOf(() => parseDurationMs(iso))?.message, iso).toBe(`"${iso}": only the last component may have a fraction`)
    }
    for (const iso of ['P1.5DT1.S', 'P1.5DT1.xS', 'PT1.5H.5M']) {
      expect(refusalOf(() => parseDurationMs(iso))?.message, iso).toBe(`"${iso}" is not an ISO 8601 duration such as "PT2H", "P3D" or "P1DT12H"`)
    }
  })

  it('refuses what is no duration at all, with an example of one', () => {
    for (const iso of ['', 'P', 'PT', 'P1DT', 'P1D2W', '2H', 'PT-1H', 'pt2h', ' P1D', 'P1D ', 'P1H', 'PT1D', 'P1.D', 'P.5D', 'PT1.5']) {
      const refusal = refusalOf(() => parseDurationMs(iso))
      expect(refusal, iso).toMatchObject({ reason: 'INVALID_DURATION' })
      expect(refusal!.message, iso).toBe(`"${iso}" is not an ISO 8601 duration such as "PT2H", "P3D" or "P1DT12H"`)
    }
  })

  it('refuses a duration that is not a string', () => {
    for (const value of [undefined, null, 5, { hours: 2 }]) {
      expect(refusalOf(() => parseDurationMs(value as unknown as string))).toMatchObject({
        reason: 'INVALID_DURATION', message: 'duration must be an ISO 8601 string such as "PT2H"',
      })
    }
  })

  it('refuses more than ten years, the longest limit', () => {
    for (const iso of ['P3650DT0.001S', 'P3651D', 'P522W', 'PT87601H', 'P99999999999999999999W']) {
      expect(refusalOf(() => parseDurationMs(iso)), iso).toMatchObject({
        reason: 'INVALID_DURATION', message: `"${iso}" is longer than 3650 days`,
      })
    }
  })

  it('publishes exactly the grammar the parser reads', () => {
    const published = new RegExp(DURATION_PATTERN)
    const text = fc.stringMatching(/^P(\d{1,3}([.,]\d)?[YMWD]){0,3}(T(\d{1,3}([.,]\d)?[HMS]){0,3})?$/)
    fc.assert(fc.property(fc.oneof(text, fc.string()), (iso) => {
      // A string the pattern admits either parses or is only too long.
      const refusal = refusalOf(() => parseDurationMs(iso))
      expect(published.test(iso)).toBe(refusal === undefined || refusal.message.endsWith('is longer than 3650 days'))
    }), runs(500))
  })
})

describe('limits', () => {
  it('accepts working days from 0 to ten years, as a clean copy', () => {
    expect(validateLimit({ workingDays: 0 })).toStrictEqual({ workingDays: 0 })
    expect(validateLimit({ workingDays: MAX_LIMIT_DAYS })).toStrictEqual({ workingDays: 3650 })
    expect(validateLimit({ workingDays: 5, note: 'x' })).toStrictEqual({ workingDays: 5 })
    expect(validateLimit({ duration: 'PT2H', note: 'x' })).toStrictEqual({ duration: 'PT2H' })
  })

  it('refuses working days that are not a whole number within the range, naming what it got', () => {
    const cases: Array<[unknown, string]> = [
      [-1, 'got -1'], [1.5, 'got 1.5'], [3651, 'got 3651'], [Number.NaN, 'got NaN'], [Infinity, 'got Infinity'],
      ['5', 'got string'], [null, 'got object'], [undefined, 'got undefined'],
    ]
    for (const [workingDays, got] of cases) {
      expect(refusalOf(() => validateLimit({ workingDays })), String(workingDays)).toMatchObject({
        reason: 'INVALID_LIMIT', message: `workingDays must be an integer from 0 to 3650, ${got}`,
      })
    }
  })

  it('rule 14: refuses anything but one of workingDays or duration', () => {
    for (const value of [null, undefined, 'P1D', 5, true]) {
      expect(refusalOf(() => validateLimit(value))).toMatchObject({
        reason: 'INVALID_LIMIT', message: 'a limit is { workingDays: n } or { duration: "PT2H" }',
      })
    }
    for (const value of [{}, { workingDays: 1, duration: 'PT1H' }, { days: 1 }]) {
      expect(refusalOf(() => validateLimit(value))).toMatchObject({
        reason: 'INVALID_LIMIT', message: 'a limit has exactly one of workingDays or duration',
      })
    }
  })

  it('refuses a duration the parser refuses, for the parser\'s reason', () => {
    expect(refusalOf(() => validateLimit({ duration: 'P1M' }))).toMatchObject({ reason: 'UNSUPPORTED_DURATION' })
    expect(refusalOf(() => validateLimit({ duration: 7200 }))).toMatchObject({ reason: 'INVALID_DURATION' })
  })

  it('is a refusal of the input (400), not a crash', () => {
    const refusal = refusalOf(() => validateLimit({ workingDays: -1 }))
    expect(refusal).toBeInstanceOf(Refusal)
    expect(refusal).toMatchObject({ name: 'LimitError', code: 'validation_failed', details: [] })
  })

  it('tells working days from durations', () => {
    expect(isWorkingDays({ workingDays: 0 })).toBe(true)
    expect(isWorkingDays({ duration: 'P1D' })).toBe(false)
  })
})

describe('the wire schema of a limit', () => {
  it('admits what validateLimit accepts and nothing it refuses', () => {
    const admitted = [{ workingDays: 0 }, { workingDays: 3650 }, { duration: 'PT2H' }, { duration: 'P3650D' }, { duration: 'P1W2.5D' }]
    const refused = [
      { workingDays: -1 }, { workingDays: 3651 }, { workingDays: 1.5 }, { workingDays: '5' }, { workingDays: 5, note: 'x' },
      { duration: 'P1M' }, { duration: 'P1.5W2D' }, { duration: 'P3651D' }, { duration: 'P99999999999W' }, { duration: 'PT2H', note: 'x' },
      {}, { workingDays: 1, duration: 'PT1H' }, null, 'PT2H',
    ]
    for (const limit of admitted) expect(Value.Check(LimitSchema, limit), JSON.stringify(limit)).toBe(true)
    for (const limit of refused) expect(Value.Check(LimitSchema, limit), JSON.stringify(limit)).toBe(false)
  })

  it('says why a duration that matches the pattern does not parse', () => {
    const messages = [...Value.Errors(LimitSchema, { duration: 'P3651D' })].map((e) => e.message)
    expect(messages).toContain('"P3651D" is longer than 3650 days')
  })

  it('publishes the parser\'s pattern, valid examples and a description for integrators', () => {
    // As the OpenAPI document shows it: plain JSON Schema.
    const schema = JSON.parse(JSON.stringify(LimitSchema)) as {
      description: string; anyOf: Array<{ properties: Record<string, { pattern?: string; examples?: string[] }> }>
    }
    const duration = schema.anyOf[1]!.properties.duration!
    expect(duration.pattern).toBe(DURATION_PATTERN)
    expect(duration.examples!.length).toBeGreaterThan(0)
    for (const example of duration.examples!) expect(parseDurationMs(example)).toBeGreaterThan(0)
    expect(schema.description).toContain('workingDays')
    expect(schema.description).toContain('duration')
  })

  it('places the parser\'s reason at the duration, or at the limit itself', () => {
    expect(limitProblem({ workingDays: 5 })).toBeUndefined()
    expect(limitProblem({ duration: 'PT2H' })).toBeUndefined()
    expect(limitProblem({ duration: 'P1M' })).toEqual({
      path: '/duration', message: '"P1M": years and months have no fixed length; use days (P30D) or a working-day limit',
    })
    expect(limitProblem({ workingDays: -1 })).toEqual({ path: '', message: 'workingDays must be an integer from 0 to 3650, got -1' })
    expect(limitProblem({ workingDays: 1, duration: 'P1M' })).toEqual({
      path: '', message: 'a limit has exactly one of workingDays or duration',
    })
    expect(limitProblem(null)).toEqual({ path: '', message: 'a limit is { workingDays: n } or { duration: "PT2H" }' })
    expect(limitProblem('P1M')).toMatchObject({ path: '' })
  })
})

describe('limit settings', () => {
  it('default to the limits of the rules', () => {
    expect(DEFAULT_LIMIT_SETTINGS).toStrictEqual({
      'escalation.accept': { workingDays: 1 },
      'escalation.handle': { workingDays: 5 },
      'escalation.feedback': { workingDays: 10 },
      'complaint.consultation': { workingDays: 2 },
      'complaint.help': { workingDays: 10 },
      'complaint.suggestion': { workingDays: 10 },
      'complaint.complaint': { workingDays: 15 },
      'complaint.report': { workingDays: 15 },
      'complaint.urgent': { duration: 'PT24H' },
      'complaint.sign': { workingDays: 1 },
      'supervision.respond': { workingDays: 3 },
      'rating.default': { duration: 'P7D' },
      'rating.rectification': { workingDays: 15 },
      'application.deferred': { workingDays: 5 },
    })
    expect(Object.isFrozen(DEFAULT_LIMIT_SETTINGS)).toBe(true)
  })

  it('name exactly the settings that have a default, each a valid limit', () => {
    expect([...LIMIT_SETTING_NAMES].sort()).toEqual(Object.keys(DEFAULT_LIMIT_SETTINGS).sort())
    for (const name of LIMIT_SETTING_NAMES) {
      expect(isLimitSettingName(name)).toBe(true)
      expect(Value.Check(LimitSchema, DEFAULT_LIMIT_SETTINGS[name])).toBe(true)
    }
  })

  it('refuses names that are not settings', () => {
    for (const name of ['', 'rating', 'escalation', 'rating.default.x', 'toString', 'constructor', 'Rating.default']) {
      expect(isLimitSettingName(name), name).toBe(false)
    }
  })
})
