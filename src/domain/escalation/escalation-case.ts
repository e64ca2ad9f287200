import { Type, type Static } from 'typebox'
import type { CalendarData } from '../calendar.ts'
import { WorkingCalendar } from '../calendar.ts'
import { parseActionParams, refuseUnsafeText, Text } from '../case/action.ts'
import { CaseCore, type CaseOpening, type CoreState } from '../case/core.ts'
import { type CaseView, Complainant, type RecordedEvent } from '../case-view.ts'
import type { TrackedDeadline } from '../deadline-book.ts'
import type { Limit } from '../limit.ts'
import { DEFAULT_LIMIT_SETTINGS, type LimitSettings } from '../limit-settings.ts'
import { Refusal } from '../refusal.ts'
import type { Actor } from '../roles.ts'
import { ESCALATION_ACTIONS } from './actions.ts'

export const ESCALATION_STATUSES = [
  'received', 'accepted', 'assigned', 'responded', 'feedback_given', 'closed', 'rejected',
] as const
export type EscalationStatus = (typeof ESCALATION_STATUSES)[number]

/** Rule 21: why the applicant escalates. */
export const ESCALATION_CATEGORIES = ['not_told_once', 'materials_refused', 'overdue', 'other'] as const
export type EscalationCategory = (typeof ESCALATION_CATEGORIES)[number]

/** The roles that take escalations in (the "can't get it done" window, and the hotline). */
export const FILING_ROLES = ['window', 'hotline'] as const

/**
 * What the applicant brings to the window: the body of `POST /v1/escalations`, read by this one
 * schema at the HTTP edge and again when the workflow takes the case in.
 */
export const EscalationFiling = Type.Object({
  category: Type.Enum(ESCALATION_CATEGORIES),
  relatedCaseId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  complainant: Complainant,
  description: Text(4000),
}, { additionalProperties: false })
export type EscalationFiling = Static<typeof EscalationFiling>

/**
 * The limits a case takes from the settings when it is filed (rule 22's defaults) and keeps for
 * its whole life: a running case is not moved by a change of settings.
 */
export interface EscalationLimits {
  accept: Limit
  handle: Limit
  feedback: Limit
  /** How long a supervision record may wait for its answer before the next level takes it. */
  supervisionRespond: Limit
}

export function escalationLimits(settings: LimitSettings = DEFAULT_LIMIT_SETTINGS): EscalationLimits {
  return {
    accept: settings['escalation.accept'],
    handle: settings['escalation.handle'],
    feedback: settings['escalation.feedback'],
    supervisionRespond: settings['supervision.respond'],
  }
}

type Assignment = NonNullable<CaseView['assignments']>[number]

/** Everything an escalation needs to run, as plain data: workflow input and continue-as-new state. */
export interface EscalationState extends CoreState {
  status: EscalationStatus
  filing: EscalationFiling
  /** Rule 27: the organisation that took it in owns it until it is closed, whoever handles it. */
  ownerOrganizationId: string
  channel: (typeof FILING_ROLES)[number]
  /** Who filed it: the actor of `escalation_filed` on the related case. */
  filedBy: Actor
  limits: EscalationLimits
  assignments: Assignment[]
  response?: NonNullable<CaseView['response']>
  feedback?: NonNullable<CaseView['feedback']>
  closure?: NonNullable<CaseView['closure']>
  reopenedAt?: string
  rejection?: NonNullable<CaseView['rejection']>
}

/** The key of the `handle` deadline of the n-th assignment (1-based). */
const handleKey = (n: number) => `handle:${n}`
/** The `feedback` deadline from receipt, and the one a reopening starts. */
export const FEEDBACK_KEYS = { first: 'feedback', reopened: 'feedback:reopened' } as const

/**
 * One escalation (办不成事, rules 21 and 22): the window accepts it, assigns it to the responsible
 * unit (转办), which responds; the window gives the applicant feedback and closes it. Its actions,
 * one spec each, are in actions.ts; here are the steps they share.
 */
export class EscalationCase extends CaseCore<EscalationState> {
  protected get actions() {
    return ESCALATION_ACTIONS
  }

  /** A new escalation's status and handler: the organisation that received it. */
  static opening(actor: Actor) {
    return { status: 'received', handlingOrganizationId: actor.organizationId } as const satisfies CaseOpening
  }

  /** A new escalation, received by the caller's organisation: its `accept` and `feedback` clocks run. */
  static file(input: {
    id: string; filing: EscalationFiling; actor: Actor; calendar: CalendarData; at: string; limits: EscalationLimits
  }): { escalation: EscalationCase; recorded: RecordedEvent[] } {
    EscalationCase.checkFiling(input)
    const { filing, actor, at, limits } = input
    const owner = actor.organizationId
    const state: EscalationState = {
      id: input.id,
      ...EscalationCase.opening(actor),
      seq: 0,
      filing,
      ownerOrganizationId: owner,
      receivedBy: owner,
      channel: actor.role === 'hotline' ? 'hotline' : 'window',
      filedBy: actor,
      limits,
      assignments: [],
      flags: [],
      overdue: false,
      deadlines: [],
      createdAt: at,
      updatedAt: at,
      supervisions: [],
      supervision: { respondWithin: limits.supervisionRespond, parents: {} },
    }
    const escalation = new EscalationCase(state, WorkingCalendar.from(input.calendar))
    escalation.book.start('accept', 'accept', { limit: limits.accept, startAt: at })
    escalation.book.start('feedback', FEEDBACK_KEYS.first, { limit: limits.feedback, startAt: at })
    escalation.record('received', actor, at, {
      category: filing.category, ...(filing.relatedCaseId !== undefined ? { relatedCaseId: filing.relatedCaseId } : {}), limits,
    })
    return { escalation, recorded: escalation.drain() }
  }

