import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/api/app.ts'
import { createCaseGateway } from '../../src/api/case-gateway.ts'
import { latestPolicy, storeCampaign, unfinishedCampaigns } from '../../src/db/campaigns.ts'
import { fulfilmentCaseId } from '../../src/db/claims.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import type { PolicyDraft } from '../../src/domain/policy.ts'
import { auth, call, CASE_ATTRIBUTES, type Directory, localActivityTypes, publishPolicy as publishOn, searchAttributeWrites, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'
import { shanghaiYear } from '../support/test-epoch.ts'
import { campaignWorkflowId } from '../../src/workflows/fulfilment/contract.ts'
import type { campaignWorkflow } from '../../src/workflows/fulfilment/campaign.ts'

// Campaigns and applications under policies, through HTTP on the real dev server and Postgres
// (API.md "Policy fulfilment", DOMAIN rules 23–25).

let sys: TestSystem
let dir: Directory
let hrKey: string

beforeAll(async () => {
  sys = await startTestSystem({ calendarPublishedThrough: shanghaiYear(Date.now()) + 2 })
  dir = await seedDirectory(sys.app)
  hrKey = dir.otherDepartmentKey
})
afterAll(async () => sys?.stop())

const DRAFT: PolicyDraft = {
  name: '稳岗补贴', departmentId: 'gz-hr', mode: 'no_application', autoVerify: true,
  eligibility: { '>=': [{ var: 'employees' }, 10] },
  amount: { '*': [{ var: 'employees' }, 100] },
  payWithin: { workingDays: 10 },
}

const publishPolicy = (code: string, overrides: Partial<PolicyDraft> = {}) => publishOn(sys.app, code, { ...DRAFT, ...overrides })

const enterprise = (n: number, employees: number) =>
  ({ id: `9144010100000${String(n).padStart(5, '0')}`, type: 'enterprise', name: `企业${n}`, attributes: { employees } })

async function upload(code: string, body: string, type = 'application/x-ndjson', key = hrKey, headers: Record<string, string> = {}) {
  const response = await sys.app.inject({
    method: 'POST', url: `/v1/policies/${code}/campaigns`, payload: body, headers: { ...auth(key), 'content-type': type, ...headers },
  })
  return { status: response.statusCode, body: response.json() as { id: string; code?: string } }
}

interface Progress {
  status: string; total: number; invalid: number; evaluated: number; duplicates: number; eligible: number; ineligible: number
  casesCreated: number; paid: number; budgetLeft: number | null; errors: Array<{ line: number; message: string }>
}
async function completed(id: string, until = (p: Progress) => p.status === 'completed'): Promise<Progress> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const r = await call(sys.app, dir.supervisorKey, 'GET', `/v1/campaigns/${id}`)
    expect(r.status).toBe(200)
    const progress = r.body as Progress
    if (until(progress)) return progress
    if (Date.now() > deadline) throw new Error(`campaign ${id} did not finish: ${JSON.stringify(progress)}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
async function caseWhen(id: string, holds: (view: CaseView) => boolean): Promise<CaseView> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const view = (await call(sys.app, hrKey, 'GET', `/v1/cases/${id}`)).body as CaseView
    if (holds(view)) return view
    if (Date.now() > deadline) throw new Error(`case ${id} never reached the state awaited: ${JSON.stringify(view)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
const countRows = async (table: string) => Number((await sys.db.database.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)

describe('a campaign (免申即享)', () => {
  it('evaluates every line, counts the invalid ones with their line numbers, and opens one case per eligible beneficiary', async () => {
    await publishPolicy('WENGANG')
    const lines = [
      ...Array.from({ length: 12 }, (_, i) => JSON.stringify(enterprise(i, i < 9 ? 20 : 3))),
      '{"id": "broken"',
      JSON.stringify({ type: 'enterprise', name: '无编号', attributes: {} }),
      '',
      JSON.stringify(enterprise(0, 20)),
      JSON.stringify({ ...enterprise(99, 20), type: 'robot' }),
    ]
    const started = await upload('WENGANG', `${lines.join('\n')}\n`)
    expect(started.status).toBe(202)
    const progress = await completed(started.body.id, (p) => p.status === 'completed' && p.paid === 9)
    expect(progress).toMatchObject({
      total: 17, invalid: 4, evaluated: 13, duplicates: 1, eligible: 9, ineligible: 3, casesCreated: 9, paid: 9, budgetLeft: null,
    })
    expect(progress.errors.map((e) => e.line)).toEqual([13, 14, 15, 17])
    expect(progress.errors[1]!.message).toBe('the beneficiary has no id')
    const cases = await call(sys.app, dir.auditorKey, 'GET', '/v1/cases?kind=fulfilment&limit=200')
    const ids = (cases.body as { items: CaseView[] }).items.filter((c) => c.policyCode === 'WENGANG').map((c) => c.id).sort()
    expect(ids).toEqual(Array.from({ length: 9 }, (_, i) => fulfilmentCaseId(sys.db.database.personal, 'WENGANG', enterprise(i, 0).id)).sort())
    // The payment is in the ledger before the case records it: wait for the case's own event.
    const one = await caseWhen(ids[0]!, (c) => c.status === 'completed')
    expect(one).toMatchObject({ kind: 'fulfilment', amount: 2000, payment: { status: 'paid' } })
    // The campaign on a queue of its own, its cases on theirs: a page's thousand new cases never queue ahead of the next page.
    expect((await sys.client.workflow.getHandle(campaignWorkflowId(started.body.id)).describe()).taskQueue).toBe(sys.queues.campaigns)
    for (const id of ids) expect((await sys.client.workflow.getHandle(id).describe()).taskQueue).toBe(sys.queues.fulfilments)
    // Each case reserved its payment by local activity, in the workflow task that needed it: the
    // payment is the one activity task it sent through the server.
    const events = (await sys.client.workflow.getHandle(ids[0]!).fetchHistory()).events ?? []
    expect(events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).toEqual(['payOut'])
    const ranLocally = localActivityTypes(events)
    expect(ranLocally).toContain('reservePayment')
    // Started with its search attributes (notified, by the policy's department): whatever it
    // upserts as it is verified and paid, never its kind or organisation.
    const writes = searchAttributeWrites(events)
    expect(writes.started).toEqual(CASE_ATTRIBUTES)
    expect(writes.upserts.flat()).not.toContain('BanjianCaseKind')
    expect(writes.upserts.flat()).not.toContain('BanjianHandlingOrg')
  })

  it('one started before campaigns had a queue of their own starts its cases on its own queue, as it did', async () => {
    await publishPolicy('BEFORE')
    const policy = (await latestPolicy(sys.db.database.pool, 'BEFORE'))!
    const actor = { organizationId: 'gz-hr', role: 'department' as const, keyId: 'uploader' }
    async function* lines() {
      for (let n = 0; n < 2; n++) yield { line: n + 1, value: enterprise(40 + n, 20) }
    }
    const stored = await storeCampaign(sys.db.database.pool, sys.db.database.personal, { id: `K-before-${Date.now()}`, policy, actor, entries: lines() })
    if (!('id' in stored)) throw new Error('not stored')
    // Its input as the API wrote it then: on the cases' queue, no casesQueue.
    await sys.client.workflow.execute<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(stored.id), taskQueue: sys.queues.fulfilments, args: [{ campaignId: stored.id, actor, afterLine: 0 }],
    })
    expect(await completed(stored.id)).toMatchObject({ total: 2, eligible: 2, casesCreated: 2 })
    for (const n of [40, 41]) {
      const caseId = fulfilmentCaseId(sys.db.database.personal, 'BEFORE', enterprise(n, 0).id)
      expect((await sys.client.workflow.getHandle(caseId).describe()).taskQueue).toBe(sys.queues.fulfilments)
    }
  })

  it('a rerun, or a line seen again, opens no second case', async () => {
    await publishPolicy('RERUN')
    const body = `${[enterprise(1, 20), enterprise(2, 20), enterprise(1, 20)].map((b) => JSON.stringify(b)).join('\n')}\n`
    const first = await completed((await upload('RERUN', body)).body.id)
    expect(first).toMatchObject({ total: 3, evaluated: 3, duplicates: 1, eligible: 2, casesCreated: 2 })
    // A case counts as created once its workflow has started; its first event reaches the read side just after.
    await expect.poll(() => countRows("cases WHERE view->>'policyCode' = 'RERUN'"), { timeout: 30_000 }).toBe(2)
    const second = await completed((await upload('RERUN', body)).body.id)
    expect(second).toMatchObject({ total: 3, evaluated: 3, duplicates: 3, eligible: 0, ineligible: 0, casesCreated: 0 })
    expect(await countRows("cases WHERE view->>'policyCode' = 'RERUN'")).toBe(2)
  })

  it('counts lines with text Postgres cannot store as invalid, and keeps their reasons storable', async () => {
    await publishPolicy('UNSAFE')
    const lines = [
      JSON.stringify({ ...enterprise(1, 20), name: 'a\u0000b' }),
      JSON.stringify({ ...enterprise(2, 20), attributes: { 'bad\u0000key': 1 } }),
      '{"id": "\u0000", "oops',
      JSON.stringify({ ...enterprise(3, 20), name: 'x\ud800' }),
      JSON.stringify(enterprise(4, 20)),
    ]
    const started = await upload('UNSAFE', `${lines.join('\n')}\n`)
    expect(started.status).toBe(202)
    const progress = await completed(started.body.id)
    expect(progress).toMatchObject({ total: 5, invalid: 4, eligible: 1 })
    expect(progress.errors.map((e) => e.line)).toEqual([1, 2, 3, 4])
    expect(progress.errors[0]!.message).toBe('/name must not contain U+0000 or an unpaired UTF-16 surrogate')
    for (const { message } of progress.errors) expect(message.includes('\u0000')).toBe(false)
  })

  it('takes a JSON list too; a body that is not JSON is refused and leaves nothing behind', async () => {
    await publishPolicy('LIST')
    const listed = await upload('LIST', JSON.stringify({ beneficiaries: [enterprise(5, 20), { name: 'no id' }] }), 'application/json')
    expect(listed.status).toBe(202)
    expect(await completed(listed.body.id)).toMatchObject({ total: 2, invalid: 1, eligible: 1 })
    const before = await countRows('campaigns')
    const linesBefore = await countRows('campaign_lines')
    const broken = await upload('LIST', `{"beneficiaries": [${JSON.stringify(enterprise(6, 20))}, {`, 'application/json')
    expect(broken.status).toBe(400)
    expect(broken.body.code).toBe('validation_failed')
    expect(await countRows('campaigns')).toBe(before)
    expect(await countRows('campaign_lines')).toBe(linesBefore)
  })

  it('an Idempotency-Key retry finds the first campaign; another body under it is a conflict', async () => {
    await publishPolicy('IDEM')
    const body = `${JSON.stringify(enterprise(7, 20))}\n`
    const first = await upload('IDEM', body, undefined, hrKey, { 'idempotency-key': 'upload-1' })
    const again = await upload('IDEM', body, undefined, hrKey, { 'idempotency-key': 'upload-1' })
    expect(again).toEqual(first)
    expect((await upload('IDEM', `${JSON.stringify(enterprise(8, 20))}\n`, undefined, hrKey, { 'idempotency-key': 'upload-1' })).body.code)
      .toBe('idempotency_conflict')
    expect(await countRows("campaigns WHERE policy_code = 'IDEM'")).toBe(1)
  })

  it('one whose workflow never started, or was terminated, is taken up by the next API process to start', async () => {
    await publishPolicy('RESUME')
    const policy = (await latestPolicy(sys.db.database.pool, 'RESUME'))!
    const actor = { organizationId: 'gz-hr', role: 'department' as const, keyId: 'uploader' }
    // Stored (as the route does before its 202) by an API that stopped before starting the workflow…
    async function* lines(from: number) {
      for (let n = 0; n < 3; n++) yield { line: n + 1, value: enterprise(from + n, 20) }
    }
    const stranded = await storeCampaign(sys.db.database.pool, sys.db.database.personal, { id: `K-stranded-${Date.now()}`, policy, actor, entries: lines(20) })
    // …and one whose workflow was terminated before it did anything (it ran where no worker polls).
    const stopped = await storeCampaign(sys.db.database.pool, sys.db.database.personal, { id: `K-stopped-${Date.now()}`, policy, actor, entries: lines(30) })
    if (!('id' in stranded) || !('id' in stopped)) throw new Error('not stored')
    const handle = await sys.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId(stopped.id), taskQueue: `${sys.queues.fulfilments}-nobody`, args: [{ campaignId: stopped.id, actor, afterLine: 0 }],
    })
    await handle.terminate('the test stops it')

    const restarted = await buildApp({ database: sys.db.database, gateway: createCaseGateway(sys.client, sys.queues) })
    await restarted.ready()
    await restarted.close()
    for (const id of [stranded.id, stopped.id]) {
      expect(await completed(id)).toMatchObject({ total: 3, evaluated: 3, eligible: 3, casesCreated: 3 })
    }
    // The uploader is the actor of every case the campaign opened, however it was resumed.
    const notified = async () => (await sys.db.database.pool.query(
      `SELECT e.actor FROM case_events e JOIN fulfilment_claims f ON f.case_id = e.case_id
        WHERE f.campaign_id = ANY($1) AND e.type = 'notified'`, [[stranded.id, stopped.id]])).rows.map((r) => r.actor)
    await expect.poll(async () => (await notified()).length, { timeout: 30_000 }).toBe(6)
    expect(await notified()).toEqual(Array.from({ length: 6 }, () => actor))
    // Finished campaigns are left alone by the next start.
    expect((await unfinishedCampaigns(sys.db.database.pool)).filter((c) => c.id === stranded.id || c.id === stopped.id)).toEqual([])
  })

  it('only the policy\'s department or an administrator starts one, under a published campaign-mode policy', async () => {
    await publishPolicy('OWNED')
    expect((await upload('OWNED', '{}\n', 'application/x-ndjson', dir.departmentKey)).status).toBe(403)
    expect((await upload('OWNED', '{}\n', 'application/x-ndjson', dir.windowKey)).status).toBe(403)
    expect((await upload('NOPE', '{}\n')).status).toBe(422)
    const bodiless = await sys.app.inject({ method: 'POST', url: '/v1/policies/OWNED/campaigns', headers: auth(hrKey) })
    expect(bodiless.statusCode).toBe(400)
    expect(bodiless.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'body' }] })
    await publishPolicy('APPLYONLY', { mode: 'application' })
    expect((await upload('APPLYONLY', '{}\n')).status).toBe(422)
    expect((await call(sys.app, dir.departmentKey, 'GET', `/v1/campaigns/${(await upload('OWNED', '{}\n')).body.id}`)).status).toBe(403)
  })
})

