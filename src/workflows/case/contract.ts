import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow'
import type { CalendarData } from '../../domain/calendar.ts'
import type { CaseCommand } from '../../domain/case/action.ts'
import type { CaseView } from '../../domain/case-view.ts'
import type { Actor } from '../../domain/roles.ts'

// The messages every case workflow answers, whatever its kind. Their names are in recorded
// histories: never rename them.

/** Resolves once the case's first event is recorded: Update-with-Start returns the case as created. */
export const submittedUpdate = defineUpdate<CaseView>('submitted')
/** Every command on a case. The validator refuses what the state does not allow. */
export const actionUpdate = defineUpdate<CaseView, [CaseCommand]>('action')
export const viewQuery = defineQuery<CaseView>('view')
/** A calendar year was published or replaced: recompute the deadlines. */
export const calendarChangedSignal = defineSignal<[CalendarData]>('calendarChanged')

/**
 * An escalation was filed about this case (API.md "Escalations"), sent by the escalation's own
 * workflow: the case records `escalation_filed` once per escalation, whoever sent it how often.
 */
export const escalationFiledSignal = defineSignal<[{ escalationId: string; actor: Actor }]>('escalationFiled')

/**
 * Something the case's own work waits for may have changed (a policy's budget was raised): the
 * case tries that work again now instead of at its next retry. Carries nothing; sent any number
 * of times, it changes nothing the work would not have changed on its own.
 */
export const workNudgedSignal = defineSignal('workNudged')

/** Deadlines watched by child workflows: what each child was last told. */
export type Watches = Record<string, { dueAt: string; warnAt: string; open: boolean }>

/**
 * How a case runs its short activities: writing its read side, and an application's pre-review
 * reading shared data. `'local'`: as local activities, inside the workflow task that needs them,
 * so that a command answers without an activity task's round trip through the server (issue 13).
 * `'local-reservation'`: those, and a fulfilment's reservation of its payment against the policy's
 * budget (one Postgres transaction) too, which a campaign's hundred thousand cases would otherwise
 * each send through the server and back (issue 11). Every case is started so. Absent: the case was
 * started before, with regular activities; `'local'`, before the reservation was local. Each
 * history replays as it was recorded.
 */
export type ActivityMode = 'local' | 'local-reservation'

/**
 * How a case waits for its next deadline. `'kept'`: with timers it never cancels (WakeTimers), so
 * a command starts no timer and cancels none. Absent: the case was started before, with a timer
 * cancelled and started again whenever its next deadline moved, and its history replays so.
 */
export type TimerMode = 'kept'

/**
 * Which of its search attributes (kind, status, handling organisation, provisional) a case upserts
 * after each change. `'changed'`: those whose value changed, and no upsert at all when none did (a
 * deadline warned, a supervision asked or answered, an opinion given). Each upsert is a write to
 * the server's visibility store: a full application's five took a quarter of the dev server's CPU
 * per case in bench:lifecycle (issue 13). Absent: the case was started before and upserts all four
 * every time, as its history was recorded.
 */
export type AttributeMode = 'changed'

/** How every case started now runs; the API and the campaign starter spread it into the start input. */
export const CURRENT_RUN: { activities: ActivityMode; timers: TimerMode; attributes: AttributeMode } = {
  activities: 'local-reservation', timers: 'kept', attributes: 'changed',
}

/** What every case's start input carries besides its kind's own fields. */
export interface CaseStart {
  kind: 'new'
  activities?: ActivityMode
  timers?: TimerMode
  attributes?: AttributeMode
}

/** A case carried over continue-as-new: its state, its calendar and its watches. */
export interface ContinuedCase<S> {
  kind: 'continued'
  state: S
  calendar: CalendarData
  watches: Watches
  activities?: ActivityMode
  timers?: TimerMode
  attributes?: AttributeMode
}
