import { ApplicationFailure } from '@temporalio/activity'
import type { Database } from '../db/client.ts'
import { findPayment, recordPaid, release, reserve, type Reservation } from '../db/payments.ts'
import { paymentKey, type PaymentAdapter, type PaymentReceipt } from '../payments/adapter.ts'
import { createLedgerPayments } from '../payments/ledger.ts'

export type ReservePaymentInput = Reservation

export interface PayOutInput extends Reservation {
  /** Where the beneficiary wants it (given when confirming). */
  account?: string
}

/**
 * Rule 25, payment exactly once and within budget, in two steps a workflow takes in order:
 * `reservePayment` holds the amount (or says the budget is exhausted), `payOut` moves it through
 * the adapter and records the receipt. Both are safe to retry, to repeat after a restart, and to
 * run twice at once: the case's payment row is written once, the adapter always hears the case's
 * own idempotency key, and a paid case answers with the receipt it has.
 */
export function createPaymentActivities(deps: { database: Database; payments?: PaymentAdapter }) {
  const { db } = deps.database
  const adapter = deps.payments ?? createLedgerPayments()
  return {
    async reservePayment(input: ReservePaymentInput): Promise<'reserved' | 'exhausted'> {
      if (!Number.isSafeInteger(input.amount) || input.amount <= 0) {
        throw ApplicationFailure.nonRetryable(`case ${input.caseId}: ${input.amount} is not an amount in fen`, 'validation_failed')
      }
      return reserve(deps.database, input)
    },

    /** A payment refused for good gives its reservation back to the budget. */
    releasePayment({ caseId }: { caseId: string }): Promise<'released' | 'none'> {
      return release(db, caseId)
    },

    async payOut({ caseId, policyCode, beneficiaryId, account, amount }: PayOutInput): Promise<PaymentReceipt> {
      const stored = await findPayment(deps.database, caseId)
      if (!stored) throw ApplicationFailure.nonRetryable(`case ${caseId} has no payment reserved`, 'not_reserved')
      if (stored.status === 'paid') return { reference: stored.reference!, paidAt: stored.paidAt! }
      // What the ledger holds is what goes out: another amount would break the budget's sum.
      if (stored.amount !== amount || stored.policyCode !== policyCode || stored.beneficiaryId !== beneficiaryId) {
        throw ApplicationFailure.nonRetryable(`case ${caseId}: the payment asked for is not the one reserved`, 'payment_mismatch')
      }
      const receipt = await adapter.pay({
        idempotencyKey: paymentKey(caseId), caseId, policyCode, beneficiaryId, amount, ...(account ? { account } : {}),
      })
      return recordPaid(db, caseId, receipt)
    },
  }
}

export type PaymentActivities = ReturnType<typeof createPaymentActivities>
