import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp } from '../../src/api/app.ts'
import { refusingGateway } from '../../src/api/case-gateway.ts'
import type { PolicyDraft } from '../../src/domain/policy.ts'
import { call, itemDraft, publishItem } from '../support/fixtures.ts'
import { ADMIN_KEY, createTestDatabase, startAppWithoutTemporal, type TestDatabase } from '../support/system.ts'

// The policy catalogue as an administrator, a reviewer and a reader meet it over HTTP (API.md
// "Policy fulfilment"): a draft checked as it is saved, reviewed by another key, published in
// versions whose budget the ledger takes in the same transaction, and the cases waiting for money
// told when the budget is raised.

let app: App
let db: TestDatabase
let stop: (() => Promise<void>) | undefined
const keys = { reviewer: '', supervisor: '', department: '', window: '' }

const ORGS = [['gz', 'government', 'root'], ['gz-hr', 'department', 'gz'], ['gz-center', 'service-center', 'gz'], ['gz-amr', 'department', 'gz']]

/** The organisations and keys of a test schema; the keys are returned by name. */
async function seed(target: App): Promise<typeof keys> {
  for (const [id, kind, parentId] of ORGS) {
    expect((await call(target, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
  }
  const key = async (organizationId: string, role: string) => {
    const r = await call(target, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role })
    expect(r.status).toBe(201)
    return r.body.key as string
  }
  return { reviewer: await key('root', 'admin'), supervisor: await key('gz', 'supervisor'), department: await key('gz-hr', 'department'), window: await key('gz-center', 'window') }
}

beforeAll(async () => {
  ({ app, db, stop } = await startAppWithoutTemporal('the policy catalogue reaches no workflow'))
  Object.assign(keys, await seed(app))
})
afterAll(async () => stop?.())

const policyDraft = (overrides: Partial<PolicyDraft> = {}): PolicyDraft => ({
  name: 'Start-up subsidy for graduates',
  departmentId: 'gz-hr',
  mode: 'no_application',
  eligibility: { and: [{ '>=': [{ var: 'age' }, 18] }, { '==': [{ var: 'graduate' }, true] }] },
  amount: 500_000,
  budget: 10_000_000,
  payWithin: { workingDays: 10 },
  ...overrides,
})

const save = (code: string, draft: unknown, key = ADMIN_KEY, target = app) => call(target, key, 'PUT', `/v1/policies/${code}`, draft)
const draftOf = (code: string) => call(app, ADMIN_KEY, 'GET', `/v1/policies/${code}/draft`)
const review = (code: string, key: string, body: Record<string, unknown> = { approved: true, note: 'lawful and funded' }, headers = {}, target = app) =>
  call(target, key, 'POST', `/v1/policies/${code}/review`, body, headers)
const publish = (code: string, headers: Record<string, string> = {}, target = app) =>
  call(target, ADMIN_KEY, 'POST', `/v1/policies/${code}/publish`, undefined, headers)
const policyOf = (code: string, version?: number) => call(app, keys.window, 'GET', `/v1/policies/${code}${version ? `?version=${version}` : ''}`)

/** Saves, approves (with another key than the author's) and publishes: the answer to the publish. */
async function release(code: string, draft: PolicyDraft, target = app, reviewer = keys.reviewer, headers: Record<string, string> = {}) {
  expect((await save(code, draft, ADMIN_KEY, target)).status).toBe(200)
  expect((await review(code, reviewer, undefined, {}, target)).status).toBe(200)
  return publish(code, headers, target)
}

const versions = async (code: string, of = db) =>
  (await of.database.pool.query<{ version: number }>('SELECT version FROM policy_versions WHERE code = $1 ORDER BY version', [code])).rows.map((r) => r.version)
const ledgerOf = async (code: string, of = db) =>
  (await of.database.pool.query('SELECT budget::float8 AS budget, reserved::float8 AS reserved, paid::float8 AS paid FROM policy_ledgers WHERE code = $1', [code])).rows[0] as
    { budget: number | null; reserved: number; paid: number } | undefined

const refusedAt = (path: string) => ({ status: 400, body: { code: 'validation_failed', errors: expect.arrayContaining([expect.objectContaining({ path })]) } })

describe('saving a draft', () => {
  it('keeps a valid draft as revision 1, written by the saving key, not yet reviewed or published', async () => {
    const saved = await save('SAVE-1', policyDraft())
    expect(saved).toMatchObject({
      status: 200,
      body: { code: 'SAVE-1', draft: policyDraft(), revision: 1, author: { organizationId: 'root', role: 'admin' }, latestVersion: null, review: null },
    })
    expect((await draftOf('SAVE-1')).body).toEqual(saved.body)
    expect((await save('SAVE-1', policyDraft({ name: 'renamed' }))).body).toMatchObject({ revision: 2, draft: { name: 'renamed' } })
    expect((await policyOf('SAVE-1')).status).toBe(404)
  })

  it('refuses a JSONLogic rule it could not evaluate, at the path of the bad operator, and stores nothing', async () => {
    expect(await save('BAD-RULE', policyDraft({ eligibility: { no_such_op: [1] } }))).toMatchObject(refusedAt('body/eligibility/no_such_op'))
    expect(await save('BAD-RULE', policyDraft({ eligibility: { and: [true, { '>=': [{ vars: 'age' }, 18] }] } })))
      .toMatchObject(refusedAt('body/eligibility/and/1/>=/0/vars'))
    expect(await save('BAD-RULE', policyDraft({ amount: { '*': [{ var: 'months' }, { bogus: 1 }] } }))).toMatchObject(refusedAt('body/amount/*/1/bogus'))
    expect(await save('BAD-RULE', policyDraft({ eligibility: 'yes' }))).toMatchObject(refusedAt('body/eligibility'))
    expect((await draftOf('BAD-RULE')).status).toBe(404)
    // A rule made of known operations is kept, an amount rule too.
    expect((await save('BAD-RULE', policyDraft({ amount: { '*': [{ var: 'months' }, 100_000] } }))).status).toBe(200)
  })

  it('asks a confirm-mode policy how long the beneficiary has to confirm, and no other mode', async () => {
    expect(await save('CONFIRM-1', policyDraft({ mode: 'confirm' }))).toMatchObject(refusedAt('body/confirmWithin'))
    expect(await save('CONFIRM-1', policyDraft({ confirmWithin: { workingDays: 5 } }))).toMatchObject(refusedAt('body/confirmWithin'))
    expect((await draftOf('CONFIRM-1')).status).toBe(404)
    expect((await save('CONFIRM-1', policyDraft({ mode: 'confirm', confirmWithin: { workingDays: 5 } }))).status).toBe(200)
  })

  it('refuses amounts and budgets that are not whole, non-negative fen', async () => {
    for (const amount of [-1, 1.5, '500']) {
      expect(await save('FEN-1', { ...policyDraft(), amount })).toMatchObject({ status: 400, body: { code: 'validation_failed' } })
    }
    for (const budget of [-100, 0.5]) {
      expect(await save('FEN-1', { ...policyDraft(), budget })).toMatchObject(refusedAt('body/budget'))
    }
    expect((await draftOf('FEN-1')).status).toBe(404)
  })

  it('refuses a NUL in the text, which Postgres could not store', async () => {
    expect(await save('NUL-1', policyDraft({ name: 'Start-up\u0000subsidy' }))).toMatchObject(refusedAt('body/name'))
    expect((await draftOf('NUL-1')).status).toBe(404)
  })

  it('answers 422 for a department that does not exist, and stores nothing', async () => {
    expect(await save('DEPT-1', policyDraft({ departmentId: 'gz-nowhere' }))).toMatchObject({
      status: 422, body: { code: 'unprocessable', detail: expect.stringContaining('gz-nowhere') },
    })
    expect((await draftOf('DEPT-1')).status).toBe(404)
  })

  it('lets only administrators write and read drafts', async () => {
    for (const key of [keys.supervisor, keys.department, keys.window]) {
      expect(await save('ROLE-1', policyDraft(), key)).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    }
    expect((await save('ROLE-1', policyDraft())).status).toBe(200)
    expect(await call(app, keys.supervisor, 'GET', '/v1/policies/ROLE-1/draft')).toMatchObject({ status: 403 })
  })
})

describe('review and publication', () => {
  it('refuses a review by the key that wrote the draft, and by roles that do not review; records nothing', async () => {
    expect((await save('REV-1', policyDraft())).status).toBe(200)
    expect(await review('REV-1', ADMIN_KEY)).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    for (const key of [keys.department, keys.window]) expect(await review('REV-1', key)).toMatchObject({ status: 403 })
    expect((await draftOf('REV-1')).body).toMatchObject({ revision: 1, review: null })
    const reviewed = await review('REV-1', keys.supervisor)
    expect(reviewed).toMatchObject({ status: 200, body: { subject: { kind: 'policy', id: 'REV-1' }, revision: 1, approved: true, reviewer: { organizationId: 'gz', role: 'supervisor' } } })
    expect((await draftOf('REV-1')).body.review).toEqual(reviewed.body)
  })

  it('answers 404 for a policy that does not exist', async () => {
    expect(await review('NOPE-1', keys.supervisor)).toMatchObject({ status: 404, body: { code: 'not_found' } })
    expect(await publish('NOPE-1')).toMatchObject({ status: 404, body: { code: 'not_found' } })
    expect(await policyOf('NOPE-1')).toMatchObject({ status: 404, body: { code: 'not_found' } })
  })

  it('does not publish a draft nobody approved, and gives it no ledger', async () => {
    expect((await save('PUB-0', policyDraft())).status).toBe(200)
    expect(await publish('PUB-0')).toMatchObject({ status: 409, body: { code: 'conflict', detail: expect.stringContaining('has not been reviewed') } })
    expect((await review('PUB-0', keys.supervisor, { approved: false, note: 'no legal basis cited' })).status).toBe(200)
    expect(await publish('PUB-0')).toMatchObject({ status: 409, body: { code: 'conflict', detail: expect.stringContaining('no legal basis cited') } })
    expect(await versions('PUB-0')).toEqual([])
    expect(await ledgerOf('PUB-0')).toBeUndefined()
    expect((await policyOf('PUB-0')).status).toBe(404)
  })

  it('publishes version 1 then 2, each readable by any role, and the ledger takes each version\'s budget', async () => {
    const first = await release('PUB-1', policyDraft())
    expect(first).toMatchObject({
      status: 200,
      body: {
        code: 'PUB-1', version: 1, name: 'Start-up subsidy for graduates', mode: 'no_application', budget: 10_000_000, amount: 500_000,
        autoVerify: false, verifyWithin: { workingDays: 10 }, payWithin: { workingDays: 10 },
        author: { organizationId: 'root', role: 'admin' }, reviewer: { organizationId: 'root', role: 'admin' }, publishedAt: expect.stringMatching(/Z$/),
      },
    })
    expect(await ledgerOf('PUB-1')).toEqual({ budget: 10_000_000, reserved: 0, paid: 0 })
    expect((await draftOf('PUB-1')).status).toBe(404)

    const second = await release('PUB-1', policyDraft({ name: 'Start-up subsidy, second round', budget: 25_000_000, autoVerify: true }))
    expect(second).toMatchObject({ status: 200, body: { version: 2, name: 'Start-up subsidy, second round', budget: 25_000_000, autoVerify: true } })
    expect(await ledgerOf('PUB-1')).toEqual({ budget: 25_000_000, reserved: 0, paid: 0 })
    expect(await versions('PUB-1')).toEqual([1, 2])

    expect((await policyOf('PUB-1')).body).toEqual(second.body)
    expect((await policyOf('PUB-1', 1)).body).toEqual(first.body)
    expect((await policyOf('PUB-1', 2)).body).toEqual(second.body)
    expect(await policyOf('PUB-1', 3)).toMatchObject({ status: 404, body: { code: 'not_found', detail: expect.stringContaining('version 3') } })
    for (const key of [keys.department, keys.supervisor, ADMIN_KEY]) expect((await call(app, key, 'GET', '/v1/policies/PUB-1')).body).toEqual(second.body)
  })

  it('gives a policy without a budget an unlimited ledger', async () => {
    const { budget: _, ...unlimited } = policyDraft()
    expect(await release('PUB-2', unlimited)).toMatchObject({ status: 200, body: { version: 1, budget: null } })
    expect(await ledgerOf('PUB-2')).toEqual({ budget: null, reserved: 0, paid: 0 })
    expect((await release('PUB-2', policyDraft({ budget: 3_000_000 }))).body).toMatchObject({ version: 2, budget: 3_000_000 })
    expect(await ledgerOf('PUB-2')).toMatchObject({ budget: 3_000_000 })
  })

  it('refuses at publication a stored draft that breaks a rule, reviewed or not', async () => {
    expect((await save('PUB-3', policyDraft())).status).toBe(200)
    expect((await review('PUB-3', keys.supervisor)).status).toBe(200)
    await db.database.pool.query('UPDATE policies SET draft = jsonb_set(draft, \'{eligibility}\', \'{"nope": 1}\') WHERE code = $1', ['PUB-3'])
    expect(await publish('PUB-3')).toMatchObject({ status: 422, body: { code: 'unprocessable', errors: [{ path: 'draft/eligibility/nope' }] } })
    expect(await versions('PUB-3')).toEqual([])
  })

  it('answers a publish retried with its Idempotency-Key with the version it made, publishing once', async () => {
    expect((await save('IDEM-1', policyDraft())).status).toBe(200)
    expect((await review('IDEM-1', keys.supervisor)).status).toBe(200)
    const answers = await Promise.all(Array.from({ length: 10 }, () => publish('IDEM-1', { 'idempotency-key': 'publish-idem-1' })))
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200))
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1)
    expect(answers[0]!.body).toMatchObject({ code: 'IDEM-1', version: 1 })
    // Still after a new draft is approved: the key answers for version 1; another key publishes 2.
    expect((await save('IDEM-1', policyDraft({ name: 'renamed' }))).status).toBe(200)
    expect((await review('IDEM-1', keys.supervisor)).status).toBe(200)
    expect(await publish('IDEM-1', { 'idempotency-key': 'publish-idem-1' })).toMatchObject({ status: 200, body: answers[0]!.body })
    expect(await versions('IDEM-1')).toEqual([1])
    expect(await publish('IDEM-1', { 'idempotency-key': 'publish-idem-2' })).toMatchObject({ status: 200, body: { version: 2, name: 'renamed' } })
  })

  it('keeps a policy\'s Idempotency-Keys apart from a service item\'s of the same code', async () => {
    const headers = { 'idempotency-key': 'same-key' }
    expect((await call(app, ADMIN_KEY, 'PUT', '/v1/service-items/SHARED-1', itemDraft())).status).toBe(200)
    expect((await publishItem(app, 'SHARED-1', headers)).body).toMatchObject({ code: 'SHARED-1', version: 1 })
    expect((await save('SHARED-1', policyDraft())).status).toBe(200)
    expect((await review('SHARED-1', keys.supervisor, undefined, headers)).body).toMatchObject({ subject: { kind: 'policy', id: 'SHARED-1' } })
    expect(await publish('SHARED-1', headers)).toMatchObject({ status: 200, body: { code: 'SHARED-1', version: 1, mode: 'no_application' } })
    expect(await versions('SHARED-1')).toEqual([1])
  })
})

