import type { CalendarData } from '../calendar.ts'
import { WorkingCalendar } from '../calendar.ts'
import type { Applicant, AttachedMaterial, CaseEvent, CaseView, Priority, RecordedEvent } from '../case-view.ts'
import { DeadlineBook, type TrackedDeadline } from '../deadline-book.ts'
import { Refusal } from '../refusal.ts'
import type { Actor } from '../roles.ts'
import type { Guide } from '../service-item.ts'
import { APPLICATION_ACTIONS, type ApplicationAction } from './actions.ts'

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

/** Everything a case needs to run, as plain data: workflow input and continue-as-new state. */
export interface ApplicationState {
  id: string
  guide: Guide
  submission: ApplicationSubmission
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
  decision?: { outcome: string; note?: string; at: string }
}

export interface ApplicationCommand {
  action: string
  params: Record<string, unknown>
  actor: Actor
}

const SYSTEM: Actor = { organizationId: 'system', role: 'admin' }

/**
 * One application (办件) and its rules: which command its state allows, what each does, and
 * what happens when a deadline passes. No I/O: the workflow feeds it commands and time.
 */
export class ApplicationCase {
  readonly state: ApplicationState
  private readonly book: DeadlineBook

  private constructor(state: ApplicationState, calendar: WorkingCalendar) {
    this.state = state
    this.book = new DeadlineBook(calendar, state.deadlines)
  }

  /** A new case at submission: pre-review done, acceptance clock running. */
  static submit(input: {
    id: string; guide: Guide; submission: ApplicationSubmission; actor: Actor; calendar: CalendarData; at: string
  }): { application: ApplicationCase; recorded: RecordedEvent[] } {
    const { guide, submission, at } = input
    const provided = new Set(submission.materials.map((m) => m.code))
    const state: ApplicationState = {
      id: input.id,
      guide,
      submission,
      receivedBy: input.actor.organizationId,
      status: 'submitted',
      seq: 0,
      handlingOrganizationId: guide.departmentId,
      missingMaterials: guide.materials.filter((m) => m.required && !provided.has(m.code)).map((m) => m.code),
      flags: [],
      overdue: false,
      deadlines: [],
      createdAt: at,
      updatedAt: at,
    }
    const application = new ApplicationCase(state, WorkingCalendar.from(input.calendar))
    application.book.start('acceptance', 'acceptance', { limit: guide.acceptanceLimit, startAt: at, warnBefore: guide.warnBefore })
    const recorded = [application.record('submitted', input.actor, at, {
      serviceItemCode: guide.code,
      serviceItemVersion: guide.version,
      materials: submission.materials.map((m) => m.code),
      missingMaterials: state.missingMaterials,
    })]
    return { application, recorded }
  }

  static resume(state: ApplicationState, calendar: CalendarData): ApplicationCase {
    return new ApplicationCase(state, WorkingCalendar.from(calendar))
  }

  get isOpen(): boolean {
    return !['rejected', 'withdrawn', 'completed'].includes(this.state.status)
  }

  /** Throws a Refusal when the command is not allowed now; changes nothing. */
  check(command: ApplicationCommand): void {
    const spec = APPLICATION_ACTIONS[command.action as ApplicationAction] as (typeof APPLICATION_ACTIONS)[ApplicationAction] | undefined
    if (!spec) throw new Refusal('invalid_transition', `unknown action ${command.action}`)
    if (!(spec.roles as readonly string[]).includes(command.actor.role)) {
      throw new Refusal('forbidden', `role ${command.actor.role} may not ${command.action}`)
    }
    const { status } = this.state
    switch (command.action as ApplicationAction) {
      case 'accept':
        if (status !== 'submitted') this.refuse(command)
        if (command.actor.role === 'department') this.requireHandler(command.actor)
        return
    }
  }

  /** Applies an allowed command (call `check` first) and returns the events it records. */
  apply(command: ApplicationCommand, at: string): RecordedEvent[] {
    this.check(command)
    switch (command.action as ApplicationAction) {
      case 'accept':
        return [this.acceptAt(at, 'accepted', command.actor, at)]
    }
    throw new Refusal('invalid_transition', `unknown action ${command.action}`)
  }

  /** Instant of the next deadline event the workflow must wake for. */
  nextWakeMs(): number | undefined {
    return this.isOpen ? this.book.nextWakeMs() : undefined
  }

  /** Acts on every deadline that has warned or fallen due by `at`. */
  advance(at: string): RecordedEvent[] {
    const recorded: RecordedEvent[] = []
    for (const { deadline, change } of this.book.advance(Date.parse(at))) {
      if (deadline.kind === 'acceptance') {
        // Art. 32: no decision within the limit means accepted from the day materials were received.
        if (change === 'missed') recorded.push(this.acceptAt(this.state.createdAt, 'deemed_accepted', SYSTEM, at))
        continue
      }
      const data = { kind: deadline.kind, key: deadline.key, dueAt: deadline.dueAt }
      if (change === 'warned') {
        recorded.push(this.record('deadline_warned', SYSTEM, at, data))
      } else {
        this.state.overdue = true
        recorded.push(this.record('deadline_missed', SYSTEM, at, { ...data, supervision: 'opened' }))
      }
    }
    return recorded
  }

  /** Recomputes every open deadline with a new calendar; records the change if any moved. */
  recalendar(calendar: WorkingCalendar, at: string): RecordedEvent[] {
    const before = JSON.stringify(this.book.items.map((d) => [d.dueAt, d.warnAt, d.provisional]))
    this.book.recalendar(calendar, at)
    const after = this.book.items.map((d) => ({ key: d.key, dueAt: d.dueAt, provisional: d.provisional }))
    if (JSON.stringify(this.book.items.map((d) => [d.dueAt, d.warnAt, d.provisional])) === before) return []
    return [this.record('deadlines_recomputed', SYSTEM, at, { calendarVersion: calendar.version, deadlines: after })]
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
    }
    if (state.submission.submittedOnBehalfBy) view.submittedOnBehalfBy = state.submission.submittedOnBehalfBy
    if (state.decision) view.decision = state.decision
    return view
  }

  private acceptAt(clockStart: string, type: 'accepted' | 'deemed_accepted', actor: Actor, at: string): RecordedEvent {
    const { guide } = this.state
    this.state.status = 'accepted'
    this.book.settle('acceptance', type === 'accepted' ? 'met' : 'cancelled')
    const warnBefore = guide.warnBefore
    this.book.start('promised', 'promised', { limit: guide.promisedLimit, startAt: clockStart, warnBefore })
    this.book.start('statutory', 'statutory', { limit: guide.statutoryLimit, startAt: clockStart, warnBefore })
    return this.record(type, actor, at, { clockStart })
  }

  private record(type: string, actor: Actor, at: string, data: Record<string, unknown>): RecordedEvent {
    this.state.seq += 1
    this.state.updatedAt = at
    const event: CaseEvent = { seq: this.state.seq, at, type, actor, data }
    return { event, view: this.view(at) }
  }

  private requireHandler(actor: Actor): void {
    if (actor.organizationId !== this.state.handlingOrganizationId) {
      throw new Refusal('forbidden', `organisation ${actor.organizationId} does not handle this case`)
    }
  }

  private refuse(command: ApplicationCommand): never {
    throw new Refusal('invalid_transition', `cannot ${command.action} a case that is ${this.state.status}`)
  }
}
