import { eq, sql } from 'drizzle-orm'
import type { Db, Tx } from './client.ts'
import { calendarPropagations } from './schema.ts'

/** Where a propagation stands: the change, and the pass in progress. */
export interface PropagationRow {
  version: number
  year: number
  correction: boolean
  /** Resume after this case id; undefined at the start of a pass. */
  after: string | undefined
  counts: PassCounts
}

export interface PassCounts {
  /** Cases whose workflow received the new calendar. */
  signalled: number
  /** Cases whose workflow had already ended (their projection had not caught up yet). */
  closed: number
  /** Cases Temporal did not take the signal for; the pass is run again for them. */
  failed: number
}

const interval = (ms: number) => sql`${`${ms} milliseconds`}::interval`

/** In the transaction that publishes `version`: its propagation, claimed by the publisher. */
export async function recordPropagation(tx: Tx, change: { version: number; year: number; correction: boolean }, leaseMs: number): Promise<void> {
  await tx.insert(calendarPropagations).values({
    ...change, passes: 1, claimedUntil: sql`now() + ${interval(leaseMs)}`,
  })
}

/**
 * Takes over the oldest propagation that is not done and that nobody holds, for `leaseMs`.
 * A row whose pass ended (after = null) starts a new pass from the first case.
 */
export async function claimPropagation(db: Db, leaseMs: number): Promise<PropagationRow | undefined> {
  const rows = await db.execute<{
    version: number; year: number; correction: boolean; after: string | null; signalled: number; closed: number; failed: number
  }>(sql`
    UPDATE calendar_propagations SET
      claimed_until = now() + ${interval(leaseMs)},
      passes = CASE WHEN after IS NULL THEN passes + 1 ELSE passes END,
      signalled = CASE WHEN after IS NULL THEN 0 ELSE signalled END,
      closed = CASE WHEN after IS NULL THEN 0 ELSE closed END,
      failed = CASE WHEN after IS NULL THEN 0 ELSE failed END,
      updated_at = now()
    WHERE version = (
      SELECT version FROM calendar_propagations
      WHERE done_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
      ORDER BY version LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING version, year, correction, after, signalled, closed, failed`)
  const row = rows.rows[0]
  if (!row) return undefined
  const { signalled, closed, failed } = row
  return { version: row.version, year: row.year, correction: row.correction, after: row.after ?? undefined, counts: { signalled, closed, failed } }
}

/** After each batch: how far the pass got, and the claim renewed. */
export async function savePropagationProgress(db: Db, version: number, after: string, counts: PassCounts, leaseMs: number): Promise<void> {
  await db.update(calendarPropagations).set({
    after, ...counts, claimedUntil: sql`now() + ${interval(leaseMs)}`, updatedAt: sql`now()`,
  }).where(eq(calendarPropagations.version, version))
}

/**
 * The pass reached its last case: done when no case failed; otherwise released for a new pass
 * from the start after `retryAfterMs` (the cases that did get it ignore the same version twice).
 */
export async function finishPropagationPass(db: Db, version: number, counts: PassCounts, retryAfterMs: number): Promise<void> {
  const done = counts.failed === 0
  await db.update(calendarPropagations).set({
    after: null, ...counts, updatedAt: sql`now()`,
    doneAt: done ? sql`now()` : null,
    claimedUntil: done ? null : sql`now() + ${interval(retryAfterMs)}`,
  }).where(eq(calendarPropagations.version, version))
}

/** Gives a claimed propagation back at once (its process is stopping), keeping its progress. */
export async function releasePropagation(db: Db, version: number): Promise<void> {
  await db.update(calendarPropagations).set({ claimedUntil: sql`now()`, updatedAt: sql`now()` })
    .where(eq(calendarPropagations.version, version))
}
