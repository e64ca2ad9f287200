import type { CalendarData } from '../../domain/calendar.ts'
import type { ComplaintState } from '../../domain/complaint/complaint-case.ts'
import type { ComplaintFiling, ComplaintLimits } from '../../domain/complaint/terms.ts'
import type { Actor } from '../../domain/roles.ts'
import type { CaseStart, ContinuedCase } from '../case/contract.ts'

// The messages are every case's (case/contract.ts); re-exported for callers of this kind.
export { actionUpdate, calendarChangedSignal, submittedUpdate, viewQuery } from '../case/contract.ts'

export const COMPLAINT_QUEUE = 'complaints'

/** A 12345 work order as the route starts it: the limits come from the settings at receipt. */
export interface NewComplaint extends CaseStart {
  caseId: string
  filing: ComplaintFiling
  /** Who received it: its organisation owns it until it is closed (rule 27). */
  actor: Actor
  calendar: CalendarData
  limits: ComplaintLimits
}

export type ComplaintWorkflowInput = NewComplaint | ContinuedCase<ComplaintState>
