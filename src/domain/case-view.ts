import { Type, type Static } from 'typebox'
import { Actor } from './roles.ts'

export const CASE_KINDS = ['application', 'fulfilment', 'escalation', 'complaint'] as const
export type CaseKind = (typeof CASE_KINDS)[number]
export const CaseKindSchema = Type.Enum(CASE_KINDS)

export const DEADLINE_STATES = ['running', 'paused', 'met', 'missed', 'cancelled'] as const
export type DeadlineState = (typeof DEADLINE_STATES)[number]

/** A deadline still counting (running) or standing still (paused): not yet met, missed or cancelled. */
export function isPending(deadline: { state: DeadlineState }): boolean {
  return deadline.state === 'running' || deadline.state === 'paused'
}

export const DeadlineView = Type.Object({
  kind: Type.String(),
  /** Distinguishes deadlines of one kind (one per opinion or supervision order). */
  key: Type.String(),
  dueAt: Type.String(),
  warnAt: Type.String(),
  state: Type.Enum(DEADLINE_STATES),
  provisional: Type.Boolean(),
  warned: Type.Boolean(),
  workingDaysLeft: Type.Optional(Type.Integer()),
  /** Who owes the step (an opinion's organisation, a supervised one); absent: the handling organisation. */
  organizationId: Type.Optional(Type.String()),
  /** When this run of it started (a restarted deadline starts a new run). */
  startedAt: Type.Optional(Type.String()),
  /** When it was met or cancelled, or fell due unmet (missed). */
  settledAt: Type.Optional(Type.String()),
  /** Working days from start to settlement, for a working-day limit that is settled. */
  workingDaysUsed: Type.Optional(Type.Integer()),
})
export type DeadlineView = Static<typeof DeadlineView>

export const Applicant = Type.Object({
  type: Type.Union([Type.Literal('person'), Type.Literal('enterprise')]),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  idNumber: Type.String({ minLength: 4, maxLength: 64 }),
  phone: Type.Optional(Type.String({ maxLength: 32 })),
}, { additionalProperties: false })
export type Applicant = Static<typeof Applicant>

export const Priority = Type.Object({
  greenChannel: Type.Boolean(),
  urgent: Type.Boolean(),
}, { additionalProperties: false })
export type Priority = Static<typeof Priority>

export const AttachedMaterial = Type.Object({
  code: Type.String(),
  ref: Type.String(),
  source: Type.Union([Type.Literal('applicant'), Type.Literal('shared')]),
})
export type AttachedMaterial = Static<typeof AttachedMaterial>

/**
 * A supervision record: opened automatically on a missed deadline, or ordered by a supervisor (督办).
 * `organizationId` owes the answer; an automatic record is watched by its parent
 * (`supervisorOrganizationId`) and, unanswered by `dueAt`, opens the next `level` one step up.
 */
export const Supervision = Type.Object({
  id: Type.String(),
  kind: Type.Enum(['automatic', 'order']),
  organizationId: Type.String(),
  reason: Type.String(),
  openedAt: Type.String(),
  orderedBy: Type.Optional(Type.String()),
  /** The missed deadline an automatic record is about; an order's own deadline. */
  deadlineKey: Type.Optional(Type.String()),
  /** 1 for the record on whoever owed the step, 2 on its parent, and so on (absent on records from before levels). */
  level: Type.Optional(Type.Integer({ minimum: 1 })),
  supervisorOrganizationId: Type.Optional(Type.String()),
  /** The record's own deadline: its key, and when the answer is due. */
  respondKey: Type.Optional(Type.String()),
  dueAt: Type.Optional(Type.String()),
  respondedAt: Type.Optional(Type.String()),
  response: Type.Optional(Type.String()),
})
export type Supervision = Static<typeof Supervision>

/** One round of rectification after a bad rating, with the call-back that follows it. */
const RectificationRound = Type.Object({
  openedAt: Type.String(), rectifiedAt: Type.Optional(Type.String()), note: Type.Optional(Type.String()),
  callBack: Type.Optional(Type.Object({ satisfied: Type.Boolean(), note: Type.Optional(Type.String()), at: Type.String() })),
})

/** A limit as shown (the wire shape of limit-schema.ts, without its parser). */
const LimitView = Type.Union([Type.Object({ workingDays: Type.Integer() }), Type.Object({ duration: Type.String() })])

