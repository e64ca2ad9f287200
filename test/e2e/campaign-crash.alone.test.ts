import type { Client } from '@temporalio/client'
import { temporal } from '@temporalio/proto'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connectClient, taskQueues } from '../../src/infra/temporal.ts'
import { freePort } from '../../src/infra/ports.ts'
import { type Banjian, freshDatabase, http, kill, startBanjian, userEnvironment, withAdmin } from '../support/processes.ts'
import { TEST_DATA_KEYS, testDataConverter } from '../support/system.ts'

// Issue 11's crash test: a 10,000-beneficiary campaign, the worker process killed (SIGKILL) in the
// middle of it and started again. The API and the worker run as separate processes, as a city
// would run them. Afterwards every eligible beneficiary has exactly one case and at most one
// payment, and the sum paid never exceeds the budget. Runs against the run's shared Temporal dev
// server and a database of its own. It loads both cores for minutes, so `npm test` runs it after
// the rest, by itself (`*.alone.test.ts`): beside it, other files' timers and time-skipping waits
// ran out.

const BENEFICIARIES = 10_000
/** Every third beneficiary is eligible: 3,334 cases. */
const eligibleAt = (i: number) => i % 3 === 0
const ELIGIBLE = Math.ceil(BENEFICIARIES / 3)
/** 100 fen each; the budget covers 3,000 of them, so the last ones wait for money. */
const AMOUNT = 100
const BUDGET = 3_000 * AMOUNT
const KILL_WHEN_CREATED = 800
const ADMIN_KEY = `campaign-admin-${randomBytes(8).toString('hex')}`
const prefix = `kamp${randomBytes(4).toString('hex')}`
/**
 * The policy's code, fresh each run: a case's workflow id is derived from the policy and the
 * beneficiary, and the run's other test files share this Temporal namespace (campaigns.test.ts
 * pays enterprises with ids of the same form), so a fixed code would find their cases already
 * started and this database without them.
 */
const POLICY = `WENGANG-${randomBytes(4).toString('hex')}`
let database: { url: string; drop(): Promise<void> } | undefined
let databaseUrl: string
let dataDir: string
let env: Record<string, string>
let baseUrl: string
let api: Banjian | undefined
let worker: Banjian | undefined
let client: Client | undefined

const startAs = (role: 'api' | 'worker') => startBanjian(env, ['--role', role])
const call = (key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  http(baseUrl, key, method, path, body, headers)

async function until<T>(
  what: string, read: () => Promise<T>, holds: (value: T) => boolean, timeoutMs: number, explain?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (holds(value)) return value
    if (Date.now() > deadline) {
      const why = explain ? await explain().catch((err: unknown) => `(could not explain: ${String(err)})`) : ''
      throw new Error(`${what} did not happen in ${timeoutMs} ms: ${JSON.stringify(value)}\n${why}\n${worker?.output() ?? ''}`)
    }
    await sleep(500)
  }
}

/**
 * What the cases that have not settled are doing: for each fulfilment workflow whose case is not
 * paid or waiting for money on the read side, its status, its pending activities with their last
 * failure, and the last events of its history. Printed when the test times out waiting for them.
 */
async function stragglers(): Promise<string> {
  const settled = new Set(await withAdmin(databaseUrl, async (c) => (await c.query(
    'SELECT id FROM cases WHERE kind = \'fulfilment\' AND status IN (\'completed\', \'budget_exhausted\')')).rows.map((r) => r.id as string)))
  const lines: string[] = []
  let workflows = 0
  for await (const e of client!.workflow.list({ query: `TaskQueue = '${taskQueues(prefix).fulfilments}' AND WorkflowType = 'fulfilmentWorkflow'` })) {
    workflows++
    if (settled.has(e.workflowId) || lines.length >= 5) continue
    const handle = client!.workflow.getHandle(e.workflowId, e.runId)
    const described = await handle.describe()
    const pending = (described.raw.pendingActivities ?? []).map((a) => ({
      type: a.activityType?.name, attempt: a.attempt, state: a.state, failure: a.lastFailure?.message,
    }))
    const history = await handle.fetchHistory()
    const tail = (history.events ?? []).slice(-8).map((ev) => temporal.api.enums.v1.EventType[ev.eventType ?? 0])
    lines.push(JSON.stringify({ id: e.workflowId, status: described.status.name, pending, tail }))
  }
  return `${workflows} fulfilment workflows on this run's queue (${ELIGIBLE} expected); unsettled (first 5):\n${lines.join('\n')}`
}

