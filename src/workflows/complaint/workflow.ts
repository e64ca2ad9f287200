import { ComplaintCase, type ComplaintState } from '../../domain/complaint/complaint-case.ts'
import { runCase, type RunnableKind } from '../case/runner.ts'
import type { ComplaintWorkflowInput, NewComplaint } from './contract.ts'

/** The work order as the runner sees it: received with the limits in its input, resumed from its state. */
const complaint: RunnableKind<ComplaintCase, ComplaintState, NewComplaint> = {
  kind: 'complaint',
  checkNew: (input) => ComplaintCase.checkReceipt(input),
  create(input, now) {
    const { complaint: kase, recorded } = ComplaintCase.receive({
      id: input.caseId, filing: input.filing, actor: input.actor, limits: input.limits, calendar: input.calendar, at: now(),
    })
    return Promise.resolve({ kase, recorded })
  },
  resume: (state, calendar) => ComplaintCase.resume(state, calendar),
}

/** One 12345 work order (工单), from receipt until it is closed. Workflow id = case id. */
export async function complaintWorkflow(input: ComplaintWorkflowInput): Promise<void> {
  await runCase(complaint, input)
}
