import { Context, heartbeat, log } from '@temporalio/activity'
import { WorkflowNotFoundError } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { findCasesToRecalendar, loadCalendarWindow, markCalendarPropagated, readCalendarChange } from '../db/calendar.ts'
import type { Database } from '../db/client.ts'
import type { CalendarData } from '../domain/calendar.ts'
import { calendarChangedSignal } from '../workflows/application/contract.ts'
import type { CaseToHand, HandingOut } from '../workflows/calendar-propagation/contract.ts'
import { forEachLimited } from './lanes.ts'

/** Hands one case the calendar; 'closed' when its workflow has already ended. */
export type CalendarSignal = (caseId: string, data: CalendarData) => Promise<'signalled' | 'closed'>

/** Through the worker's own client. */
export const signalThroughWorker: CalendarSignal = async (caseId, data) => {
  try {
    await Context.current().client.workflow.getHandle(caseId).signal(calendarChangedSignal, data)
    return 'signalled'
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'closed'
    throw err
  }
}

/** Signals at once per page; Temporal takes a few hundred a second from one client. */
const SIGNAL_LANES = 16

export interface CalendarPropagationDeps {
  database: Database
  /** Default: signalThroughWorker. */
  signalCalendar?: CalendarSignal
}

export function createCalendarPropagationActivities(deps: CalendarPropagationDeps) {
  const { db } = deps.database
  const signal = deps.signalCalendar ?? signalThroughWorker
  return {
    /** A page (keyset on case id) of the open cases the version may move, each with its calendar window. */
    async listCasesForCalendar({ version, after, limit }: { version: number; after?: string; limit: number }): Promise<CaseToHand[]> {
      const change = await readCalendarChange(db, version)
      if (!change) throw ApplicationFailure.nonRetryable(`there is no calendar version ${version}`, 'not_found')
      const first = Math.min(...change.years)
      const last = Math.max(...change.years)
      const page = await findCasesToRecalendar(db, { change, after, limit })
      // The years a new case carries (year-1..year+2), widened to reach the changed years.
      return page.map((c) => ({ id: c.id, fromYear: Math.min(c.createdYear - 1, first), toYear: Math.max(c.createdYear + 2, last) }))
    },

    /**
     * Signals each case with the current calendar over its window. Idempotent: a case ignores a
     * version it has, and an ended case counts as reached. A case Temporal does not take the
     * signal for is missed, for the next pass.
     */
    async handCalendarToCases({ version, cases }: { version: number; cases: CaseToHand[] }): Promise<HandingOut> {
      const windows = new Map<string, Promise<CalendarData>>()
      const windowOf = (c: CaseToHand) => {
        const key = `${c.fromYear}-${c.toYear}`
        let data = windows.get(key)
        if (!data) windows.set(key, data = loadCalendarWindow(db, c.fromYear, c.toYear))
        return data
      }
      const handed: HandingOut = { reached: 0, missed: 0 }
      await forEachLimited(cases, SIGNAL_LANES, async (c) => {
        const data = await windowOf(c)
        try {
          await signal(c.id, data)
          handed.reached += 1
        } catch (err) {
          handed.missed += 1
          log.warn('could not hand a case the new calendar', { caseId: c.id, calendarVersion: version, error: String(err) })
        }
        heartbeat()
      })
      return handed
    },

    async markCalendarPropagated(version: number): Promise<void> {
      await markCalendarPropagated(db, version)
    },
  }
}
