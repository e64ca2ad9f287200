import {
  allHandlersFinished, ApplicationFailure, condition, continueAsNew, getExternalWorkflowHandle, ParentClosePolicy,
  patched, proxyActivities, proxyLocalActivities, setHandler, sleep, startChild, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow'
import type { Activities } from '../../activities/index.ts'
import type { CalendarData } from '../../domain/calendar.ts'
import { WorkingCalendar } from '../../domain/calendar.ts'
import type { CaseCore, CoreState } from '../../domain/case/core.ts'
import { type CaseKind, isPending, type RecordedEvent } from '../../domain/case-view.ts'
import { Refusal } from '../../domain/refusal.ts'
import {
  deadlineMovedSignal, deadlineReachedSignal, deadlineSettledSignal, watchWorkflowId,
} from '../deadline-watch/contract.ts'
import { deadlineWatchWorkflow } from '../deadline-watch/workflow.ts'
import { WakeTimers } from '../wake-timer.ts'
import { caseAttributes } from '../search-attributes.ts'
import {
  actionUpdate, type ActivityMode, calendarChangedSignal, type CaseStart, type ContinuedCase, escalationFiledSignal, submittedUpdate,
  viewQuery, type Watches, workNudgedSignal,
} from './contract.ts'

const projectionRetry = { initialInterval: '1 second', maximumInterval: '1 minute' } as const
const { recordCaseEvents, organizationParents } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds', retry: projectionRetry,
})
// The same projection, run by the worker inside the workflow task that changed the case: the
// command answers once the task completes, with no activity task sent through the server and
// back (issue 13). A retry (Postgres down) keeps the case waiting as before, and the write is
// idempotent, so a task that ran it and then failed may run it again.
const { recordCaseEvents: recordCaseEventsLocally } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds', retry: projectionRetry,
})

const now = () => new Date(Date.now()).toISOString()

/** What a case's own work may do: record what it did, and learn where organisations sit in the tree. */
export interface WorkTools {
  /** How the case was started to run its short activities (the input's `activities`), for the work's own. */
  activities: ActivityMode | undefined
  project(recorded: RecordedEvent[]): Promise<void>
  /** Looks up the parents of these organisations, for the supervision records the work is about to open. */
  place(organizationIds: string[]): Promise<void>
}

/**
 * A new case's input. Kinds whose cases are started by the thousand (a campaign's fulfilments)
 * leave the calendar out, and their `create` reads it once the case runs.
 */
type NewCase = CaseStart & { calendar?: CalendarData }

/** What the runner needs of a kind: how a case of it starts and how it resumes after continue-as-new. */
export interface RunnableKind<C extends CaseCore<S>, S extends CoreState, New extends NewCase> {
  kind: CaseKind
  /** Refuses (a Refusal) a new case whose first event could never be recorded. */
  checkNew(input: New): void
  /**
   * The case and its first events; may call activities (pre-review) before it reads the time.
   * Returns the calendar it read when the input had none.
   */
  create(input: New, now: () => string): Promise<{ kase: C; recorded: RecordedEvent[]; calendar?: CalendarData }>
  resume(state: S, calendar: CalendarData): C
  /** What a new case does once its first event is on the read side (an escalation tells its related case). */
  started?(kase: C, input: New): Promise<void>
  /**
   * Work the case does by itself between commands (a fulfilment's payment), one piece at a time,
   * with no command in between; returns when to try again if it must wait (for money), else
   * undefined. A `workNudged` signal makes it try again at once.
   */
  work?(kase: C, tools: WorkTools): Promise<number | undefined>
}

/**
 * One case of any kind, from its first event until it is closed. Workflow id = case id. Commands,
 * timers and signals change the case one at a time, so events are numbered in order; every change
 * reaches the read side (and the search attributes) before its command answers.
 */
