import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPaymentActivities } from '../../src/activities/payments.ts'
import type { App } from '../../src/api/app.ts'
import { call, type Directory, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal, type TestDatabase } from '../support/system.ts'

// API.md "Policy fulfilment": a policy's ledger and its payments, for those who watch public money.

let app: App
let db: TestDatabase
let stop: (() => Promise<void>) | undefined
let keys: Directory

const CODE = 'POL-LEDGER'
const UNPUBLISHED = 'POL-DRAFT'

beforeAll(async () => {
  ({ app, db, stop } = await startAppWithoutTemporal('no Temporal in policy ledger tests'))
  keys = await seedDirectory(app)
  await db.database.pool.query('INSERT INTO policies (code) VALUES ($1), ($2)', [CODE, UNPUBLISHED])
  await db.database.pool.query('INSERT INTO policy_ledgers (code, budget) VALUES ($1, 10000)', [CODE])
  const { reservePayment, payOut } = createPaymentActivities({ database: db.database })
  // Five paid, in the order …0004, …0003, …0002, …0001, …0000; one reserved and not yet paid.
  const payments = Array.from({ length: 6 }, (_, n) => ({ caseId: `F-${CODE}-${n}`, policyCode: CODE, beneficiaryId: `44010619900101000${n}`, amount: 100 * (n + 1) }))
  for (const p of payments) expect(await reservePayment(p)).toBe('reserved')
  for (const p of payments.slice(0, 5).reverse()) await payOut(p)
})

afterAll(async () => stop?.())

describe('GET /v1/policies/{code}/ledger', () => {
  it('shows admins, auditors and supervisors the budget, what is reserved and what has been paid', async () => {
    for (const key of [ADMIN_KEY, keys.auditorKey, keys.supervisorKey]) {
      const r = await call(app, key, 'GET', `/v1/policies/${CODE}/ledger`)
      expect(r.status).toBe(200)
      expect(r.body).toEqual({ budget: 10_000, reserved: 600, paid: 1_500, payments: 5 })
    }
  })

  it('shows a policy not yet published with nothing in it and no budget', async () => {
    const r = await call(app, ADMIN_KEY, 'GET', `/v1/policies/${UNPUBLISHED}/ledger`)
    expect(r).toMatchObject({ status: 200, body: { budget: null, reserved: 0, paid: 0, payments: 0 } })
  })

  it('refuses windows and departments, and answers 404 for a policy that does not exist', async () => {
    for (const key of [keys.windowKey, keys.departmentKey]) {
      expect(await call(app, key, 'GET', `/v1/policies/${CODE}/ledger`)).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    }
    expect(await call(app, ADMIN_KEY, 'GET', '/v1/policies/NO-SUCH/ledger')).toMatchObject({ status: 404, body: { code: 'not_found' } })
  })
})

describe('GET /v1/policies/{code}/payments', () => {
  it('lists the payments that went out, in that order, a page at a time, their beneficiaries masked to an auditor', async () => {
    const seen: unknown[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const r = await call(app, keys.auditorKey, 'GET', `/v1/policies/${CODE}/payments?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      expect(r.status).toBe(200)
      seen.push(...r.body.items)
      cursor = r.body.nextCursor
      pages++
    } while (cursor)
    expect(pages).toBe(3)
    expect(seen.map((p) => (p as { beneficiaryId: string }).beneficiaryId)).toEqual([4, 3, 2, 1, 0].map((n) => `4401**********000${n}`))
    expect(seen[0]).toEqual({
      caseId: `F-${CODE}-4`, beneficiaryId: '4401**********0004', amount: 500, reference: `L-F-${CODE}-4`, paidAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
    })
  })

  it('shows an administrator the beneficiaries in clear', async () => {
    const r = await call(app, ADMIN_KEY, 'GET', `/v1/policies/${CODE}/payments?limit=2`)
    expect(r.body.items.map((p: { beneficiaryId: string }) => p.beneficiaryId)).toEqual(['440106199001010004', '440106199001010003'])
  })

  it('refuses a window, a cursor of another list, and a policy that does not exist', async () => {
    expect(await call(app, keys.windowKey, 'GET', `/v1/policies/${CODE}/payments`)).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    const organizations = await call(app, ADMIN_KEY, 'GET', '/v1/organizations?limit=1')
    const foreign = organizations.body.nextCursor as string
    expect(await call(app, ADMIN_KEY, 'GET', `/v1/policies/${CODE}/payments?cursor=${encodeURIComponent(foreign)}`))
      .toMatchObject({ status: 400, body: { code: 'validation_failed' } })
    expect(await call(app, ADMIN_KEY, 'GET', '/v1/policies/NO-SUCH/payments')).toMatchObject({ status: 404, body: { code: 'not_found' } })
  })

  it('is empty, with no next page, for a policy that has paid nothing', async () => {
    expect(await call(app, ADMIN_KEY, 'GET', `/v1/policies/${UNPUBLISHED}/payments`)).toMatchObject({ status: 200, body: { items: [], nextCursor: null } })
  })
})
