// JSONLogic rules (auto-approval, eligibility): checked when written, so that a rule never meets an
// unknown operator or a stack-deep nesting years later inside a case; evaluated the same way always.
import { describe, expect, it } from 'vitest'
import {
  MAX_RULE_DEPTH, RULE_OPERATIONS, ruleEvaluationProblem, ruleHolds, ruleProblems, ruleValue,
} from '../../src/domain/rules.ts'

/** json-logic-js 2.0's operations, less `log`, which writes to the console. */
const OPERATIONS = [
  '==', '===', '!=', '!==', '>', '>=', '<', '<=', '!!', '!', '%', 'in', 'cat', 'substr', '+', '*', '-', '/',
  'min', 'max', 'merge', 'var', 'missing', 'missing_some',
  'if', '?:', 'and', 'or', 'filter', 'map', 'reduce', 'all', 'none', 'some',
]

/** `{"!": {"!": … true}}`, `levels` operations deep. */
function nested(levels: number): unknown {
  let rule: unknown = true
  for (let i = 0; i < levels; i++) rule = { '!': rule }
  return rule
}

describe('checking a rule as written', () => {
  it('accepts every operation json-logic-js evaluates, and only those', () => {
    expect([...RULE_OPERATIONS].sort()).toEqual([...OPERATIONS].sort())
    for (const op of OPERATIONS) expect(ruleProblems({ [op]: [] }), op).toEqual([])
    expect(ruleProblems({ log: ['x'] })).toEqual([{ path: '/log', message: expect.stringMatching(/^unknown operation "log"/) }])
  })

  it('accepts a realistic rule with values, lists and nested operations', () => {
    expect(ruleProblems({
      and: [
        { '==': [{ var: 'applicant.type' }, 'person'] },
        { in: ['photo', { var: 'materials' }] },
        { '>=': [{ var: ['age', 0] }, 18] },
        { if: [{ var: 'priority.urgent' }, true, null] },
      ],
    })).toEqual([])
  })

  it('wants one operation at the top', () => {
    const message = 'a rule must be one JSONLogic operation such as {"==": [{"var": "x"}, 1]}'
    for (const rule of [null, undefined, 'yes', 1, true, [], [{ '==': [1, 1] }], {}, { '==': [1, 1], '!=': [1, 2] }]) {
      expect(ruleProblems(rule), JSON.stringify(rule)).toEqual([{ path: '', message }])
    }
  })

  it('names an unknown operation at its path, with the operations there are', () => {
    expect(ruleProblems({ and: [{ '==': [1, 1] }, { or: [true, { frobnicate: [1] }] }] })).toEqual([{
      path: '/and/1/or/1/frobnicate',
      message: `unknown operation "frobnicate"; the operations are ${OPERATIONS.join(' ')}`,
    }])
  })

  it('escapes ~ and / in the path as JSON pointers do', () => {
    expect(ruleProblems({ and: [{ 'a/b~c': 1 }] })).toEqual([{ path: '/and/0/a~1b~0c', message: expect.any(String) }])
  })

  it('refuses an object that is not one operation, wherever it is', () => {
    expect(ruleProblems({ and: [{ '==': [1, 1] }, { a: 1, b: 2 }, {}] })).toEqual([
      { path: '/and/1', message: 'an object in a rule is one operation: exactly one key, the operator' },
      { path: '/and/2', message: 'an object in a rule is one operation: exactly one key, the operator' },
    ])
  })

  it('reports every problem, not only the first', () => {
    expect(ruleProblems({ or: [{ nope: 1 }, { '!': { alsoNope: 2 } }] }).map((p) => p.path)).toEqual(['/or/0/nope', '/or/1/!/alsoNope'])
  })

  it(`allows ${MAX_RULE_DEPTH} levels of nesting and stops at the next, however deep the rule goes`, () => {
    expect(MAX_RULE_DEPTH).toBe(32)
    expect(ruleProblems(nested(32))).toEqual([])
    const tooDeep = ruleProblems(nested(33))
    expect(tooDeep).toEqual([{ path: '/!'.repeat(33), message: 'the rule is nested deeper than 32 levels' }])
    expect(ruleProblems(nested(10_000))).toEqual(tooDeep)
    // Arrays count as levels too.
    let list: unknown = 1
    for (let i = 0; i < 40; i++) list = [list]
    expect(ruleProblems({ merge: list })).toEqual([{ path: `/merge${'/0'.repeat(32)}`, message: 'the rule is nested deeper than 32 levels' }])
  })
})

describe('evaluating a rule', () => {
  const adult = { '>=': [{ var: 'age' }, 18] }

  it('holds or does not over the facts', () => {
    expect(ruleHolds(adult, { age: 18 })).toBe(true)
    expect(ruleHolds(adult, { age: 17 })).toBe(false)
    // JSONLogic's truth: an empty list is false, a list with something in it true.
    expect(ruleHolds({ var: 'materials' }, { materials: [] })).toBe(false)
    expect(ruleHolds({ var: 'materials' }, { materials: ['form'] })).toBe(true)
  })

  it('does not hold when it cannot be evaluated, leaving the decision to a person', () => {
    expect(ruleHolds({ frobnicate: [1] }, {})).toBe(false)
    expect(ruleHolds({ '!': { frobnicate: [1] } }, {})).toBe(false)
  })

  it('says why it cannot be evaluated over these facts', () => {
    expect(ruleEvaluationProblem(adult, { age: 30 })).toBeUndefined()
    expect(ruleEvaluationProblem({ frobnicate: [1] }, {})).toBe('the rule cannot be evaluated: Unrecognized operation frobnicate')
    const facts = Object.defineProperty({}, 'age', {
      enumerable: true,
      get() {
        throw 'no age on file' // not an Error: what a plain throw reads like
      },
    })
    expect(ruleEvaluationProblem(adult, facts)).toBe('the rule cannot be evaluated: no age on file')
  })

  it('computes values, such as an amount', () => {
    expect(ruleValue({ '*': [{ var: 'months' }, 300] }, { months: 4 })).toBe(1200)
    expect(ruleValue({ if: [{ var: 'urgent' }, 'fast', 'normal'] }, { urgent: false })).toBe('normal')
  })
})
