import { and, asc, eq, gt, gte, isNull, or, sql, TransactionRollbackError } from 'drizzle-orm'
import type { PaymentReceipt } from '../payments/adapter.ts'
import type { Database, Db } from './client.ts'
import { payments, policies, policyLedgers } from './schema.ts'

// Rule 25 in SQL: a case's payment row is its one payment (the key), and the ledger's conditional
// UPDATEs keep reserved + paid within the budget whatever runs concurrently (its CHECK backs them up).

export interface Reservation {
  caseId: string
  policyCode: string
  beneficiaryId: string
  /** In fen. */
  amount: number
}

/** The case's payment row, as payOut needs it. */
export interface StoredPayment {
  policyCode: string
  beneficiaryId: string
  amount: number
  status: 'reserved' | 'paid'
  reference: string | null
  paidAt: string | null
}

export interface PolicyLedger {
  /** null: no limit. */
  budget: number | null
  reserved: number
  paid: number
  /** How many payments went out. */
  payments: number
}

export interface PaidPayment {
  caseId: string
  beneficiaryId: string
  amount: number
  reference: string
  paidAt: string
  /** The list's keyset: the order payments went out in. */
  ordinal: number
}

/** The handle and the keys: a payment row's beneficiary is sealed at rest. */
type Sealing = Pick<Database, 'db' | 'personal'>

/**
 * Holds the case's amount in its policy's ledger and records the case's payment row, or nothing
 * when the budget cannot cover it. Once per case: a case that has its row (reserved or paid) is
 * 'reserved' without the ledger changing, also when a duplicate call runs alongside (the row's
 * key makes it wait for the first and then see its row).
 */
export async function reserve({ db, personal }: Sealing, { caseId, policyCode, beneficiaryId, amount }: Reservation): Promise<'reserved' | 'exhausted'> {
  try {
    await db.transaction(async (tx) => {
      const [claimed] = await tx.insert(payments).values({ caseId, policyCode, beneficiaryId: personal.sealText(beneficiaryId), amount, status: 'reserved' })
        .onConflictDoNothing({ target: payments.caseId }).returning({ caseId: payments.caseId })
      if (!claimed) return
      // One statement: a reservation waiting on another's lock re-reads the row before it decides.
      const [held] = await tx.update(policyLedgers)
        .set({ reserved: sql`${policyLedgers.reserved} + ${amount}`, updatedAt: sql`now()` })
        .where(and(eq(policyLedgers.code, policyCode), or(
          isNull(policyLedgers.budget),
          gte(sql`${policyLedgers.budget} - ${policyLedgers.reserved} - ${policyLedgers.paid}`, amount),
        )))
        .returning({ code: policyLedgers.code })
      if (!held) tx.rollback()
    })
    return 'reserved'
  } catch (err) {
    // Exhausted, or no ledger at all (no policy: its row's foreign key refused): nothing written.
    if (err instanceof TransactionRollbackError || sqlState(err) === '23503') return 'exhausted'
    throw err
  }
}

/**
 * Gives back a reservation whose payment was refused for good (the treasury said no): the row goes
 * and the ledger's `reserved` drops by its amount, once; a paid row is never touched.
 */
export async function release(db: Db, caseId: string): Promise<'released' | 'none'> {
  return db.transaction(async (tx) => {
    const [gone] = await tx.delete(payments).where(and(eq(payments.caseId, caseId), eq(payments.status, 'reserved')))
      .returning({ policyCode: payments.policyCode, amount: payments.amount })
    if (!gone) return 'none'
    await tx.update(policyLedgers).set({ reserved: sql`${policyLedgers.reserved} - ${gone.amount}`, updatedAt: sql`now()` })
      .where(eq(policyLedgers.code, gone.policyCode))
    return 'released'
  })
}

