import type { CalendarData } from '../calendar.ts'
import { WorkingCalendar } from '../calendar.ts'
import { type CaseCommand, refuseUnsafeText } from '../case/action.ts'
import { CaseCore, type CaseOpening, SYSTEM_ACTOR } from '../case/core.ts'
import {
  awaitsRating, type CaseLimits, caseLimits, CURRENT_RULES, type RatedState, rateByDefault, rulesOf, startRatingPeriod,
} from '../case/rating.ts'
import {
  type Applicant, type AttachedMaterial, type CaseView, type DeadlineState, isPending, type Priority, type RecordedEvent,
} from '../case-view.ts'
import type { DeadlineTransition, TrackedDeadline } from '../deadline-book.ts'
import type { Limit } from '../limit.ts'
import { Refusal } from '../refusal.ts'
import type { Actor } from '../roles.ts'
import { ruleHolds } from '../rules.ts'
import type { Guide } from '../service-item.ts'
import { APPLICATION_ACTIONS, opinionKey } from './actions.ts'
import { approvalFacts } from './auto-approval.ts'
import { ENDED_STATUSES, JOINT_HANDLING } from './terms.ts'

export { type CaseLimits, caseLimits } from '../case/rating.ts'
export { CURRENT_RULES, RATING_LEVELS } from '../case/rating.ts'
export { SYSTEM_ACTOR } from '../case/core.ts'
export { opinionKey } from './actions.ts'

export const APPLICATION_STATUSES = [
  'submitted', 'supplement_requested', 'accepted', 'rejected', 'suspended', 'approved', 'denied',
  'result_issued', 'completed', 'withdrawn', 'revoked',
] as const
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number]

export interface ApplicationSubmission {
  applicant: Applicant
  channel: string
  priority: Priority
  /** Materials the applicant handed in, plus those pre-review found in shared data. */
  materials: AttachedMaterial[]
  submittedOnBehalfBy?: string
}

/** Everything an application needs to run, as plain data: workflow input and continue-as-new state. */
export interface ApplicationState extends RatedState {
  status: ApplicationStatus
  guide: Guide
  submission: ApplicationSubmission
  missingMaterials: string[]
  supplementRequests: Array<{ missing: string[]; note: string; at: string }>
  opinions: NonNullable<CaseView['opinions']>
  decision?: { outcome: string; note?: string; at: string }
  suspension?: { reason: string; note: string; since: string }
  extension?: { workingDays: number; approvedBy: string; reason: string; at: string }
  result?: NonNullable<CaseView['result']>
  /** Joint handling (并联审批) began: the statutory limit is 45 working days, an extension up to 15 (rule 10). */
  jointHandling?: NonNullable<CaseView['jointHandling']>
  /**
   * What the first supplement request could have named (rule 6): the materials present or listed
   * missing when it was given, and those handed in with a supplement since.
   */
  oneTimeNotice?: { couldName: string[]; arrivedSince: string[] }
  /** Materials deferred at acceptance (容缺, rule 35), each with when it arrived. */
  deferredMaterials?: NonNullable<CaseView['deferredMaterials']>
  /** The written commitment accepted in place of proof (告知承诺, rule 36), and its check. */
  commitment?: NonNullable<CaseView['commitment']>
  revocation?: NonNullable<CaseView['revocation']>
}

/** What acceptance may carry besides (rules 35 and 36). */
export interface AcceptanceTerms {
  deferred?: string[]
  commitment?: { text: string; verifyWithin: Limit }
}

export { ENDED_STATUSES, JOINT_HANDLING, STATUTORY_PAUSES } from './terms.ts'

/** A command as it reaches an application (any case: the kernel's command). */
export type ApplicationCommand = CaseCommand

/**
 * One application (办件): the kernel's case with the application's own steps. Its actions, one
 * spec each, are in actions.ts; here are the steps they share and what time does to it.
 */
export class ApplicationCase extends CaseCore<ApplicationState> {
  protected get actions() {
    return APPLICATION_ACTIONS
  }

  /** A submitted application's status and handler, before pre-review or any rule has run. */
  static opening(guide: Guide) {
    return { status: 'submitted', handlingOrganizationId: guide.departmentId } as const satisfies CaseOpening
  }

