import type { CalendarData } from '../calendar.ts'
import { WorkingCalendar } from '../calendar.ts'
import type {
  Applicant, AttachedMaterial, CaseEvent, CaseView, Priority, RecordedEvent, Supervision,
} from '../case-view.ts'
import { DeadlineBook, type DeadlineTransition, type TrackedDeadline } from '../deadline-book.ts'
import type { Limit } from '../limit.ts'
import { DEFAULT_LIMIT_SETTINGS, type LimitSettings } from '../limit-settings.ts'
import { Refusal } from '../refusal.ts'
import type { Actor } from '../roles.ts'
import { ruleHolds } from '../rules.ts'
import type { Guide } from '../service-item.ts'
import {
  type ActionParams, APPLICATION_ACTIONS, type ApplicationAction, parseCommand, type ParsedCommand,
  refuseUnsafeText,
} from './actions.ts'
import { approvalFacts } from './auto-approval.ts'

export const APPLICATION_STATUSES = [
  'submitted', 'supplement_requested', 'accepted', 'rejected', 'suspended', 'approved', 'denied',
  'result_issued', 'completed', 'withdrawn',
] as const
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number]

/** Where each action may be taken (API.md's status diagram). */
const ALLOWED_IN: Record<ApplicationAction, readonly ApplicationStatus[]> = {
  accept: ['submitted'],
  reject: ['submitted', 'supplement_requested'],
  request_supplement: ['submitted'],
  supplement: ['supplement_requested'],
  transfer: ['submitted', 'supplement_requested', 'accepted', 'suspended'],
  request_opinions: ['accepted'],
  give_opinion: ['accepted', 'suspended'],
  suspend: ['accepted'],
  resume: ['suspended'],
  extend: ['accepted', 'suspended'],
  approve: ['accepted'],
  deny: ['accepted'],
  issue_result: ['approved'],
  deliver: ['result_issued', 'denied'],
  withdraw: ['submitted', 'supplement_requested', 'accepted', 'suspended'],
  rate: ['completed'],
  rectify: ['completed'],
  call_back: ['completed'],
  supervise: ['submitted', 'supplement_requested', 'accepted', 'suspended', 'approved', 'denied', 'result_issued'],
  respond_supervision: ['submitted', 'supplement_requested', 'accepted', 'suspended', 'approved', 'denied', 'result_issued', 'completed'],
}

/** Department actions only the handling organisation may take. */
const HANDLER_ONLY = new Set<ApplicationAction>([
  'request_opinions', 'suspend', 'resume', 'extend', 'approve', 'deny', 'issue_result', 'rectify', 'respond_supervision',
])

export const RATING_LEVELS = ['very_dissatisfied', 'dissatisfied', 'basically_satisfied', 'satisfied', 'very_satisfied'] as const
/** DOMAIN rule 29: no rating within the period counts as "basically satisfied". */
const DEFAULT_SCORE = 3

export interface ApplicationSubmission {
  applicant: Applicant
  channel: string
  priority: Priority
  /** Materials the applicant handed in, plus those pre-review found in shared data. */
  materials: AttachedMaterial[]
  submittedOnBehalfBy?: string
}

/** Limits that are not per item, read from settings when the case is created. */
export interface CaseLimits {
  ratingDefault: Limit
  rectification: Limit
}

/** The limits a case takes from the settings (defaults: DOMAIN rules 29 and 30). */
export function caseLimits(settings: LimitSettings = DEFAULT_LIMIT_SETTINGS): CaseLimits {
  return { ratingDefault: settings['rating.default'], rectification: settings['rating.rectification'] }
}

/** Everything a case needs to run, as plain data: workflow input and continue-as-new state. */
export interface ApplicationState {
  id: string
  guide: Guide
  submission: ApplicationSubmission
  limits: CaseLimits
  receivedBy: string
  status: ApplicationStatus
  seq: number
  handlingOrganizationId: string
  missingMaterials: string[]
  flags: string[]
  overdue: boolean
  deadlines: TrackedDeadline[]
  createdAt: string
  updatedAt: string
  supplementRequests: Array<{ missing: string[]; note: string; at: string }>
  opinions: NonNullable<CaseView['opinions']>
  supervisions: Supervision[]
  decision?: { outcome: string; note?: string; at: string }
  suspension?: { reason: string; note: string; since: string }
  extension?: { workingDays: number; approvedBy: string; reason: string; at: string }
  result?: NonNullable<CaseView['result']>
  rating?: NonNullable<CaseView['rating']>
  rectification?: NonNullable<CaseView['rectification']>
}

