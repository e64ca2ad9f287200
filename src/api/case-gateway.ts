import {
  type Client, WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import type { ApplicationCommand } from '../domain/application/application-case.ts'
import type { CalendarData } from '../domain/calendar.ts'
import type { CaseView } from '../domain/case-view.ts'
import { isRefusalCode } from '../domain/refusal.ts'
import type { TaskQueues } from '../infra/temporal.ts'
import {
  actionUpdate, type ApplicationWorkflowInput, calendarChangedSignal, submittedUpdate,
} from '../workflows/application/contract.ts'
import type { applicationWorkflow } from '../workflows/application/workflow.ts'
import { problem } from './problem.ts'

/** What the API asks of Temporal: start cases and send them commands. Nothing else. */
export interface CaseGateway {
  /** Starts the case (or finds it started) and returns it once its submission is recorded. */
  submitApplication(input: Extract<ApplicationWorkflowInput, { kind: 'new' }>): Promise<CaseView | 'closed'>
  act(caseId: string, command: ApplicationCommand): Promise<CaseView>
  /** Hands a running case a new calendar; 'closed' when its workflow has already ended. */
  signalCalendar(caseId: string, data: CalendarData): Promise<'signalled' | 'closed'>
  ping(): Promise<void>
}

/** For an app that must never reach Temporal (read benchmarks, tests of reads): every call fails, saying `why`. */
export function refusingGateway(why: string): CaseGateway {
  const refuse = () => Promise.reject(new Error(why))
  return { submitApplication: refuse, act: refuse, signalCalendar: refuse, ping: refuse }
}

export function createCaseGateway(client: Client, queues: TaskQueues): CaseGateway {
  return {
    async submitApplication(input) {
      const start = new WithStartWorkflowOperation<typeof applicationWorkflow>('applicationWorkflow', {
        workflowId: input.caseId,
        taskQueue: queues.applications,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        // A closed case keeps its id forever: a retried submission must not start it again.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      })
      try {
        return await client.workflow.executeUpdateWithStart(submittedUpdate, { startWorkflowOperation: start })
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return 'closed'
        throw translate(err)
      }
    },
    async act(caseId, command) {
      try {
        return await client.workflow.getHandle(caseId).executeUpdate(actionUpdate, { args: [command] })
      } catch (err) {
        throw translate(err)
      }
    },
    async signalCalendar(caseId, data) {
      try {
        await client.workflow.getHandle(caseId).signal(calendarChangedSignal, data)
        return 'signalled'
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return 'closed'
        throw err
      }
    },
    async ping() {
      await client.workflowService.getSystemInfo({})
    },
  }
}

/** Refusals from a workflow become the contract's problems; anything else stays a 5xx. */
function translate(err: unknown): unknown {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && isRefusalCode(err.cause.type)) {
    return problem(err.cause.type, err.cause.message)
  }
  if (err instanceof WorkflowNotFoundError) return problem('invalid_transition', 'the case is closed')
  return err
}
