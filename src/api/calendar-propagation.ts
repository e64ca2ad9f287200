// Rule 15: when a year is published or corrected, running cases recompute the deadlines it moves.
// The cases are read in keyset batches, so a year with 100k provisional cases never sits in memory.
import type { FastifyBaseLogger } from 'fastify'
import { findCasesToRecalendar } from '../db/calendar.ts'
import {
  claimPropagation, finishPropagationPass, type PassCounts, type PropagationRow, releasePropagation, savePropagationProgress,
} from '../db/calendar-propagations.ts'
import type { Db } from '../db/client.ts'
import type { CalendarData } from '../domain/calendar.ts'
import { repeatEvery, type Repeating } from '../infra/repeat.ts'
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

export type PropagationResult = PassCounts

export interface PropagationOptions {
  batchSize?: number
  concurrency?: number
  /** Resume a pass after this case id, with the counts it had so far. */
  resume?: { after: string; counts: PassCounts }
  /** Called after each batch with the last case id handled and the counts so far. */
  onBatch?: (after: string, counts: PassCounts) => Promise<void>
}

/** Signals every open case the change may move with its calendar window, batch by batch. */
export async function propagateCalendarChange(
  deps: CalendarPropagationDeps, change: CalendarChange, options: PropagationOptions = {},
): Promise<PropagationResult> {
  const batchSize = options.batchSize ?? 500
  const concurrency = options.concurrency ?? 16
  const result: PropagationResult = { ...(options.resume?.counts ?? { signalled: 0, closed: 0, failed: 0 }) }
  const reach = change.correction ? 'touching' : 'provisional'
  let after: string | undefined = options.resume?.after
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
    await options.onBatch?.(after, { ...result })
    if (batch.length < batchSize) break
  }
  return result
}

export interface DurablePropagationDeps extends CalendarPropagationDeps {
  /** How long a claim on a propagation lasts without progress; renewed after every batch. */
  leaseMs?: number
  /** How long a pass that missed some cases waits before the next pass. */
  retryAfterMs?: number
}

/** How long a publisher holds its propagation before another process may take it over. */
export const PROPAGATION_LEASE_MS = 120_000
const DEFAULT_RETRY_AFTER_MS = 60_000

/**
 * Runs (or resumes) the pass of a claimed propagation, saving progress after every batch, so a
 * process that dies half-way leaves the rest to whoever claims the row when the lease runs out.
 */
export async function runPropagation(deps: DurablePropagationDeps, row: PropagationRow,
  options: PropagationOptions & { stopRequested?: () => boolean } = {}): Promise<PassCounts> {
  const leaseMs = deps.leaseMs ?? PROPAGATION_LEASE_MS
  const { stopRequested, ...batching } = options
  const counts = await propagateCalendarChange(deps, row, {
    ...batching,
    ...(row.after !== undefined ? { resume: { after: row.after, counts: row.counts } } : {}),
    onBatch: async (after, soFar) => {
      await savePropagationProgress(deps.db, row.version, after, soFar, leaseMs)
      if (stopRequested?.()) {
        await releasePropagation(deps.db, row.version)
        throw new PropagationInterrupted(row.version, after)
      }
    },
  })
  await finishPropagationPass(deps.db, row.version, counts, deps.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS)
  return counts
}

/** A pass stopped between batches (its process is shutting down); the next claimant resumes it. */
export class PropagationInterrupted extends Error {
  constructor(readonly version: number, readonly after: string) {
    super(`calendar propagation ${version} stopped after case ${after}`)
    this.name = 'PropagationInterrupted'
  }
}

/**
 * Every `intervalMs`: takes over propagations that are not done and that nobody holds (a publisher
 * that died, a pass that missed cases) and runs them, one at a time. Stopping ends a pass after
 * its current batch and releases it.
 */
export function startPropagationRetries(deps: DurablePropagationDeps, intervalMs: number,
  options: Pick<PropagationOptions, 'batchSize' | 'concurrency'> = {}): Repeating {
  const leaseMs = deps.leaseMs ?? PROPAGATION_LEASE_MS
  const work = async (signal: AbortSignal) => {
    while (!signal.aborted) {
      const row = await claimPropagation(deps.db, leaseMs)
      if (!row) return
      if (signal.aborted) return releasePropagation(deps.db, row.version)
      try {
        const counts = await runPropagation(deps, row, { ...options, stopRequested: () => signal.aborted })
        deps.log?.warn({ calendarVersion: row.version, year: row.year, ...counts }, 'calendar propagation resumed and ran')
      } catch (err) {
        if (err instanceof PropagationInterrupted) return
        throw err
      }
    }
  }
  return repeatEvery(intervalMs, (signal) =>
    work(signal).catch((err: unknown) => deps.log?.warn({ err }, 'calendar propagation round failed; retrying next round')))
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!)
  })
  await Promise.all(lanes)
}
