import type { WorkingCalendar } from '../calendar.ts'
import { type CaseEvent, type CaseView, isPending, type RecordedEvent, type Supervision } from '../case-view.ts'
import { DeadlineBook, type DeadlineTransition, type TrackedDeadline } from '../deadline-book.ts'
import type { Limit } from '../limit.ts'
import { Refusal } from '../refusal.ts'
import type { Actor } from '../roles.ts'
import { type ActionTable, type CaseCommand, parseCommand, type ParsedCommand } from './action.ts'

/** Who acts when nobody does: time, the calendar, the engine's own rules. */
export const SYSTEM_ACTOR: Actor = { organizationId: 'system', role: 'admin' }

/** What every case kind keeps, as plain data: workflow input and continue-as-new state. */
export interface CoreState {
  id: string
  status: string
  /** Number of the last event recorded: the view's `version`. */
  seq: number
  handlingOrganizationId: string
  receivedBy: string
  flags: string[]
  overdue: boolean
  deadlines: TrackedDeadline[]
  createdAt: string
  updatedAt: string
  supervisions: Supervision[]
  /**
   * Automatic supervision climbs the organisation tree (API.md "What every case kind shares"): a
   * record must be answered within `respondWithin`, or the next level opens on the parent.
   * `parents` is the part of the tree this case has looked up (an organisation's parent; null at
   * the root). Absent in cases started before levels existed: their records stay single-level.
   */
  supervision?: { respondWithin: Limit; parents: Record<string, string | null> }
  /** Escalations filed about this case (API.md "Escalations"); absent until the first. */
  escalations?: string[]
}

/**
 * Where a new case of a kind stands before its first event, known from its start input alone: the
 * case is started with these as its search attributes, so its first event upserts none of them
 * (src/workflows/search-attributes.ts). Each kind's constructor builds its state from the same.
 */
export interface CaseOpening {
  status: string
  handlingOrganizationId: string
}

/** A deadline became warned or missed; the kind may act on it itself and say so. */
export type DeadlineHook = (transition: DeadlineTransition, at: string) => 'handled' | 'default'

/**
 * The kernel every case kind is built on: commands checked against one spec per action, events
 * numbered and recorded with the case as it stood after each, deadlines that warn, fall due and
 * open supervision records. No I/O: the runner feeds it commands and time.
 */
export abstract class CaseCore<S extends CoreState> {
  readonly state: S
  /** The case's deadlines; the kind's rules start, pause, extend and settle them. */
  readonly book: DeadlineBook
  private recorded: RecordedEvent[] = []

  protected constructor(state: S, calendar: WorkingCalendar) {
    this.state = state
    this.book = new DeadlineBook(calendar, state.deadlines)
  }

  /** The kind's actions, one spec each. */
  protected abstract get actions(): ActionTable<this>

  /** Whether the case still has something to wait for. */
  abstract get isOpen(): boolean

  /** The case as every endpoint returns it. */
  abstract view(now: string): CaseView

  /**
   * Throws a Refusal when the command is not allowed now, and nothing else: the command is read by
   * the same parser as at the HTTP edge. Changes nothing.
   */
  check(command: CaseCommand): void {
    this.allowed(command)
  }

  /** Applies an allowed command and returns the events it records. */
  apply(command: CaseCommand, at: string): RecordedEvent[] {
    const { spec, params, actor } = this.allowed(command)
    spec.apply(this, params, actor, at)
    return this.drain()
  }

  /** Deadlines watched by child workflows, for the runner to start, reschedule or settle. */
  get externalDeadlines(): readonly TrackedDeadline[] {
    return this.book.items.filter((d) => d.external)
  }

  /** Instant of the next deadline event the runner must wake for. */
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

  /** Appends an event; the view recorded with it is the case right after it. */
  record(type: string, actor: Actor, at: string, data: Record<string, unknown>): void {
    this.state.seq += 1
    this.state.updatedAt = at
    const event: CaseEvent = { seq: this.state.seq, at, type, actor, data }
    this.recorded.push({ event, view: this.view(at) })
  }

  // ---- escalations filed about this case --------------------------------------------------

  /**
   * An escalation (办不成事) was filed about this case: `escalation_filed` once per escalation,
   * so that a repeated message from the escalation's workflow changes nothing.
   */
  noteEscalation(escalationId: string, actor: Actor, at: string): RecordedEvent[] {
    const filed = this.state.escalations ?? []
    if (filed.includes(escalationId)) return []
    this.state.escalations = [...filed, escalationId]
    this.record('escalation_filed', actor, at, { escalationId })
    return this.drain()
  }

  /**
   * A level-1 automatic record on `organizationId` for a step that is stuck rather than late (a
   * policy's budget is spent): the same record a missed deadline opens, climbing the same way.
   */
  protected superviseStuck(organizationId: string, reason: string, deadlineKey: string, at: string): void {
    this.openAutomatic(organizationId, reason, deadlineKey, 1, at)
  }

  /** The fields every kind's view shares. */
  protected coreView(now: string) {
    const { state } = this
    // Each deadline says who owes its step: supervisors' lists and on-time reports count by it.
    const deadlines = this.book.views(now).map((view, i) => ({ ...view, organizationId: this.owing(this.book.items[i]!) }))
    return {
      id: state.id,
      status: state.status,
      version: state.seq,
      receivedBy: state.receivedBy,
      handlingOrganizationId: state.handlingOrganizationId,
      deadlines,
      overdue: state.overdue,
      warned: deadlines.some((d) => d.warned && isPending(d)),
      flags: [...state.flags],
      createdAt: state.createdAt,
      updatedAt: state.updatedAt,
      supervisions: state.supervisions,
      ...(state.escalations?.length ? { escalations: [...state.escalations] } : {}),
    }
  }