export interface ApplicationCommand {
  action: string
  params: Record<string, unknown>
  actor: Actor
}

export const SYSTEM_ACTOR: Actor = { organizationId: 'system', role: 'admin' }

/**
 * One application (办件) and its rules: which command its state allows, what each does, and
 * what happens when a deadline passes. No I/O: the workflow feeds it commands and time.
 */
export class ApplicationCase {
  readonly state: ApplicationState
  private readonly book: DeadlineBook
  private recorded: RecordedEvent[] = []

  private constructor(state: ApplicationState, calendar: WorkingCalendar) {
    this.state = state
    this.book = new DeadlineBook(calendar, state.deadlines)
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
    const { status, rating, rectification } = this.state
    if (status === 'rejected' || status === 'withdrawn') return false
    if (status !== 'completed') return true
    return !rating || (rectification !== undefined && rectification.callBack === undefined)
  }

  /** Deadlines watched by child workflows, for the workflow to start, reschedule or settle. */
  get externalDeadlines(): readonly TrackedDeadline[] {
    return this.book.items.filter((d) => d.external)
  }

  /**
   * Throws a Refusal when the command is not allowed now, and nothing else: the command is read by
   * the same parser as at the HTTP edge (parseCommand). Changes nothing.
   */
  check(command: ApplicationCommand): void {
    this.allowed(command)
  }

  /** Applies an allowed command and returns the events it records. */
  apply(command: ApplicationCommand, at: string): RecordedEvent[] {
    this.perform(this.allowed(command), at)
    return this.drain()
  }

  /** The command, parsed, when this case allows it now; otherwise a Refusal. */
  private allowed(input: ApplicationCommand): ParsedCommand {
    const command = parseCommand(input)
    const { action, actor } = command
    if (!(APPLICATION_ACTIONS[action].roles as readonly string[]).includes(actor.role)) {
      throw new Refusal('forbidden', `role ${actor.role} may not ${action}`)
    }
    if (!ALLOWED_IN[action].includes(this.state.status)) this.refuse(command)
    if (HANDLER_ONLY.has(action) || (actor.role === 'department' && (action === 'accept' || action === 'reject' || action === 'request_supplement' || action === 'transfer'))) {
      this.requireHandler(actor)
    }
    this.checkSpecific(command)
    return command
  }

  /** Instant of the next deadline event the workflow must wake for. */
  nextWakeMs(): number | undefined {
    return this.isOpen ? this.book.nextWakeMs() : undefined
  }

  /** Acts on every deadline that has warned or fallen due by `at`. */
  advance(at: string): RecordedEvent[] {
    for (const transition of this.book.advance(Date.parse(at))) this.onDeadline(transition, at)
    return this.drain()
  }

  /** A child workflow reports that an external deadline warned or fell due. */
  markExternal(key: string, change: 'warned' | 'missed', at: string): RecordedEvent[] {
    const transition = this.book.mark(key, change)
    if (transition) this.onDeadline(transition, at)
    return this.drain()
  }

  /** Recomputes every open deadline with a new calendar; records the change if any moved. */
  recalendar(calendar: WorkingCalendar, at: string): RecordedEvent[] {
    const snapshot = () => JSON.stringify(this.book.items.map((d) => [d.dueAt, d.warnAt, d.provisional]))
    const before = snapshot()
    this.book.recalendar(calendar, at)
    if (snapshot() === before) return []
    this.record('deadlines_recomputed', SYSTEM_ACTOR, at, {
      calendarVersion: calendar.version,
      deadlines: this.book.items.map((d) => ({ key: d.key, dueAt: d.dueAt, provisional: d.provisional })),
    })
    return this.drain()
  }