describe('the list of published policies', () => {
  it('pages through the latest version of every published policy, and only those', async () => {
    for (const code of ['LIST-A', 'LIST-B', 'LIST-C']) expect((await release(code, policyDraft({ name: `${code} v1` }))).status).toBe(200)
    expect((await release('LIST-B', policyDraft({ name: 'LIST-B v2' }))).status).toBe(200)
    expect((await save('LIST-D', policyDraft())).status).toBe(200)

    const seen: Array<{ code: string; version: number; name: string }> = []
    let cursor: string | null = null
    for (let pages = 0; pages < 50; pages++) {
      const page = await call(app, keys.window, 'GET', `/v1/policies?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      expect(page.status).toBe(200)
      expect(page.body.items.length).toBeLessThanOrEqual(2)
      seen.push(...page.body.items)
      cursor = page.body.nextCursor
      if (!cursor) break
    }
    const published = (await db.database.pool.query<{ code: string; latest_version: number }>(
      'SELECT code, latest_version FROM policies WHERE latest_version IS NOT NULL ORDER BY code')).rows
    expect(published.length).toBeGreaterThan(2)
    expect(seen.map((p) => [p.code, p.version])).toEqual(published.map((p) => [p.code, p.latest_version]))
    expect(seen.find((p) => p.code === 'LIST-B')).toMatchObject({ version: 2, name: 'LIST-B v2' })
    expect(seen.map((p) => p.code)).not.toContain('LIST-D')
    expect(await call(app, keys.window, 'GET', '/v1/policies?cursor=forged')).toMatchObject({ status: 400 })
  })
})

describe('the budget at publication', () => {
  let own: App
  let ownDb: TestDatabase
  let ownKeys: typeof keys
  const nudged: string[] = []
  let untold = 0

  beforeAll(async () => {
    ownDb = await createTestDatabase()
    own = await buildApp({
      database: ownDb.database,
      gateway: { ...refusingGateway('only nudges reach the cases'), nudge: async (ids) => { nudged.push(...ids); return untold } },
    })
    await own.ready()
    ownKeys = await seed(own)
  })
  afterAll(async () => {
    await own?.close()
    await ownDb?.drop()
  })

  /** A case as its projection stores it, as far as the nudge reads it. */
  async function storedCase(of: TestDatabase, id: string, policyCode: string, status = 'budget_exhausted', kind = 'fulfilment') {
    const at = '2026-12-01T02:00:00.000Z'
    const view = { id, kind, status, version: 1, policyCode, policyVersion: 1, amount: 500_000, handlingOrganizationId: 'gz-hr', createdAt: at, updatedAt: at }
    await of.database.pool.query(`INSERT INTO cases (id, kind, status, last_seq, last_hash, handling_organization_id, received_by,
      priority_rank, next_due_at, organizations, view, created_at, updated_at)
      VALUES ($1, $2, $3, 1, '', 'gz-hr', 'gz-hr', 2, 'infinity', ARRAY['gz-hr'], $4, $5, $5)`, [id, kind, status, view, at])
  }
  const releaseOwn = (code: string, draft: PolicyDraft, headers: Record<string, string> = {}) => release(code, draft, own, ownKeys.reviewer, headers)

  it('refuses a budget below what is reserved and paid, publishing nothing; a raised one nudges the cases waiting for money', async () => {
    expect((await releaseOwn('MONEY-1', policyDraft({ budget: 10_000 }))).body).toMatchObject({ version: 1, budget: 10_000 })
    expect((await releaseOwn('MONEY-OTHER', policyDraft({ budget: 10_000 }))).status).toBe(200)
    await ownDb.database.pool.query('UPDATE policy_ledgers SET reserved = 1000, paid = 6000 WHERE code = $1', ['MONEY-1'])
    await storedCase(ownDb, 'F-WAITING-1', 'MONEY-1')
    await storedCase(ownDb, 'F-WAITING-2', 'MONEY-1')
    await storedCase(ownDb, 'F-NOTIFIED', 'MONEY-1', 'notified')
    await storedCase(ownDb, 'F-OTHER-POLICY', 'MONEY-OTHER')

    expect(await releaseOwn('MONEY-1', policyDraft({ budget: 6_999 }))).toMatchObject({
      status: 409, body: { code: 'conflict', detail: 'budget 6999 fen is below the 7000 fen already reserved or paid' },
    })
    expect(await versions('MONEY-1', ownDb)).toEqual([1])
    expect(await ledgerOf('MONEY-1', ownDb)).toEqual({ budget: 10_000, reserved: 1000, paid: 6000 })
    expect((await call(own, ADMIN_KEY, 'GET', '/v1/policies/MONEY-1')).body).toMatchObject({ version: 1, budget: 10_000 })

    // Lowered, still covering what is committed: published, and nobody waiting is told.
    expect((await releaseOwn('MONEY-1', policyDraft({ budget: 7_000 }))).body).toMatchObject({ version: 2, budget: 7_000 })
    expect(await ledgerOf('MONEY-1', ownDb)).toMatchObject({ budget: 7_000 })
    expect(nudged).toEqual([])

    // Raised: the two cases of this policy that wait for money hear it, no other case.
    expect((await releaseOwn('MONEY-1', policyDraft({ budget: 20_000 }), { 'idempotency-key': 'raise-1' })).body).toMatchObject({ version: 3 })
    expect(nudged.sort()).toEqual(['F-WAITING-1', 'F-WAITING-2'])
    // A retry answered from its Idempotency-Key published nothing, and nudges nobody again.
    expect((await publish('MONEY-1', { 'idempotency-key': 'raise-1' }, own)).body).toMatchObject({ version: 3 })
    expect(nudged).toHaveLength(2)
  })

  it('nudges when the budget becomes unlimited, not when it stays so', async () => {
    nudged.length = 0
    expect((await releaseOwn('MONEY-2', policyDraft({ budget: 500_000 }))).status).toBe(200)
    await storedCase(ownDb, 'F-WAITING-3', 'MONEY-2')
    const { budget: _, ...unlimited } = policyDraft()
    expect((await releaseOwn('MONEY-2', unlimited)).body).toMatchObject({ version: 2, budget: null })
    expect(await ledgerOf('MONEY-2', ownDb)).toMatchObject({ budget: null })
    expect(nudged).toEqual(['F-WAITING-3'])
    expect((await releaseOwn('MONEY-2', unlimited)).body).toMatchObject({ version: 3, budget: null })
    expect(nudged).toEqual(['F-WAITING-3'])
  })

  it('publishes even when some waiting cases could not be told: they retry on their own', async () => {
    untold = 1
    try {
      expect((await releaseOwn('MONEY-3', policyDraft({ budget: 500_000 }))).status).toBe(200)
      await storedCase(ownDb, 'F-WAITING-4', 'MONEY-3')
      expect(await releaseOwn('MONEY-3', policyDraft({ budget: 900_000 }))).toMatchObject({ status: 200, body: { version: 2 } })
    } finally {
      untold = 0
    }
  })

  it('publishes even when Temporal refuses the nudge', async () => {
    // The shared app's gateway refuses every call.
    expect((await release('MONEY-4', policyDraft({ budget: 500_000 }))).status).toBe(200)
    await storedCase(db, 'F-WAITING-5', 'MONEY-4')
    expect(await release('MONEY-4', policyDraft({ budget: 900_000 }))).toMatchObject({ status: 200, body: { version: 2 } })
    expect(await ledgerOf('MONEY-4')).toMatchObject({ budget: 900_000 })
  })
})

describe('the OpenAPI document', () => {
  it('describes every policy route under the policies tag', async () => {
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    const operations = {
      savePolicyDraft: document.paths['/v1/policies/{code}'].put, getPolicy: document.paths['/v1/policies/{code}'].get,
      getPolicyDraft: document.paths['/v1/policies/{code}/draft'].get, reviewPolicy: document.paths['/v1/policies/{code}/review'].post,
      publishPolicy: document.paths['/v1/policies/{code}/publish'].post, listPolicies: document.paths['/v1/policies'].get,
    }
    for (const [operationId, operation] of Object.entries(operations)) {
      expect(operation).toMatchObject({ operationId, tags: ['policies'], summary: expect.any(String) })
    }
    expect(Object.keys(operations.publishPolicy.responses)).toEqual(expect.arrayContaining(['200', '403', '404', '409']))
  })
})
