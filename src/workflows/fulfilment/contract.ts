import type { CalendarData } from '../../domain/calendar.ts'
import type { FulfilmentState } from '../../domain/fulfilment/fulfilment-case.ts'
import type { FulfilmentOpening } from '../../domain/fulfilment/terms.ts'
import type { Actor } from '../../domain/roles.ts'
import type { CaseStart, ContinuedCase } from '../case/contract.ts'

// The messages are every case's (case/contract.ts); re-exported for callers of this kind.
export { actionUpdate, submittedUpdate, viewQuery, workNudgedSignal } from '../case/contract.ts'

/** Fulfilment cases. */
export const FULFILMENT_QUEUE = 'fulfilments'
/**
 * The campaigns that start them, on a queue of their own: a page starts thousands of cases, whose
 * first workflow tasks would otherwise queue ahead of the campaign's next one (half of each page's
 * time went there at 1,000-line pages).
 */
export const CAMPAIGN_QUEUE = 'campaigns'

/**
 * A fulfilment case as a campaign or the application route starts it. Small on purpose: a
 * campaign starts them by the hundred thousand, so the case reads its calendar and settings itself.
 */
export interface NewFulfilment extends CaseStart {
  caseId: string
  opening: FulfilmentOpening
  /** Who started it: the campaign's uploader, or the window that took the application. */
  actor: Actor
  calendar?: CalendarData
}

export type FulfilmentWorkflowInput = NewFulfilment | ContinuedCase<FulfilmentState>

/** A campaign's workflow id: one per campaign. */
export const campaignWorkflowId = (campaignId: string): string => `campaign-${campaignId}`
