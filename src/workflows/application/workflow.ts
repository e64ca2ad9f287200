import {
  allHandlersFinished, ApplicationFailure, condition, continueAsNew, getExternalWorkflowHandle, ParentClosePolicy,
  patched, proxyActivities, setHandler, sleep, startChild, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow'
import type { Activities } from '../../activities/index.ts'
import { ApplicationCase } from '../../domain/application/application-case.ts'
import type { CalendarData } from '../../domain/calendar.ts'
import { WorkingCalendar } from '../../domain/calendar.ts'
import type { RecordedEvent } from '../../domain/case-view.ts'
import { Refusal } from '../../domain/refusal.ts'
import {
  deadlineMovedSignal, deadlineReachedSignal, deadlineSettledSignal, watchWorkflowId,
} from '../deadline-watch/contract.ts'
import { deadlineWatchWorkflow } from '../deadline-watch/workflow.ts'
import { caseKindKey, handlingOrgKey, provisionalKey, statusKey } from '../search-attributes.ts'
import {
  actionUpdate, type ApplicationWorkflowInput, calendarChangedSignal, type NewApplication, submittedUpdate, viewQuery,
  type Watches,
} from './contract.ts'

const { recordCaseEvents, attachSharedMaterials } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
})

const now = () => new Date(Date.now()).toISOString()

/** One application (办件), from submission until it is closed. Workflow id = case id. */
export async function applicationWorkflow(input: ApplicationWorkflowInput): Promise<void> {
  let calendar: CalendarData = input.calendar
  let application: ApplicationCase | undefined
  const watches: Watches = input.kind === 'continued' ? input.watches : {}
  let busy = false
  // Set once the submission is on the read side; nothing else is recorded before it.
  let ready = input.kind === 'continued'

  /** Commands, timers and signals change the case one at a time, so events are numbered in order. */
  async function exclusively<T>(work: (app: ApplicationCase) => Promise<T>, first = false): Promise<T> {
    await condition(() => !busy && application !== undefined && (ready || first))
    busy = true
    try {
      return await work(application!)
    } finally {
      busy = false
    }
  }

  async function project(app: ApplicationCase, recorded: RecordedEvent[]): Promise<void> {
    if (recorded.length === 0) return
    await recordCaseEvents({ caseId: app.state.id, recorded })
    const view = recorded[recorded.length - 1]!.view
    upsertSearchAttributes([
      { key: caseKindKey, value: 'application' },
      { key: statusKey, value: app.state.status },
      { key: handlingOrgKey, value: app.state.handlingOrganizationId },
      { key: provisionalKey, value: view.deadlines.some((d) => d.provisional && (d.state === 'running' || d.state === 'paused')) },
    ])
    await reconcileWatches(app)
  }

  /** Starts, moves or stops the child workflows that watch external deadlines. */
  async function reconcileWatches(app: ApplicationCase): Promise<void> {
    for (const d of app.externalDeadlines) {
      const seen = watches[d.key]
      const open = d.state === 'running' || d.state === 'paused'
      const childId = watchWorkflowId(app.state.id, d.key)
      if (!seen && open) {
        await startChild(deadlineWatchWorkflow, {
          workflowId: childId,
          args: [{ parentId: app.state.id, key: d.key, dueAt: d.dueAt, warnAt: d.warnAt, warned: d.warned }],
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

  setHandler(viewQuery, () => {
    if (!application) throw new Error('the case is being submitted')
    return application.view(now())
  })
  // Text the read side cannot store would freeze the case at its first event: refuse it at the door.
  const refused = input.kind === 'new' ? refusalOf(() => ApplicationCase.checkSubmission(input)) : undefined
  setHandler(submittedUpdate, async () => {
    await condition(() => ready && !busy)
    return application!.view(now())
  }, {
    validator: () => {
      if (refused) throw asFailure(refused)
    },
  })
  setHandler(actionUpdate, (command) => exclusively(async (app) => {
    try {
      await project(app, app.apply(command, now()))
      return app.view(now())
    } catch (err) {
      throw asFailure(err)
    }
  }), {
    validator: (command) => {
      if (!application) throw ApplicationFailure.nonRetryable('the case is being submitted', 'conflict')
      try {
        application.check(command)
      } catch (err) {
        throw asFailure(err)
      }
    },
  })
  setHandler(calendarChangedSignal, (data) => exclusively(async (app) => {
    if (data.version <= calendar.version) return
    calendar = data
    await project(app, app.recalendar(WorkingCalendar.from(data), now()))
  }))
  setHandler(deadlineReachedSignal, ({ key, change }) => exclusively(async (app) => {
    await project(app, app.markExternal(key, change, now()))
    if (change === 'missed' && watches[key]) watches[key] = { ...watches[key], open: false }
  }))

  /**
   * Waits until no command is in flight and the last answer has gone out in a workflow task of its
   * own: the server may hand an update completed in the same task as continue-as-new to the new run
   * a second time (temporalio/temporal#6375), which would apply one action twice.
   */
  async function quiesce(): Promise<void> {
    const idle = () => allHandlersFinished() && !busy
    await condition(idle)
    if (!patched('continue-as-new-in-own-task')) return
    for (;;) {
      await sleep(1)
      if (idle()) return
      await condition(idle)
    }
  }

  let app: ApplicationCase
  if (input.kind === 'new') {
    if (refused) throw asFailure(refused)
    const submitted = await submit(input)
    application = app = submitted.application
    await exclusively(() => project(app, submitted.recorded), true)
    ready = true
  } else {
    application = app = ApplicationCase.resume(input.state, calendar)
  }

  while (app.isOpen) {
    const wakeMs = app.nextWakeMs()
    const seen = app.state.seq
    const changed = () => app.state.seq !== seen || app.nextWakeMs() !== wakeMs || !app.isOpen
    if (wakeMs === undefined) await condition(changed)
    else await condition(changed, Math.max(1, wakeMs - Date.now()))
    if (app.isOpen) await exclusively(async () => project(app, app.advance(now())))
    if (workflowInfo().continueAsNewSuggested) {
      await quiesce()
      await continueAsNew<typeof applicationWorkflow>({ kind: 'continued', state: app.state, calendar, watches })
    }
  }
  // The case ended: stop any watch still running, then let in-flight commands answer.
  await exclusively(async () => {
    for (const [key, watch] of Object.entries(watches)) {
      if (watch.open) {
        watches[key] = { ...watch, open: false }
        await signalChild(watchWorkflowId(app.state.id, key), 'settle')
      }
    }
  })
  await condition(allHandlersFinished)
}

/** Pre-review (shared data attached) and the submission itself. */
async function submit(input: NewApplication): Promise<{ application: ApplicationCase; recorded: RecordedEvent[] }> {
  const wanted = input.guide.materials
    .filter((m) => m.sharedSource && !input.submission.materials.some((given) => given.code === m.code))
    .map((m) => ({ code: m.code, source: m.sharedSource! }))
  const shared = wanted.length > 0
    ? await attachSharedMaterials({ subject: input.submission.applicant.idNumber, wanted })
    : []
  return ApplicationCase.submit({
    id: input.caseId, guide: input.guide, actor: input.actor, calendar: input.calendar, at: now(),
    submission: { ...input.submission, materials: [...input.submission.materials, ...shared] },
    ...(input.limits ? { limits: input.limits } : {}),
  })
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
