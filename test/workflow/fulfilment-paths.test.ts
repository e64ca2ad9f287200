import { ApplicationFailure } from '@temporalio/common'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import type { FulfilmentOpening, PolicyTerms } from '../../src/domain/fulfilment/terms.ts'
import type { Actor } from '../../src/domain/roles.ts'
import { workNudgedSignal } from '../../src/workflows/case/contract.ts'
import type { NewFulfilment } from '../../src/workflows/fulfilment/contract.ts'
import { BUDGET_RETRY_MS } from '../../src/workflows/fulfilment/workflow.ts'
import type { PaymentAdapter, PaymentOrder } from '../../src/payments/adapter.ts'
import { uniqueName } from '../support/system.ts'
import {
  act, deadline, eventTypes, refusalType, sleepUntil, startKind, startTimeSkipping, type TimeSkipping, view, viewWhen,
} from '../support/time-skipping.ts'

// Fulfilment cases on the time-skipping server (DOMAIN rules 24–25, API.md "Policy fulfilment"):
// each mode, the confirmation window, the budget under concurrency, and a payment adapter that
// fails twice before it pays (exactly one payment).

/** The treasury: fails the first two attempts of each order, then pays; counts what it paid by key. */
const attempts = new Map<string, number>()
const paidByKey = new Map<string, PaymentOrder>()
const flakyTreasury: PaymentAdapter = {
  name: 'flaky test treasury',
  async pay(order) {
    const n = (attempts.get(order.idempotencyKey) ?? 0) + 1
    attempts.set(order.idempotencyKey, n)
    if (order.policyCode.startsWith('FLAKY') && n <= 2) throw new Error(`treasury unavailable (attempt ${n})`)
    if (order.policyCode.startsWith('REFUSE')) throw ApplicationFailure.nonRetryable('the account is closed', 'payment_refused')
    if (!paidByKey.has(order.idempotencyKey)) paidByKey.set(order.idempotencyKey, order)
    return { reference: `T-${order.caseId}`, paidAt: new Date().toISOString() }
  },
}

let ts: TimeSkipping
beforeAll(async () => {
  ts = await startTimeSkipping({ payments: flakyTreasury })
})
afterAll(async () => ts?.stop())

const HR: Actor = { organizationId: 'gz-hr', role: 'department' }
const WINDOW: Actor = { organizationId: 'gz-center', role: 'window' }

/** A policy and its ledger, as publishing leaves them (budget null: unlimited). */
async function policy(code: string, budget: number | null): Promise<void> {
  const { pool } = ts.db.database
  await pool.query('INSERT INTO policies (code) VALUES ($1)', [code])
  await pool.query('INSERT INTO policy_ledgers (code, budget) VALUES ($1, $2)', [code, budget])
}
async function ledger(code: string): Promise<{ budget: string | null; reserved: string; paid: string; payments: number }> {
  return (await ts.db.database.pool.query('SELECT budget, reserved, paid, payments FROM policy_ledgers WHERE code = $1', [code])).rows[0]
}
const payments = async (code: string) =>
  (await ts.db.database.pool.query('SELECT case_id, status, amount FROM payments WHERE policy_code = $1 ORDER BY case_id', [code])).rows

