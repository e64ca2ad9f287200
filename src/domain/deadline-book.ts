import type { WorkingCalendar } from './calendar.ts'
import { type DeadlineState, type DeadlineView, isPending } from './case-view.ts'
import { computeDeadline, type DeadlineSpec } from './deadline-clock.ts'
import type { Limit } from './limit.ts'

/** One deadline of a case, as plain data (it travels through continue-as-new). */
export interface TrackedDeadline {
  kind: string
  key: string
  spec: DeadlineSpec
  state: DeadlineState
  warned: boolean
  dueAt: string
  warnAt: string
  provisional: boolean
  /** Watched by a child workflow of its own (opinions, rectification), not by the case's timers. */
  external?: boolean
  /** When it was met or cancelled, or fell due unmet (missed: its due instant). */
  settledAt?: string
  /** Working days it took, pauses left out (working-day limits only): what on-time reports average. */
  workingDaysUsed?: number
}

export type DeadlineTransition = { deadline: TrackedDeadline; change: 'warned' | 'missed' }

/**
 * The deadlines of one case: starts, pauses, extends and settles them, and tells the workflow
 * when to wake up next. Every instant comes from the deadline clock.
 */
export class DeadlineBook {
  constructor(private calendar: WorkingCalendar, readonly items: TrackedDeadline[] = []) {}

  get(key: string): TrackedDeadline | undefined {
    return this.items.find((d) => d.key === key)
  }

  isOpen(key: string): boolean {
    const d = this.get(key)
    return d !== undefined && isPending(d)
  }

  start(kind: string, key: string, spec: DeadlineSpec, options: { external?: boolean } = {}): TrackedDeadline {
    const existing = this.items.findIndex((d) => d.key === key)
    const deadline: TrackedDeadline = { kind, key, spec, state: 'running', warned: false, dueAt: '', warnAt: '', provisional: false }
    if (options.external) deadline.external = true
    this.recompute(deadline, spec.startAt)
    if (existing >= 0) this.items[existing] = deadline
    else this.items.push(deadline)
    return deadline
  }

  /** Stops a running or paused deadline as `met` or `cancelled` at `at`, with the working days it took. */
  settle(key: string, state: 'met' | 'cancelled', at: string): void {
    const d = this.get(key)
    if (d && isPending(d)) this.close(d, state, at)
  }

  /** Cancels every deadline still open (the case ended). */
  cancelAll(at: string): void {
    for (const d of this.items) if (isPending(d)) this.close(d, 'cancelled', at)
  }

  pause(keys: string[], at: string): void {
    for (const d of this.open(keys)) {
      if (d.state !== 'running') continue
      d.spec = { ...d.spec, pauses: [...(d.spec.pauses ?? []), { from: at }] }
      d.state = 'paused'
      this.recompute(d, at)
    }
  }

  resume(keys: string[], at: string): void {
    for (const d of this.open(keys)) {
      if (d.state !== 'paused') continue
      const pauses = (d.spec.pauses ?? []).map((p) => (p.to === undefined ? { from: p.from, to: at } : p))
      d.spec = { ...d.spec, pauses }
      d.state = 'running'
      this.recompute(d, at)
      // A resumed deadline may now lie further out than a warning already given.
      if (d.warned && Date.parse(d.warnAt) > Date.parse(at)) d.warned = false
    }
  }

  /**
   * Adds working days to an open deadline. One already met, missed or cancelled stays as it ended:
   * an extension never revives a missed deadline nor moves the due instant it was missed at.
   */
  extend(key: string, workingDays: number, at: string): void {
    const d = this.get(key)
    if (!d || !isPending(d)) return
    d.spec = { ...d.spec, extensionWorkingDays: (d.spec.extensionWorkingDays ?? 0) + workingDays }
    this.recomputeMoved(d, at)
  }