  view(now: string): CaseView {
    const { state } = this
    const deadlines = this.book.views(now)
    const view: CaseView = {
      id: state.id,
      kind: 'application',
      status: state.status,
      version: state.seq,
      serviceItemCode: state.guide.code,
      serviceItemVersion: state.guide.version,
      applicant: state.submission.applicant,
      channel: state.submission.channel,
      receivedBy: state.receivedBy,
      handlingOrganizationId: state.handlingOrganizationId,
      priority: state.submission.priority,
      deadlines,
      overdue: state.overdue,
      warned: deadlines.some((d) => d.warned && (d.state === 'running' || d.state === 'paused')),
      flags: [...state.flags],
      createdAt: state.createdAt,
      updatedAt: state.updatedAt,
      materials: state.submission.materials,
      missingMaterials: state.missingMaterials,
      supplementRequests: state.supplementRequests,
      opinions: state.opinions,
      supervisions: state.supervisions,
    }
    const optional = {
      submittedOnBehalfBy: state.submission.submittedOnBehalfBy, decision: state.decision, suspension: state.suspension,
      extension: state.extension, result: state.result, rating: state.rating, rectification: state.rectification,
    }
    for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(view, { [key]: value })
    return structuredCloneable(view)
  }

  // ---- rules per action -------------------------------------------------------------------

  private checkSpecific(command: ParsedCommand): void {
    const { state } = this
    const materials = new Set(state.guide.materials.map((m) => m.code))
    switch (command.action as ApplicationAction) {
      case 'request_supplement': {
        const { missing } = command.params as ActionParams<'request_supplement'>
        const unknown = missing.filter((code) => !materials.has(code))
        if (unknown.length > 0) throw new Refusal('validation_failed', `not materials of ${state.guide.code}: ${unknown.join(', ')}`)
        return
      }
      case 'supplement': {
        const { materials: handed } = command.params as ActionParams<'supplement'>
        const unknown = handed.map((m) => m.code).filter((code) => !materials.has(code))
        if (unknown.length > 0) throw new Refusal('validation_failed', `not materials of ${state.guide.code}: ${unknown.join(', ')}`)
        return
      }
      case 'transfer': {
        const { toOrganizationId } = command.params as ActionParams<'transfer'>
        if (toOrganizationId === state.handlingOrganizationId) throw new Refusal('conflict', `the case is already handled by ${toOrganizationId}`)
        return
      }
      case 'request_opinions': {
        const { organizationIds } = command.params as ActionParams<'request_opinions'>
        if (organizationIds.includes(state.handlingOrganizationId)) {
          throw new Refusal('validation_failed', 'the handling organisation does not give itself an opinion')
        }
        const pending = organizationIds.filter((org) => this.pendingOpinion(org))
        if (pending.length > 0) throw new Refusal('conflict', `opinions already requested from ${pending.join(', ')}`)
        return
      }
      case 'give_opinion':
        if (!this.pendingOpinion(command.actor.organizationId)) {
          throw new Refusal('invalid_transition', `no opinion is awaited from ${command.actor.organizationId}`)
        }
        return
      case 'extend': {
        const { workingDays } = command.params as ActionParams<'extend'>
        if (state.extension) throw new Refusal('invalid_transition', 'the case was extended once already; a second extension is not allowed')
        if (!('workingDays' in state.guide.statutoryLimit)) throw new Refusal('unprocessable', 'only working-day limits can be extended')
        if (workingDays > state.guide.maxExtensionWorkingDays) {
          throw new Refusal('unprocessable', `at most ${state.guide.maxExtensionWorkingDays} working days of extension for ${state.guide.code}`)
        }
        return
      }
      case 'approve':
      case 'deny': {
        const waiting = state.opinions.filter((o) => !o.givenAt && this.book.isOpen(opinionKey(o.organizationId)))
        if (waiting.length > 0) {
          throw new Refusal('invalid_transition', `waiting for opinions from ${waiting.map((o) => o.organizationId).join(', ')}`)
        }
        return
      }
      case 'rate':
        if (state.rating) throw new Refusal('invalid_transition', 'the case has been rated already')
        return
      case 'rectify':
        if (!state.rectification || state.rectification.rectifiedAt) throw new Refusal('invalid_transition', 'no rectification is open')
        return
      case 'call_back':
        if (!state.rectification?.rectifiedAt || state.rectification.callBack) {
          throw new Refusal('invalid_transition', 'a call-back follows a rectification, once')
        }
        return
      case 'respond_supervision':
        if (!this.openOrder()) throw new Refusal('invalid_transition', 'no supervision order is open')
        return
      default:
        return
    }
  }

