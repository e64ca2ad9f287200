import { ApplicationFailure } from '@temporalio/common'
import type { PaymentAdapter, PaymentOrder, PaymentReceipt } from './adapter.ts'

export interface HttpTreasuryOptions {
  /** The treasury's API; orders go to `<baseUrl>/payments`. */
  baseUrl: string
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string
  /** How long one attempt may take, answer included. */
  timeoutMs?: number
  /** For a receipt that does not say when it was paid. */
  now?: () => Date
}

/** Statuses that say "not now" rather than "no": retried like a 5xx. */
const NOT_NOW = new Set([408, 425, 429])

/**
 * A city treasury behind HTTP. It must honour `Idempotency-Key`: every attempt at one case's
 * payment carries the same key, so a retry after a timeout or a crash cannot pay twice. Whatever
 * may have left the money unmoved (no answer, a 5xx) is retryable; a 4xx is the treasury's "no",
 * for good (type `payment_refused`).
 */
export function createHttpTreasury(options: HttpTreasuryOptions): PaymentAdapter {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/payments`
  const timeoutMs = options.timeoutMs ?? 10_000
  const now = options.now ?? (() => new Date())
  const headers = (key: string): Record<string, string> => ({
    'content-type': 'application/json',
    'idempotency-key': key,
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
  })
  return {
    name: 'http-treasury',
    async pay(order) {
      const { caseId, policyCode, beneficiaryId, account, amount } = order
      let status: number
      let text: string
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: headers(order.idempotencyKey),
          body: JSON.stringify({ caseId, policyCode, beneficiaryId, account, amount }),
          signal: AbortSignal.timeout(timeoutMs),
        })
        status = response.status
        text = await response.text()
      } catch (err) {
        throw unavailable(`the treasury did not answer for ${caseId}: ${reasonOf(err, timeoutMs)}`, err)
      }
      if (status >= 200 && status < 300) return receiptOf(order, text, now)
      if (status >= 500 || NOT_NOW.has(status)) throw unavailable(`the treasury answered ${status} for ${caseId}: ${excerpt(text)}`)
      throw ApplicationFailure.nonRetryable(`the treasury refused the payment of ${caseId}: ${status} ${excerpt(text)}`, 'payment_refused')
    },
  }
}

/**
 * The receipt in a 2xx answer. Without a reference there is nothing to record the payment by, so
 * it is asked again (the key makes the treasury repeat itself, not pay again).
 */
function receiptOf(order: PaymentOrder, text: string, now: () => Date): PaymentReceipt {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  const { reference, paidAt } = (typeof body === 'object' && body !== null ? body : {}) as { reference?: unknown; paidAt?: unknown }
  if (typeof reference !== 'string' || reference.length === 0) {
    throw ApplicationFailure.retryable(`the treasury paid ${order.caseId} but named no reference: ${excerpt(text)}`, 'treasury_unreadable')
  }
  const at = typeof paidAt === 'string' ? new Date(paidAt) : undefined
  return { reference, paidAt: (at && !Number.isNaN(at.getTime()) ? at : now()).toISOString() }
}

function unavailable(message: string, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'treasury_unavailable', nonRetryable: false, ...(cause instanceof Error ? { cause } : {}) })
}

function reasonOf(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`
  const code = err instanceof Error ? (err.cause as { code?: unknown } | undefined)?.code : undefined
  return err instanceof Error ? `${err.message}${typeof code === 'string' ? ` (${code})` : ''}` : String(err)
}

/** Enough of an answer to tell what happened, not a whole error page. */
const excerpt = (text: string): string => (text.length > 200 ? `${text.slice(0, 200)}…` : text) || '(no body)'
