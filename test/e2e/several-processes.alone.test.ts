import type { Client } from '@temporalio/client'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort } from '../../src/infra/ports.ts'
import { connectClient, taskQueues } from '../../src/infra/temporal.ts'
import { applicationBody, itemDraft, ITEM_CODE } from '../support/fixtures.ts'
import { type Banjian, freshDatabase, http, kill, pool, startBanjian, userEnvironment, waitUntilReady, withAdmin } from '../support/processes.ts'
import { TEST_DATA_KEYS, testDataConverter } from '../support/system.ts'

// Scaling out by configuration (issue 14): two API processes and two workers (`--role api`,
// `--role worker`) started together on the run's Temporal and one fresh database. They serve one
// system; then one API and one worker are stopped (SIGTERM) while a window system keeps
// submitting and a department keeps accepting, each falling back to the other API when theirs
// is gone. Alone: four processes besides the suite would starve the other files of the two cores.

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

    // The load: each application submitted through one API and accepted through the other. A
    // request to an API that has gone (refused, or cut) is sent again to A with the same key; an
    // accept whose answer was lost is found done (409, and the case accepted).
    let stopped = false
    const alive = (api: Api) => api === apiA || !stopped
    const send = async (preferred: Api, request: (api: Api) => Promise<{ status: number; body: any }>) => {
      if (alive(preferred)) {
        try {
          const answer = await request(preferred)
          if (answer.status !== 503) return answer
        } catch {
          // gone: the connection was refused or cut
        }
      }
      return request(apiA)
    }
    const outcomes = new Map<number, { id: string; accepted: boolean }>()
    let answered = 0
    const stopping: Array<Promise<unknown>> = []
    await pool([...Array(TOTAL).keys()], CONCURRENCY, async (i) => {
      const [submitVia, acceptVia] = i % 2 === 0 ? [apiA, apiB] : [apiB, apiA]
      const body = applicationBody({ applicant: { type: 'person', name: `申请人${i}`, idNumber: `4401061990020${String(i).padStart(5, '0')}` } })
      const submitted = await send(submitVia, (api) => call(api, windowKey, 'POST', '/v1/applications', body, { 'idempotency-key': `${prefix}-${i}` }))
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(201)
      const accepted = await send(acceptVia, (api) => call(api, departmentKey, 'POST', `/v1/cases/${submitted.body.id}/actions`, { action: 'accept' }))
      expect([200, 409], JSON.stringify(accepted.body)).toContain(accepted.status)
      outcomes.set(i, { id: submitted.body.id, accepted: accepted.status === 200 })
      if (++answered === STOP_AFTER && !stopped) {
        stopped = true
        apiB.process.child.kill('SIGTERM')
        workers[0]!.child.kill('SIGTERM')
        stopping.push(apiB.process.exited, workers[0]!.exited)
      }
    })
    expect(stopped).toBe(true)
    // Both stopped cleanly: the API after answering what it had, the worker once drained.
    expect(await Promise.all(stopping)).toEqual([{ code: 0, signal: null }, { code: 0, signal: null }])

    const ids = [...outcomes.values()].map((o) => o.id)
    expect(new Set(ids).size).toBe(TOTAL)
    for (const id of ids) {
      expect((await call(apiA, departmentKey, 'GET', `/v1/cases/${id}`)).body, id).toMatchObject({ status: 'accepted' })
    }
    const counts = await withAdmin(databaseUrl, async (c) => ({
      cases: (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM cases')).rows[0]!.n,
      // Each case submitted once and accepted once (a warning, at some hours of the day, besides).
      events: (await c.query<{ type: string; n: number }>(
        'SELECT type, count(*)::int AS n FROM case_events WHERE type IN (\'submitted\', \'accepted\') GROUP BY type ORDER BY type')).rows,
    }))
    expect(counts).toEqual({ cases: TOTAL + 1, events: [{ type: 'accepted', n: TOTAL + 1 }, { type: 'submitted', n: TOTAL + 1 }] })
    // The API left standing is ready, and the worker left standing runs every case on.
    expect((await fetch(`${apiA.url}/readyz`)).status).toBe(200)
  }, 240_000)
})
