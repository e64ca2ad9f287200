import { Type } from 'typebox'
import { type CalendarData, WorkingCalendar } from '../../src/domain/calendar.ts'
import { actionOf, Strict, Text } from '../../src/domain/case/action.ts'
import { CaseCore, type DeadlineHook } from '../../src/domain/case/core.ts'
import { awaitsRating, caseLimits, ratingActions, type RatedState, startRatingPeriod } from '../../src/domain/case/rating.ts'
import { supervisionActions } from '../../src/domain/case/supervision.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import type { TrackedDeadline } from '../../src/domain/deadline-book.ts'
import { LimitSchema } from '../../src/domain/limit-schema.ts'
import { Refusal } from '../../src/domain/refusal.ts'
import type { Actor } from '../../src/domain/roles.ts'
import { calendarWith } from './time-skipping.ts'

// A case kind of three statuses and a handful of actions, written only for the tests: the kernel
// in src/domain/case is tested through it, apart from any real kind's rules.

export const TINY_AT = '2026-03-02T02:00:00.000Z' // Monday 10:00 in Guangzhou
export const HANDLER: Actor = { organizationId: 'gz-amr', role: 'department' }
export const OTHER_DEPT: Actor = { organizationId: 'gz-hr', role: 'department' }
export const DESK: Actor = { organizationId: 'gz-center', role: 'window' }
export const CHIEF: Actor = { organizationId: 'gz', role: 'supervisor' }

export interface TinyState extends RatedState {
  status: 'open' | 'held' | 'done'
}

const action = actionOf<TinyCase>()

export const TINY_ACTIONS = {
  /** Anyone at the desk, or the handling department; the word "no" is refused by the check. */
  note: action({
    roles: ['window', 'department'], handlerOnly: ['department'], allowedIn: ['open', 'held'],
    params: Strict({ text: Text(), choice: Type.Optional(Type.Union([Strict({ a: Text() }), Strict({ b: Text() })])) }),
    check(_kase, { text }) {
      if (text === 'no') throw new Refusal('conflict', 'the case says no')
    },
    apply(kase, { text }, actor, at) {
      kase.record('noted', actor, at, { text })
    },
  }),
  /** Starts a deadline; no handlerOnly and no check, so those are optional in a spec. */
  clock: action({
    roles: ['department'], allowedIn: ['open'],
    params: Strict({ key: Text(50), within: LimitSchema, external: Type.Optional(Type.Boolean()), counts: Type.Optional(Type.Array(Type.Integer())) }),
    apply(kase, { key, within, external }, actor, at) {
      kase.book.start('step', key, { limit: within, startAt: at }, { external: external === true })
      kase.record('clock_started', actor, at, { key })
    },
  }),
  hold: action({
    roles: ['department'], allowedIn: ['open'], params: Strict({}),
    apply(kase, _params, actor, at) {
      kase.state.status = 'held'
      kase.book.pause(kase.book.items.map((d) => d.key), at)
      kase.record('held', actor, at, {})
    },
  }),
  finish: action({
    roles: ['department'], allowedIn: ['open'], handlerOnly: ['department'], params: Strict({}),
    apply(kase, _params, actor, at) {
      kase.state.status = 'done'
      kase.book.cancelAll(at)
      startRatingPeriod(kase, at)
      kase.record('finished', actor, at, {})
    },
  }),
  ...ratingActions(['done']),
  ...supervisionActions({ supervise: ['open', 'held'], respond: ['open', 'held', 'done'] }),
}

export class TinyCase extends CaseCore<TinyState> {
  /** The kind's own word on a deadline event, when a test gives it one. */
  hook?: DeadlineHook
  /** Who owes each deadline, by key, when not the handling organisation. */
  owners: Record<string, string> = {}

  constructor(state: TinyState, calendar: CalendarData = calendarWith()) {
    super(state, WorkingCalendar.from(calendar))
  }

  static open(overrides: Partial<TinyState> = {}, calendar?: CalendarData): TinyCase {
    return new TinyCase({
      id: 'T-1', status: 'open', seq: 0, handlingOrganizationId: HANDLER.organizationId, receivedBy: DESK.organizationId,
      flags: [], overdue: false, deadlines: [], createdAt: TINY_AT, updatedAt: TINY_AT, supervisions: [], limits: caseLimits(),
      ...overrides,
    }, calendar)
  }

  protected get actions() {
    return TINY_ACTIONS
  }

  get isOpen(): boolean {
    return this.state.status !== 'done' || awaitsRating(this.state)
  }

  view(now: string): CaseView {
    const { rating, rectification } = this.state
    const view: CaseView = {
      ...this.coreView(now), kind: 'complaint', channel: 'hotline', priority: { greenChannel: false, urgent: false },
      ...(rating ? { rating } : {}), ...(rectification ? { rectification } : {}),
    }
    return JSON.parse(JSON.stringify(view)) as CaseView
  }

  protected override onKindDeadline(...args: Parameters<DeadlineHook>): ReturnType<DeadlineHook> {
    return this.hook?.(...args) ?? super.onKindDeadline(...args)
  }

  protected override ownerOf(deadline: TrackedDeadline): string {
    return this.owners[deadline.key] ?? super.ownerOf(deadline)
  }
}

export const tinyCommand = (action: string, actor: Actor, params: Record<string, unknown> = {}) => ({ action, actor, params })

/** The refusal a call throws, as code, message and detail paths; undefined when it does not refuse. */
export function refusalOf(attempt: () => unknown): { code: string; message: string; paths: string[] } | undefined {
  try {
    attempt()
  } catch (err) {
    if (err instanceof Refusal) return { code: err.code, message: err.message, paths: err.details.map((d) => d.path) }
    throw err
  }
  return undefined
}
