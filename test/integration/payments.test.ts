import { ApplicationFailure } from '@temporalio/common'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPaymentActivities } from '../../src/activities/payments.ts'
import { listPayments } from '../../src/db/payments.ts'
import type { PaymentAdapter, PaymentReceipt } from '../../src/payments/adapter.ts'
import { createHttpTreasury } from '../../src/payments/http-treasury.ts'
import { createLedgerPayments } from '../../src/payments/ledger.ts'
import { createTestDatabase, type TestDatabase, uniqueName } from '../support/system.ts'

// Rule 25: payment exactly once per case, even under retries, restarts and duplicates running
// alongside, and never beyond the policy's budget, against the real Postgres.

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => db?.drop())

/** A published policy's rows as the publication leaves them: the policy and its ledger (budget null: no limit). */
async function policyWithLedger(budget: number | null): Promise<string> {
  const code = uniqueName('P-')
  await db.database.pool.query('INSERT INTO policies (code) VALUES ($1)', [code])
  await db.database.pool.query('INSERT INTO policy_ledgers (code, budget) VALUES ($1, $2)', [code, budget])
  return code
}

async function ledgerRow(code: string) {
  const { rows } = await db.database.pool.query<{ budget: string | null; reserved: string; paid: string; payments: number }>(
    'SELECT budget, reserved, paid, payments FROM policy_ledgers WHERE code = $1', [code])
  const row = rows[0]!
  return { budget: row.budget === null ? null : Number(row.budget), reserved: Number(row.reserved), paid: Number(row.paid), payments: row.payments }
}

async function paymentRows(caseId: string) {
  const { rows } = await db.database.pool.query<{ status: string; reference: string | null }>(
    'SELECT status, reference FROM payments WHERE case_id = $1', [caseId])
  return rows
}

const order = (policyCode: string, n: number | string, amount = 100) => ({ caseId: `F-${policyCode}-${n}`, policyCode, beneficiaryId: `b${n}`, amount })

/** Retries what is retryable, as Temporal would; a non-retryable failure ends it. */
async function asTemporalWould<T>(attempt: () => Promise<T>, attempts = 10): Promise<{ result: T; retried: number }> {
  for (let retried = 0; retried < attempts; retried++) {
    try {
      return { result: await attempt(), retried }
    } catch (err) {
      if (err instanceof ApplicationFailure && err.nonRetryable) throw err
    }
  }
  throw new Error(`still failing after ${attempts} attempts`)
}

/** An adapter that takes its time, so duplicates running alongside all reach it before any records its receipt. */
function slowLedger(): PaymentAdapter & { calls: number } {
  let clock = Date.parse('2026-12-01T01:00:00Z')
  // Each call tells a different time: a duplicate answering with its own receipt would show.
  const ledger = createLedgerPayments(() => new Date(clock += 1000))
  const adapter = {
    name: 'slow ledger',
    calls: 0,
    async pay(o: Parameters<PaymentAdapter['pay']>[0]): Promise<PaymentReceipt> {
      adapter.calls++
      await new Promise((resolve) => setTimeout(resolve, 50))
      return ledger.pay(o)
    },
  }
  return adapter
}

