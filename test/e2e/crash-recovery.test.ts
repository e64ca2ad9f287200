import type { Client } from '@temporalio/client'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connectClient, taskQueues } from '../../src/infra/temporal.ts'
import { applicationBody, itemDraft, ITEM_CODE } from '../support/fixtures.ts'
import { type Banjian, freshDatabase, http, kill, pool, startBanjian, userEnvironment, waitUntilReady, withAdmin } from '../support/processes.ts'
import { TEST_DATA_KEYS, testDataConverter } from '../support/system.ts'
import { freePort } from '../../src/infra/ports.ts'

// A window system submits a burst of applications; the banjian process dies (SIGKILL: no chance
// to clean up) part-way; it is started again and the window system resends everything it is not
// sure about. Runs against the run's shared Temporal dev server and a fresh database.

const TOTAL = 40
const KILL_AFTER = 10
const CONCURRENCY = 8
const ADMIN_KEY = `crash-admin-${randomBytes(8).toString('hex')}`
const prefix = `crash${randomBytes(4).toString('hex')}`
let database: { url: string; drop(): Promise<void> } | undefined
let databaseUrl: string
let dataDir: string
let env: Record<string, string>
let baseUrl: string
let banjian: Banjian | undefined
let client: Client | undefined

const call = (key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  http(baseUrl, key, method, path, body, headers)

beforeAll(async () => {
  database = await freshDatabase(inject('databaseUrl'), 'crash')
  databaseUrl = database.url
  dataDir = await mkdtemp(join(tmpdir(), 'banjian-crash-'))
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
  banjian = startBanjian(env)
  await waitUntilReady(banjian, baseUrl)
})

afterAll(async () => {
  await kill(banjian)
  if (client) {
    // Leave the shared dev server as we found it: nothing of ours still running.
    for await (const execution of client.workflow.list({ query: `TaskQueue = '${taskQueues(prefix).applications}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow.getHandle(execution.workflowId, execution.runId).terminate('crash-recovery test done').catch(() => undefined)
    }
    await client.connection.close()
  }
  await database?.drop()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

describe('a process killed mid-burst', () => {
  it('loses no submitted application and duplicates none once started again', async () => {
    for (const [id, kind, parentId] of [['gz', 'government', 'root'], ['gz-center', 'service-center', 'gz'], ['gz-amr', 'department', 'gz']]) {
      expect((await call(ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
    }
    expect((await call(ADMIN_KEY, 'PUT', `/v1/service-items/${ITEM_CODE}`, itemDraft())).status).toBe(200)
    // Reviewed by another key than the one that wrote the draft (rule 40), then published.
    const reviewerKey = (await call(ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz', role: 'supervisor' })).body.key as string
    const review = { approved: true, note: 'reviewed before the burst' }
    expect((await call(reviewerKey, 'POST', `/v1/service-items/${ITEM_CODE}/review`, review)).status).toBe(200)
    expect((await call(ADMIN_KEY, 'POST', `/v1/service-items/${ITEM_CODE}/publish`)).status).toBe(200)
    const windowKey = (await call(ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-center', role: 'window' })).body.key as string

    const submissions = Array.from({ length: TOTAL }, (_, i) => ({
      key: `${prefix}-${i}`,
      body: applicationBody({ applicant: { type: 'person', name: `申请人${i}`, idNumber: `4401061990010${String(i).padStart(5, '0')}` } }),
    }))
    const submit = (s: (typeof submissions)[number]) => call(windowKey, 'POST', '/v1/applications', s.body, { 'idempotency-key': s.key })

    // Burst, then SIGKILL once ten have been answered; requests in flight die with the process.
    const before = new Map<string, { status: number; id?: string }>()
    let created = 0
    let killed = false
    await pool(submissions, CONCURRENCY, async (s) => {
      try {
        const answer = await submit(s)
        before.set(s.key, { status: answer.status, id: answer.body?.id })
        if (answer.status === 201 && ++created >= KILL_AFTER && !killed) {
          killed = true
          banjian!.child.kill('SIGKILL')
        }
      } catch {
        // The connection died with the process: the window system does not know what happened.
      }
    }, () => killed)
    await banjian!.exited
    expect(killed).toBe(true)
    expect([...before.values()].every((a) => a.status === 201), JSON.stringify([...before])).toBe(true)
    expect(before.size).toBeGreaterThanOrEqual(KILL_AFTER)
    expect(before.size).toBeLessThan(TOTAL)

    banjian = startBanjian(env)
    await waitUntilReady(banjian, baseUrl)

    // What a window system does after a failure: resend everything with the same keys and bodies.
    const after = new Map<string, { status: number; id: string }>()
    await pool(submissions, CONCURRENCY, async (s) => {
      // A connection kept alive from before the kill may still fail once; the window system retries.
      const answer = await submit(s).catch(() => submit(s))
      after.set(s.key, { status: answer.status, id: answer.body?.id })
    })
    expect([...after.values()].map((a) => a.status)).toEqual(Array(TOTAL).fill(201))
    const ids = new Set([...after.values()].map((a) => a.id))
    expect(ids.size).toBe(TOTAL)
    for (const [key, answer] of before) expect(after.get(key)?.id, key).toBe(answer.id)

    const { casesCount, submittedEvents } = await withAdmin(databaseUrl, async (c) => ({
      casesCount: (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM cases')).rows[0]!.n,
      submittedEvents: (await c.query<{ case_id: string; n: number }>(
        'SELECT case_id, count(*)::int AS n FROM case_events WHERE type = \'submitted\' GROUP BY case_id')).rows,
    }))
    expect(casesCount).toBe(TOTAL)
    expect(new Set(submittedEvents.map((r) => r.case_id))).toEqual(ids)
    expect(submittedEvents.every((r) => r.n === 1)).toBe(true)

    // One workflow per case, started once (one run) and running.
    const query = `TaskQueue = '${taskQueues(prefix).applications}' AND WorkflowType = 'applicationWorkflow'`
    let runs: Array<{ workflowId: string; status: string }> = []
    for (let attempt = 0; attempt < 40; attempt++) {
      runs = []
      for await (const e of client!.workflow.list({ query })) runs.push({ workflowId: e.workflowId, status: e.status.name })
      if (runs.length >= TOTAL && runs.every((r) => r.status === 'RUNNING')) break
      await sleep(250) // visibility trails the executions a little
    }
    expect(runs.map((r) => r.workflowId).sort()).toEqual([...ids].sort())
    expect(runs.every((r) => r.status === 'RUNNING')).toBe(true)
    const described = await Promise.all([...ids].map((id) => client!.workflow.getHandle(id).describe()))
    expect(described.map((d) => d.status.name)).toEqual(Array(TOTAL).fill('RUNNING'))
  }, 110_000)
})
