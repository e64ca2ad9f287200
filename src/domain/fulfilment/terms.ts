import { Type, type Static } from 'typebox'
import type { Limit } from '../limit.ts'
import { LimitSchema } from '../limit-schema.ts'
import { Beneficiary, POLICY_MODES, type Policy } from '../policy.ts'

// A fulfilment case's fixed terms (API.md "Policy fulfilment", DOMAIN rules 23–25), shared by the
// case, its actions and the routes and workflows that start it (no cycle between them).

export const FULFILMENT_STATUSES = [
  'notified', 'submitted', 'confirmed', 'verified', 'budget_exhausted', 'paid', 'completed', 'declined', 'rejected',
] as const
export type FulfilmentStatus = (typeof FULFILMENT_STATUSES)[number]
/** Ended: paid out and done, declined by (or for) the beneficiary, or rejected by the department. */
export const ENDED_STATUSES: readonly FulfilmentStatus[] = ['completed', 'declined', 'rejected']
export const OPEN_STATUSES = FULFILMENT_STATUSES.filter((s) => !ENDED_STATUSES.includes(s))

/** What of the published policy a case keeps: it runs under the version it was created with. */
export const PolicyTerms = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 100 }),
  version: Type.Integer({ minimum: 1 }),
  departmentId: Type.String({ minLength: 1, maxLength: 100 }),
  mode: Type.Enum(POLICY_MODES),
  autoVerify: Type.Boolean(),
  confirmWithin: Type.Optional(LimitSchema),
  verifyWithin: LimitSchema,
  payWithin: LimitSchema,
}, { additionalProperties: false })
export type PolicyTerms = Static<typeof PolicyTerms>

export function policyTerms(policy: Policy): PolicyTerms {
  return {
    code: policy.code, version: policy.version, departmentId: policy.departmentId, mode: policy.mode, autoVerify: policy.autoVerify,
    ...(policy.confirmWithin ? { confirmWithin: policy.confirmWithin } : {}), verifyWithin: policy.verifyWithin, payWithin: policy.payWithin,
  }
}

/** Who is paid: the beneficiary without the attributes that found them eligible (the campaign keeps those). */
export const Payee = Type.Omit(Beneficiary, ['attributes'])
export type Payee = Static<typeof Payee>

/** A new fulfilment case as plain data: who it pays, how much, under which terms, and who started it. */
export const FulfilmentOpening = Type.Object({
  policy: PolicyTerms,
  beneficiary: Payee,
  amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  /** The campaign that found the beneficiary eligible; absent for an application. */
  campaignId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
}, { additionalProperties: false })
export type FulfilmentOpening = Static<typeof FulfilmentOpening>

/** Limits that are not the policy's: how long a supervision record may wait for its answer. */
export interface FulfilmentLimits {
  supervisionRespond: Limit
}

