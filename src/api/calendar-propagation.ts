// Rule 15: when a year is published or corrected, running cases recompute the deadlines it moves.
// The cases are read in keyset batches, so a year with 100k provisional cases never sits in memory.
import type { FastifyBaseLogger } from 'fastify'
import { findCasesToRecalendar } from '../db/calendar.ts'
import type { Db } from '../db/client.ts'
import type { CalendarData } from '../domain/calendar.ts'
import type { CaseGateway } from './case-gateway.ts'

export interface CalendarPropagationDeps {
  db: Db
  gateway: Pick<CaseGateway, 'signalCalendar'>
  /** The calendar (current version) for a range of years; the API's cached CalendarSource. */
  window(fromYear: number, toYear: number): Promise<CalendarData>
  log?: Pick<FastifyBaseLogger, 'warn'>
}

export interface CalendarChange {
  year: number
  /** The year was published before: deadlines that were final may move too. */
  correction: boolean
}

export interface PropagationResult {
  /** Cases whose workflow received the new calendar. */
  signalled: number
  /** Cases whose workflow had already ended (their projection had not caught up yet). */
  closed: number
  /** Cases Temporal did not take the signal for; they keep their deadlines until the next change. */
  failed: number
}

export interface PropagationOptions {
  batchSize?: number
  concurrency?: number
}

/** Signals every open case the change may move with its calendar window, batch by batch. */
export async function propagateCalendarChange(
  deps: CalendarPropagationDeps, change: CalendarChange, options: PropagationOptions = {},
): Promise<PropagationResult> {
  const batchSize = options.batchSize ?? 500
  const concurrency = options.concurrency ?? 16
  const result: PropagationResult = { signalled: 0, closed: 0, failed: 0 }
  const reach = change.correction ? 'touching' : 'provisional'
  let after: string | undefined
  for (;;) {
    const batch = await findCasesToRecalendar(deps.db, { year: change.year, reach, after, limit: batchSize })
    if (batch.length === 0) break
    after = batch[batch.length - 1]!.id
    await forEachLimited(batch, concurrency, async (c) => {
      // The years a new case carries (year-1..year+2), widened to reach the changed year.
      const data = await deps.window(Math.min(c.createdYear - 1, change.year), Math.max(c.createdYear + 2, change.year))
      try {
        result[await deps.gateway.signalCalendar(c.id, data) === 'signalled' ? 'signalled' : 'closed'] += 1
      } catch (err) {
        result.failed += 1
        deps.log?.warn({ err, caseId: c.id, calendarVersion: data.version }, 'could not hand a case the new calendar')
      }
    })
    if (batch.length < batchSize) break
  }
  return result
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!)
  })
  await Promise.all(lanes)
}