  private perform(command: ParsedCommand, at: string): void {
    const { actor, params } = command
    const { state } = this
    switch (command.action as ApplicationAction) {
      case 'accept':
        return this.acceptAt(at, 'accepted', actor, at)
      case 'reject': {
        const { reason } = params as ActionParams<'reject'>
        state.status = 'rejected'
        state.decision = { outcome: 'rejected', note: reason, at }
        this.book.cancelAll()
        return this.record('rejected', actor, at, { reason })
      }
      case 'request_supplement': {
        const { missing, note } = params as ActionParams<'request_supplement'>
        // DOMAIN rule 6: everything missing is named at once; a second notice breaks that promise.
        const violation = state.supplementRequests.length > 0
        if (violation && !state.flags.includes('one_time_notice_violation')) state.flags.push('one_time_notice_violation')
        state.supplementRequests.push({ missing, note, at })
        state.status = 'supplement_requested'
        this.book.settle('acceptance', 'met')
        return this.record('supplement_requested', actor, at, { missing, note, ...(violation ? { violation: 'one_time_notice' } : {}) })
      }
      case 'supplement': {
        const { materials } = params as ActionParams<'supplement'>
        const byCode = new Map(state.submission.materials.map((m) => [m.code, m]))
        for (const m of materials) byCode.set(m.code, { code: m.code, ref: m.ref, source: 'applicant' })
        state.submission = { ...state.submission, materials: [...byCode.values()] }
        state.missingMaterials = state.missingMaterials.filter((code) => !byCode.has(code))
        state.status = 'submitted'
        // The acceptance limit runs again from the day the supplement arrived.
        this.startAcceptanceClock(at)
        return this.record('supplemented', actor, at, { materials: materials.map((m) => m.code), missingMaterials: state.missingMaterials })
      }
      case 'transfer': {
        const { toOrganizationId, reason } = params as ActionParams<'transfer'>
        const from = state.handlingOrganizationId
        state.handlingOrganizationId = toOrganizationId
        return this.record('transferred', actor, at, { from, to: toOrganizationId, reason })
      }
      case 'request_opinions': {
        const { organizationIds, within } = params as ActionParams<'request_opinions'>
        for (const organizationId of organizationIds) {
          state.opinions.push({ organizationId, requestedAt: at })
          this.book.start('opinion', opinionKey(organizationId), { limit: within, startAt: at }, { external: true })
        }
        return this.record('opinions_requested', actor, at, { organizationIds, within })
      }
      case 'give_opinion': {
        const { opinion, agree } = params as ActionParams<'give_opinion'>
        const entry = state.opinions.find((o) => o.organizationId === actor.organizationId && !o.givenAt)!
        Object.assign(entry, { opinion, agree, givenAt: at })
        this.book.settle(opinionKey(actor.organizationId), 'met')
        return this.record('opinion_given', actor, at, { organizationId: actor.organizationId, opinion, agree })
      }
      case 'suspend': {
        const { reason, note } = params as ActionParams<'suspend'>
        state.status = 'suspended'
        state.suspension = { reason, note, since: at }
        // Art. 45: time in special procedures is not counted.
        this.book.pause(['promised', 'statutory'], at)
        return this.record('suspended', actor, at, { reason, note })
      }
      case 'resume': {
        const { note } = params as ActionParams<'resume'>
        const since = state.suspension?.since
        state.status = 'accepted'
        delete state.suspension
        this.book.resume(['promised', 'statutory'], at)
        return this.record('resumed', actor, at, { since, ...(note ? { note } : {}) })
      }
      case 'extend': {
        const { workingDays, approvedBy, reason } = params as ActionParams<'extend'>
        state.extension = { workingDays, approvedBy, reason, at }
        this.book.extend('statutory', workingDays, at)
        this.book.extend('promised', workingDays, at)
        return this.record('extended', actor, at, { workingDays, approvedBy, reason })
      }
      case 'approve':
      case 'deny': {
        const approved = command.action === 'approve'
        const note = approved ? (params as ActionParams<'approve'>).note : (params as ActionParams<'deny'>).reason
        return this.decide(approved, actor, at, note)
      }
      case 'issue_result': {
        const { certificateNo } = params as ActionParams<'issue_result'>
        state.status = 'result_issued'
        state.result = { ...state.result, issuedAt: at, ...(certificateNo ? { certificateNo } : {}) }
        return this.record('result_issued', actor, at, certificateNo ? { certificateNo } : {})
      }
      case 'deliver': {
        const { method } = params as ActionParams<'deliver'>
        state.status = 'completed'
        state.result = { ...state.result, deliveredAt: at, method }
        this.book.settle('result', 'met')
        this.book.start('rating', 'rating', { limit: state.limits.ratingDefault, startAt: at })
        return this.record('delivered', actor, at, { method })
      }
      case 'withdraw': {
        const { reason } = params as ActionParams<'withdraw'>
        state.status = 'withdrawn'
        this.book.cancelAll()
        return this.record('withdrawn', actor, at, { reason })
      }
      case 'rate': {
        const { score, comment } = params as ActionParams<'rate'>
        return this.rate(score, false, actor, at, comment)
      }
      case 'rectify': {
        const { note } = params as ActionParams<'rectify'>
        state.rectification = { ...state.rectification!, rectifiedAt: at, note }
        this.book.settle('rectification', 'met')
        return this.record('rectified', actor, at, { note })
      }
      case 'call_back': {
        const { satisfied, note } = params as ActionParams<'call_back'>
        state.rectification = { ...state.rectification!, callBack: { satisfied, at, ...(note ? { note } : {}) } }
        return this.record('called_back', actor, at, { satisfied, ...(note ? { note } : {}) })
      }
      case 'supervise': {
        const { note, respondWithin } = params as ActionParams<'supervise'>
        const id = `S${state.supervisions.length + 1}`
        state.supervisions.push({ id, kind: 'order', organizationId: state.handlingOrganizationId, reason: note, openedAt: at,
          orderedBy: actor.organizationId, deadlineKey: `supervision:${id}` })
        this.book.start('supervision', `supervision:${id}`, { limit: respondWithin, startAt: at })
        return this.record('supervision_ordered', actor, at, { id, organizationId: state.handlingOrganizationId, note, respondWithin })
      }
      case 'respond_supervision': {
        const { note } = params as ActionParams<'respond_supervision'>
        const order = this.openOrder()!
        Object.assign(order, { respondedAt: at, response: note })
        this.book.settle(order.deadlineKey!, 'met')
        return this.record('supervision_responded', actor, at, { id: order.id, note })
      }
    }
  }

