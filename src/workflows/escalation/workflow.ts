import { getExternalWorkflowHandle, proxyActivities } from '@temporalio/workflow'
import type { Activities } from '../../activities/index.ts'
import { EscalationCase, type EscalationState } from '../../domain/escalation/escalation-case.ts'
import { escalationFiledSignal } from '../case/contract.ts'
import { runCase, type RunnableKind } from '../case/runner.ts'
import type { EscalationWorkflowInput, NewEscalation } from './contract.ts'

const { recordEscalationOnEndedCase } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
})

/** The escalation (办不成事) as the runner sees it: filed, resumed from its state, and told to its related case. */
const escalation: RunnableKind<EscalationCase, EscalationState, NewEscalation> = {
  kind: 'escalation',
  checkNew: (input) => EscalationCase.checkFiling(input),
  async create(input, now) {
    const { escalation: kase, recorded } = EscalationCase.file({
      id: input.caseId, filing: input.filing, actor: input.actor, calendar: input.calendar, limits: input.limits, at: now(),
    })
    return { kase, recorded }
  },
  resume: (state, calendar) => EscalationCase.resume(state, calendar),
  async started(kase, input) {
    const related = input.filing.relatedCaseId
    if (related === undefined) return
    const filed = { escalationId: kase.state.id, actor: input.actor }
    try {
      // The related case records it itself, once, in order with its own events.
      await getExternalWorkflowHandle(related).signal(escalationFiledSignal, filed)
    } catch {
      // Its workflow has ended (a closed case) and writes nothing more: the read side takes the event.
      await recordEscalationOnEndedCase({ caseId: related, ...filed, at: new Date(Date.now()).toISOString() })
    }
  },
}

/** One escalation, from filing until it is closed or rejected. Workflow id = case id. */
export async function escalationWorkflow(input: EscalationWorkflowInput): Promise<void> {
  await runCase(escalation, input)
}
