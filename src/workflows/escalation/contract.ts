import type { CalendarData } from '../../domain/calendar.ts'
import type { EscalationFiling, EscalationLimits, EscalationState } from '../../domain/escalation/escalation-case.ts'
import type { Actor } from '../../domain/roles.ts'
import type { CaseStart, ContinuedCase } from '../case/contract.ts'

// The messages are every case's (case/contract.ts); re-exported for callers of this kind.
export { actionUpdate, calendarChangedSignal, escalationFiledSignal, submittedUpdate, viewQuery } from '../case/contract.ts'

export const ESCALATION_QUEUE = 'escalations'

export interface NewEscalation extends CaseStart {
  caseId: string
  filing: EscalationFiling
  actor: Actor
  calendar: CalendarData
  /** Read from the settings when the case is filed; the case keeps them (its `received` event says which). */
  limits: EscalationLimits
}

export type EscalationWorkflowInput = NewEscalation | ContinuedCase<EscalationState>
