import {
  type Client, WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import type { Histogram } from 'prom-client'
import type { CaseCommand } from '../domain/case/action.ts'
import type { CaseView } from '../domain/case-view.ts'
import type { Actor } from '../domain/roles.ts'
import { isRefusalCode } from '../domain/refusal.ts'
import { ensureMonthlyReportSchedule } from '../infra/report-schedule.ts'
import { startCalendarPropagation } from '../infra/calendar-propagation.ts'
import type { TaskQueues } from '../infra/temporal.ts'
import { CASE_WORKFLOWS, type NewCases, type StartableKind, startAttributes } from '../workflows/case-kinds.ts'
import { actionUpdate, CURRENT_RUN, submittedUpdate, workNudgedSignal } from '../workflows/case/contract.ts'
import type { campaignWorkflow } from '../workflows/fulfilment/campaign.ts'
import { campaignWorkflowId } from '../workflows/fulfilment/contract.ts'
import { problem } from './problem.ts'

/** What the API asks of Temporal: start cases, send them commands, hand out calendar versions. Nothing else. */
export interface CaseGateway {
  /** Starts a case of any kind (or finds it started) and returns it once its first event is recorded. */
  startCase<K extends StartableKind>(kind: K, input: NewCases[K]): Promise<CaseView | 'closed'>
  /** Sends a command to a case of any kind; its workflow checks it with the kind's own rules. */
  act(caseId: string, command: CaseCommand): Promise<CaseView>
  /**
   * Starts (or finds running) the workflow of a campaign whose lines are in Postgres, from the
   * line after `afterLine` (0: the first); one that failed or was terminated is run again.
   */
  startCampaign(campaignId: string, actor: Actor, afterLine?: number): Promise<void>
  /**
   * Tells open cases that what their own work waits for may have changed (a raised budget); a
   * case that has ended meanwhile is skipped. Returns how many could not be told.
   */
  nudge(caseIds: readonly string[]): Promise<number>
  /** Starts (or finds) the workflow that hands calendar version `version` to the open cases it may move. */
  propagateCalendar(version: number): Promise<void>
  /** Creates the monthly report's schedule unless it exists (src/infra/report-schedule.ts). */
  ensureReportSchedule(): Promise<'created' | 'exists'>
  ping(): Promise<void>
}

/** The gateway with each call's duration observed under its name, whether it answered or threw. */
export function timedGateway(gateway: CaseGateway, duration: Histogram<'call'>): CaseGateway {
  const timed = <A extends unknown[], R>(call: keyof CaseGateway, run: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    const end = duration.startTimer({ call })
    try {
      return await run(...args)
    } finally {
      end()
    }
  }
  return {
    startCase: timed('startCase', gateway.startCase.bind(gateway)) as CaseGateway['startCase'],
    act: timed('act', gateway.act.bind(gateway)),
    startCampaign: timed('startCampaign', gateway.startCampaign.bind(gateway)),
    nudge: timed('nudge', gateway.nudge.bind(gateway)),
    propagateCalendar: timed('propagateCalendar', gateway.propagateCalendar.bind(gateway)),
    ensureReportSchedule: timed('ensureReportSchedule', gateway.ensureReportSchedule.bind(gateway)),
    ping: timed('ping', gateway.ping.bind(gateway)),
  }
}

/** For an app that must never reach Temporal (read benchmarks, tests of reads): every call fails, saying `why`. */
export function refusingGateway(why: string): CaseGateway {
  const refuse = () => Promise.reject(new Error(why))
  return { startCase: refuse, act: refuse, startCampaign: refuse, nudge: refuse, propagateCalendar: refuse, ensureReportSchedule: refuse, ping: refuse }
}

export function createCaseGateway(client: Client, queues: TaskQueues): CaseGateway {
  return {
    async startCase(kind, input) {
      const { workflowType, queue } = CASE_WORKFLOWS[kind]
      const start = new WithStartWorkflowOperation<(input: NewCases[typeof kind]) => Promise<void>>(workflowType, {
        workflowId: input.caseId,
        taskQueue: queueOf(queues, queue),
        args: [{ ...input, ...CURRENT_RUN }],
        typedSearchAttributes: startAttributes(kind, input),
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
    async startCampaign(campaignId, actor, afterLine = 0) {
      try {
        await client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
          workflowId: campaignWorkflowId(campaignId),
          taskQueue: queues.campaigns,
          args: [{ campaignId, actor, afterLine, casesQueue: queues.fulfilments }],
          // Running: that one goes on. Failed or terminated: a new run goes on from `afterLine`.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        })
      } catch (err) {
        // It ran to its end already: a retried upload finds it done.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err
      }
    },
    async nudge(caseIds) {
      let failed = 0
      for (const caseId of caseIds) {
        try {
          await client.workflow.getHandle(caseId).signal(workNudgedSignal)
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) failed++
        }
      }
      return failed
    },
    async propagateCalendar(version) {
      await startCalendarPropagation(client, queues.calendar, version)
    },
    // On the calendar queue, with the system's other own workflows.
    ensureReportSchedule: () => ensureMonthlyReportSchedule(client, queues.calendar),
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

/** The task queue of a kind's workflows under this deployment's prefix. */
function queueOf(queues: TaskQueues, queue: string): string {
  const name = Object.values(queues).find((q) => q.endsWith(`-${queue}`))
  if (!name) throw new Error(`no task queue ${queue} among ${Object.values(queues).join(', ')}`)
  return name
}