  /**
   * Gives an open deadline another limit, counted from its own start with its pauses and
   * extension kept (joint handling: the statutory limit becomes 45 working days). Not a restart;
   * one already met, missed or cancelled stays as it ended.
   */
  relimit(key: string, limit: Limit, at: string): void {
    const d = this.get(key)
    if (!d || !isPending(d)) return
    d.spec = { ...d.spec, limit }
    this.recomputeMoved(d, at)
  }

  /** A new calendar (a year published or replaced): every open deadline is recomputed. */
  recalendar(calendar: WorkingCalendar, at: string): void {
    this.calendar = calendar
    for (const d of this.items) if (isPending(d)) this.recompute(d, at)
  }

  get hasProvisional(): boolean {
    return this.items.some((d) => isPending(d) && d.provisional)
  }

  /** The next instant at which a running deadline warns or falls due. */
  nextWakeMs(): number | undefined {
    let next: number | undefined
    for (const d of this.items) {
      if (d.state !== 'running' || d.external) continue
      const at = Date.parse(d.warned ? d.dueAt : d.warnAt)
      if (next === undefined || at < next) next = at
    }
    return next
  }

  /** A child workflow watching an external deadline reports that it warned or fell due. */
  mark(key: string, change: 'warned' | 'missed'): DeadlineTransition | undefined {
    const d = this.get(key)
    if (!d || d.state !== 'running') return undefined
    if (change === 'warned') {
      if (d.warned) return undefined
      d.warned = true
    } else {
      d.state = 'missed'
      d.settledAt = d.dueAt
    }
    return { deadline: d, change }
  }

  /** Marks what is due at `nowMs` and returns the changes, earliest first. */
  advance(nowMs: number): DeadlineTransition[] {
    const changes: DeadlineTransition[] = []
    for (const d of this.items) {
      if (d.state !== 'running' || d.external) continue
      if (!d.warned && Date.parse(d.warnAt) <= nowMs) {
        d.warned = true
        changes.push({ deadline: d, change: 'warned' })
      }
      if (Date.parse(d.dueAt) <= nowMs) {
        d.state = 'missed'
        d.settledAt = d.dueAt
        changes.push({ deadline: d, change: 'missed' })
      }
    }
    return changes
  }

  views(now: string): DeadlineView[] {
    return this.items.map((d) => {
      const view: DeadlineView = {
        kind: d.kind, key: d.key, dueAt: d.dueAt, warnAt: d.warnAt, state: d.state, provisional: d.provisional, warned: d.warned,
        startedAt: d.spec.startAt,
      }
      if (d.settledAt !== undefined) view.settledAt = d.settledAt
      if (d.workingDaysUsed !== undefined) view.workingDaysUsed = d.workingDaysUsed
      if (isPending(d)) {
        const left = computeDeadline(this.calendar, d.spec, now).workingDaysLeft
        if (left !== undefined && 'workingDays' in d.spec.limit) view.workingDaysLeft = left
      }
      return view
    })
  }

  private close(d: TrackedDeadline, state: 'met' | 'cancelled', at: string): void {
    const used = 'workingDays' in d.spec.limit ? computeDeadline(this.calendar, d.spec, at).workingDaysUsed : undefined
    d.state = state
    d.settledAt = at
    if (used !== undefined) d.workingDaysUsed = used
  }

  private open(keys: string[]): TrackedDeadline[] {
    return this.items.filter((d) => keys.includes(d.key) && isPending(d))
  }

  /** Recomputes a deadline whose limit changed; a warning it moved into the future is given again. */
  private recomputeMoved(d: TrackedDeadline, at: string): void {
    this.recompute(d, at)
    if (d.warned && Date.parse(d.warnAt) > Date.parse(at)) d.warned = false
  }

  private recompute(d: TrackedDeadline, now: string): void {
    const computed = computeDeadline(this.calendar, d.spec, now)
    d.dueAt = computed.dueAt
    d.warnAt = computed.warnAt
    d.provisional = computed.provisional
  }
}