  /**
   * Refuses a filing that is not what the edge takes (the same schema), one its first event could
   * never carry (U+0000, a lone surrogate), and one from a role that takes no escalations in.
   */
  static checkFiling(input: { filing: EscalationFiling; actor: Actor }): void {
    refuseUnsafeText({ filing: input.filing, actor: input.actor }, '', 'the escalation')
    parseActionParams('the escalation', EscalationFiling, input.filing)
    if (!(FILING_ROLES as readonly string[]).includes(input.actor.role)) {
      throw new Refusal('forbidden', `role ${input.actor.role} takes no escalations in (needs ${FILING_ROLES.join(' or ')})`)
    }
  }

  static resume(state: EscalationState, calendar: CalendarData): EscalationCase {
    return new EscalationCase(state, WorkingCalendar.from(calendar))
  }

  get isOpen(): boolean {
    return isOpenEscalation(this.state)
  }

  view(now: string): CaseView {
    const { state } = this
    const view: CaseView = {
      ...this.coreView(now),
      kind: 'escalation',
      channel: state.channel,
      priority: { greenChannel: false, urgent: false },
      ownerOrganizationId: state.ownerOrganizationId,
      category: state.filing.category,
      complainant: state.filing.complainant,
      description: state.filing.description,
      assignments: state.assignments,
    }
    Object.assign(view, {
      relatedCaseId: state.filing.relatedCaseId, response: state.response, feedback: state.feedback, closure: state.closure,
      reopenedAt: state.reopenedAt, rejection: state.rejection,
    })
    // A deep copy, so a recorded view never changes when the state moves on; fields not set drop out.
    return JSON.parse(JSON.stringify(view)) as CaseView
  }

  // ---- steps the actions share ---------------------------------------------------------------

  /** Refuses a window of another organisation: only the owner's window acts for the owner; a supervisor may. */
  requireOwnerDesk(actor: Actor): void {
    if (actor.role === 'supervisor') return
    if (actor.organizationId !== this.state.ownerOrganizationId) {
      throw new Refusal('forbidden', `only ${this.state.ownerOrganizationId}, which owns this escalation, may do this`)
    }
  }

  /** The organisation the escalation is assigned to now; undefined before the first assignment. */
  get assignee(): string | undefined {
    return this.state.assignments.at(-1)?.organizationId
  }

  /** Hands the escalation to `organizationId` with its own `handle` clock; a running one of an earlier assignment stops. */
  assign(organizationId: string, within: Limit | undefined, at: string): void {
    const { state } = this
    this.book.settle(this.handleKey, 'cancelled', at)
    state.assignments.push({ organizationId, at, ...(within ? { within } : {}) })
    state.status = 'assigned'
    state.handlingOrganizationId = organizationId
    this.book.start('handle', this.handleKey, { limit: within ?? state.limits.handle, startAt: at })
  }

  /** The `handle` deadline of the current assignment. */
  get handleKey(): string {
    return handleKey(this.state.assignments.length)
  }

  /** The `feedback` deadline running now: the first one, or the one a reopening started. */
  get feedbackKey(): string {
    return this.state.reopenedAt === undefined ? FEEDBACK_KEYS.first : FEEDBACK_KEYS.reopened
  }

  // ---- who owes what ------------------------------------------------------------------------

  /**
   * Each assignee owes its own `handle`; the owner owes accepting and feedback (rule 27). A
   * supervision record's answer is owed by the organisation it names (the kernel says so first).
   */
  protected override ownerOf(deadline: TrackedDeadline): string {
    if (deadline.kind !== 'handle') return this.state.ownerOrganizationId
    return this.state.assignments[Number(deadline.key.slice('handle:'.length)) - 1]!.organizationId
  }
}

/** What says whether an escalation is open: its state, or its view. */
type OpenFacts = { status: string; closure?: { satisfied?: boolean | undefined } | undefined; reopenedAt?: string | undefined }

/**
 * Rejected and closed escalations have ended, except one closed unsatisfied that has not been
 * reopened yet: the owner's window may still reopen it (once), so its workflow waits for that.
 */
export function isOpenEscalation(state: OpenFacts): boolean {
  if (state.status === 'rejected') return false
  if (state.status !== 'closed') return true
  return state.closure?.satisfied === false && state.reopenedAt === undefined
}

/** The owner and every organisation it was ever assigned to take part: they keep seeing it. */
export function escalationParticipants(view: Pick<CaseView, 'ownerOrganizationId' | 'assignments'>): string[] {
  return [...new Set([...(view.ownerOrganizationId ? [view.ownerOrganizationId] : []), ...(view.assignments ?? []).map((a) => a.organizationId)])]
}
