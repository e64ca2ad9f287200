import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import { actionOf, parseActionParams, parseCommand, refuseUnsafeText, Strict, Text } from '../../src/domain/case/action.ts'
import { LimitSchema } from '../../src/domain/limit-schema.ts'
import { Refusal } from '../../src/domain/refusal.ts'
import { HANDLER, TINY_ACTIONS } from '../support/tiny-case.ts'

// The one parser of a command (src/domain/case/action.ts), as the HTTP edge and the workflow's
// Update validator both use it: what a caller is told when a command cannot be read.

const UNSAFE = 'must not contain U+0000 or an unpaired UTF-16 surrogate'
const NAMES = 'note, clock, hold, finish, rate, rectify, call_back, supervise, respond_supervision'

function refusal(attempt: () => unknown) {
  try {
    attempt()
  } catch (err) {
    if (err instanceof Refusal) return { code: err.code, message: err.message, details: err.details }
    throw err
  }
  return undefined
}
const parse = (command: unknown) => refusal(() => parseCommand(TINY_ACTIONS, command))

describe('parseCommand', () => {
  it('returns the action, its spec, the actor and the parameters of a good command', () => {
    const parsed = parseCommand(TINY_ACTIONS, { action: 'note', actor: HANDLER, params: { text: 'hello' } })
    expect(parsed).toEqual({ action: 'note', spec: TINY_ACTIONS.note, actor: HANDLER, params: { text: 'hello' } })
  })

  it('refuses an unknown action and names the kind\'s actions', () => {
    const expected = (name: string) => ({
      code: 'validation_failed', message: `unknown action ${name}; one of ${NAMES}`, details: [{ path: '/action', message: `must be one of ${NAMES}` }],
    })
    expect(parse({ action: 'fly', actor: HANDLER, params: {} })).toEqual(expected('fly'))
    // Only its own names: nothing inherited from Object.
    expect(parse({ action: 'toString', actor: HANDLER, params: {} })).toEqual(expected('toString'))
    expect(parse({ action: 42 })).toEqual(expected('42'))
    // An array whose text is an action's name is still no name.
    expect(parse({ action: ['note'], actor: HANDLER, params: { text: 'x' } })).toEqual(expected('note'))
    expect(parse({})).toEqual(expected('undefined'))
    expect(parse(null)).toEqual(expected('undefined'))
    expect(parse('note')).toEqual(expected('undefined'))
  })

  it('quotes no more than 50 characters of an unknown action, never half a character', () => {
    const long = `${'x'.repeat(49)}😀tail`
    expect(parse({ action: long, actor: HANDLER, params: {} })?.message).toBe(`unknown action ${'x'.repeat(49)}😀; one of ${NAMES}`)
  })

  it('refuses a command without a valid actor, with /actor paths', () => {
    expect(parse({ action: 'note', actor: { organizationId: 3, role: 'king' }, params: { text: 'x' } })).toEqual({
      code: 'validation_failed', message: 'the command has no valid actor', details: [
        { path: '/actor/organizationId', message: 'must be string' },
        { path: '/actor/role', message: 'must be equal to one of the allowed values' },
      ],
    })
    expect(parse({ action: 'note', params: { text: 'x' } })?.details).toEqual([{ path: '/actor', message: 'must be object' }])
  })

  it('refuses bad parameters with /params paths and every problem in the message', () => {
    expect(parse({ action: 'clock', actor: HANDLER, params: { within: { workingDays: 2 }, counts: ['a', 'b'] } })).toEqual({
      code: 'validation_failed',
      message: 'parameters of clock are not valid: / must have required properties key; /counts/0 must be integer; /counts/1 must be integer',
      details: [
        { path: '/params', message: 'must have required properties key' },
        { path: '/params/counts/0', message: 'must be integer' },
        { path: '/params/counts/1', message: 'must be integer' },
      ],
    })
    expect(parse({ action: 'note', actor: HANDLER, params: { text: 'x', extra: 1 } })?.details)
      .toEqual([{ path: '/params', message: 'must not have additional properties' }])
    for (const params of [null, undefined, 'text']) {
      expect(parse({ action: 'clock', actor: HANDLER, params })?.details).toEqual([{ path: '/params', message: 'must be object' }])
    }
  })

  it('refuses unsafe text anywhere in the command first, at its path, without quoting it', () => {
    expect(parse({ action: 'note', actor: HANDLER, params: { text: 'a\u0000b' } })).toEqual({
      code: 'validation_failed', message: `the command: /params/text ${UNSAFE}`, details: [{ path: '/params/text', message: UNSAFE }],
    })
    expect(parse({ action: 'n\ud800', actor: { organizationId: 1 } })?.details).toEqual([{ path: '/action', message: UNSAFE }])
    expect(parse('\udc00')?.message).toBe(`the command: / ${UNSAFE}`)
  })

  it('hands on what is not a refusal: a fault in a kind\'s schema is no caller\'s mistake', () => {
    const broken = Strict({ x: Type.Refine(Type.String(), (s) => {
      if (s === 'boom') throw new TypeError('the kind\'s own bug')
      return true
    }) })
    const actions = { poke: actionOf<unknown>()({ roles: ['window'], params: broken, allowedIn: ['open'], apply() {} }) }
    expect(() => parseCommand(actions, { action: 'poke', actor: HANDLER, params: { x: 'boom' } })).toThrow(new TypeError('the kind\'s own bug'))
  })
})