describe('reservePayment', () => {
  it('reserves for 15 of 40 cases racing for a budget of 1,500 fen at 100 each, and never more', async () => {
    const { reservePayment } = createPaymentActivities({ database: db.database })
    const code = await policyWithLedger(1_500)
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => reservePayment(order(code, i))))
    expect(answers.filter((a) => a === 'reserved')).toHaveLength(15)
    expect(answers.filter((a) => a === 'exhausted')).toHaveLength(25)
    expect(await ledgerRow(code)).toEqual({ budget: 1_500, reserved: 1_500, paid: 0, payments: 0 })
    const { rows } = await db.database.pool.query('SELECT count(*)::int AS n, sum(amount)::int AS total FROM payments WHERE policy_code = $1', [code])
    expect(rows[0]).toEqual({ n: 15, total: 1_500 })
  })

  it('answers a retried reservation "reserved" without holding its amount again, also once the budget is spent', async () => {
    const { reservePayment } = createPaymentActivities({ database: db.database })
    const code = await policyWithLedger(200)
    expect(await reservePayment(order(code, 1))).toBe('reserved')
    expect(await reservePayment(order(code, 2))).toBe('reserved')
    expect(await reservePayment(order(code, 1))).toBe('reserved')
    expect(await reservePayment(order(code, 3))).toBe('exhausted')
    expect(await ledgerRow(code)).toMatchObject({ reserved: 200 })
    expect(await paymentRows(order(code, 3).caseId)).toEqual([])
  })

  it('holds the amount once when the same case is reserved many times at once', async () => {
    const { reservePayment } = createPaymentActivities({ database: db.database })
    const code = await policyWithLedger(null)
    const answers = await Promise.all(Array.from({ length: 12 }, () => reservePayment(order(code, 'same', 700))))
    expect(new Set(answers)).toEqual(new Set(['reserved']))
    expect(await ledgerRow(code)).toEqual({ budget: null, reserved: 700, paid: 0, payments: 0 })
  })

  it('is "exhausted", writing nothing, for a policy without a ledger or without a row at all', async () => {
    const { reservePayment } = createPaymentActivities({ database: db.database })
    const unpublished = uniqueName('P-')
    await db.database.pool.query('INSERT INTO policies (code) VALUES ($1)', [unpublished])
    expect(await reservePayment(order(unpublished, 1))).toBe('exhausted')
    expect(await reservePayment(order(uniqueName('P-'), 1))).toBe('exhausted')
    expect(await paymentRows(order(unpublished, 1).caseId)).toEqual([])
  })

  it('refuses for good an amount that is not whole fen above zero', async () => {
    const { reservePayment } = createPaymentActivities({ database: db.database })
    const code = await policyWithLedger(1_000)
    for (const amount of [0, -100, 12.5]) {
      await expect(reservePayment(order(code, 1, amount))).rejects.toMatchObject({ type: 'validation_failed', nonRetryable: true })
    }
    expect(await ledgerRow(code)).toMatchObject({ reserved: 0 })
  })
})

describe('payOut', () => {
  it('pays a case once however often it is asked, one after another or all at once, with the receipt stored first', async () => {
    const adapter = slowLedger()
    const { reservePayment, payOut } = createPaymentActivities({ database: db.database, payments: adapter })
    const code = await policyWithLedger(1_000)
    const c = order(code, 1, 300)
    expect(await reservePayment(c)).toBe('reserved')
    const receipts = await Promise.all(Array.from({ length: 5 }, () => payOut(c)))
    expect(receipts[0]!.reference).toBe(`L-${c.caseId}`)
    for (const receipt of receipts) expect(receipt).toEqual(receipts[0])
    // A retry after the fact (a restarted worker) hears the same receipt without paying again.
    const callsBefore = adapter.calls
    expect(await payOut(c)).toEqual(receipts[0])
    expect(adapter.calls).toBe(callsBefore)
    expect(await ledgerRow(code)).toEqual({ budget: 1_000, reserved: 0, paid: 300, payments: 1 })
    expect(await paymentRows(c.caseId)).toEqual([{ status: 'paid', reference: `L-${c.caseId}` }])
  })

  it('refuses for good a case with nothing reserved, and a payment other than the one reserved', async () => {
    const { reservePayment, payOut } = createPaymentActivities({ database: db.database })
    const code = await policyWithLedger(1_000)
    await expect(payOut(order(code, 1))).rejects.toMatchObject({ type: 'not_reserved', nonRetryable: true })
    expect(await reservePayment(order(code, 2, 100))).toBe('reserved')
    await expect(payOut(order(code, 2, 900))).rejects.toMatchObject({ type: 'payment_mismatch', nonRetryable: true })
    expect(await ledgerRow(code)).toEqual({ budget: 1_000, reserved: 100, paid: 0, payments: 0 })
  })

  it('lists payments in the order they went out, not the order they were reserved in', async () => {
    const { reservePayment, payOut } = createPaymentActivities({ database: db.database })
    const code = await policyWithLedger(null)
    for (const n of [1, 2, 3]) expect(await reservePayment(order(code, n))).toBe('reserved')
    await payOut(order(code, 3))
    const firstPage = await listPayments(db.database, code, undefined, 10)
    expect(firstPage.map((p) => p.beneficiaryId)).toEqual(['b3'])
    await payOut(order(code, 1))
    // A reader who had reached the end of the list sees the later payment after it.
    const later = await listPayments(db.database, code, firstPage[0]!.ordinal, 10)
    expect(later.map((p) => p.beneficiaryId)).toEqual(['b1'])
  })
})

interface FakeTreasury {
  url: string
  requests: Array<{ headers: IncomingHttpHeaders; body: unknown }>
  /** Payments the treasury made, by idempotency key. */
  paid: Map<string, PaymentReceipt>
  close(): Promise<void>
}

/**
 * A treasury that honours Idempotency-Key, answering each request as `script` says in turn (then
 * 'pay'): 'fail' is a 500, 'refuse' a 422, 'pay-slowly' pays and answers too late for the caller.
 */