beforeAll(async () => {
  database = await freshDatabase(inject('databaseUrl'), 'campaign')
  databaseUrl = database.url
  dataDir = await mkdtemp(join(tmpdir(), 'banjian-campaign-'))
  const port = await freePort()
  baseUrl = `http://127.0.0.1:${port}`
  env = {
    ...userEnvironment(),
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    BANJIAN_TASK_QUEUE_PREFIX: prefix,
    BANJIAN_DATA_DIR: dataDir,
    BANJIAN_PORT: String(port),
    BANJIAN_ADMIN_KEY: ADMIN_KEY,
    LOG_LEVEL: 'warn',
    BANJIAN_DATA_KEYS: TEST_DATA_KEYS,
  }
  client = await connectClient({ address: inject('temporalAddress'), namespace: inject('temporalNamespace') }, testDataConverter)
  // The API first (it migrates the database), then the worker.
  api = startAs('api')
  await until('the API being ready', async () => fetch(`${baseUrl}/readyz`).then((r) => r.status, () => 0), (s) => s === 200, 90_000)
  worker = startAs('worker')
}, 180_000)

afterAll(async () => {
  await kill(worker)
  await kill(api)
  if (client) {
    for (const queue of [taskQueues(prefix).fulfilments, taskQueues(prefix).campaigns]) {
      for await (const execution of client.workflow.list({ query: `TaskQueue = '${queue}' AND ExecutionStatus = 'Running'` })) {
        await client.workflow.getHandle(execution.workflowId, execution.runId).terminate('campaign crash test done').catch(() => undefined)
      }
    }
    await client.connection.close()
  }
  await database?.drop()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

describe('a worker killed in the middle of a 10,000-beneficiary campaign', () => {
  it('leaves every eligible beneficiary exactly one case and at most one payment, within the budget', async () => {
    for (const [id, kind, parentId] of [['gz', 'government', 'root'], ['gz-hr', 'department', 'gz']]) {
      expect((await call(ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
    }
    const reviewer = (await call(ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz', role: 'supervisor' })).body.key as string
    const hr = (await call(ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-hr', role: 'department' })).body.key as string
    const draft = {
      name: '稳岗补贴', departmentId: 'gz-hr', mode: 'no_application', autoVerify: true, budget: BUDGET,
      eligibility: { '==': [{ var: 'eligible' }, true] }, amount: AMOUNT, payWithin: { workingDays: 10 },
    }
    expect((await call(ADMIN_KEY, 'PUT', `/v1/policies/${POLICY}`, draft)).status).toBe(200)
    expect((await call(reviewer, 'POST', `/v1/policies/${POLICY}/review`, { approved: true, note: 'ok' })).status).toBe(200)
    expect((await call(ADMIN_KEY, 'POST', `/v1/policies/${POLICY}/publish`)).status).toBe(200)

    const lines = Array.from({ length: BENEFICIARIES }, (_, i) => JSON.stringify({
      id: `91440101${String(i).padStart(10, '0')}`, type: 'enterprise', name: `企业${i}`, attributes: { eligible: eligibleAt(i) },
    }))
    const upload = await call(hr, 'POST', `/v1/policies/${POLICY}/campaigns`, `${lines.join('\n')}\n`, { 'content-type': 'application/x-ndjson' })
    expect(upload.status).toBe(202)
    const campaign = `/v1/campaigns/${upload.body.id}`

    // SIGKILL the worker once the campaign is well under way: pages, child starts and payments in flight die with it.
    await until('cases being created', async () => (await call(hr, 'GET', campaign)).body, (p) => p.casesCreated >= KILL_WHEN_CREATED, 300_000)
    await kill(worker)
    const atKill = (await call(hr, 'GET', campaign)).body
    expect(atKill.status).toBe('running')
    worker = startAs('worker')

    const done = await until('the campaign completing', async () => (await call(hr, 'GET', campaign)).body,
      (p) => p.status === 'completed', 600_000)
    expect(done).toMatchObject({ total: BENEFICIARIES, invalid: 0, evaluated: BENEFICIARIES, duplicates: 0, eligible: ELIGIBLE,
      ineligible: BENEFICIARIES - ELIGIBLE, casesCreated: ELIGIBLE })
    // Every case reaches what the budget allows: paid, or waiting for money.
    await until('every case settling', () => withAdmin(databaseUrl, async (c) => (await c.query(
      `SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed, count(*) FILTER (WHERE status = 'budget_exhausted')::int AS waiting,
              count(*)::int AS cases FROM cases WHERE kind = 'fulfilment'`)).rows[0] as { completed: number; waiting: number; cases: number }),
    (n) => n.cases === ELIGIBLE && n.completed + n.waiting === ELIGIBLE, 600_000, stragglers)

    await withAdmin(databaseUrl, async (c) => {
      const one = async <T>(sql: string, params: unknown[] = []) => (await c.query(sql, params)).rows[0] as T
      // Exactly one case per eligible beneficiary: the claims, the read side and the first events agree.
      expect(await one('SELECT count(*)::int AS n, count(DISTINCT beneficiary_id)::int AS beneficiaries FROM fulfilment_claims'))
        .toEqual({ n: ELIGIBLE, beneficiaries: ELIGIBLE })
      expect(await one('SELECT count(*)::int AS n FROM case_events WHERE type = \'notified\'')).toEqual({ n: ELIGIBLE })
      expect(await one('SELECT count(*)::int AS n FROM fulfilment_claims f LEFT JOIN cases c ON c.id = f.case_id WHERE c.id IS NULL'))
        .toEqual({ n: 0 })
      // At most one payment per case, and the sum within the budget, which it exhausts.
      expect(await one('SELECT count(*)::int AS n FROM (SELECT case_id FROM case_events WHERE type = \'paid\' GROUP BY case_id HAVING count(*) > 1) x'))
        .toEqual({ n: 0 })
      const paid = await one<{ n: number; sum: string }>('SELECT count(*)::int AS n, coalesce(sum(amount), 0)::text AS sum FROM payments WHERE status = \'paid\'')
      expect(Number(paid.sum)).toBeLessThanOrEqual(BUDGET)
      expect(Number(paid.sum)).toBe(BUDGET)
      expect(await one('SELECT paid::text, reserved::text, payments FROM policy_ledgers WHERE code = $1', [POLICY]))
        .toEqual({ paid: String(BUDGET), reserved: '0', payments: paid.n })
      expect(await one('SELECT count(*)::int AS n FROM cases WHERE kind = \'fulfilment\' AND status = \'budget_exhausted\''))
        .toEqual({ n: ELIGIBLE - BUDGET / AMOUNT })
    })

    // One workflow per case, however often its start was attempted.
    const ids = new Map<string, number>()
    for await (const e of client!.workflow.list({ query: `TaskQueue = '${taskQueues(prefix).fulfilments}' AND WorkflowType = 'fulfilmentWorkflow'` })) {
      ids.set(e.workflowId, (ids.get(e.workflowId) ?? 0) + 1)
    }
    expect(ids.size).toBe(ELIGIBLE)
    expect([...ids.values()].every((n) => n === 1)).toBe(true)
  }, 1_500_000)
})