describe('parseActionParams', () => {
  // The numbers come first in the schema, so their errors are not crowded out by the limits' noise.
  const limits = Strict({ n: Type.Array(Type.Integer()), first: LimitSchema, second: LimitSchema, third: LimitSchema })

  it('explains a bad limit in the parser\'s own words, without the schema\'s noise about it', () => {
    const refused = refusal(() => parseActionParams('clock', TINY_ACTIONS.clock.params, { key: 'k', within: { duration: 'P1.5W2D' } }))
    expect(refused).toEqual({
      code: 'validation_failed',
      message: 'parameters of clock are not valid: /within/duration "P1.5W2D": only the last component may have a fraction',
      details: [{ path: '/within/duration', message: '"P1.5W2D": only the last component may have a fraction' }],
    })
    expect(refusal(() => parseActionParams('clock', TINY_ACTIONS.clock.params, { key: 'k', within: { workingDays: 4000 } }))?.details)
      .toEqual([{ path: '/within', message: 'workingDays must be an integer from 0 to 3650, got 4000' }])
    // A limit the schema admits is not explained, and other problems are still reported.
    expect(refusal(() => parseActionParams('clock', TINY_ACTIONS.clock.params, { key: '', within: { workingDays: 4 } }))?.details)
      .toEqual([{ path: '/key', message: 'must contain a character other than white space' }])
    expect(refusal(() => parseActionParams('clock', TINY_ACTIONS.clock.params, { key: ' \u3000 ', within: { workingDays: 4 } }))?.details)
      .toEqual([{ path: '/key', message: 'must contain a character other than white space' }])
  })

  it('reports a problem once though several union branches find it', () => {
    expect(refusal(() => parseActionParams('note', TINY_ACTIONS.note.params, { text: 'x', choice: 'a' }))?.details)
      .toEqual([{ path: '/choice', message: 'must be object' }])
    // Two different problems at one path are both reported.
    expect(refusal(() => parseActionParams('note', TINY_ACTIONS.note.params, { text: 'x', choice: {} }))?.details).toEqual([
      { path: '/choice', message: 'must have required properties a' }, { path: '/choice', message: 'must have required properties b' },
    ])
  })

  it('gives at most ten details, the limits first', () => {
    const refused = refusal(() => parseActionParams('many', limits, {
      first: { duration: 'P1.5W2D' }, second: { workingDays: -1 }, third: 'P1D', n: Array.from({ length: 12 }, () => 'x'),
    }))
    expect(refused?.details).toHaveLength(10)
    expect(refused?.details.slice(0, 3).map((d) => d.path)).toEqual(['/first/duration', '/second', '/third'])
    expect(refused?.details[3]).toEqual({ path: '/n/0', message: 'must be integer' })
  })

  it('returns the parameters when they are good; a limit may be left out when optional', () => {
    const params = { key: 'k', within: { duration: 'PT2H' } }
    expect(parseActionParams('clock', TINY_ACTIONS.clock.params, params)).toBe(params)
    const optional = Strict({ within: Type.Optional(LimitSchema), note: Text(3) })
    expect(refusal(() => parseActionParams('o', optional, { note: 'abcd' }))?.details).toEqual([{ path: '/note', message: 'must not have more than 3 characters' }])
    expect(refusal(() => parseActionParams('o', optional, null))?.details).toEqual([{ path: '', message: 'must be object' }])
    expect(refusal(() => parseActionParams('o', optional, undefined))?.details).toEqual([{ path: '', message: 'must be object' }])
  })

  it('explains an optional limit that is given but bad in the parser\'s own words too (a dispatch\'s `within?`)', () => {
    const optional = Strict({ within: Type.Optional(LimitSchema), other: Type.Optional(Type.Union([Type.Integer(), Type.String()])) })
    expect(refusal(() => parseActionParams('o', optional, { within: { duration: 'P1Y' } }))?.details).toEqual([{
      path: '/within/duration', message: '"P1Y": years and months have no fixed length; use days (P30D) or a working-day limit',
    }])
    // Another optional union is no limit: its problems are the schema's.
    expect(refusal(() => parseActionParams('o', optional, { other: true }))?.details).toEqual([
      { path: '/other', message: 'must be integer' }, { path: '/other', message: 'must be string' },
    ])
  })

  it('refuses unsafe text in the parameters, naming the action', () => {
    expect(refusal(() => parseActionParams('note', TINY_ACTIONS.note.params, { text: '\ud800' }))).toEqual({
      code: 'validation_failed', message: `parameters of note: /text ${UNSAFE}`, details: [{ path: '/text', message: UNSAFE }],
    })
  })
})

