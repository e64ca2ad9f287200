import type { Logger } from 'pino'
import type { Database } from '../db/client.ts'
import { claimDueNotices, markNoticeFailed, markNoticesSent } from '../db/notifications.ts'
import { maskIdNumber } from '../domain/case-view.ts'
import type { Notice } from '../domain/notices.ts'
import { type Repeating, repeatEvery } from '../infra/repeat.ts'

/**
 * How notices reach applicants (SMS gateway, the city's app, mail). A city plugs in its own; the
 * default only logs them.
 *
 * Delivery is at least once: a notice is marked sent in the transaction that claimed it, after
 * `send` returned, so a crash or a lost commit between the two sends it again later. `idempotencyKey`
 * (the notice's id, `<case id>:<event seq>`) is the same on every attempt: a sender that passes it
 * on to a gateway that deduplicates, or checks it itself, makes delivery exactly once.
 */
export interface NotificationSender {
  send(notice: Notice, options: { idempotencyKey: string; signal: AbortSignal }): Promise<void>
}

/** The default sender: a log line per notice, the identity number masked. */
export function createLoggingSender(log: Logger): NotificationSender {
  return {
    async send(notice, { idempotencyKey }) {
      log.info({
        idempotencyKey, caseId: notice.caseId, type: notice.type,
        recipient: { name: notice.recipient.name, idNumber: maskIdNumber(notice.recipient.idNumber) },
      }, `notice to applicant: ${notice.text}`)
    },
  }
}

export interface DispatchOptions {
  database: Database
  sender: NotificationSender
  log: Logger
  /** Notices claimed (and locked) per transaction. Default 20. */
  batchSize?: number
  /** An attempt that takes longer fails (and is retried). Default 30 s. */
  sendTimeoutMs?: number
  /** Retry n waits `initialMs` · 2^(n−1), at most `maxMs`. Default 5 s, at most 1 h. */
  backoff?: { initialMs: number; maxMs: number }
  signal?: AbortSignal
}

const DEFAULT_BACKOFF = { initialMs: 5_000, maxMs: 3_600_000 }

/** The wait before the next attempt, after `attempts` failed ones. */
export function retryDelayMs(attempts: number, backoff = DEFAULT_BACKOFF): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30))
}

/**
 * Sends every notice that is due, a batch per transaction, until none is left (or `signal` stops
 * it). A failed attempt is counted with its error and retried after a growing wait; a notice is
 * never given up on.
 */
export async function dispatchDueNotices(options: DispatchOptions): Promise<{ sent: number; failed: number }> {
  const { database, sender, batchSize = 20, sendTimeoutMs = 30_000, backoff = DEFAULT_BACKOFF, signal } = options
  const counts = { sent: 0, failed: 0 }
  for (;;) {
    if (signal?.aborted) return counts
    const claimed = await database.db.transaction(async (tx) => {
      const due = await claimDueNotices(tx, batchSize)
      // Marked sent together at the end of the batch, in the transaction that holds their locks.
      const sent: string[] = []
      for (const { notice, attempts } of due) {
        // Stopping leaves the rest of the batch due, for the next dispatcher.
        if (signal?.aborted) break
        try {
          // Opened here, for the sender alone: the outbox keeps the recipient's numbers sealed.
          await sendWithin(sender, database.personal.open(notice), sendTimeoutMs, signal)
          sent.push(notice.id)
          counts.sent++
        } catch (err) {
          // Stopped mid-send: no failure to count; the notice stays due (and may go out twice).
          if (signal?.aborted) break
          await markNoticeFailed(tx, notice.id, errorText(err), retryDelayMs(attempts + 1, backoff))
          counts.failed++
          options.log.warn({ err, noticeId: notice.id, attempts: attempts + 1 }, 'sending a notice failed; it will be retried')
        }
      }
      await markNoticesSent(tx, sent)
      return due.length
    })
    if (claimed < batchSize) return counts
  }
}

/** Dispatches due notices every `intervalMs` until stopped. */
export function startNotificationDispatcher(options: Omit<DispatchOptions, 'signal'> & { intervalMs: number }): Repeating {
  const { intervalMs, ...dispatch } = options
  return repeatEvery(intervalMs, async (signal) => {
    try {
      const counts = await dispatchDueNotices({ ...dispatch, signal })
      if (counts.sent > 0 || counts.failed > 0) options.log.info(counts, 'dispatched notices to applicants')
    } catch (err) {
      if (!signal.aborted) options.log.error({ err }, 'dispatching notices failed; the next round retries')
    }
  }, { startNow: true })
}

async function sendWithin(sender: NotificationSender, notice: Notice, timeoutMs: number, stop: AbortSignal | undefined): Promise<void> {
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(stop ? [stop] : [])])
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error(`sending notice ${notice.id} took longer than ${timeoutMs} ms or was stopped`))
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    await Promise.race([sender.send(notice, { idempotencyKey: notice.id, signal }), aborted])
  } finally {
    signal.removeEventListener('abort', onAbort!)
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}