  /** The kind's own handling of a deadline event, before the shared one (warned, missed, supervised). */
  protected onKindDeadline(_transition: DeadlineTransition, _at: string): 'handled' | 'default' {
    return 'default'
  }

  /** The organisation that owed the step whose deadline this is. */
  protected ownerOf(_deadline: TrackedDeadline): string {
    return this.state.handlingOrganizationId
  }

  /** Refuses a department that does not handle this case. */
  requireHandler(actor: Actor): void {
    if (actor.role === 'department' && actor.organizationId !== this.state.handlingOrganizationId) {
      throw new Refusal('forbidden', `organisation ${actor.organizationId} does not handle this case`)
    }
  }

  protected drain(): RecordedEvent[] {
    const out = this.recorded
    this.recorded = []
    return out
  }

  /** The command, parsed, when this case allows it now; otherwise a Refusal. */
  private allowed(input: CaseCommand): ParsedCommand<this> {
    const command = parseCommand(this.actions, input)
    const { action, spec, actor, params } = command
    if (!spec.roles.includes(actor.role)) throw new Refusal('forbidden', `role ${actor.role} may not ${action}`)
    if (!spec.allowedIn.includes(this.state.status)) {
      throw new Refusal('invalid_transition', `cannot ${action} a case that is ${this.state.status}`)
    }
    if (spec.handlerOnly?.includes(actor.role)) this.requireHandler(actor)
    spec.check?.(this, params, actor)
    return command
  }

  private onDeadline(transition: DeadlineTransition, at: string): void {
    if (this.onKindDeadline(transition, at) === 'handled') return
    const { deadline, change } = transition
    const data = { kind: deadline.kind, key: deadline.key, dueAt: deadline.dueAt }
    if (change === 'warned') {
      this.record('deadline_warned', SYSTEM_ACTOR, at, data)
      return
    }
    this.state.overdue = true
    this.record('deadline_missed', SYSTEM_ACTOR, at, data)
    const unanswered = this.recordAnsweredBy(deadline)
    if (unanswered?.kind === 'automatic') {
      // A record nobody answered in time: the level above takes it, up to the root.
      const parent = unanswered.supervisorOrganizationId
      if (parent !== undefined) {
        this.openAutomatic(parent, `level ${unanswered.level} supervision unanswered by ${unanswered.organizationId}`, deadline.key,
          unanswered.level! + 1, at)
      }
      return
    }
    // DOMAIN rule 32: a missed step opens a supervision record on whoever owed it.
    this.openAutomatic(this.owing(deadline), `${deadline.kind} deadline missed`, deadline.key, 1, at)
  }

  /**
   * An automatic supervision record on `organizationId`. With levels (API.md "What every case kind
   * shares") it is watched by the organisation's parent and has its own deadline, whose miss opens
   * the next level; a case started before levels keeps single-level records.
   */
  private openAutomatic(organizationId: string, reason: string, deadlineKey: string, level: number, at: string): void {
    const { supervisions, supervision: climbing } = this.state
    const id = `S${supervisions.length + 1}`
    const record: Supervision = { id, kind: 'automatic', organizationId, reason, openedAt: at, deadlineKey }
    if (!climbing) {
      supervisions.push(record)
      this.record('supervision_opened', SYSTEM_ACTOR, at, { id, organizationId, deadlineKey })
      return
    }
    const supervisor = climbing.parents[organizationId] ?? undefined
    const respondKey = `supervision:${id}`
    const { dueAt } = this.book.start('supervision', respondKey, { limit: climbing.respondWithin, startAt: at })
    Object.assign(record, { level, respondKey, dueAt, ...(supervisor !== undefined ? { supervisorOrganizationId: supervisor } : {}) })
    supervisions.push(record)
    this.record('supervision_opened', SYSTEM_ACTOR, at, {
      id, organizationId, deadlineKey, level, dueAt, ...(supervisor !== undefined ? { supervisorOrganizationId: supervisor } : {}),
    })
  }

  /** The supervision record (with levels) whose answer this deadline waits for. */
  private recordAnsweredBy(deadline: TrackedDeadline): Supervision | undefined {
    return this.state.supervisions.find((s) => s.respondKey === deadline.key)
  }

  /** Who owes a deadline's step: a record's answer is owed by its organisation, anything else as the kind says. */
  private owing(deadline: TrackedDeadline): string {
    return this.recordAnsweredBy(deadline)?.organizationId ?? this.ownerOf(deadline)
  }

  // ---- where the case sits in the organisation tree ------------------------------------------

  /**
   * Organisations whose parent the case must know before it acts on the deadlines due by `ms`:
   * whoever owes each such step, or, for an unanswered record, its supervisor (whose parent
   * watches the next level). Empty for a case without levels.
   */
  unplacedBy(ms: number): string[] {
    const climbing = this.state.supervision
    if (!climbing) return []
    const wanted = new Set<string>()
    for (const d of this.book.items) {
      if (!isPending(d) || Date.parse(d.dueAt) > ms) continue
      const record = this.recordAnsweredBy(d)
      const organizationId = record?.kind === 'automatic' ? record.supervisorOrganizationId : this.owing(d)
      if (organizationId !== undefined && !Object.hasOwn(climbing.parents, organizationId)) wanted.add(organizationId)
    }
    return [...wanted].sort()
  }

  /** Learns parents from the organisation tree (null: a root, or an organisation the tree does not know). */
  place(parents: Readonly<Record<string, string | null>>): void {
    const climbing = this.state.supervision
    if (climbing) Object.assign(climbing.parents, parents)
  }
}
