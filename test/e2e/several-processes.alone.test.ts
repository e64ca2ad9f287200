import type { Client } from '@temporalio/client'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort } from '../../src/infra/ports.ts'
import { connectClient, taskQueues } from '../../src/infra/temporal.ts'
import { applicationBody, itemDraft, ITEM_CODE } from '../support/fixtures.ts'
import { type LoadTarget, publishLoadPolicy, runMixedLoad } from '../support/mixed-load.ts'
import { type Banjian, freshDatabase, http, kill, startBanjian, userEnvironment, waitUntilReady, withAdmin } from '../support/processes.ts'
import { TEST_DATA_KEYS, testDataConverter } from '../support/system.ts'

// Scaling out by configuration (issue 14): two API processes and two workers (`--role api`,
// `--role worker`) started together on the run's Temporal and one fresh database. They serve one
// system; then one API and one worker are stopped (SIGTERM) while every kind of case goes on
// through both APIs in turn (the fault tests' mixed load), each request falling back to the other
// API when its own is gone. Alone: four processes besides the suite would starve the other files of the two cores.

const TOTAL = 30
const STOP_AFTER = 10
const CONCURRENCY = 4
const ADMIN_KEY = `procs-admin-${randomBytes(8).toString('hex')}`
const prefix = `procs${randomBytes(4).toString('hex')}`
let database: { url: string; drop(): Promise<void> } | undefined
let databaseUrl: string
const dataDirs: string[] = []
let client: Client | undefined

interface Api { process: Banjian; url: string }
let apiA: Api
let apiB: Api
let workers: Banjian[] = []

async function start(role: 'api' | 'worker', env: Record<string, string>): Promise<{ process: Banjian; url: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), `banjian-${role}-`))
  dataDirs.push(dataDir)
  const port = await freePort()
  return { process: startBanjian({ ...env, BANJIAN_DATA_DIR: dataDir, BANJIAN_PORT: String(port) }, ['--role', role]), url: `http://127.0.0.1:${port}` }
}

beforeAll(async () => {
  database = await freshDatabase(inject('databaseUrl'), 'procs')
  databaseUrl = database.url
  const env = {
    ...userEnvironment(),
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    BANJIAN_TASK_QUEUE_PREFIX: prefix,
    BANJIAN_ADMIN_KEY: ADMIN_KEY,
    BANJIAN_DATA_KEYS: TEST_DATA_KEYS,
    BANJIAN_SHUTDOWN_GRACE_SECONDS: '1',
    LOG_LEVEL: 'warn',
  }
  client = await connectClient({ address: inject('temporalAddress'), namespace: inject('temporalNamespace') }, testDataConverter)
  // All four at once, on a database none has prepared: they must take turns at the migrations.
  const started = await Promise.all([start('api', env), start('api', env), start('worker', env), start('worker', env)])
  ;[apiA, apiB] = [started[0]!, started[1]!]
  workers = [started[2]!.process, started[3]!.process]
  await Promise.all([waitUntilReady(apiA.process, apiA.url, 150_000), waitUntilReady(apiB.process, apiB.url, 150_000)])
}, 180_000)

