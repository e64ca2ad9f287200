import { and, asc, eq, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import type { DeadlineState, DeadlineView, RecordedEvent } from '../domain/case-view.ts'
import type { Db, Tx } from './client.ts'
import { deadlines } from './schema.ts'

const OPEN_STATES: readonly DeadlineState[] = ['running', 'paused']
const isOpen = (state: DeadlineState) => OPEN_STATES.includes(state)

/** The value the conflicting insert proposed for `column` (Postgres's `excluded` row). */
const excluded = (column: PgColumn) => sql.raw(`excluded.${JSON.stringify(column.name)}`)

interface Run { state: DeadlineState; startedAt: string; settledAt: string | null }

/**
 * The upsert of every deadline of the case's last view, for the projection's transaction, built and
 * not yet sent (src/db/together.ts); undefined when the case has none. No read when the view says
 * when each run started and settled. Idempotent: the same events write the same rows.
 */
export async function deadlinesWrite(tx: Tx, caseId: string, fresh: readonly RecordedEvent[]): Promise<SQL | undefined> {
  const view = fresh.at(-1)?.view
  if (!view || view.deadlines.length === 0) return undefined
  const runs = selfDescribing(view.deadlines) ? runsOf(view.deadlines) : await replayRuns(tx, caseId, fresh)
  const rows = view.deadlines.map((d) => {
    const run = runs.get(d.key)!
    const settled = !isOpen(d.state)
    return {
      caseId, key: d.key, kind: d.kind, caseKind: view.kind,
      ownerOrganizationId: d.organizationId ?? view.handlingOrganizationId,
      handlingOrganizationId: view.handlingOrganizationId, serviceItemCode: view.serviceItemCode ?? null,
      startedAt: run.startedAt, dueAt: d.dueAt, state: d.state, warned: d.warned, provisional: d.provisional,
      settledAt: settled ? d.settledAt ?? run.settledAt : null,
      workingDaysUsed: settled ? d.workingDaysUsed ?? null : null,
    }
  })
  const updated = ['kind', 'caseKind', 'ownerOrganizationId', 'handlingOrganizationId', 'serviceItemCode', 'startedAt', 'dueAt',
    'state', 'warned', 'provisional', 'settledAt', 'workingDaysUsed'] as const
  return tx.insert(deadlines).values(rows).onConflictDoUpdate({
    target: [deadlines.caseId, deadlines.key],
    set: Object.fromEntries(updated.map((name) => [name, excluded(deadlines[name])])),
  }).getSQL()
}

/** Views since this change carry each run's start and settlement: nothing needs reading back. */
function selfDescribing(views: readonly DeadlineView[]): boolean {
  return views.every((d) => d.startedAt !== undefined && (isOpen(d.state) || d.settledAt !== undefined))
}

function runsOf(views: readonly DeadlineView[]): Map<string, Run> {
  return new Map(views.map((d) => [d.key, { state: d.state, startedAt: d.startedAt!, settledAt: d.settledAt ?? null }]))
}

/**
 * For views written before deadlines carried `startedAt` (cases still running from then): the
 * stored rows, then the fresh events in order, say when each run started and settled.
 */
async function replayRuns(tx: Tx, caseId: string, fresh: readonly RecordedEvent[]): Promise<Map<string, Run>> {
  const stored = await tx.select({ key: deadlines.key, state: deadlines.state, startedAt: deadlines.startedAt, settledAt: deadlines.settledAt })
    .from(deadlines).where(eq(deadlines.caseId, caseId))
  const runs = new Map<string, Run>(stored.map(({ key, ...run }) => [key, run]))
  for (const { event, view: then } of fresh) {
    for (const d of then.deadlines) {
      const before = runs.get(d.key)
      const startedAt = !before || (isOpen(d.state) && !isOpen(before.state)) ? event.at : before.startedAt
      const settledAt = isOpen(d.state) ? null : before && !isOpen(before.state) ? before.settledAt ?? event.at : event.at
      runs.set(d.key, { state: d.state, startedAt, settledAt })
    }
  }
  return runs
}

export interface Period {
  /** Inclusive. */
  from: string
  /** Exclusive. */
  to: string
}

/** How one organisation kept the deadlines it owed in a period. */
export interface OnTimeRecord {
  organizationId: string
  /** Met (so on time) in the period. */
  met: number
  /** Missed in the period. */
  missed: number
  /** Still running or paused, falling due in the period. */
  open: number
  /** Over the working-day deadlines settled in the period; null when there were none. */
  averageWorkingDaysUsed: number | null
}

export interface OnTimeFilter extends Period {
  /** Only these deadline kinds (`promised`, `statutory`, …); default every kind. */
  kinds?: readonly string[]
  caseKind?: string
}

/** What reports read: on-time rates by who owed the step. */
export function createDeadlineReads(db: Db) {
  return {
    /** Per owner organisation, in id order: met and missed (settled in the period), and open (due in it). */
    async onTimeByOwner(filter: OnTimeFilter): Promise<OnTimeRecord[]> {
      const settledIn = and(inArray(deadlines.state, ['met', 'missed']), gte(deadlines.settledAt, filter.from), lt(deadlines.settledAt, filter.to))
      const openIn = and(inArray(deadlines.state, [...OPEN_STATES]), gte(deadlines.dueAt, filter.from), lt(deadlines.dueAt, filter.to))
      const count = (condition: SQL | undefined) => sql<number>`count(*) filter (where ${condition})`.mapWith(Number)
      return db.select({
        organizationId: deadlines.ownerOrganizationId,
        met: count(and(eq(deadlines.state, 'met'), settledIn)),
        missed: count(and(eq(deadlines.state, 'missed'), settledIn)),
        open: count(openIn),
        averageWorkingDaysUsed: sql<number | null>`avg(${deadlines.workingDaysUsed}) filter (where ${settledIn})`.mapWith(Number),
      }).from(deadlines)
        .where(and(
          or(settledIn, openIn),
          filter.kinds ? inArray(deadlines.kind, [...filter.kinds]) : undefined,
          filter.caseKind ? eq(deadlines.caseKind, filter.caseKind) : undefined,
        ))
        .groupBy(deadlines.ownerOrganizationId)
        .orderBy(asc(deadlines.ownerOrganizationId))
    },
  }
}
