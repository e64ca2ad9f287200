import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow'
import type {
  ApplicationCommand, ApplicationState, ApplicationSubmission, CaseLimits,
} from '../../domain/application/application-case.ts'
import type { CalendarData } from '../../domain/calendar.ts'
import type { CaseView } from '../../domain/case-view.ts'
import type { Actor } from '../../domain/roles.ts'
import type { Guide } from '../../domain/service-item.ts'

export const APPLICATION_QUEUE = 'applications'

export interface NewApplication {
  kind: 'new'
  caseId: string
  guide: Guide
  submission: ApplicationSubmission
  actor: Actor
  calendar: CalendarData
  limits?: CaseLimits
}

/** Deadlines watched by child workflows: what each child was last told. */
export type Watches = Record<string, { dueAt: string; warnAt: string; open: boolean }>

export type ApplicationWorkflowInput =
  | NewApplication
  | { kind: 'continued'; state: ApplicationState; calendar: CalendarData; watches: Watches }

/** Resolves once the submission is recorded: Update-with-Start returns the case as created. */
export const submittedUpdate = defineUpdate<CaseView>('submitted')
/** Every command on a case. The validator refuses what the state does not allow. */
export const actionUpdate = defineUpdate<CaseView, [ApplicationCommand]>('action')
export const viewQuery = defineQuery<CaseView>('view')
/** A calendar year was published or replaced: recompute the deadlines. */
export const calendarChangedSignal = defineSignal<[CalendarData]>('calendarChanged')