/** What every case kind shows (API.md "Cases", "What every case kind shares"). */
export const CaseCoreView = Type.Object({
  id: Type.String(),
  kind: CaseKindSchema,
  status: Type.String(),
  version: Type.Integer(),
  applicant: Type.Optional(Applicant),
  channel: Type.String(),
  receivedBy: Type.String(),
  handlingOrganizationId: Type.String(),
  /** Escalations and complaints: the organisation that owns the case for its whole life (rule 27). */
  ownerOrganizationId: Type.Optional(Type.String()),
  priority: Priority,
  deadlines: Type.Array(DeadlineView),
  overdue: Type.Boolean(),
  warned: Type.Boolean(),
  flags: Type.Array(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  supervisions: Type.Optional(Type.Array(Supervision)),
  /**
   * How an escalation or a work order was closed: an escalation's with the complainant's
   * satisfaction and comment; a work order's after a satisfied call-back (`via: callback`) or
   * without one (`close`, the citizen unreachable), by whom and with a note.
   */
  closure: Type.Optional(Type.Object({
    at: Type.String(),
    satisfied: Type.Optional(Type.Boolean()), comment: Type.Optional(Type.String()),
    via: Type.Optional(Type.Enum(['callback', 'close'])), by: Type.Optional(Type.String()), note: Type.Optional(Type.String()),
  })),
  // Kinds that are rated once they end (the kernel's rating.ts).
  rating: Type.Optional(Type.Object({
    score: Type.Integer(), level: Type.String(), comment: Type.Optional(Type.String()), at: Type.String(), defaulted: Type.Boolean(),
    /** Who gave it (absent for the default rating) and through which channel. */
    by: Type.Optional(Type.Enum(['applicant', 'staff'])), channel: Type.Optional(Type.String()),
  })),
  rectification: Type.Optional(Type.Object({
    ...RectificationRound.properties,
    /** 2 for the second round a dissatisfied call-back opens; absent: the first. */
    round: Type.Optional(Type.Integer()),
    previousRounds: Type.Optional(Type.Array(RectificationRound)),
  })),
  /** Escalations (办不成事) filed about this case, each recorded once with `escalation_filed`. */
  escalations: Type.Optional(Type.Array(Type.String())),
})

/** The application's own fields (API.md "Applications"). */
export const ApplicationViewFields = Type.Object({
  serviceItemCode: Type.Optional(Type.String()),
  serviceItemVersion: Type.Optional(Type.Integer()),
  materials: Type.Optional(Type.Array(AttachedMaterial)),
  missingMaterials: Type.Optional(Type.Array(Type.String())),
  submittedOnBehalfBy: Type.Optional(Type.String()),
  decision: Type.Optional(Type.Object({ outcome: Type.String(), note: Type.Optional(Type.String()), at: Type.String() })),
  supplementRequests: Type.Optional(Type.Array(Type.Object({ missing: Type.Array(Type.String()), note: Type.String(), at: Type.String() }))),
  suspension: Type.Optional(Type.Object({ reason: Type.String(), note: Type.String(), since: Type.String() })),
  extension: Type.Optional(Type.Object({ workingDays: Type.Integer(), approvedBy: Type.String(), reason: Type.String(), at: Type.String() })),
  opinions: Type.Optional(Type.Array(Type.Object({
    organizationId: Type.String(), requestedAt: Type.String(), opinion: Type.Optional(Type.String()),
    agree: Type.Optional(Type.Boolean()), givenAt: Type.Optional(Type.String()),
  }))),
  result: Type.Optional(Type.Object({
    certificateNo: Type.Optional(Type.String()), issuedAt: Type.Optional(Type.String()),
    deliveredAt: Type.Optional(Type.String()), method: Type.Optional(Type.String()),
  })),
  /** Joint handling began (rule 10: statutory limit 45 working days, extension up to 15). */
  jointHandling: Type.Optional(Type.Object({ since: Type.String() })),
  /** Materials deferred at acceptance (容缺, rule 35); `receivedAt` once handed in. */
  deferredMaterials: Type.Optional(Type.Array(Type.Object({ code: Type.String(), receivedAt: Type.Optional(Type.String()) }))),
  /** The written commitment accepted in place of proof (告知承诺, rule 36), and the department's check of it. */
  commitment: Type.Optional(Type.Object({
    text: Type.String(), verifyWithin: LimitView, at: Type.String(),
    check: Type.Optional(Type.Object({ holds: Type.Boolean(), note: Type.String(), at: Type.String() })),
  })),
  /** Why and when an approval was revoked, and on which grounds. */
  revocation: Type.Optional(Type.Object({ reason: Type.String(), grounds: Type.Array(Type.String()), at: Type.String() })),
  /** Rule 21: the applicant may escalate (overdue, a one-time-notice violation, or rejected). */
  escalationEligible: Type.Optional(Type.Boolean()),
})

/** Who escalates (办不成事): a name, and how to reach and identify them when given. */
export const Complainant = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  phone: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  idNumber: Type.Optional(Type.String({ minLength: 4, maxLength: 64 })),
}, { additionalProperties: false })
export type Complainant = Static<typeof Complainant>

/** The escalation's own fields (API.md "Escalations"). */
export const EscalationViewFields = Type.Object({
  category: Type.Optional(Type.String()),
  relatedCaseId: Type.Optional(Type.String()),
  complainant: Type.Optional(Complainant),
  description: Type.Optional(Type.String()),
  /** Each organisation the escalation was assigned to (转办), in order; a reopening assigns it again. */
  assignments: Type.Optional(Type.Array(Type.Object({
    organizationId: Type.String(), at: Type.String(), within: Type.Optional(LimitView),
  }))),
  response: Type.Optional(Type.Object({ resolution: Type.String(), resolved: Type.Boolean(), at: Type.String() })),
  feedback: Type.Optional(Type.Object({ message: Type.String(), at: Type.String() })),
  reopenedAt: Type.Optional(Type.String()),
  rejection: Type.Optional(Type.Object({ reason: Type.String(), at: Type.String() })),
})

