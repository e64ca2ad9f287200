import { and, asc, eq, inArray, isNull, lte, sql, type SQL } from 'drizzle-orm'
import type { RecordedEvent } from '../domain/case-view.ts'
import { type Notice, noticeOf } from '../domain/notices.ts'
import type { Tx } from './client.ts'
import type { PersonalData } from './personal-data.ts'
import { notificationOutbox } from './schema.ts'

/**
 * The transactional outbox of notices to applicants. The projection writes a case's notices in the
 * transaction that records their events, keyed by case and event sequence, so a notice exists
 * exactly when its event does and a replayed projection adds no second row. The recipient's numbers
 * are sealed; the dispatcher opens them for the sender. This is the insert of the notices these
 * events cause, built and not yet sent (src/db/together.ts); undefined when they cause none.
 */
export function noticesWrite(tx: Tx, personal: PersonalData, caseId: string, fresh: readonly RecordedEvent[]): SQL | undefined {
  const notices = fresh.flatMap((recorded) => noticeOf(caseId, recorded) ?? [])
  if (notices.length === 0) return undefined
  return tx.insert(notificationOutbox)
    .values(notices.map((notice) => ({ id: notice.id, caseId, eventSeq: notice.seq, type: notice.type, notice: personal.seal(notice) })))
    .onConflictDoNothing()
    .getSQL()
}

/**
 * Up to `limit` unsent notices that are due, oldest due first, locked for this transaction. Rows
 * another dispatcher holds are skipped, so concurrent dispatchers never take the same notice.
 */
export function claimDueNotices(tx: Tx, limit: number): Promise<Array<{ notice: Notice; attempts: number }>> {
  return tx.select({ notice: notificationOutbox.notice, attempts: notificationOutbox.attempts }).from(notificationOutbox)
    .where(and(isNull(notificationOutbox.sentAt), lte(notificationOutbox.nextAttemptAt, sql`now()`)))
    .orderBy(asc(notificationOutbox.nextAttemptAt), asc(notificationOutbox.id))
    .limit(limit)
    .for('update', { skipLocked: true })
}

/** Sent: never claimed again. `last_error` keeps the last failure before it, if any. One statement for a batch. */
export async function markNoticesSent(tx: Tx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return
  await tx.update(notificationOutbox)
    .set({ sentAt: sql`now()`, attempts: sql`${notificationOutbox.attempts} + 1` })
    .where(inArray(notificationOutbox.id, [...ids]))
}

/** A failed attempt: counted, its error kept, and the notice due again in `retryInMs`. */
export async function markNoticeFailed(tx: Tx, id: string, error: string, retryInMs: number): Promise<void> {
  await tx.update(notificationOutbox)
    .set({
      attempts: sql`${notificationOutbox.attempts} + 1`,
      lastError: storableText(error.slice(0, 2000)),
      nextAttemptAt: sql`now() + ${Math.max(0, Math.round(retryInMs))} * interval '1 millisecond'`,
    })
    .where(eq(notificationOutbox.id, id))
}

/** A sender's error message as Postgres can store it: no U+0000, no lone surrogate. */
function storableText(text: string): string {
  return text.replaceAll('\u0000', '\ufffd').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
}