afterAll(async () => {
  await Promise.all([apiA?.process, apiB?.process, ...workers].map((b) => kill(b)))
  if (client) {
    for await (const execution of client.workflow.list({ query: `TaskQueue = '${taskQueues(prefix).applications}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow.getHandle(execution.workflowId, execution.runId).terminate('several-processes test done').catch(() => undefined)
    }
    await client.connection.close()
  }
  await database?.drop()
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })))
})

describe('two APIs and two workers on one Temporal and one database', () => {
  it('serve one system, and lose or duplicate nothing when one API and one worker stop mid-load', async () => {
    const call = (api: Api, key: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
      http(api.url, key, method, path, body, headers)
    for (const [id, kind, parentId] of [['gz', 'government', 'root'], ['gz-center', 'service-center', 'gz'], ['gz-amr', 'department', 'gz']]) {
      expect((await call(apiA, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
    }
    expect((await call(apiB, ADMIN_KEY, 'PUT', `/v1/service-items/${ITEM_CODE}`, itemDraft())).status).toBe(200)
    const reviewerKey = (await call(apiA, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz', role: 'supervisor' })).body.key as string
    expect((await call(apiB, reviewerKey, 'POST', `/v1/service-items/${ITEM_CODE}/review`, { approved: true, note: 'ok' })).status).toBe(200)
    expect((await call(apiA, ADMIN_KEY, 'POST', `/v1/service-items/${ITEM_CODE}/publish`)).status).toBe(200)
    const windowKey = (await call(apiB, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-center', role: 'window' })).body.key as string
    const departmentKey = (await call(apiA, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-amr', role: 'department' })).body.key as string

    // One system: submitted through A, accepted through B at once, read back through A.
    const first = await call(apiA, windowKey, 'POST', '/v1/applications', applicationBody(), { 'idempotency-key': `${prefix}-first` })
    expect(first.status).toBe(201)
    expect((await call(apiB, departmentKey, 'POST', `/v1/cases/${first.body.id}/actions`, { action: 'accept' })).body.status).toBe('accepted')
    expect((await call(apiA, departmentKey, 'GET', `/v1/cases/${first.body.id}`)).body).toMatchObject({ status: 'accepted' })

    // The load: every kind (test/support/mixed-load.ts) through both APIs in turn, and one API and one
    // worker stopped (SIGTERM) a quarter of the way in. A request to an API that has gone (refused,
    // cut, or 503 while it stops) is sent again, to the next API that is up.
    for (const [id, kind, parentId] of [['gz-hr', 'department', 'gz']]) {
      expect((await call(apiB, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
    }
    const policyDepartment = (await call(apiB, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-hr', role: 'department' })).body.key as string
    let stopped = false
    let turn = 0
    const target: LoadTarget = {
      apiUrl: () => (stopped || turn++ % 2 === 0 ? apiA.url : apiB.url),
      keys: { admin: ADMIN_KEY, window: windowKey, department: departmentKey, policyDepartment },
    }
    const plan = { tag: prefix.slice(-6), applications: TOTAL, concurrency: CONCURRENCY, beneficiaries: 10, amount: 1_000 }
    const policyCode = await publishLoadPolicy(target, reviewerKey, plan)
    const stopping: Array<Promise<unknown>> = []
    const record = await runMixedLoad(target, {
      ...plan,
      inject: {
        at: STOP_AFTER,
        fault: async () => {
          stopped = true
          apiB.process.child.kill('SIGTERM')
          workers[0]!.child.kill('SIGTERM')
          stopping.push(apiB.process.exited, workers[0]!.exited)
        },
      },
    }, policyCode)
    expect(stopped).toBe(true)
    expect(record.unexpected).toEqual([])
    // Both stopped cleanly: the API after answering what it had, the worker once drained.
    expect(await Promise.all(stopping)).toEqual([{ code: 0, signal: null }, { code: 0, signal: null }])

    // Every case as its client was told, once; the campaign paid once per beneficiary.
    expect(record.told.size).toBe(TOTAL + 2)
    for (const [id, told] of record.told) {
      expect((await call(apiA, ADMIN_KEY, 'GET', `/v1/cases/${id}`)).body, id).toMatchObject({ kind: told.kind, status: told.status })
    }
    const ledger = async () => (await call(apiA, ADMIN_KEY, 'GET', `/v1/policies/${policyCode}/ledger`)).body
    await expect.poll(async () => (await ledger()).payments, { timeout: 120_000, interval: 500 }).toBe(plan.beneficiaries)
    expect(await ledger()).toMatchObject({ paid: plan.beneficiaries * plan.amount, reserved: 0 })
    const counts = await withAdmin(databaseUrl, async (c) => ({
      cases: (await c.query<{ kind: string; n: number }>('SELECT kind, count(*)::int AS n FROM cases GROUP BY kind ORDER BY kind')).rows,
      // Each application submitted once and accepted once (a warning, at some hours of the day, besides).
      events: (await c.query<{ type: string; n: number }>(
        'SELECT type, count(*)::int AS n FROM case_events WHERE type IN (\'submitted\', \'accepted\') AND case_id LIKE \'A%\' GROUP BY type ORDER BY type')).rows,
    }))
    expect(counts).toEqual({
      cases: [{ kind: 'application', n: TOTAL + 1 }, { kind: 'complaint', n: 1 }, { kind: 'escalation', n: 1 }, { kind: 'fulfilment', n: plan.beneficiaries }],
      events: [{ type: 'accepted', n: TOTAL + 1 }, { type: 'submitted', n: TOTAL + 1 }],
    })
    // The API left standing is ready, and the worker left standing runs every case on.
    expect((await fetch(`${apiA.url}/readyz`)).status).toBe(200)
  }, 240_000)
})