async function startTreasury(script: Array<'fail' | 'refuse' | 'pay' | 'pay-slowly'>): Promise<FakeTreasury> {
  const requests: FakeTreasury['requests'] = []
  const paid = new Map<string, PaymentReceipt>()
  const server = createServer((req, res) => {
    let text = ''
    req.on('data', (chunk: Buffer) => { text += chunk.toString() })
    req.on('end', () => {
      requests.push({ headers: req.headers, body: JSON.parse(text) })
      const step = script.shift() ?? 'pay'
      if (step === 'fail') return void res.writeHead(500).end('treasury down')
      if (step === 'refuse') return void res.writeHead(422, { 'content-type': 'application/json' }).end('{"error":"account closed"}')
      const key = String(req.headers['idempotency-key'])
      if (!paid.has(key)) paid.set(key, { reference: `T-${paid.size + 1}`, paidAt: '2026-12-01T02:00:00.000Z' })
      const answer = () => { if (!res.destroyed) res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(paid.get(key))) }
      if (step === 'pay-slowly') setTimeout(answer, 1_000)
      else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
    requests,
    paid,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

describe('payOut through an HTTP treasury', () => {
  const treasuries: FakeTreasury[] = []
  afterAll(async () => Promise.all(treasuries.map((t) => t.close())))
  const treasury = async (script: Parameters<typeof startTreasury>[0]) => {
    const started = await startTreasury(script)
    treasuries.push(started)
    return started
  }

  it('pays once through 500s and a lost answer: every attempt carries the case\'s own key', async () => {
    const fake = await treasury(['fail', 'fail', 'pay-slowly', 'pay'])
    const { reservePayment, payOut } = createPaymentActivities({
      database: db.database, payments: createHttpTreasury({ baseUrl: fake.url, token: 'treasury-token', timeoutMs: 200 }),
    })
    const code = await policyWithLedger(1_000)
    const c = { ...order(code, 1, 400), account: '6222-0000' }
    expect(await reservePayment(c)).toBe('reserved')
    const { result, retried } = await asTemporalWould(() => payOut(c))
    expect(retried).toBe(3)
    expect(result).toEqual({ reference: 'T-1', paidAt: '2026-12-01T02:00:00.000Z' })
    expect(fake.paid.size).toBe(1)
    expect(fake.requests).toHaveLength(4)
    for (const { headers, body } of fake.requests) {
      expect(headers['idempotency-key']).toBe(`banjian-payment:${c.caseId}`)
      expect(headers.authorization).toBe('Bearer treasury-token')
      expect(body).toEqual({ caseId: c.caseId, policyCode: code, beneficiaryId: 'b1', account: '6222-0000', amount: 400 })
    }
    // Once paid, a repeat (a restarted worker) answers from the ledger and asks the treasury nothing.
    expect(await payOut(c)).toEqual(result)
    expect(fake.requests).toHaveLength(4)
    expect(await ledgerRow(code)).toEqual({ budget: 1_000, reserved: 0, paid: 400, payments: 1 })
    expect(await paymentRows(c.caseId)).toEqual([{ status: 'paid', reference: 'T-1' }])
  })

  it('stops for good at the treasury\'s 4xx, leaving the amount reserved and unpaid', async () => {
    const fake = await treasury(['refuse'])
    const { reservePayment, payOut } = createPaymentActivities({ database: db.database, payments: createHttpTreasury({ baseUrl: fake.url }) })
    const code = await policyWithLedger(1_000)
    const c = order(code, 1, 250)
    expect(await reservePayment(c)).toBe('reserved')
    await expect(asTemporalWould(() => payOut(c))).rejects.toMatchObject({ type: 'payment_refused', nonRetryable: true })
    expect(fake.requests).toHaveLength(1)
    expect(await ledgerRow(code)).toEqual({ budget: 1_000, reserved: 250, paid: 0, payments: 0 })
    expect(await paymentRows(c.caseId)).toEqual([{ status: 'reserved', reference: null }])
  })

  it('retries a treasury that cannot be reached', async () => {
    const fake = await startTreasury([])
    await fake.close()
    const adapter = createHttpTreasury({ baseUrl: fake.url, timeoutMs: 500 })
    const failure = await adapter.pay({ idempotencyKey: 'k', caseId: 'F-x', policyCode: 'P', beneficiaryId: 'b', amount: 1 }).catch((err: unknown) => err)
    expect(failure).toBeInstanceOf(ApplicationFailure)
    expect(failure).toMatchObject({ type: 'treasury_unavailable', nonRetryable: false })
  })
})