  // ---- what time does ---------------------------------------------------------------------

  private onDeadline({ deadline, change }: DeadlineTransition, at: string): void {
    const { state } = this
    if (deadline.kind === 'acceptance') {
      // Art. 32: no decision within the limit means accepted from the day materials were received.
      if (change === 'missed') this.acceptAt(deadline.spec.startAt, 'deemed_accepted', SYSTEM_ACTOR, at)
      return
    }
    if (deadline.kind === 'rating') {
      if (change === 'missed') this.rate(DEFAULT_SCORE, true, SYSTEM_ACTOR, at)
      return
    }
    const data = { kind: deadline.kind, key: deadline.key, dueAt: deadline.dueAt }
    if (change === 'warned') {
      this.record('deadline_warned', SYSTEM_ACTOR, at, data)
      return
    }
    state.overdue = true
    this.record('deadline_missed', SYSTEM_ACTOR, at, data)
    // DOMAIN rule 32: a missed step opens a supervision record on whoever owes it.
    const owner = deadline.kind === 'opinion' ? deadline.key.slice('opinion:'.length) : state.handlingOrganizationId
    const id = `S${state.supervisions.length + 1}`
    state.supervisions.push({ id, kind: 'automatic', organizationId: owner, reason: `${deadline.kind} deadline missed`,
      openedAt: at, deadlineKey: deadline.key })
    this.record('supervision_opened', SYSTEM_ACTOR, at, { id, organizationId: owner, deadlineKey: deadline.key })
  }

