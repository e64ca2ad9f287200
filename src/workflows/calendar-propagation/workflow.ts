import { continueAsNew, proxyActivities, sleep } from '@temporalio/workflow'
import type { Activities } from '../../activities/index.ts'
import {
  type CalendarPropagationInput, type CalendarPropagationResult, DEFAULT_PAGE_SIZE, DEFAULT_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS,
} from './contract.ts'

const retry = { initialInterval: '1 second', maximumInterval: '1 minute' } as const
const { listCasesForCalendar, markCalendarPropagated } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry })
// A page of signals heartbeats per case: a worker that dies mid-page is noticed within a minute.
const { handCalendarToCases } = proxyActivities<Activities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '1 minute', retry })

/**
 * Hands calendar version `version` to the open cases it may move, one page per run: a page of
 * case ids after the cursor, each case signalled with the calendar (it ignores a version it has),
 * then continue-as-new with the cursor. A pass that missed cases is followed, after a backoff, by
 * another from the first case, until one pass reaches them all; then the version is marked
 * propagated. The calendar itself never enters the history: the activity loads it.
 */
export async function calendarPropagationWorkflow(input: CalendarPropagationInput): Promise<CalendarPropagationResult> {
  const { version, cursor } = input
  const pass = input.pass ?? 1
  const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE
  const page = await listCasesForCalendar({ version, after: cursor, limit: pageSize })
  const handed = page.length > 0 ? await handCalendarToCases({ version, cases: page }) : { reached: 0, missed: 0 }
  const reached = input.reached + handed.reached
  const missed = input.missed + handed.missed
  const next = { version, pass, ...options(input) }

  if (page.length === pageSize) {
    return continueAsNew<typeof calendarPropagationWorkflow>({ ...next, cursor: page[page.length - 1]!.id, reached, missed })
  }
  if (missed > 0) {
    const retryAfterMs = input.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS
    await sleep(Math.min(retryAfterMs * 2 ** (pass - 1), MAX_RETRY_AFTER_MS))
    return continueAsNew<typeof calendarPropagationWorkflow>({ ...next, pass: pass + 1, reached: 0, missed: 0 })
  }
  await markCalendarPropagated(version)
  return { version, passes: pass, reached }
}

/** The tuning a run hands on to the next. */
function options(input: CalendarPropagationInput): Pick<CalendarPropagationInput, 'pageSize' | 'retryAfterMs'> {
  return {
    ...(input.pageSize !== undefined ? { pageSize: input.pageSize } : {}),
    ...(input.retryAfterMs !== undefined ? { retryAfterMs: input.retryAfterMs } : {}),
  }
}
