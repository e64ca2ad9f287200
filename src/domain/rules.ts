import jsonLogic from 'json-logic-js'

/**
 * JSONLogic rules (auto-approval, policy eligibility and amounts). Pure and deterministic: the
 * same rule over the same data gives the same answer inside a workflow and outside it.
 */
export type Rule = unknown

/** Problems with a rule as written, or an empty list. */
export function ruleProblems(rule: Rule): string[] {
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) return ['a rule must be a JSONLogic object such as {"==": [{"var": "x"}, 1]}']
  if (!jsonLogic.is_logic(rule)) return ['not a JSONLogic expression']
  try {
    jsonLogic.apply(rule as jsonLogic.RulesLogic, {})
  } catch (err) {
    return [`the rule cannot be evaluated: ${err instanceof Error ? err.message : String(err)}`]
  }
  return []
}

export function ruleHolds(rule: Rule, data: Record<string, unknown>): boolean {
  return jsonLogic.truthy(jsonLogic.apply(rule as jsonLogic.RulesLogic, data))
}

export function ruleValue(rule: Rule, data: Record<string, unknown>): unknown {
  return jsonLogic.apply(rule as jsonLogic.RulesLogic, data)
}
