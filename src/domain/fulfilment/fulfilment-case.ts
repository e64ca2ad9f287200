import type { CalendarData } from '../calendar.ts'
import { WorkingCalendar } from '../calendar.ts'
import { parseActionParams, refuseUnsafeText } from '../case/action.ts'
import { CaseCore, type CaseOpening, type CoreState, SYSTEM_ACTOR } from '../case/core.ts'
import type { CaseView, RecordedEvent } from '../case-view.ts'
import type { DeadlineTransition } from '../deadline-book.ts'
import { validateLimit } from '../limit.ts'
import { Refusal } from '../refusal.ts'
import type { Actor } from '../roles.ts'
import { FULFILMENT_ACTIONS } from './actions.ts'
import { ENDED_STATUSES, FulfilmentOpening, type FulfilmentLimits, type FulfilmentStatus, type Payee } from './terms.ts'

/** A fulfilment case as plain data: workflow input and continue-as-new state. */
export interface FulfilmentState extends CoreState {
  status: FulfilmentStatus
  policy: FulfilmentOpening['policy']
  payee: Payee
  amount: number
  campaignId?: string
  limits: FulfilmentLimits
  confirmation?: { at: string; by: string }
  verification?: { at: string; by: string; automatic: boolean; note?: string }
  /** Each time the case found the budget spent, and when the money was there again. */
  budgetWaits: Array<{ since: string; until?: string }>
  payment?: { status: 'paid'; reference: string; paidAt: string }
  /** The treasury refused the payment for good (a closed account): the department rejects, or sees to it. */
  paymentRefusal?: { at: string; reason: string }
  ending?: { status: 'declined' | 'rejected'; at: string; reason?: string; by: string }
}

/** What opens a case: the opening (policy terms, beneficiary, amount), who opened it, and the limits it keeps. */
export interface FulfilmentStart {
  id: string
  opening: FulfilmentOpening
  actor: Actor
  limits: FulfilmentLimits
}

/** What the case's own work must do next, if anything: reserve the amount, then pay it. */
export type FulfilmentWork = 'pay' | 'await_budget' | undefined

/**
 * One beneficiary's entitlement under one policy (政策兑现): notified (no application, 免申即享) or
 * submitted (an application), confirmed when the policy asks (意愿确认), verified, paid exactly once
 * within the budget, completed (rules 24 and 25). Its actions, one spec each, are in actions.ts.
 */
export class FulfilmentCase extends CaseCore<FulfilmentState> {
  protected get actions() {
    return FULFILMENT_ACTIONS
  }

  /** A new case's status and handler: notified (submitted, for a policy applied for), by the policy's department. */
  static opening(policy: { mode: string; departmentId: string }) {
    return {
      status: policy.mode === 'application' ? 'submitted' : 'notified', handlingOrganizationId: policy.departmentId,
    } as const satisfies CaseOpening
  }

  /** A new case: notified (or submitted, in `application` mode), its first clock running. */
  static open(input: FulfilmentStart & { calendar: CalendarData; at: string }): { fulfilment: FulfilmentCase; recorded: RecordedEvent[] } {
    FulfilmentCase.checkOpening(input)
    const { opening, actor, at, limits } = input
    const { policy, amount } = opening
    const payee = opening.beneficiary
    const state: FulfilmentState = {
      id: input.id,
      ...FulfilmentCase.opening(policy),
      seq: 0,
      receivedBy: actor.organizationId,
      policy,
      payee,
      amount,
      ...(opening.campaignId ? { campaignId: opening.campaignId } : {}),
      limits,
      flags: [],
      overdue: false,
      deadlines: [],
      createdAt: at,
      updatedAt: at,
      supervisions: [],
      supervision: { respondWithin: limits.supervisionRespond, parents: {} },
      budgetWaits: [],
    }
    const fulfilment = new FulfilmentCase(state, WorkingCalendar.from(input.calendar))
    fulfilment.record(state.status, actor, at, {
      policyCode: policy.code, policyVersion: policy.version, mode: policy.mode, amount,
      ...(opening.campaignId ? { campaignId: opening.campaignId } : {}),
    })
    if (policy.mode === 'confirm') fulfilment.book.start('confirm', 'confirm', { limit: policy.confirmWithin!, startAt: at })
    else fulfilment.awaitVerification(at)
    return { fulfilment, recorded: fulfilment.drain() }
  }

  /** The one check of a new case, in the workflow as at the edges: the opening's schema, its limits, storable text. */
  static checkOpening(input: { opening: FulfilmentOpening; limits?: FulfilmentLimits }): void {
    refuseUnsafeText(input, '', 'the fulfilment')
    parseActionParams('the fulfilment', FulfilmentOpening, input.opening)
    const { policy } = input.opening
    for (const limit of [policy.confirmWithin, policy.verifyWithin, policy.payWithin, input.limits?.supervisionRespond]) {
      if (limit !== undefined) validateLimit(limit)
    }
    if (policy.mode === 'confirm' && !policy.confirmWithin) {
      throw new Refusal('validation_failed', 'a confirm-mode policy says how long the beneficiary has to confirm',
        [{ path: '/policy/confirmWithin', message: 'is required in confirm mode' }])
    }
  }

  static resume(state: FulfilmentState, calendar: CalendarData): FulfilmentCase {
    return new FulfilmentCase(state, WorkingCalendar.from(calendar))
  }

