import type { CalendarData } from '../calendar.ts'
import { WorkingCalendar } from '../calendar.ts'
import { type CaseCommand, refuseUnsafeText } from '../case/action.ts'
import { CaseCore, SYSTEM_ACTOR } from '../case/core.ts'
import {
  awaitsRating, type CaseLimits, caseLimits, type RatedState, rateByDefault, startRatingPeriod,
} from '../case/rating.ts'
import type { Applicant, AttachedMaterial, CaseView, Priority, RecordedEvent } from '../case-view.ts'
import type { DeadlineTransition, TrackedDeadline } from '../deadline-book.ts'
import { Refusal } from '../refusal.ts'
import type { Actor } from '../roles.ts'
import { ruleHolds } from '../rules.ts'
import type { Guide } from '../service-item.ts'
import { APPLICATION_ACTIONS, opinionKey } from './actions.ts'
import { approvalFacts } from './auto-approval.ts'

export { type CaseLimits, caseLimits } from '../case/rating.ts'
export { RATING_LEVELS } from '../case/rating.ts'
export { SYSTEM_ACTOR } from '../case/core.ts'
export { opinionKey } from './actions.ts'

export const APPLICATION_STATUSES = [
  'submitted', 'supplement_requested', 'accepted', 'rejected', 'suspended', 'approved', 'denied',
  'result_issued', 'completed', 'withdrawn',
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
}

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

  /**
   * A new case at submission: pre-review done (missing materials listed), acceptance clock
   * running. Instant items and items whose auto-approval rule holds are decided on the spot.
   */
  static submit(input: {
    id: string; guide: Guide; submission: ApplicationSubmission; actor: Actor; calendar: CalendarData; at: string
    limits?: CaseLimits
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
      status: 'submitted',
      seq: 0,
      handlingOrganizationId: guide.departmentId,
      missingMaterials: guide.materials.filter((m) => m.required && !provided.has(m.code)).map((m) => m.code),
      flags: submission.priority.greenChannel || submission.priority.urgent ? ['priority'] : [],
      overdue: false,
      deadlines: [],
      createdAt: at,
      updatedAt: at,
      supplementRequests: [],
      opinions: [],
      supervisions: [],
    }
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
  static checkSubmission(input: { guide: Guide; submission: ApplicationSubmission; actor: Actor }): void {
    const { guide, submission, actor } = input
    refuseUnsafeText({ guide, submission, actor }, '', 'the application')
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
    }
    const optional = {
      submittedOnBehalfBy: state.submission.submittedOnBehalfBy, decision: state.decision, suspension: state.suspension,
      extension: state.extension, result: state.result, rating: state.rating, rectification: state.rectification,
    }
    for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(view, { [key]: value })
    return structuredCloneable(view)
  }

  // ---- steps the actions share ---------------------------------------------------------------

  startAcceptanceClock(at: string): void {
    const { guide } = this.state
    this.book.start('acceptance', 'acceptance', { limit: guide.acceptanceLimit, startAt: at, warnBefore: guide.warnBefore })
  }

  acceptAt(clockStart: string, type: 'accepted' | 'deemed_accepted', actor: Actor, at: string): void {
    const { guide } = this.state
    this.state.status = 'accepted'
    this.book.settle('acceptance', type === 'accepted' ? 'met' : 'cancelled', at)
    const warnBefore = guide.warnBefore
    this.book.start('promised', 'promised', { limit: guide.promisedLimit, startAt: clockStart, warnBefore })
    this.book.start('statutory', 'statutory', { limit: guide.statutoryLimit, startAt: clockStart, warnBefore })
    this.record(type, actor, at, { clockStart })
  }

  decide(approved: boolean, actor: Actor, at: string, note: string | undefined): void {
    const { state } = this
    state.status = approved ? 'approved' : 'denied'
    state.decision = { outcome: state.status, at, ...(note ? { note } : {}) }
    this.book.settle('promised', 'met', at)
    this.book.settle('statutory', 'met', at)
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

/** Closed once rejected or withdrawn, or completed with nothing left to rate or call back. */
export function isOpenApplication(state: { status: string } & Pick<ApplicationState, 'rating' | 'rectification'>): boolean {
  const { status } = state
  if (status === 'rejected' || status === 'withdrawn') return false
  if (status !== 'completed') return true
  return awaitsRating(state)
}

/** A deep copy, so a recorded view never changes when the state moves on. */
function structuredCloneable<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}
