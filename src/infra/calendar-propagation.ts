import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client'
import { unpropagatedCalendarVersions } from '../db/calendar.ts'
import type { Db } from '../db/client.ts'
import { type CalendarPropagationInput, calendarPropagationId } from '../workflows/calendar-propagation/contract.ts'
import type { calendarPropagationWorkflow } from '../workflows/calendar-propagation/workflow.ts'

export type PropagationOptions = Pick<CalendarPropagationInput, 'pageSize' | 'retryAfterMs'>

/**
 * Starts the propagation of calendar version `version`, or finds it, and gives its workflow id: the id is the version's, a
 * running one is used as it is, and one that finished is not run again (one that failed or was
 * terminated is). So the API, a retry and the CLI may all call it.
 */
export async function startCalendarPropagation(client: Client, taskQueue: string, version: number, options: PropagationOptions = {}): Promise<string> {
  const workflowId = calendarPropagationId(taskQueue, version)
  try {
    await client.workflow.start<typeof calendarPropagationWorkflow>('calendarPropagationWorkflow', {
      workflowId,
      taskQueue,
      args: [{ version, reached: 0, missed: 0, ...options }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    })
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err
  }
  return workflowId
}

/**
 * Starts the propagation of every version that no pass has yet handed to all its cases: one whose
 * publisher could not start it (Temporal was down, the CLI could not reach it), or one stopped by
 * hand. Run when an API process starts.
 */
export async function startUnpropagatedCalendarVersions(db: Db, start: (version: number) => Promise<void>): Promise<number[]> {
  const versions = await unpropagatedCalendarVersions(db)
  for (const version of versions) await start(version)
  return versions
}