function newFulfilment(code: string, terms: Partial<PolicyTerms> = {}, amount = 100): NewFulfilment {
  const caseId = uniqueName(`F-${code}-`)
  const opening: FulfilmentOpening = {
    policy: { code, version: 1, departmentId: 'gz-hr', mode: 'no_application', autoVerify: false, verifyWithin: { workingDays: 5 },
      payWithin: { workingDays: 5 }, ...terms },
    beneficiary: { id: caseId.slice(-12), type: 'person', name: '张三' },
    amount,
  }
  return { kind: 'new', caseId, opening, actor: HR }
}
/** Polls (in real time) until `holds`; fails after 30 s. */
async function until(holds: () => Promise<boolean>): Promise<void> {
  const limit = Date.now() + 30_000
  while (!(await holds())) {
    if (Date.now() > limit) throw new Error('the condition never held')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
const start = (input: NewFulfilment): Promise<CaseView> => startKind(ts, 'fulfilmentWorkflow', input)
const ended = (id: string) => ts.env.client.workflow.getHandle(id).result()

describe('fulfilment workflow paths (time-skipping)', () => {
  it('no_application: notified, verified by the department, paid once, completed', async () => {
    await policy('NOAPP', null)
    const input = newFulfilment('NOAPP')
    const created = await start(input)
    expect(created).toMatchObject({ kind: 'fulfilment', status: 'notified', amount: 100, handlingOrganizationId: 'gz-hr' })
    expect(deadline(created, 'verify').state).toBe('running')
    const verified = await act(ts, input.caseId, 'verify', HR, { note: '核验通过' })
    expect(verified.status).toBe('verified')
    await ended(input.caseId)
    expect(await eventTypes(ts, input.caseId)).toEqual(['notified', 'verified', 'paid', 'completed'])
    expect(await payments('NOAPP')).toEqual([{ case_id: input.caseId, status: 'paid', amount: '100' }])
    expect(await ledger('NOAPP')).toMatchObject({ reserved: '0', paid: '100', payments: 1 })
    const outbox = await ts.db.database.pool.query('SELECT type FROM notification_outbox WHERE case_id = $1 ORDER BY event_seq', [input.caseId])
    expect(outbox.rows.map((r) => r.type)).toEqual(['notified', 'paid'])
  })

  it('application: submitted at a window, verified at once under autoVerify, paid', async () => {
    await policy('APPLY', null)
    const input = { ...newFulfilment('APPLY', { mode: 'application', autoVerify: true }), actor: WINDOW }
    const created = await start(input)
    expect(created.receivedBy).toBe('gz-center')
    await ended(input.caseId)
    expect(await eventTypes(ts, input.caseId)).toEqual(['submitted', 'verified', 'paid', 'completed'])
  })

  it('confirm: confirmed at a window with an account, which the payment carries', async () => {
    await policy('CONFIRM', null)
    const input = newFulfilment('CONFIRM', { mode: 'confirm', confirmWithin: { workingDays: 2 }, autoVerify: true })
    await start(input)
    expect(await refusalType(act(ts, input.caseId, 'verify', HR))).toBe('invalid_transition')
    await act(ts, input.caseId, 'confirm', WINDOW, { account: '6222000011112222' })
    await ended(input.caseId)
    expect(await eventTypes(ts, input.caseId)).toEqual(['notified', 'confirmed', 'verified', 'paid', 'completed'])
    expect(paidByKey.get(`banjian-payment:${input.caseId}`)?.account).toBe('6222000011112222')
  })

  it('confirm: declined when the confirmation window passes; nothing is paid', async () => {
    await policy('LAPSE', null)
    const input = newFulfilment('LAPSE', { mode: 'confirm', confirmWithin: { duration: 'P3D' } })
    const created = await start(input)
    await sleepUntil(ts, deadline(created, 'confirm').dueAt, 1000)
    await ended(input.caseId)
    expect(await eventTypes(ts, input.caseId)).toEqual(['notified', 'deadline_warned', 'declined'])
    expect(await payments('LAPSE')).toEqual([])
  })

  it('rule 25: a payment adapter that fails twice then succeeds pays exactly once, an attempt lost with its worker retried after 30 s', async () => {
    await policy('FLAKY', 1000)
    const input = newFulfilment('FLAKY', { autoVerify: true }, 250)
    await start(input)
    await ended(input.caseId)
    const key = `banjian-payment:${input.caseId}`
    expect(attempts.get(key)).toBe(3)
    expect(paidByKey.get(key)).toMatchObject({ amount: 250 })
    expect(await payments('FLAKY')).toEqual([{ case_id: input.caseId, status: 'paid', amount: '250' }])
    expect(await ledger('FLAKY')).toMatchObject({ budget: '1000', reserved: '0', paid: '250', payments: 1 })
    expect((await eventTypes(ts, input.caseId)).filter((t) => t === 'paid')).toHaveLength(1)
    // An attempt lost with a killed worker is given up on in 30 s, not the minutes a payment never needs.
    const history = await ts.env.client.workflow.getHandle(input.caseId).fetchHistory()
    const payOuts = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'payOut')
    expect(payOuts).toHaveLength(1)
    expect(Number(payOuts[0]!.startToCloseTimeout!.seconds)).toBe(30)
  })

  it('a payment refused for good gives the reservation back, flags the case and supervises the department, which may reject it', async () => {
    await policy('REFUSE', 1000)
    const input = newFulfilment('REFUSE', { autoVerify: true }, 400)
    await start(input)
    const refused = await viewWhen(ts, input.caseId, (v) => v.flags.includes('payment_refused'))
    expect(refused).toMatchObject({ status: 'verified', paymentRefusal: { reason: 'the account is closed' } })
    expect(refused.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', organizationId: 'gz-hr', deadlineKey: 'pay' })])
    expect(await ledger('REFUSE')).toMatchObject({ reserved: '0', paid: '0', payments: 0 })
    expect(await payments('REFUSE')).toEqual([])
    const rejected = await act(ts, input.caseId, 'reject', HR, { reason: '账户已注销' })
    expect(rejected.status).toBe('rejected')
    await ended(input.caseId)
    expect(await eventTypes(ts, input.caseId)).toEqual(['notified', 'verified', 'payment_refused', 'supervision_opened', 'rejected'])
  })

  it('rule 25 under concurrency: the budget pays whom it covers; the rest wait, supervised, until it is raised', async () => {
    await policy('BUDGET', 500)
    const inputs = Array.from({ length: 8 }, () => newFulfilment('BUDGET', { autoVerify: true }, 100))
    await Promise.all(inputs.map(start))
    const settled = await Promise.all(inputs.map((i) => viewWhen(ts, i.caseId, (v) => v.status === 'completed' || v.status === 'budget_exhausted', 30_000)))
    const waiting = settled.filter((v) => v.status === 'budget_exhausted')
    expect(settled.filter((v) => v.status === 'completed')).toHaveLength(5)
    expect(waiting).toHaveLength(3)
    expect(await ledger('BUDGET')).toMatchObject({ budget: '500', reserved: '0', paid: '500', payments: 5 })
    for (const v of waiting) {
      expect(v.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', level: 1, organizationId: 'gz-hr', deadlineKey: 'pay' })])
    }
    // A new version raises the budget by 200: at the nudge two more are paid, the last waits on.
    await ts.db.database.pool.query('UPDATE policy_ledgers SET budget = 700 WHERE code = $1', ['BUDGET'])
    await Promise.all(waiting.map((v) => ts.env.client.workflow.getHandle(v.id).signal(workNudgedSignal)))
    // The ledger counts a payment before its case records it: wait for both cases to complete too.
    const statusesNow = () => Promise.all(waiting.map(async (v) => (await view(ts, v.id).catch(() => ({ status: 'completed' }))).status))
    let statuses: string[] = []
    await until(async () => {
      statuses = await statusesNow()
      return (await ledger('BUDGET')).payments === 7 && statuses.filter((s) => s === 'completed').length === 2
    })
    expect([...statuses].sort()).toEqual(['budget_exhausted', 'completed', 'completed'])
    expect(await ledger('BUDGET')).toMatchObject({ paid: '700', reserved: '0' })
    const last = waiting[statuses.indexOf('budget_exhausted')]!
    // Waiting on is no new event: one wait, one supervision record.
    expect((await eventTypes(ts, last.id)).filter((t) => t === 'budget_exhausted' || t === 'supervision_opened')).toHaveLength(2)
    // Without a nudge, the case tries again on its own after BUDGET_RETRY_MS.
    await ts.db.database.pool.query('UPDATE policy_ledgers SET budget = NULL WHERE code = $1', ['BUDGET'])
    await sleepUntil(ts, Date.parse(last.updatedAt) + BUDGET_RETRY_MS, 1000)
    await ended(last.id)
    expect(await eventTypes(ts, last.id)).toEqual(expect.arrayContaining(['budget_exhausted', 'budget_available', 'paid', 'completed']))
    expect(await ledger('BUDGET')).toMatchObject({ paid: '800', payments: 8 })
  })
})