/** The citizen who called or wrote in (12345): only a name is required. */
export const Citizen = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  phone: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  idNumber: Type.Optional(Type.String({ minLength: 4, maxLength: 64 })),
}, { additionalProperties: false })
export type Citizen = Static<typeof Citizen>

/** The complaint's own fields (API.md "Complaints"). */
export const ComplaintViewFields = Type.Object({
  type: Type.Optional(Type.String()),
  citizen: Type.Optional(Citizen),
  content: Type.Optional(Type.String()),
  urgent: Type.Optional(Type.Boolean()),
  /** Every dispatch in order (the last is current unless returned); each was signed for, returned, or neither. */
  dispatches: Type.Optional(Type.Array(Type.Object({
    organizationId: Type.String(), at: Type.String(), signedAt: Type.Optional(Type.String()),
    returnedAt: Type.Optional(Type.String()), returnReason: Type.Optional(Type.String()),
  }))),
  /** The latest answer, by whoever handled it. */
  answer: Type.Optional(Type.Object({ text: Type.String(), by: Type.String(), at: Type.String() })),
  /** The latest reply the owner gave the citizen. */
  reply: Type.Optional(Type.Object({ message: Type.String(), at: Type.String() })),
  callbacks: Type.Optional(Type.Array(Type.Object({ satisfied: Type.Boolean(), note: Type.Optional(Type.String()), at: Type.String() }))),
})

/** The fulfilment's own fields (API.md "Policy fulfilment"); the beneficiary is the `applicant`. */
export const FulfilmentViewFields = Type.Object({
  policyCode: Type.Optional(Type.String()),
  policyVersion: Type.Optional(Type.Integer()),
  /** The policy's mode: no_application (免申即享), confirm (意愿确认) or application. */
  mode: Type.Optional(Type.String()),
  /** In fen. */
  amount: Type.Optional(Type.Integer()),
  campaignId: Type.Optional(Type.String()),
  confirmation: Type.Optional(Type.Object({ at: Type.String(), by: Type.String() })),
  verification: Type.Optional(Type.Object({
    at: Type.String(), by: Type.String(), automatic: Type.Boolean(), note: Type.Optional(Type.String()),
  })),
  /** Each wait for the budget (rule 25): since when, and until when the money was there again. */
  budgetWaits: Type.Optional(Type.Array(Type.Object({ since: Type.String(), until: Type.Optional(Type.String()) }))),
  payment: Type.Optional(Type.Object({ status: Type.String(), reference: Type.String(), paidAt: Type.String() })),
  /** The payment adapter refused the payment for good, and why (flag `payment_refused`). */
  paymentRefusal: Type.Optional(Type.Object({ at: Type.String(), reason: Type.String() })),
  /** How a case that paid nothing ended: declined (by the beneficiary, or the confirmation window passed) or rejected. */
  ending: Type.Optional(Type.Object({
    status: Type.String(), at: Type.String(), by: Type.String(), reason: Type.Optional(Type.String()),
  })),
})

/** A case as every endpoint returns it: the shared core plus each kind's own (optional) fields. */
export const CaseView = Type.Object({
  ...CaseCoreView.properties,
  ...ApplicationViewFields.properties,
  ...EscalationViewFields.properties,
  ...ComplaintViewFields.properties,
  ...FulfilmentViewFields.properties,
})
export type CaseView = Static<typeof CaseView>

export const CaseEvent = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  at: Type.String(),
  type: Type.String(),
  actor: Actor,
  data: Type.Record(Type.String(), Type.Unknown()),
})
export type CaseEvent = Static<typeof CaseEvent>

/** An event with the case as it stood right after it: what the projection stores. */
export interface RecordedEvent {
  event: CaseEvent
  view: CaseView
}

/** Queue order: green channel and urgent first (DOMAIN rule 16). */
export function priorityRank(priority: Priority): number {
  return (priority.greenChannel ? 0 : 1) + (priority.urgent ? 0 : 1)
}

/** The people a view names, whose numbers are personal data: an application's applicant, an escalation's complainant, a work order's citizen. */
export const CASE_PEOPLE = ['applicant', 'complainant', 'citizen'] as const

/** Shows the first four and last four characters: `4401**********1234`. */
export function maskIdNumber(idNumber: string): string {
  if (idNumber.length <= 8) return `${idNumber.slice(0, 1)}${'*'.repeat(Math.max(0, idNumber.length - 1))}`
  return `${idNumber.slice(0, 4)}${'*'.repeat(idNumber.length - 8)}${idNumber.slice(-4)}`
}