  get isOpen(): boolean {
    return isOpenFulfilment(this.state)
  }

  view(now: string): CaseView {
    const { state } = this
    const view: CaseView = {
      ...this.coreView(now),
      kind: 'fulfilment',
      channel: state.campaignId ? 'campaign' : 'window',
      priority: { greenChannel: false, urgent: false },
      applicant: { type: state.payee.type, name: state.payee.name, idNumber: state.payee.id },
      policyCode: state.policy.code,
      policyVersion: state.policy.version,
      mode: state.policy.mode,
      amount: state.amount,
      campaignId: state.campaignId,
      confirmation: state.confirmation,
      verification: state.verification,
      budgetWaits: state.budgetWaits.length > 0 ? state.budgetWaits : undefined,
      payment: state.payment,
      ending: state.ending,
      paymentRefusal: state.paymentRefusal,
    }
    // A deep copy, so a recorded view never changes when the state moves on.
    return JSON.parse(JSON.stringify(view)) as CaseView
  }

  // ---- steps the actions and the case's own work share ------------------------------------------

  /** Verified at once when the policy says data proves eligibility; otherwise the department's verify clock runs. */
  awaitVerification(at: string): void {
    if (this.state.policy.autoVerify) this.verify(SYSTEM_ACTOR, at, { automatic: true })
    else this.book.start('verify', 'verify', { limit: this.state.policy.verifyWithin, startAt: at })
  }

  verify(actor: Actor, at: string, { automatic, note }: { automatic: boolean; note?: string }): void {
    const { state } = this
    this.book.settle('verify', 'met', at)
    state.status = 'verified'
    state.verification = { at, by: actor.organizationId, automatic, ...(note ? { note } : {}) }
    this.book.start('pay', 'pay', { limit: state.policy.payWithin, startAt: at })
    this.record('verified', actor, at, { automatic, ...(note ? { note } : {}) })
  }

  /** Ends the case without payment: every clock stops. */
  end(status: 'declined' | 'rejected', actor: Actor, at: string, reason?: string): void {
    const { state } = this
    state.status = status
    state.ending = { status, at, by: actor.organizationId, ...(reason ? { reason } : {}) }
    this.book.cancelAll(at)
    this.record(status, actor, at, reason ? { reason } : {})
  }

  /** What the workflow must do on its own now: pay a verified case, or wait for money. */
  get work(): FulfilmentWork {
    if (this.state.status === 'verified' && !this.state.paymentRefusal) return 'pay'
    if (this.state.status === 'budget_exhausted') return 'await_budget'
    return undefined
  }

  /**
   * Rule 25: the budget cannot cover the amount. The case waits, and the department that owns the
   * policy gets a supervision record (which climbs if unanswered) until the budget is raised.
   */
  budgetExhausted(at: string): RecordedEvent[] {
    const { state } = this
    state.status = 'budget_exhausted'
    state.budgetWaits.push({ since: at })
    this.record('budget_exhausted', SYSTEM_ACTOR, at, { amount: state.amount })
    this.superviseStuck(state.policy.departmentId, `the budget of policy ${state.policy.code} cannot cover ${state.amount} fen`, 'pay', at)
    return this.drain()
  }

  /** The amount is reserved after a wait: the case goes on to payment. */
  budgetAvailable(at: string): RecordedEvent[] {
    const { state } = this
    state.status = 'verified'
    state.budgetWaits.at(-1)!.until = at
    this.record('budget_available', SYSTEM_ACTOR, at, { amount: state.amount })
    return this.drain()
  }

  /**
   * The payment was refused for good (the adapter's final no): flagged, the reservation given back
   * by the workflow, and a supervision record on the department, which may reject the case.
   */
  paymentRefused(reason: string, at: string): RecordedEvent[] {
    const { state } = this
    state.paymentRefusal = { at, reason }
    if (!state.flags.includes('payment_refused')) state.flags.push('payment_refused')
    this.record('payment_refused', SYSTEM_ACTOR, at, { reason })
    this.superviseStuck(state.policy.departmentId, `the payment was refused: ${reason}`, 'pay', at)
    return this.drain()
  }

  /** The payment went out (exactly once: the adapter's receipt for this case): paid, then completed. */
  paid(receipt: { reference: string; paidAt: string }, at: string): RecordedEvent[] {
    const { state } = this
    state.payment = { status: 'paid', reference: receipt.reference, paidAt: receipt.paidAt }
    state.status = 'paid'
    this.book.settle('pay', 'met', at)
    this.record('paid', SYSTEM_ACTOR, at, { amount: state.amount, reference: receipt.reference, paidAt: receipt.paidAt })
    state.status = 'completed'
    this.book.cancelAll(at)
    this.record('completed', SYSTEM_ACTOR, at, {})
    return this.drain()
  }

  // ---- what time does ---------------------------------------------------------------------

  /** A confirmation window that passes unanswered declines the entitlement (API.md); nobody is supervised for it. */
  protected override onKindDeadline(transition: DeadlineTransition, at: string): 'handled' | 'default' {
    if (transition.deadline.kind !== 'confirm' || transition.change !== 'missed') return 'default'
    this.end('declined', SYSTEM_ACTOR, at, 'the confirmation window passed')
    return 'handled'
  }
}

/** Open until paid out, declined or rejected. */
export function isOpenFulfilment(state: { status: string }): boolean {
  return !(ENDED_STATUSES as readonly string[]).includes(state.status)
}