  /**
   * A new case at submission: pre-review done (missing materials listed), acceptance clock
   * running. Instant items and items whose auto-approval rule holds are decided on the spot.
   */
  static submit(input: {
    id: string; guide: Guide; submission: ApplicationSubmission; actor: Actor; calendar: CalendarData; at: string
    limits?: CaseLimits
    /** The rules the case follows (default: the current ones); the workflow keeps older cases on theirs. */
    rulesVersion?: number
  }): { application: ApplicationCase; recorded: RecordedEvent[] } {
    ApplicationCase.checkSubmission(input)
    const { guide, submission, at } = input
    const provided = new Set(submission.materials.map((m) => m.code))
    const state: ApplicationState = {
      id: input.id,
      guide,
      submission,
      limits: input.limits ?? caseLimits(),
      receivedBy: input.actor.organizationId,
      ...ApplicationCase.opening(guide),
      seq: 0,
      missingMaterials: guide.materials.filter((m) => m.required && !provided.has(m.code)).map((m) => m.code),
      flags: submission.priority.greenChannel || submission.priority.urgent ? ['priority'] : [],
      overdue: false,
      deadlines: [],
      createdAt: at,
      updatedAt: at,
      supplementRequests: [],
      opinions: [],
      supervisions: [],
      rulesVersion: input.rulesVersion ?? CURRENT_RULES,
    }
    // Levelled supervision (API.md "What every case kind shares") for cases given its limit.
    const respondWithin = state.limits.supervisionRespond
    if (respondWithin) state.supervision = { respondWithin, parents: {} }
    const application = new ApplicationCase(state, WorkingCalendar.from(input.calendar))
    application.startAcceptanceClock(at)
    application.record('submitted', input.actor, at, {
      serviceItemCode: guide.code,
      serviceItemVersion: guide.version,
      materials: submission.materials.map((m) => ({ code: m.code, source: m.source })),
      missingMaterials: state.missingMaterials,
      ...(submission.submittedOnBehalfBy ? { submittedOnBehalfBy: submission.submittedOnBehalfBy } : {}),
    })
    application.decideOnTheSpot(input.actor, at)
    return { application, recorded: application.drain() }
  }

  /**
   * Refuses a submission holding text that Postgres or JSON cannot carry (U+0000, a lone
   * surrogate) anywhere it would be recorded: its first event could never reach the read side.
   */
  static checkSubmission(input: { guide: Guide; submission: ApplicationSubmission; actor: Actor; preReviewed?: AttachedMaterial[] }): void {
    const { guide, submission, actor, preReviewed } = input
    // What pre-review found comes from a data exchange the city plugs in: checked as what the window sent.
    refuseUnsafeText({ guide, submission, actor, preReviewed }, '', 'the application')
  }

  static resume(state: ApplicationState, calendar: CalendarData): ApplicationCase {
    return new ApplicationCase(state, WorkingCalendar.from(calendar))
  }

  /** Whether the case still has something to wait for (a decision, a rating, a call-back). */
  get isOpen(): boolean {
    return isOpenApplication(this.state)
  }

  view(now: string): CaseView {
    const { state } = this
    const view: CaseView = {
      ...this.coreView(now),
      kind: 'application',
      serviceItemCode: state.guide.code,
      serviceItemVersion: state.guide.version,
      applicant: state.submission.applicant,
      channel: state.submission.channel,
      priority: state.submission.priority,
      materials: state.submission.materials,
      missingMaterials: state.missingMaterials,
      supplementRequests: state.supplementRequests,
      opinions: state.opinions,
      escalationEligible: escalationEligible(state),
    }
    const optional = {
      submittedOnBehalfBy: state.submission.submittedOnBehalfBy, decision: state.decision, suspension: state.suspension,
      extension: state.extension, result: state.result, rating: state.rating, rectification: state.rectification,
      jointHandling: state.jointHandling, deferredMaterials: state.deferredMaterials, commitment: state.commitment,
      revocation: state.revocation,
    }
    for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(view, { [key]: value })
    return structuredCloneable(view)
  }

