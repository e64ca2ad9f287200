import { ApplicationCase } from '../domain/application/application-case.ts'
import type { CaseOpening } from '../domain/case/core.ts'
import type { CaseKind } from '../domain/case-view.ts'
import { ComplaintCase } from '../domain/complaint/complaint-case.ts'
import { EscalationCase } from '../domain/escalation/escalation-case.ts'
import { FulfilmentCase } from '../domain/fulfilment/fulfilment-case.ts'
import { APPLICATION_QUEUE, type NewApplication } from './application/contract.ts'
import { COMPLAINT_QUEUE, type NewComplaint } from './complaint/contract.ts'
import { ESCALATION_QUEUE, type NewEscalation } from './escalation/contract.ts'
import { FULFILMENT_QUEUE, type NewFulfilment } from './fulfilment/contract.ts'
import { caseAttributes } from './search-attributes.ts'

/**
 * Each case kind's workflow: its type name and the task queue it runs on, so that the gateway
 * starts any kind the same way and the busiest kind can get workers of its own. A new kind adds
 * its entry here and its start input to NewCases (README "Adding a case kind").
 */
export const CASE_WORKFLOWS = {
  application: { workflowType: 'applicationWorkflow', queue: APPLICATION_QUEUE },
  complaint: { workflowType: 'complaintWorkflow', queue: COMPLAINT_QUEUE },
  escalation: { workflowType: 'escalationWorkflow', queue: ESCALATION_QUEUE },
  fulfilment: { workflowType: 'fulfilmentWorkflow', queue: FULFILMENT_QUEUE },
} as const satisfies Partial<Record<CaseKind, { workflowType: string; queue: string }>>

/** What starts a case of each kind. */
export interface NewCases {
  application: NewApplication
  complaint: NewComplaint
  escalation: NewEscalation
  fulfilment: NewFulfilment
}
export type StartableKind = keyof typeof CASE_WORKFLOWS & keyof NewCases

/** How a new case of each kind stands before its first event, from its start input: what it is started with as search attributes. */
const OPENINGS: { [K in StartableKind]: (input: NewCases[K]) => CaseOpening } = {
  application: (input) => ApplicationCase.opening(input.guide),
  complaint: (input) => ComplaintCase.opening(input.actor),
  escalation: (input) => EscalationCase.opening(input.actor),
  fulfilment: (input) => FulfilmentCase.opening(input.opening.policy),
}

/**
 * A new case's search attributes, given by its start: the case's first event then upserts none of
 * them unless it moved on at once (an instant item decided on the spot, a provisional deadline),
 * and then only those (the runner compares with what the run holds). No deadline runs yet, so
 * none is provisional.
 */
export function startAttributes<K extends StartableKind>(kind: K, input: NewCases[K]) {
  return [...caseAttributes({ kind, ...OPENINGS[kind](input), provisional: false })]
}
