import type { Client } from '@temporalio/client'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'
import { connectClient, taskQueues } from '../../src/infra/temporal.ts'
import { applicationBody, itemDraft, ITEM_CODE } from '../support/fixtures.ts'
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
const databaseName = `crash_${randomBytes(5).toString('hex')}`
let adminUrl: string
let databaseUrl: string
let dataDir: string
let env: Record<string, string>
let baseUrl: string
let banjian: Banjian | undefined
let client: Client | undefined

interface Banjian {
  child: ChildProcess
  exited: Promise<unknown>
  output: () => string
}

function startBanjian(): Banjian {
  const child = spawn(process.execPath, ['bin/banjian.js', 'start'], { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return { child, exited: new Promise((resolve) => child.once('exit', resolve)), output: () => output }
}

async function waitUntilReady(b: Banjian, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void b.exited.then(() => {
    exited = true
  })
  while (Date.now() < deadline) {
    if (exited) throw new Error(`banjian exited during start-up:\n${b.output()}`)
    try {
      if ((await fetch(`${baseUrl}/readyz`)).status === 200) return
    } catch {
      // not listening yet
    }
    await sleep(250)
  }
  throw new Error(`banjian did not become ready within ${timeoutMs} ms:\n${b.output()}`)
}

async function kill(b: Banjian | undefined): Promise<void> {
  if (!b?.child.pid) return
  try {
    process.kill(-b.child.pid, 'SIGKILL')
  } catch {
    return // gone already
  }
  await b.exited
}

async function http(key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined }
}

async function withAdmin<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return await work(c)
  } finally {
    await c.end()
  }
}

/** Runs `work` over `items` with at most `limit` at a time; stops taking new items once `stop()` is true. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length && !stop()) await work(items[next++]!)
  }))
}

beforeAll(async () => {
  adminUrl = inject('databaseUrl')
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${databaseName}`))
  const url = new URL(adminUrl)
  url.pathname = `/${databaseName}`
  databaseUrl = url.toString()
  dataDir = await mkdtemp(join(tmpdir(), 'banjian-crash-'))
  const port = await freePort()
  baseUrl = `http://127.0.0.1:${port}`
  const inherited = Object.entries(process.env).filter(([k]) => !/^(BANJIAN_|TEMPORAL_|DATABASE_URL$|TEST_DATABASE_URL$|NODE_OPTIONS$|NODE_ENV$|VITEST)/.test(k))
  env = {
    ...Object.fromEntries(inherited.filter((e): e is [string, string] => e[1] !== undefined)),
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
  banjian = startBanjian()
  await waitUntilReady(banjian)
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
  if (adminUrl) await withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`))
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

describe('a process killed mid-burst', () => {
  it('loses no submitted application and duplicates none once started again', async () => {
    for (const [id, kind, parentId] of [['gz', 'government', 'root'], ['gz-center', 'service-center', 'gz'], ['gz-amr', 'department', 'gz']]) {
      expect((await http(ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
    }
    expect((await http(ADMIN_KEY, 'PUT', `/v1/service-items/${ITEM_CODE}`, itemDraft())).status).toBe(200)
    // Reviewed by another key than the one that wrote the draft (rule 40), then published.
    const reviewerKey = (await http(ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz', role: 'supervisor' })).body.key as string
    const review = { approved: true, note: 'reviewed before the burst' }
    expect((await http(reviewerKey, 'POST', `/v1/service-items/${ITEM_CODE}/review`, review)).status).toBe(200)
    expect((await http(ADMIN_KEY, 'POST', `/v1/service-items/${ITEM_CODE}/publish`)).status).toBe(200)
    const windowKey = (await http(ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-center', role: 'window' })).body.key as string

    const submissions = Array.from({ length: TOTAL }, (_, i) => ({
      key: `${prefix}-${i}`,
      body: applicationBody({ applicant: { type: 'person', name: `申请人${i}`, idNumber: `4401061990010${String(i).padStart(5, '0')}` } }),
    }))
    const submit = (s: (typeof submissions)[number]) => http(windowKey, 'POST', '/v1/applications', s.body, { 'idempotency-key': s.key })

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

    banjian = startBanjian()
    await waitUntilReady(banjian)

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
