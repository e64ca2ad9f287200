import jsonLogic from 'json-logic-js'

/**
 * JSONLogic rules (auto-approval, policy eligibility and amounts). Pure and deterministic: the
 * same rule over the same data gives the same answer inside a workflow and outside it.
 */
export type Rule = unknown

/**
 * The operations json-logic-js 2.0 evaluates, less `log` (it writes to the console). The library
 * throws for any other operator only when it meets it while evaluating, which may be years after
 * the rule was saved: rules are checked against this list when they are written.
 */
export const RULE_OPERATIONS: ReadonlySet<string> = new Set([
  '==', '===', '!=', '!==', '>', '>=', '<', '<=', '!!', '!', '%', 'in', 'cat', 'substr', '+', '*', '-', '/',
  'min', 'max', 'merge', 'var', 'missing', 'missing_some',
  'if', '?:', 'and', 'or', 'filter', 'map', 'reduce', 'all', 'none', 'some',
])
/** Nesting (operations and arrays) a rule may have: real rules need a handful of levels. */
export const MAX_RULE_DEPTH = 32

/** A problem with a rule, at a JSON pointer into the rule (`/and/1/no_such_op`). */
export interface RuleProblem { path: string; message: string }

/**
 * Problems with a rule as written, each with the path of the bad part, or an empty list: the top
 * is one operation, every operation is one json-logic-js knows, and nesting stays within
 * MAX_RULE_DEPTH (the walk stops there, so a rule nested 10,000 deep costs nothing).
 */
export function ruleProblems(rule: Rule): RuleProblem[] {
  if (!isOperation(rule)) return [{ path: '', message: 'a rule must be one JSONLogic operation such as {"==": [{"var": "x"}, 1]}' }]
  const problems: RuleProblem[] = []
  walk(rule, '', 0, problems)
  return problems
}

function walk(node: unknown, path: string, depth: number, problems: RuleProblem[]): void {
  if (depth > MAX_RULE_DEPTH) {
    problems.push({ path, message: `the rule is nested deeper than ${MAX_RULE_DEPTH} levels` })
    return
  }
  if (Array.isArray(node)) {
    node.forEach((item, i) => walk(item, `${path}/${i}`, depth + 1, problems))
    return
  }
  if (node === null || typeof node !== 'object') return
  if (!isOperation(node)) {
    problems.push({ path, message: 'an object in a rule is one operation: exactly one key, the operator' })
    return
  }
  const op = Object.keys(node)[0]!
  const at = `${path}/${op.replaceAll('~', '~0').replaceAll('/', '~1')}`
  if (!RULE_OPERATIONS.has(op)) {
    problems.push({ path: at, message: `unknown operation "${op}"; the operations are ${[...RULE_OPERATIONS].join(' ')}` })
    return
  }
  walk((node as Record<string, unknown>)[op], at, depth + 1, problems)
}

function isOperation(node: unknown): node is Record<string, unknown> {
  return node !== null && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length === 1
}

/** Why the rule cannot be evaluated over these facts, or undefined when it can. */
export function ruleEvaluationProblem(rule: Rule, data: Record<string, unknown>): string | undefined {
  try {
    jsonLogic.apply(rule as jsonLogic.RulesLogic, data)
    return undefined
  } catch (err) {
    return `the rule cannot be evaluated: ${err instanceof Error ? err.message : String(err)}`
  }
}

/**
 * Whether the rule holds over the data. A rule that is malformed or fails on these facts does not
 * hold: what it would have decided is left to a person, and the answer is the same on every replay.
 */
export function ruleHolds(rule: Rule, data: Record<string, unknown>): boolean {
  try {
    return jsonLogic.truthy(jsonLogic.apply(rule as jsonLogic.RulesLogic, data))
  } catch {
    return false
  }
}

export function ruleValue(rule: Rule, data: Record<string, unknown>): unknown {
  return jsonLogic.apply(rule as jsonLogic.RulesLogic, data)
}
