// Handing a calendar version to every open case it may move (rule 15): one workflow per version,
// paging over the read side with a cursor and continuing as new between pages (STYLE.md 12).

export const CALENDAR_QUEUE = 'calendar'

/**
 * One workflow per calendar version of a deployment: whoever starts it again (the API, a retry, the
 * CLI) finds it. The calendar queue names the deployment (`<prefix>-calendar`): two deployments on
 * one Temporal namespace number their calendar versions each from 1, and must not find each other's.
 */
export const calendarPropagationId = (calendarQueue: string, version: number) => `${calendarQueue}-v${version}`

export const DEFAULT_PAGE_SIZE = 500
export const DEFAULT_RETRY_AFTER_MS = 60_000
/** The longest wait between passes, however many have missed cases. */
export const MAX_RETRY_AFTER_MS = 3_600_000

export interface CalendarPropagationInput {
  version: number
  /** The pass in progress, from 1. A pass that could not reach every case is followed by another. */
  pass?: number
  /** The last case id this pass has handled; absent at the start of a pass. */
  cursor?: string
  /** Cases this pass reached so far: signalled, or already ended. */
  reached: number
  /** Cases this pass could not reach so far; the next pass tries every case again. */
  missed: number
  /** Cases per page (default 500); the workflow continues as new after each full page. */
  pageSize?: number
  /** The wait before a pass that follows one with missed cases, doubled each pass up to an hour. */
  retryAfterMs?: number
}

export interface CalendarPropagationResult {
  version: number
  /** Passes run; the last one reached every case. */
  passes: number
  /** Cases the last pass reached. */
  reached: number
}

/** A case to hand the calendar to, and the years of the window it carries. */
export interface CaseToHand {
  id: string
  fromYear: number
  toYear: number
}

export interface HandingOut {
  reached: number
  missed: number
}
