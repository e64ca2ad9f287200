/**
 * Where a fulfilment case's money goes (rule 25). The activities reserve the amount in the policy's
 * ledger first and record the receipt after; an adapter only moves the money, and must do it once
 * per `idempotencyKey` however often it is asked.
 */
export interface PaymentOrder {
  /** The same for every attempt at one case's payment: see paymentKey. */
  idempotencyKey: string
  caseId: string
  policyCode: string
  beneficiaryId: string
  account?: string
  /** In fen. */
  amount: number
}

export interface PaymentReceipt {
  reference: string
  /** ISO 8601 instant. */
  paidAt: string
}

export interface PaymentAdapter {
  readonly name: string
  pay(order: PaymentOrder): Promise<PaymentReceipt>
}

/** STYLE.md 4: the key of an external effect derives from the case, so every retry and restart sends the same one. */
export const paymentKey = (caseId: string): string => `banjian-payment:${caseId}`