  // ---- shared steps -----------------------------------------------------------------------

  private startAcceptanceClock(at: string): void {
    const { guide } = this.state
    this.book.start('acceptance', 'acceptance', { limit: guide.acceptanceLimit, startAt: at, warnBefore: guide.warnBefore })
  }

  private acceptAt(clockStart: string, type: 'accepted' | 'deemed_accepted', actor: Actor, at: string): void {
    const { guide } = this.state
    this.state.status = 'accepted'
    this.book.settle('acceptance', type === 'accepted' ? 'met' : 'cancelled')
    const warnBefore = guide.warnBefore
    this.book.start('promised', 'promised', { limit: guide.promisedLimit, startAt: clockStart, warnBefore })
    this.book.start('statutory', 'statutory', { limit: guide.statutoryLimit, startAt: clockStart, warnBefore })
    this.record(type, actor, at, { clockStart })
  }

  private decide(approved: boolean, actor: Actor, at: string, note: string | undefined): void {
    const { state } = this
    state.status = approved ? 'approved' : 'denied'
    state.decision = { outcome: state.status, at, ...(note ? { note } : {}) }
    this.book.settle('promised', 'met')
    this.book.settle('statutory', 'met')
    // Art. 44: the result is issued and delivered within its own limit of the decision.
    this.book.start('result', 'result', { limit: state.guide.resultLimit, startAt: at, warnBefore: state.guide.warnBefore })
    this.record(state.status, actor, at, note ? { [approved ? 'note' : 'reason']: note } : {})
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
    if (guide.autoApprove !== undefined) {
      // A rule that cannot be evaluated does not hold: the case waits for a person, never freezes.
      if (ruleHolds(guide.autoApprove, approvalFacts(submission))) {
        this.acceptAt(at, 'accepted', SYSTEM_ACTOR, at)
        this.decide(true, SYSTEM_ACTOR, at, 'approved automatically by the item\'s rule')
      }
    }
  }

  private rate(score: number, defaulted: boolean, actor: Actor, at: string, comment?: string): void {
    const { state } = this
    const level = RATING_LEVELS[score - 1]!
    state.rating = { score, level, at, defaulted, ...(comment ? { comment } : {}) }
    this.book.settle('rating', 'met')
    this.record('rated', actor, at, { score, level, defaulted, ...(comment ? { comment } : {}) })
    if (score <= 2) {
      // DOMAIN rule 30: a bad rating opens a rectification with a deadline and a call-back.
      state.rectification = { openedAt: at }
      this.book.start('rectification', 'rectification', { limit: state.limits.rectification, startAt: at }, { external: true })
      this.record('rectification_opened', SYSTEM_ACTOR, at, { organizationId: state.handlingOrganizationId })
    }
  }

  private pendingOpinion(organizationId: string): boolean {
    return this.state.opinions.some((o) => o.organizationId === organizationId && !o.givenAt)
  }

  private openOrder(): Supervision | undefined {
    return this.state.supervisions.find((s) => s.kind === 'order' && !s.respondedAt && s.organizationId === this.state.handlingOrganizationId)
  }

  private record(type: string, actor: Actor, at: string, data: Record<string, unknown>): void {
    this.state.seq += 1
    this.state.updatedAt = at
    const event: CaseEvent = { seq: this.state.seq, at, type, actor, data }
    this.recorded.push({ event, view: this.view(at) })
  }

  private drain(): RecordedEvent[] {
    const out = this.recorded
    this.recorded = []
    return out
  }

  private requireHandler(actor: Actor): void {
    if (actor.role === 'department' && actor.organizationId !== this.state.handlingOrganizationId) {
      throw new Refusal('forbidden', `organisation ${actor.organizationId} does not handle this case`)
    }
  }

  private refuse(command: ParsedCommand): never {
    throw new Refusal('invalid_transition', `cannot ${command.action} a case that is ${this.state.status}`)
  }
}

export const opinionKey = (organizationId: string) => `opinion:${organizationId}`

/** A deep copy, so a recorded view never changes when the state moves on. */
function structuredCloneable<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}
