import type { CalendarData } from '../calendar.ts'
import { WorkingCalendar } from '../calendar.ts'
import { parseActionParams, refuseUnsafeText } from '../case/action.ts'
import { CaseCore, type CaseOpening, type CoreState } from '../case/core.ts'
import type { CaseView, RecordedEvent } from '../case-view.ts'
import type { TrackedDeadline } from '../deadline-book.ts'
import { validateLimit } from '../limit.ts'
import { Refusal } from '../refusal.ts'
import type { Actor } from '../roles.ts'
import { COMPLAINT_ACTIONS } from './actions.ts'
import {
  ComplaintFiling, type ComplaintLimits, type ComplaintStatus, dispatchOfKey, handleKey, replyKey, signKey,
} from './terms.ts'

type Dispatch = NonNullable<CaseView['dispatches']>[number]

/** A work order as plain data: workflow input and continue-as-new state. */
export interface ComplaintState extends CoreState {
  status: ComplaintStatus
  /** Rule 27: who received it owns it until it is closed, whoever handles it. Never changes. */
  ownerOrganizationId: string
  filing: ComplaintFiling
  limits: ComplaintLimits
  dispatches: Dispatch[]
  answer?: NonNullable<CaseView['answer']>
  reply?: NonNullable<CaseView['reply']>
  callbacks: NonNullable<CaseView['callbacks']>
  closure?: NonNullable<CaseView['closure']>
}

/** What starts a work order: what the citizen brought, who took it, and the limits it gets. */
export interface ComplaintReceipt {
  id: string
  filing: ComplaintFiling
  actor: Actor
  limits: ComplaintLimits
}

/**
 * One 12345 work order (工单): received by a hotline or a window that owns it for good (rule 27),
 * dispatched to a unit that signs for it or returns it, answered, replied to, called back and
 * closed, or reopened when the citizen is not satisfied (rule 28). Its actions, one spec each, are
 * in actions.ts; here are the steps they share and who owes each deadline.
 */
export class ComplaintCase extends CaseCore<ComplaintState> {
  protected get actions() {
    return COMPLAINT_ACTIONS
  }

  /** A new work order's status and handler: the organisation that received it. */
  static opening(actor: Actor) {
    return { status: 'received', handlingOrganizationId: actor.organizationId } as const satisfies CaseOpening
  }

  /** A new work order, its reply deadline running from receipt; its first event names the limits it got. */
  static receive(input: ComplaintReceipt & { calendar: CalendarData; at: string }): { complaint: ComplaintCase; recorded: RecordedEvent[] } {
    ComplaintCase.checkReceipt(input)
    const { filing, actor, at, limits } = input
    const state: ComplaintState = {
      id: input.id,
      ...ComplaintCase.opening(actor),
      seq: 0,
      receivedBy: actor.organizationId,
      ownerOrganizationId: actor.organizationId,
      filing,
      limits,
      flags: [],
      overdue: false,
      deadlines: [],
      createdAt: at,
      updatedAt: at,
      supervisions: [],
      supervision: { respondWithin: limits.supervisionRespond, parents: {} },
      dispatches: [],
      callbacks: [],
    }
    const complaint = new ComplaintCase(state, WorkingCalendar.from(input.calendar))
    complaint.startReply(1, at)
    complaint.record('received', actor, at, { type: filing.type, channel: filing.channel, urgent: filing.urgent === true, limits })
    return { complaint, recorded: complaint.drain() }
  }

  /**
   * The one check of a new work order, in the workflow as at the HTTP edge: the filing's schema,
   * limits that parse, and no text Postgres or JSON cannot carry anywhere it would be recorded.
   */
  static checkReceipt(input: Pick<ComplaintReceipt, 'filing' | 'actor' | 'limits'>): void {
    refuseUnsafeText(input, '', 'the work order')
    parseActionParams('the work order', ComplaintFiling, input.filing)
    for (const limit of Object.values(input.limits)) validateLimit(limit)
  }

  static resume(state: ComplaintState, calendar: CalendarData): ComplaintCase {
    return new ComplaintCase(state, WorkingCalendar.from(calendar))
  }