describe('a confirm-mode case at the counter', () => {
  it('rule 38: is found by a comprehensive window by the beneficiary\'s identity number and confirmed on their behalf, and only so', async () => {
    await publishPolicy('ELDERLY', { mode: 'confirm', confirmWithin: { workingDays: 5 }, autoVerify: true, eligibility: { '>=': [{ var: 'age' }, 80] }, amount: 500 })
    const idNumber = '440106194001011234'
    const started = await upload('ELDERLY', `${JSON.stringify({ id: idNumber, type: 'person', name: '周老', attributes: { age: 86 } })}\n`)
    await completed(started.body.id)
    const ids = async (key: string, query: string) => ((await call(sys.app, key, 'GET', `/v1/cases?${query}`)).body.items as CaseView[]).map((c) => c.id)
    await expect.poll(() => ids(dir.windowKey, `applicantIdNumber=${idNumber}`), { timeout: 30_000 }).toHaveLength(1)
    const [caseId] = await ids(dir.windowKey, `applicantIdNumber=${idNumber}`)
    // Not in a window's list of everyone's cases: only when the beneficiary's number is named.
    expect(await ids(ADMIN_KEY, 'kind=fulfilment&limit=200')).toContain(caseId)
    expect(await ids(dir.windowKey, 'kind=fulfilment&limit=200')).not.toContain(caseId)
    // A window that is no comprehensive window (a department's own) neither finds it nor acts on it.
    const deskKey = (await call(sys.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-amr', role: 'window' })).body.key as string
    expect(await ids(deskKey, `applicantIdNumber=${idNumber}`)).toEqual([])
    expect((await call(sys.app, deskKey, 'POST', `/v1/cases/${caseId}/actions`, { action: 'confirm', account: '6222-1111' })).status).toBe(404)
    const confirmed = await call(sys.app, dir.windowKey, 'POST', `/v1/cases/${caseId}/actions`, { action: 'confirm', account: '6222-1111' })
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200)
    expect((await caseWhen(caseId!, (c) => c.status === 'completed'))).toMatchObject({ payment: { status: 'paid' } })
  })
})

describe('an application under an application-mode policy', () => {
  it('is submitted by a window, once per beneficiary; an ineligible one is refused', async () => {
    await publishPolicy('HOUSING', { mode: 'application', autoVerify: false })
    const beneficiary = { id: '440106199001011234', type: 'person', name: '张三', attributes: { employees: 12 } }
    const applied = await call(sys.app, dir.windowKey, 'POST', '/v1/fulfilments', { policyCode: 'HOUSING', beneficiary })
    expect(applied.status).toBe(201)
    expect(applied.body).toMatchObject({ id: fulfilmentCaseId(sys.db.database.personal, 'HOUSING', beneficiary.id), kind: 'fulfilment', status: 'submitted', amount: 1200 })
    const again = await call(sys.app, dir.windowKey, 'POST', '/v1/fulfilments', { policyCode: 'HOUSING', beneficiary })
    expect(again).toMatchObject({ status: 409, body: { code: 'conflict' } })
    const ineligible = await call(sys.app, dir.windowKey, 'POST', '/v1/fulfilments',
      { policyCode: 'HOUSING', beneficiary: { ...beneficiary, id: '440106199001011235', attributes: { employees: 1 } } })
    expect(ineligible).toMatchObject({ status: 422, body: { code: 'unprocessable' } })
    expect((await call(sys.app, dir.windowKey, 'POST', '/v1/fulfilments', { policyCode: 'WENGANG', beneficiary })).status).toBe(422)
    const verified = await call(sys.app, hrKey, 'POST', `/v1/cases/${(applied.body as CaseView).id}/actions`, { action: 'verify' })
    expect(verified.body).toMatchObject({ status: 'verified' })
  })
})
