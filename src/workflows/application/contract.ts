import type {
  ApplicationState, ApplicationSubmission, CaseLimits,
} from '../../domain/application/application-case.ts'
import type { CalendarData } from '../../domain/calendar.ts'
import type { AttachedMaterial } from '../../domain/case-view.ts'
import type { Actor } from '../../domain/roles.ts'
import type { Guide } from '../../domain/service-item.ts'
import type { CaseStart, ContinuedCase } from '../case/contract.ts'

// The messages are every case's (case/contract.ts); re-exported for callers of this kind.
export { actionUpdate, calendarChangedSignal, submittedUpdate, viewQuery, type Watches } from '../case/contract.ts'

export const APPLICATION_QUEUE = 'applications'

export interface NewApplication extends CaseStart {
  caseId: string
  guide: Guide
  submission: ApplicationSubmission
  actor: Actor
  calendar: CalendarData
  limits?: CaseLimits
  /**
   * The rules the case is started under (`CURRENT_RULES` when the API starts it). Absent in inputs
   * written before it was carried here: the workflow then asks `patched('application-rules-2')`.
   */
  rulesVersion?: number
  /**
   * What pre-review found in shared data (DOMAIN rule 19), looked up by the API before the start, so
   * that a submission runs no activity of its own before its first event (issue 13). Absent in
   * inputs written before the API looked it up: the workflow then looks it up by activity.
   */
  preReviewed?: AttachedMaterial[]
}

export type ApplicationWorkflowInput = NewApplication | ContinuedCase<ApplicationState>
