import type { PaymentAdapter } from './adapter.ts'

/**
 * The default: the money moves in banjian's own ledger (the payments table, which the activities
 * write), so paying is only naming the receipt. The reference derives from the case, so a repeated
 * call names the same one.
 */
export function createLedgerPayments(now: () => Date = () => new Date()): PaymentAdapter {
  return {
    name: 'ledger',
    async pay(order) {
      return { reference: `L-${order.caseId}`, paidAt: now().toISOString() }
    },
  }
}
