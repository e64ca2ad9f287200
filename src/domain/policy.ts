// Policies (政策兑现, 免申即享): DOMAIN rules 23–25, API.md "Policy fulfilment". A policy is
// written as a draft, reviewed by another key, and published in numbered versions like a service
// guide. Pure: the same evaluation runs in the campaign's activity and in the application route.
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import type { Limit } from './limit.ts'
import { LimitSchema } from './limit-schema.ts'
import { Signer } from './review.ts'
import { ruleHolds, ruleProblems, type RuleProblem, ruleValue } from './rules.ts'
import { unsafeTextPath } from './safe-text.ts'

export const POLICY_MODES = ['no_application', 'confirm', 'application'] as const
export type PolicyMode = (typeof POLICY_MODES)[number]

/** Fen (integer cents) up to what a bigint column and a JS number both hold exactly. */
const Fen = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })

/** What an administrator writes: the draft of a policy. */
export const PolicyDraft = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 500, pattern: '\\S' }),
  departmentId: Type.String({ minLength: 1, maxLength: 100 }),
  mode: Type.Enum(POLICY_MODES),
  eligibility: Type.Unknown({ description: 'JSONLogic over the beneficiary\'s attributes' }),
  amount: Type.Union([Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.Object({}, { additionalProperties: true, description: 'JSONLogic giving fen' })]),
  /** The whole policy's budget in fen; absent: unlimited. */
  budget: Type.Optional(Fen),
  /** Verified at once (data proves eligibility), without a department's action. */
  autoVerify: Type.Optional(Type.Boolean()),
  /** `confirm` mode: how long the beneficiary has to confirm (意愿确认); required in that mode. */
  confirmWithin: Type.Optional(LimitSchema),
  /** For the department to verify; default DEFAULT_VERIFY_WITHIN. */
  verifyWithin: Type.Optional(LimitSchema),
  /** From verification to payment. */
  payWithin: LimitSchema,
}, { additionalProperties: false })
export type PolicyDraft = Static<typeof PolicyDraft>

/** No figure in the sources: a default of ours, the statutory limit's half (rule 10's 20 working days). */
export const DEFAULT_VERIFY_WITHIN: Limit = { workingDays: 10 }

/** A published, immutable version of a policy; cases pin the version they were created under. */
export const Policy = Type.Object({
  code: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  name: Type.String(),
  departmentId: Type.String(),
  mode: Type.Enum(POLICY_MODES),
  eligibility: Type.Unknown(),
  amount: Type.Unknown(),
  budget: Type.Union([Fen, Type.Null()]),
  autoVerify: Type.Boolean(),
  confirmWithin: Type.Optional(LimitSchema),
  verifyWithin: LimitSchema,
  payWithin: LimitSchema,
  publishedAt: Type.String(),
  author: Type.Optional(Signer),
  reviewer: Type.Optional(Signer),
  reviewedAt: Type.Optional(Type.String()),
})
export type Policy = Static<typeof Policy>

/** Problems with a draft beyond its schema, each at a JSON pointer into it; empty when it can be published. */
export function policyDraftProblems(draft: PolicyDraft): RuleProblem[] {
  const problems: RuleProblem[] = []
  const text = unsafeTextPath(draft)
  if (text !== undefined) problems.push({ path: text, message: 'must not contain U+0000 or an unpaired UTF-16 surrogate' })
  problems.push(...ruleProblems(draft.eligibility).map((p) => ({ path: `/eligibility${p.path}`, message: p.message })))
  if (typeof draft.amount !== 'number') {
    problems.push(...ruleProblems(draft.amount).map((p) => ({ path: `/amount${p.path}`, message: p.message })))
  }
  if (draft.mode === 'confirm' && !draft.confirmWithin) {
    problems.push({ path: '/confirmWithin', message: 'a confirm-mode policy says how long the beneficiary has to confirm' })
  }
  if (draft.mode !== 'confirm' && draft.confirmWithin) {
    problems.push({ path: '/confirmWithin', message: `only a confirm-mode policy asks for confirmation; this one is ${draft.mode}` })
  }
  return problems
}

