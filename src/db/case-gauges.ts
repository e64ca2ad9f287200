import { sql } from 'drizzle-orm'
import type { Db } from './client.ts'
import { summaryCurrent } from './schema.ts'

/** Open, warned and overdue cases of one kind at one handling organisation, now. */
export interface CaseGauge {
  kind: string
  organizationId: string
  open: number
  warned: number
  overdue: number
}

/**
 * The read side's current counts for Prometheus, from the summary's counters (kept by the
 * projection in each case's transaction): a scrape reads one small table, never cases.
 */
export async function readCaseGauges(db: Db): Promise<CaseGauge[]> {
  const rows = await db.select({
    kind: summaryCurrent.kind,
    organizationId: summaryCurrent.organizationId,
    open: sql<number>`sum(${summaryCurrent.open})::int`,
    warned: sql<number>`sum(${summaryCurrent.warned})::int`,
    overdue: sql<number>`sum(${summaryCurrent.overdue})::int`,
  }).from(summaryCurrent).groupBy(summaryCurrent.kind, summaryCurrent.organizationId)
  return rows.filter((r) => r.open > 0)
}