  // ---- steps the actions share ---------------------------------------------------------------

  startAcceptanceClock(at: string): void {
    const { guide } = this.state
    this.book.start('acceptance', 'acceptance', { limit: guide.acceptanceLimit, startAt: at, warnBefore: guide.warnBefore })
  }

  /** The rules this case follows (see CURRENT_RULES). */
  get rules(): number {
    return rulesOf(this.state)
  }

  acceptAt(clockStart: string, type: 'accepted' | 'deemed_accepted', actor: Actor, at: string, terms: AcceptanceTerms = {}): void {
    const { guide, limits } = this.state
    this.state.status = 'accepted'
    this.book.settle('acceptance', type === 'accepted' ? 'met' : 'cancelled', at)
    const warnBefore = guide.warnBefore
    this.book.start('promised', 'promised', { limit: guide.promisedLimit, startAt: clockStart, warnBefore })
    this.book.start('statutory', 'statutory', { limit: guide.statutoryLimit, startAt: clockStart, warnBefore })
    // Rules 35 and 36: these run beside the others, and past the decision.
    const { deferred, commitment } = terms
    if (deferred) {
      this.state.deferredMaterials = deferred.map((code) => ({ code }))
      const limit = limits.deferredMaterials ?? caseLimits().deferredMaterials!
      this.book.start('deferred_materials', 'deferred_materials', { limit, startAt: at, warnBefore })
    }
    if (commitment) {
      this.state.commitment = { text: commitment.text, verifyWithin: commitment.verifyWithin, at }
      this.book.start('verification', 'verification', { limit: commitment.verifyWithin, startAt: at })
    }
    this.record(type, actor, at, { clockStart, ...(deferred ? { deferred } : {}), ...(commitment ? { commitment } : {}) })
  }

  /** Deferred materials still outstanding. */
  outstandingDeferred(): string[] {
    return (this.state.deferredMaterials ?? []).filter((m) => m.receivedAt === undefined).map((m) => m.code)
  }

  /** Why the approval may be revoked now (rules 35 and 36); empty when it may not. */
  revocationGrounds(): string[] {
    return revocationGrounds(this.state)
  }

  /** The longest extension this case may get: the item's, or joint handling's when longer (rule 10). */
  get maxExtensionWorkingDays(): number {
    const own = this.state.guide.maxExtensionWorkingDays
    return this.state.jointHandling ? Math.max(own, JOINT_HANDLING.maxExtensionWorkingDays) : own
  }

  decide(approved: boolean, actor: Actor, at: string, note: string | undefined): void {
    const { state } = this
    state.status = approved ? 'approved' : 'denied'
    state.decision = { outcome: state.status, at, ...(note ? { note } : {}) }
    this.book.settle('promised', 'met', at)
    this.book.settle('statutory', 'met', at)
    // A denial leaves nothing to revoke: deferred materials and a commitment's check are moot.
    if (!approved) for (const key of ['deferred_materials', 'verification']) this.book.settle(key, 'cancelled', at)
    // Art. 44: the result is issued and delivered within its own limit of the decision.
    this.book.start('result', 'result', { limit: state.guide.resultLimit, startAt: at, warnBefore: state.guide.warnBefore })
    this.record(state.status, actor, at, note ? { [approved ? 'note' : 'reason']: note } : {})
  }

  startRatingPeriod(at: string): void {
    startRatingPeriod(this, at)
  }

  pendingOpinion(organizationId: string): boolean {
    return this.state.opinions.some((o) => o.organizationId === organizationId && !o.givenAt)
  }

  /** No decision while an opinion is still awaited within its limit. */
  refuseWhileAwaitingOpinions(): void {
    const waiting = this.state.opinions.filter((o) => !o.givenAt && this.book.isOpen(opinionKey(o.organizationId)))
    if (waiting.length > 0) {
      throw new Refusal('invalid_transition', `waiting for opinions from ${waiting.map((o) => o.organizationId).join(', ')}`)
    }
  }

  // ---- what time does ---------------------------------------------------------------------