/** The published version of a draft, with its defaults written out. */
export function publishPolicy(code: string, version: number, draft: PolicyDraft, publishedAt: string,
  review: Pick<Policy, 'author' | 'reviewer' | 'reviewedAt'>): Policy {
  return {
    code, version, name: draft.name, departmentId: draft.departmentId, mode: draft.mode,
    eligibility: draft.eligibility, amount: draft.amount, budget: draft.budget ?? null, autoVerify: draft.autoVerify === true,
    ...(draft.confirmWithin ? { confirmWithin: draft.confirmWithin } : {}),
    verifyWithin: draft.verifyWithin ?? DEFAULT_VERIFY_WITHIN, payWithin: draft.payWithin, publishedAt, ...review,
  }
}

/** One line of a campaign, or the beneficiary of an application. */
export const Beneficiary = Type.Object({
  /** The person's identity number or the enterprise's credit code. */
  id: Type.String({ minLength: 4, maxLength: 64, pattern: '^\\S+$' }),
  type: Type.Enum(['person', 'enterprise']),
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  attributes: Type.Record(Type.String(), Type.Unknown()),
  /** Where the money goes (a bank account); a confirm-mode beneficiary gives it when confirming. */
  account: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
}, { additionalProperties: false })
export type Beneficiary = Static<typeof Beneficiary>

/** Deepest nesting of a beneficiary line: attributes are flat facts, a few levels at most. */
const MAX_LINE_DEPTH = 16

/** A campaign line read as a beneficiary, or why it is not one (the campaign counts it invalid). */
export function readBeneficiary(value: unknown): { beneficiary: Beneficiary } | { error: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'a line is one JSON object' }
  if (typeof (value as { id?: unknown }).id !== 'string') return { error: 'the beneficiary has no id' }
  if (depthOf(value, 0) > MAX_LINE_DEPTH) return { error: `the line nests deeper than ${MAX_LINE_DEPTH} levels` }
  const unsafe = unsafeTextPath(value)
  if (unsafe !== undefined) return { error: `${unsafe || '/'} must not contain U+0000 or an unpaired UTF-16 surrogate` }
  if (!Value.Check(Beneficiary, value)) {
    const first = Value.Errors(Beneficiary, value)[0]
    return { error: `${first?.instancePath || '/'} ${first?.message ?? 'is not a beneficiary'}` }
  }
  return { beneficiary: value }
}

function depthOf(value: unknown, depth: number): number {
  if (depth > MAX_LINE_DEPTH || value === null || typeof value !== 'object') return depth
  let deepest = depth
  for (const item of Object.values(value)) deepest = Math.max(deepest, depthOf(item, depth + 1))
  return deepest
}

/** What a policy gives a beneficiary: an amount in fen, or why nothing. */
export type Entitlement = { eligible: true; amount: number } | { eligible: false; reason: string }

/**
 * Rule 24: eligibility found by matching data. The rules read the beneficiary's attributes; the
 * amount is a whole, positive number of fen, or the beneficiary is not eligible (an amount rule
 * that gives anything else is the policy's mistake, never a payment).
 */
export function entitlementOf(policy: Pick<Policy, 'eligibility' | 'amount'>, beneficiary: Pick<Beneficiary, 'attributes'>): Entitlement {
  const data = beneficiary.attributes
  if (!ruleHolds(policy.eligibility, data)) return { eligible: false, reason: 'the eligibility rule does not hold' }
  let amount: unknown
  try {
    amount = typeof policy.amount === 'number' ? policy.amount : ruleValue(policy.amount, data)
  } catch (err) {
    return { eligible: false, reason: `the amount rule cannot be evaluated: ${err instanceof Error ? err.message : String(err)}` }
  }
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    return { eligible: false, reason: `the amount rule gives ${JSON.stringify(amount) ?? 'nothing'}, not a positive whole number of fen` }
  }
  return { eligible: true, amount }
}