/** The case's payment row, its beneficiary opened. */
export async function findPayment({ db, personal }: Sealing, caseId: string): Promise<StoredPayment | undefined> {
  const [row] = await db.select({
    policyCode: payments.policyCode, beneficiaryId: payments.beneficiaryId, amount: payments.amount,
    status: payments.status, reference: payments.reference, paidAt: payments.paidAt,
  }).from(payments).where(eq(payments.caseId, caseId))
  return row && { ...row, beneficiaryId: personal.openText(row.beneficiaryId) }
}

/**
 * Records the adapter's receipt and moves the amount from reserved to paid, once: a duplicate that
 * got here too finds the row paid, counts nothing, and hears the receipt stored first.
 */
export async function recordPaid(db: Db, caseId: string, receipt: PaymentReceipt): Promise<PaymentReceipt> {
  return db.transaction(async (tx) => {
    const [paid] = await tx.update(payments)
      // A new ordinal: the payments list runs in the order payments went out, so a page already
      // read never gains a payment reserved before it and paid after.
      .set({ status: 'paid', reference: receipt.reference, paidAt: receipt.paidAt, ...NEXT_ORDINAL })
      .where(and(eq(payments.caseId, caseId), eq(payments.status, 'reserved')))
      .returning({ policyCode: payments.policyCode, amount: payments.amount, reference: payments.reference, paidAt: payments.paidAt })
    if (paid) {
      await tx.update(policyLedgers).set({
        reserved: sql`${policyLedgers.reserved} - ${paid.amount}`,
        paid: sql`${policyLedgers.paid} + ${paid.amount}`,
        payments: sql`${policyLedgers.payments} + 1`,
        updatedAt: sql`now()`,
      }).where(eq(policyLedgers.code, paid.policyCode))
      return { reference: paid.reference!, paidAt: paid.paidAt! }
    }
    const [stored] = await tx.select({ status: payments.status, reference: payments.reference, paidAt: payments.paidAt })
      .from(payments).where(eq(payments.caseId, caseId))
    if (stored?.status !== 'paid') throw new Error(`payment of ${caseId}: no reservation to record the receipt on`)
    return { reference: stored.reference!, paidAt: stored.paidAt! }
  })
}

/** The policy's ledger; zeros and no budget for a policy not yet published; undefined for no policy. */
export async function ledgerOf(db: Db, code: string): Promise<PolicyLedger | undefined> {
  const [row] = await db.select({
    budget: policyLedgers.budget, reserved: policyLedgers.reserved, paid: policyLedgers.paid, payments: policyLedgers.payments,
  }).from(policies).leftJoin(policyLedgers, eq(policyLedgers.code, policies.code)).where(eq(policies.code, code))
  if (!row) return undefined
  return { budget: row.budget, reserved: row.reserved ?? 0, paid: row.paid ?? 0, payments: row.payments ?? 0 }
}

/** Up to `limit` of the policy's payments that went out, in that order, after `afterOrdinal`; their beneficiaries opened. */
export async function listPayments({ db, personal }: Sealing, code: string, afterOrdinal: number | undefined, limit: number): Promise<PaidPayment[]> {
  const rows = await db.select({
    caseId: payments.caseId, beneficiaryId: payments.beneficiaryId, amount: payments.amount,
    reference: payments.reference, paidAt: payments.paidAt, ordinal: payments.ordinal,
  }).from(payments)
    .where(and(eq(payments.policyCode, code), eq(payments.status, 'paid'),
      afterOrdinal === undefined ? undefined : gt(payments.ordinal, afterOrdinal)))
    .orderBy(asc(payments.ordinal)).limit(limit)
  return rows.map((row) => ({ ...row, beneficiaryId: personal.openText(row.beneficiaryId), reference: row.reference!, paidAt: row.paidAt! }))
}

/**
 * The identity's next value: Postgres lets an ALWAYS identity be set to DEFAULT, drizzle's types
 * leave it out of an update.
 */
const NEXT_ORDINAL = { ordinal: sql`DEFAULT` } as object

/** Postgres's SQLSTATE of an error, also when drizzle wraps it (as its `cause`). */
function sqlState(err: unknown): string | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code
  }
  return undefined
}