export async function runCase<C extends CaseCore<S>, S extends CoreState, New extends NewCase>(
  kind: RunnableKind<C, S, New>, input: New | ContinuedCase<S>,
): Promise<void> {
  // Set before any handler that reads it can run: from the input, or by `create`.
  let calendar = input.calendar as CalendarData
  let current: C | undefined
  const watches: Watches = input.kind === 'continued' ? input.watches : {}
  let busy = false
  // Set once the first event is on the read side; nothing else is recorded before it.
  let ready = input.kind === 'continued'
  // Fixed in the input, so that a replay schedules what the recorded run scheduled.
  const { activities, timers, attributes } = input
  const wake = timers === 'kept' ? new WakeTimers() : undefined
  const recordEvents = activities !== undefined ? recordCaseEventsLocally : recordCaseEvents

  /** No command or other change is in flight (and the first event is recorded, unless this is it). */
  const free = (first = false) => !busy && current !== undefined && (ready || first)

  /**
   * Takes the case for a change once its turn comes (callers take a free case at once: a condition
   * the SDK would find true anyway costs a promise per await, and each promise a stack trace in the
   * workflow sandbox, issue 13). The SDK releases in one pass every waiter whose condition holds, so
   * two changes waiting on a third would both go on, the second while the first is in flight: each
   * looks again before it takes the case. Histories recorded before replay as they ran: the marker
   * is asked for only where that second look finds the case taken, so other histories record none.
   */
  async function turn(first = false): Promise<void> {
    await condition(() => free(first))
    while (!free(first) && patched('one-change-at-a-time')) await condition(() => free(first))
    busy = true
  }

  async function exclusively<T>(work: (kase: C) => Promise<T>, first = false): Promise<T> {
    if (free(first)) busy = true
    else await turn(first)
    try {
      return await work(current!)
    } finally {
      busy = false
    }
  }

  async function project(kase: C, recorded: RecordedEvent[]): Promise<void> {
    if (recorded.length === 0) return
    await recordEvents({ caseId: kase.state.id, recorded })
    const view = recorded[recorded.length - 1]!.view
    const values = caseAttributes({
      kind: kind.kind, status: kase.state.status, handlingOrganizationId: kase.state.handlingOrganizationId,
      provisional: view.deadlines.some((d) => d.provisional && isPending(d)),
    })
    if (attributes === 'changed') {
      // What the run was started or continued with, and what it upserted since.
      const held = workflowInfo().typedSearchAttributes
      const changed = values.filter(({ key, value }) => held.get(key) !== value)
      if (changed.length > 0) upsertSearchAttributes([...changed])
    } else {
      upsertSearchAttributes([...values])
    }
    // Most cases watch no deadline from outside, and then await nothing more here.
    if (kase.externalDeadlines.length > 0) await reconcileWatches(kase)
  }

  /** Starts, moves or stops the child workflows that watch external deadlines. */
  async function reconcileWatches(kase: C): Promise<void> {
    for (const d of kase.externalDeadlines) {
      const seen = watches[d.key]
      const open = isPending(d)
      const childId = watchWorkflowId(kase.state.id, d.key)
      if (!seen && open) {
        await startChild(deadlineWatchWorkflow, {
          workflowId: childId,
          args: [{ parentId: kase.state.id, key: d.key, dueAt: d.dueAt, warnAt: d.warnAt, warned: d.warned, ...(timers ? { timers } : {}) }],
          // The child must outlive continue-as-new of its case; the case settles it explicitly.
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        })
        watches[d.key] = { dueAt: d.dueAt, warnAt: d.warnAt, open: true }
      } else if (seen?.open && !open) {
        watches[d.key] = { ...seen, open: false }
        if (d.state !== 'missed') await signalChild(childId, 'settle')
      } else if (seen?.open && (seen.dueAt !== d.dueAt || seen.warnAt !== d.warnAt)) {
        watches[d.key] = { dueAt: d.dueAt, warnAt: d.warnAt, open: true }
        await signalChild(childId, { dueAt: d.dueAt, warnAt: d.warnAt })
      }
    }
  }

  /**
   * Looks up, before the case acts on what falls due by `ms`, the parents its supervision records
   * will climb to. Only a case with levels ever asks, and only when a step it owes is due; else
   * there is nothing to wait for (undefined), and no promise is made.
   */
  function placeInTree(kase: C, ms: number): Promise<void> | undefined {
    const wanted = kase.unplacedBy(ms)
    return wanted.length > 0 ? organizationParents({ ids: wanted }).then((parents) => kase.place(parents)) : undefined
  }

  /**
   * Acts on what has fallen due by now, once nothing else is in flight: `exclusively` and project
   * written out, because most wakes follow a command and find nothing due, and then this awaits
   * nothing (each promise costs a stack trace in the workflow sandbox, issue 13). It schedules what
   * they did, in the same order, so recorded histories replay.
   */
  async function advanceClock(kase: C): Promise<void> {
    if (free()) busy = true
    else await turn()
    try {
      const at = now()
      const placing = placeInTree(kase, Date.parse(at))
      if (placing) await placing
      const recorded = kase.advance(at)
      if (recorded.length > 0) await project(kase, recorded)
    } finally {
      busy = false
    }
  }

  setHandler(viewQuery, () => {
    if (!current) throw new Error('the case is being created')
    return current.view(now())
  })
  // Text the read side cannot store would freeze the case at its first event: refuse it at the door.
  const refused = input.kind === 'new' ? refusalOf(() => kind.checkNew(input)) : undefined
  setHandler(submittedUpdate, async () => {
    await condition(() => ready && !busy)
    return current!.view(now())
  }, {
    validator: () => {
      if (refused) throw asFailure(refused)
    },
  })
  // Every command's path, so `exclusively` is written out: two promises fewer (see advanceClock).
  setHandler(actionUpdate, async (command) => {
    if (free()) busy = true
    else await turn()
    const kase = current!
    try {
      await project(kase, kase.apply(command, now()))
      return kase.view(now())
    } catch (err) {
      throw asFailure(err)
    } finally {
      busy = false
    }
  }, {
    validator: (command) => {
      if (!current) throw ApplicationFailure.nonRetryable('the case is being submitted', 'conflict')
      try {
        current.check(command)
      } catch (err) {
        throw asFailure(err)
      }
    },
  })
  setHandler(calendarChangedSignal, (data) => exclusively(async (kase) => {
    if (data.version <= calendar.version) return
    calendar = data
    await project(kase, kase.recalendar(WorkingCalendar.from(data), now()))
  }))
  // An escalation filed about this case (any kind may be one's related case).
  setHandler(escalationFiledSignal, ({ escalationId, actor }) => exclusively(async (kase) => {
    await project(kase, kase.noteEscalation(escalationId, actor, now()))
  }))
  setHandler(deadlineReachedSignal, ({ key, change }) => exclusively(async (kase) => {
    const at = now()
    // The watch may report a little before the case's own clock reaches the due instant.
    if (change === 'missed') await placeInTree(kase, Number.POSITIVE_INFINITY)
    await project(kase, kase.markExternal(key, change, at))
    if (change === 'missed' && watches[key]) watches[key] = { ...watches[key], open: false }
  }))

  // Only kinds with work of their own listen: other kinds' histories stay as they were.
  let nudged = false
  if (kind.work) setHandler(workNudgedSignal, () => { nudged = true })
  const tools = (kase: C): WorkTools => ({
    activities,
    project: (recorded) => project(kase, recorded),
    async place(organizationIds) {
      if (organizationIds.length > 0) kase.place(await organizationParents({ ids: organizationIds }))
    },
  })

  /**
   * Waits until no command is in flight and, when `inOwnTask()`, until the last answer has gone out
   * in a workflow task of its own, before the run continues as new (the server may hand an update
   * completed in the same task to the new run a second time, temporalio/temporal#6375, which would
   * apply one action twice) or completes (see the end of runCase).
   */
  async function quiesce(inOwnTask: () => boolean): Promise<void> {
    const idle = () => allHandlersFinished() && !busy
    await condition(idle)
    if (!inOwnTask()) return
    for (;;) {
      await sleep(1)
      if (idle()) return
      await condition(idle)
    }
  }

  let kase: C
  if (input.kind === 'new') {
    if (refused) throw asFailure(refused)
    const created = await kind.create(input, now)
    if (created.calendar) calendar = created.calendar
    current = kase = created.kase
    await exclusively(() => project(kase, created.recorded), true)
    ready = true
    if (kind.started) await kind.started(kase, input)
  } else {
    current = kase = kind.resume(input.state, calendar)
  }

  while (kase.isOpen) {
    let retryAtMs: number | undefined
    if (kind.work) {
      nudged = false
      retryAtMs = await exclusively((k) => kind.work!(k, tools(k)))
      if (!kase.isOpen) break
    }
    const wakeMs = earliest(kase.nextWakeMs(), retryAtMs)
    const seen = kase.state.seq
    const changed = () => nudged || kase.state.seq !== seen || earliest(kase.nextWakeMs(), retryAtMs) !== wakeMs || !kase.isOpen
    if (wake) await wake.until(wakeMs, changed)
    else if (wakeMs === undefined) await condition(changed)
    else await condition(changed, Math.max(1, wakeMs - Date.now()))
    if (kase.isOpen) await advanceClock(kase)
    if (workflowInfo().continueAsNewSuggested) {
      await quiesce(() => patched('continue-as-new-in-own-task'))
      const carried: ContinuedCase<S> = {
        kind: 'continued', state: kase.state, calendar, watches, ...(activities ? { activities } : {}), ...(timers ? { timers } : {}),
        ...(attributes ? { attributes } : {}),
      }
      await continueAsNew<(input: ContinuedCase<S>) => Promise<void>>(carried)
    }
  }
  // The case ended: stop any watch still running, then let in-flight commands answer.
  await exclusively(async () => {
    for (const [key, watch] of Object.entries(watches)) {
      if (watch.open) {
        watches[key] = { ...watch, open: false }
        await signalChild(watchWorkflowId(kase.state.id, key), 'settle')
      }
    }
  })
  // With kept timers, one may fire while the last task is in flight; the server then refuses to
  // complete the workflow in that task (an event it has not handed over), failing the task and with
  // it every update answered there ("unexpected workflow task failure"). So the last answers go out
  // in a task of their own, and the workflow completes in the next, where a refusal costs nobody.
  if (wake) await quiesce(() => true)
  else await condition(allHandlersFinished)
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b)
}

async function signalChild(childId: string, message: 'settle' | { dueAt: string; warnAt: string }): Promise<void> {
  const child = getExternalWorkflowHandle(childId)
  try {
    if (message === 'settle') await child.signal(deadlineSettledSignal)
    else await child.signal(deadlineMovedSignal, message)
  } catch {
    // The watch already finished (it reported the deadline missed): nothing left to tell it.
  }
}

/**
 * Refusals (every domain error is one) leave the workflow as typed, non-retryable failures the API
 * can map, with the paths of what was wrong as details.
 */
function asFailure(err: unknown): unknown {
  if (err instanceof Refusal) {
    return ApplicationFailure.create({ message: err.message, type: err.code, nonRetryable: true, details: [err.details] })
  }
  return err
}

function refusalOf(check: () => void): Refusal | undefined {
  try {
    check()
    return undefined
  } catch (err) {
    if (err instanceof Refusal) return err
    throw err
  }
}
