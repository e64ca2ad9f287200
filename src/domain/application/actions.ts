import { Type, type Static, type TObject } from 'typebox'
import { LimitSchema } from '../limit-schema.ts'
import type { Role } from '../roles.ts'

const Text = (maxLength = 2000) => Type.String({ minLength: 1, maxLength })
const Strict = <T extends Parameters<typeof Type.Object>[0]>(properties: T) => Type.Object(properties, { additionalProperties: false })

export const SUSPENSION_REASONS = ['hearing', 'inspection', 'testing', 'appraisal', 'expert_review', 'public_notice', 'other'] as const
export const DELIVERY_METHODS = ['window', 'mail', 'electronic'] as const

/**
 * Every action on an application: who may take it and what it takes (API.md "Applications").
 * The API validates parameters against these schemas; the case decides whether its state
 * allows the action (application-case.ts).
 */
export const APPLICATION_ACTIONS = {
  accept: { roles: ['window', 'department'], params: Strict({}) },
  reject: { roles: ['window', 'department'], params: Strict({ reason: Text() }) },
  request_supplement: {
    roles: ['window', 'department'],
    params: Strict({ missing: Type.Array(Text(100), { minItems: 1, maxItems: 200, uniqueItems: true }), note: Text() }),
  },
  supplement: {
    roles: ['window'],
    params: Strict({ materials: Type.Array(Strict({ code: Text(100), ref: Text(1000) }), { minItems: 1, maxItems: 200 }) }),
  },
  transfer: { roles: ['department', 'supervisor'], params: Strict({ toOrganizationId: Text(100), reason: Text() }) },
  request_opinions: {
    roles: ['department'],
    params: Strict({ organizationIds: Type.Array(Text(100), { minItems: 1, maxItems: 50, uniqueItems: true }), within: LimitSchema }),
  },
  give_opinion: { roles: ['department'], params: Strict({ opinion: Text(), agree: Type.Boolean() }) },
  suspend: { roles: ['department'], params: Strict({ reason: Type.Enum(SUSPENSION_REASONS), note: Text() }) },
  resume: { roles: ['department'], params: Strict({ note: Type.Optional(Text()) }) },
  extend: {
    roles: ['department'],
    params: Strict({ workingDays: Type.Integer({ minimum: 1, maximum: 365 }), approvedBy: Text(200), reason: Text() }),
  },
  approve: { roles: ['department'], params: Strict({ note: Type.Optional(Text()) }) },
  deny: { roles: ['department'], params: Strict({ reason: Text() }) },
  issue_result: { roles: ['department'], params: Strict({ certificateNo: Type.Optional(Text(200)) }) },
  deliver: { roles: ['window'], params: Strict({ method: Type.Enum(DELIVERY_METHODS) }) },
  withdraw: { roles: ['window'], params: Strict({ reason: Text() }) },
  rate: { roles: ['window'], params: Strict({ score: Type.Integer({ minimum: 1, maximum: 5 }), comment: Type.Optional(Text()) }) },
  rectify: { roles: ['department'], params: Strict({ note: Text() }) },
  call_back: { roles: ['window', 'supervisor'], params: Strict({ satisfied: Type.Boolean(), note: Type.Optional(Text()) }) },
  supervise: { roles: ['supervisor'], params: Strict({ note: Text(), respondWithin: LimitSchema }) },
  respond_supervision: { roles: ['department'], params: Strict({ note: Text() }) },
} as const satisfies Record<string, { roles: readonly Role[]; params: TObject }>

export type ApplicationAction = keyof typeof APPLICATION_ACTIONS
export type ActionParams<A extends ApplicationAction> = Static<(typeof APPLICATION_ACTIONS)[A]['params']>

export function isApplicationAction(name: string): name is ApplicationAction {
  return Object.hasOwn(APPLICATION_ACTIONS, name)
}
