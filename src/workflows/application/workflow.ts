import {
  allHandlersFinished, ApplicationFailure, condition, continueAsNew, proxyActivities, setHandler, upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow'
import type { ProjectionActivities } from '../../activities/projection.ts'
import { ApplicationCase } from '../../domain/application/application-case.ts'
import type { CalendarData } from '../../domain/calendar.ts'
import { WorkingCalendar } from '../../domain/calendar.ts'
import type { RecordedEvent } from '../../domain/case-view.ts'
import { Refusal } from '../../domain/refusal.ts'
import { caseKindKey, handlingOrgKey, provisionalKey, statusKey } from '../search-attributes.ts'
import {
  actionUpdate, type ApplicationWorkflowInput, calendarChangedSignal, submittedUpdate, viewQuery,
} from './contract.ts'

const { recordCaseEvents } = proxyActivities<ProjectionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
})

/** One application (办件), from submission until it is closed. Workflow id = case id. */
export async function applicationWorkflow(input: ApplicationWorkflowInput): Promise<void> {
  const now = () => new Date(Date.now()).toISOString()
  let calendar: CalendarData = input.calendar
  let application: ApplicationCase
  let pending: RecordedEvent[] = []
  if (input.kind === 'new') {
    const submitted = ApplicationCase.submit({ id: input.caseId, guide: input.guide, submission: input.submission,
      actor: input.actor, calendar, at: now() })
    application = submitted.application
    pending = submitted.recorded
  } else {
    application = ApplicationCase.resume(input.state, calendar)
  }

  // Events are projected one batch at a time, in order, so the read side never skips a number.
  let busy = false
  let ready = false
  async function exclusively<T>(work: () => Promise<T>): Promise<T> {
    await condition(() => !busy)
    busy = true
    try {
      return await work()
    } finally {
      busy = false
    }
  }
  async function project(recorded: RecordedEvent[]): Promise<void> {
    if (recorded.length === 0) return
    await recordCaseEvents({ caseId: application.state.id, recorded })
    upsertSearchAttributes([
      { key: caseKindKey, value: 'application' },
      { key: statusKey, value: application.state.status },
      { key: handlingOrgKey, value: application.state.handlingOrganizationId },
      { key: provisionalKey, value: application.view(now()).deadlines.some((d) => d.provisional) },
    ])
  }

  setHandler(viewQuery, () => application.view(now()))
  setHandler(submittedUpdate, async () => {
    await condition(() => ready)
    return application.view(now())
  })
  setHandler(actionUpdate, (command) => exclusively(async () => {
    try {
      const recorded = application.apply(command, now())
      await project(recorded)
      return application.view(now())
    } catch (err) {
      throw asFailure(err)
    }
  }), {
    validator: (command) => {
      try {
        application.check(command)
      } catch (err) {
        throw asFailure(err)
      }
    },
  })
  setHandler(calendarChangedSignal, (data) => exclusively(async () => {
    if (data.version <= calendar.version) return
    calendar = data
    await project(application.recalendar(WorkingCalendar.from(data), now()))
  }))

  await exclusively(() => project(pending))
  ready = true

  while (application.isOpen) {
    const wakeMs = application.nextWakeMs()
    const seen = application.state.seq
    const changed = () => application.state.seq !== seen || application.nextWakeMs() !== wakeMs || !application.isOpen
    if (wakeMs === undefined) await condition(changed)
    else await condition(changed, Math.max(1, wakeMs - Date.now()))
    if (application.isOpen) await exclusively(() => project(application.advance(now())))
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished)
      await continueAsNew<typeof applicationWorkflow>({ kind: 'continued', state: application.state, calendar })
    }
  }
  await condition(allHandlersFinished)
}

/** Business refusals leave the workflow as typed, non-retryable failures the API can map. */
function asFailure(err: unknown): unknown {
  if (err instanceof Refusal) return ApplicationFailure.nonRetryable(err.message, err.code)
  return err
}