describe('free text and strict parameters', () => {
  it('Text: one to 2000 characters by default, or the bound given', () => {
    const schema = Strict({ t: Text() })
    const ok = (t: string) => refusal(() => parseActionParams('t', schema, { t })) === undefined
    expect([ok(''), ok('a'), ok('a'.repeat(2000)), ok('a'.repeat(2001))]).toEqual([false, true, true, false])
    const short = Strict({ t: Text(5) })
    expect(refusal(() => parseActionParams('t', short, { t: 'abcdef' }))?.details).toEqual([{ path: '/t', message: 'must not have more than 5 characters' }])
  })

  it('Strict: a parameter the action does not take is refused, not ignored (a misspelt field is a mistake to hear of)', () => {
    const schema = Strict({ t: Text() })
    expect(refusal(() => parseActionParams('t', schema, { t: 'a', reason: 'typo' }))).toEqual({
      code: 'validation_failed', message: 'parameters of t are not valid: / must not have additional properties',
      details: [{ path: '', message: 'must not have additional properties' }],
    })
  })
})

describe('refuseUnsafeText', () => {
  it('passes safe text and refuses the rest at its path under the prefix', () => {
    expect(() => refuseUnsafeText({ a: ['fine', '😀'] }, '', 'x')).not.toThrow()
    expect(refusal(() => refuseUnsafeText({ a: ['fine', 'b\u0000'] }, '/body', 'the submission'))).toEqual({
      code: 'validation_failed', message: `the submission: /body/a/1 ${UNSAFE}`, details: [{ path: '/body/a/1', message: UNSAFE }],
    })
    expect(refusal(() => refuseUnsafeText('\u0000', '', 'the name'))).toEqual({
      code: 'validation_failed', message: `the name: / ${UNSAFE}`, details: [{ path: '', message: UNSAFE }],
    })
  })
})