  protected override onKindDeadline({ deadline, change }: DeadlineTransition, at: string): 'handled' | 'default' {
    if (deadline.kind === 'acceptance') {
      // Art. 32: no decision within the limit means accepted from the day materials were received.
      if (change === 'missed') this.acceptAt(deadline.spec.startAt, 'deemed_accepted', SYSTEM_ACTOR, at)
      return 'handled'
    }
    if (deadline.kind === 'rating') {
      if (change === 'missed') rateByDefault(this, at)
      return 'handled'
    }
    if (deadline.kind === 'deferred_materials' && change === 'missed') {
      // The applicant owed them, not the department: no overdue mark, no supervision. The approval
      // may now be revoked (rule 35).
      this.record('deferred_materials_missed', SYSTEM_ACTOR, at, { outstanding: this.outstandingDeferred() })
      return 'handled'
    }
    return 'default'
  }

  /** A late opinion is owed by the organisation asked for it; every other step by the handler. */
  protected override ownerOf(deadline: TrackedDeadline): string {
    return deadline.kind === 'opinion' ? deadline.key.slice('opinion:'.length) : this.state.handlingOrganizationId
  }

  /** Instant items and auto-approval rules: decided at submission when nothing is missing. */
  private decideOnTheSpot(actor: Actor, at: string): void {
    const { guide, missingMaterials, submission } = this.state
    if (missingMaterials.length > 0) return
    if (guide.processing === 'instant') {
      this.acceptAt(at, 'accepted', actor, at)
      this.decide(true, actor, at, 'instant item, decided on the spot')
      return
    }
    // A rule that cannot be evaluated does not hold: the case waits for a person, never freezes.
    if (guide.autoApprove !== undefined && ruleHolds(guide.autoApprove, approvalFacts(submission))) {
      this.acceptAt(at, 'accepted', SYSTEM_ACTOR, at)
      this.decide(true, SYSTEM_ACTOR, at, 'approved automatically by the item\'s rule')
    }
  }
}

/**
 * Rule 21: the applicant may escalate (办不成事) a case that is overdue, whose one-time notice was
 * broken (rule 6), or that was rejected.
 */
export function escalationEligible(state: Pick<ApplicationState, 'overdue' | 'flags' | 'status'>): boolean {
  return state.overdue || state.flags.includes('one_time_notice_violation') || state.status === 'rejected'
}

/** What says whether an application is open: its state, or its view. */
type OpenFacts = { status: string; deadlines?: ReadonlyArray<{ kind: string; state: DeadlineState }> }
  & Pick<ApplicationState, 'rating' | 'rectification' | 'decision' | 'deferredMaterials' | 'commitment'>

/**
 * Open until its service has ended (completed, rejected, withdrawn, revoked) and nothing is left:
 * no rating or call-back awaited once a rating period began (a completed case always has one),
 * no deferred materials or commitment check still running, and no ground to revoke an approval
 * that the department has not acted on.
 */
export function isOpenApplication(state: OpenFacts): boolean {
  const { status } = state
  if (!(ENDED_STATUSES as readonly string[]).includes(status)) return true
  const deadlines = state.deadlines ?? []
  if (deadlines.some((d) => (d.kind === 'deferred_materials' || d.kind === 'verification') && isPending(d))) return true
  if (status !== 'revoked' && revocationGrounds(state).length > 0) return true
  return (status === 'completed' || deadlines.some((d) => d.kind === 'rating')) && awaitsRating(state)
}

/** Grounds to revoke an approval: deferred materials not handed in by their deadline (rule 35), a commitment found false (rule 36). */
export function revocationGrounds(state: OpenFacts): string[] {
  if (state.decision?.outcome !== 'approved' || state.status === 'revoked') return []
  const grounds: string[] = []
  const deferredMissed = (state.deadlines ?? []).some((d) => d.kind === 'deferred_materials' && d.state === 'missed')
  if (deferredMissed && (state.deferredMaterials ?? []).some((m) => m.receivedAt === undefined)) grounds.push('deferred_materials_missing')
  if (state.commitment?.check?.holds === false) grounds.push('commitment_false')
  return grounds
}

/** A deep copy, so a recorded view never changes when the state moves on. */
function structuredCloneable<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}