  /** Closed ends it; until then the owner still has something to do. */
  get isOpen(): boolean {
    return isOpenComplaint(this.state)
  }

  view(now: string): CaseView {
    const { state } = this
    const { filing } = state
    const view: CaseView = {
      ...this.coreView(now),
      kind: 'complaint',
      channel: filing.channel,
      priority: { greenChannel: false, urgent: filing.urgent === true },
      ownerOrganizationId: state.ownerOrganizationId,
      type: filing.type,
      citizen: filing.citizen,
      content: filing.content,
      urgent: filing.urgent === true,
      dispatches: state.dispatches,
      answer: state.answer,
      reply: state.reply,
      callbacks: state.callbacks,
      closure: state.closure,
    }
    // A deep copy, so a recorded view never changes when the state moves on (and without the
    // fields not given yet: JSON leaves out what is undefined).
    return JSON.parse(JSON.stringify(view)) as CaseView
  }

  // ---- steps the actions share ---------------------------------------------------------------

  /** Rule 27: only the organisation that received the order dispatches, replies, calls back and closes. */
  requireOwner(actor: Actor, what: string): void {
    if (actor.organizationId !== this.state.ownerOrganizationId) {
      throw new Refusal('forbidden', `only ${this.state.ownerOrganizationId}, which received this work order, may ${what} it`)
    }
  }

  /** The dispatch in force while dispatched: the last one (a returned one leaves the order received). */
  get currentDispatch(): Dispatch | undefined {
    return this.state.status === 'dispatched' ? this.state.dispatches.at(-1) : undefined
  }

  /** Hands the order to `organizationId`; rule 28: it signs for it within the sign limit. Returns the dispatch's number. */
  dispatchTo(organizationId: string, at: string): number {
    const { state } = this
    state.dispatches.push({ organizationId, at })
    const n = state.dispatches.length
    state.status = 'dispatched'
    state.handlingOrganizationId = organizationId
    this.book.start('sign', signKey(n), { limit: state.limits.sign, startAt: at })
    return n
  }

  /** Back to the owner, who dispatches it or answers it itself. */
  backToOwner(): void {
    this.state.status = 'received'
    this.state.handlingOrganizationId = this.state.ownerOrganizationId
  }

  /** Ends the last dispatch's own clocks still running (a re-dispatch, a return, an answer); none when there was none. */
  settleDispatch(state: 'met' | 'cancelled', at: string): void {
    const n = this.state.dispatches.length
    this.book.settle(signKey(n), state, at)
    this.book.settle(handleKey(n), state, at)
  }

  /** A reply deadline of round `round`, from `at`, with the limit the case got at receipt. */
  startReply(round: number, at: string): string {
    const key = replyKey(round)
    this.book.start('reply', key, { limit: this.state.limits.reply, startAt: at })
    return key
  }

  /** The reply deadline now running or last run: the latest round's. */
  get replyRound(): number {
    return this.book.items.filter((d) => d.kind === 'reply').length
  }

  // ---- what time does ---------------------------------------------------------------------

  /** The reply is the owner's to give; signing and handling are owed by the unit dispatched to. */
  protected override ownerOf(deadline: TrackedDeadline): string {
    if (deadline.kind === 'reply') return this.state.ownerOrganizationId
    if (deadline.kind === 'sign' || deadline.kind === 'handle') return this.state.dispatches[dispatchOfKey(deadline.key) - 1]!.organizationId
    return super.ownerOf(deadline)
  }
}

/** Open until closed. */
export function isOpenComplaint(state: { status: string }): boolean {
  return state.status !== 'closed'
}

/** Rule 27: the owner and every unit it was ever dispatched to keep seeing it. */
export function complaintParticipants(view: Pick<CaseView, 'ownerOrganizationId' | 'dispatches' | 'handlingOrganizationId'>): string[] {
  const owner = view.ownerOrganizationId ?? view.handlingOrganizationId
  return [...new Set([owner, ...(view.dispatches ?? []).map((d) => d.organizationId)])]
}
