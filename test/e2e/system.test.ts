import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import { applicationBody, itemDraft, ITEM_CODE } from '../support/fixtures.ts'
import { type Banjian, freshDatabase, kill, liveInGroup, startBanjian, userEnvironment, waitUntilReady } from '../support/processes.ts'
import { freePort } from '../../src/infra/ports.ts'

// The whole system as a user starts it: `node bin/banjian.js start`, its own embedded Temporal dev
// server, a real Postgres database, and nothing but HTTP from here on.

const ADMIN_KEY = `e2e-admin-${randomBytes(8).toString('hex')}`
let database: { url: string; drop(): Promise<void> } | undefined
let dataDir: string
let env: Record<string, string>
/** How long /readyz answers 503 at SIGTERM while the API still serves. */
const SHUTDOWN_GRACE_SECONDS = 2
let baseUrl: string
let temporalPort: number
let workerMetricsUrl: string
let banjian: Banjian | undefined

/**
 * Stops banjian as a user would, so it stops the dev server it started (that one runs in a process
 * group of its own, which killing banjian's group does not reach). If banjian hangs, kills its
 * group and the dev server named in the data directory's pid file.
 */
async function stopBanjian(b: Banjian | undefined): Promise<void> {
  if (!b?.child.pid || b.child.exitCode !== null || b.child.signalCode !== null) return
  b.child.kill('SIGTERM')
  if (await Promise.race([b.exited.then(() => true), sleep(20_000).then(() => false)])) return
  await kill(b)
  const devServerPid = Number(await readFile(join(dataDir, 'temporal.sqlite.pid'), 'utf8').catch(() => ''))
  if (devServerPid > 0) {
    try {
      process.kill(devServerPid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

async function http(key: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  const type = response.headers.get('content-type') ?? ''
  return { status: response.status, type, text, body: type.includes('json') && text ? JSON.parse(text) : undefined }
}


beforeAll(async () => {
  database = await freshDatabase(inject('databaseUrl'), 'e2e')
  dataDir = await mkdtemp(join(tmpdir(), 'banjian-e2e-'))
  temporalPort = await freePort()
  const port = await freePort()
  baseUrl = `http://127.0.0.1:${port}`
  const workerMetricsPort = await freePort()
  workerMetricsUrl = `http://127.0.0.1:${workerMetricsPort}/metrics`
  // Only what a user would set: no TEMPORAL_* (so banjian starts its own dev server), nothing of vitest's.
  env = {
    ...userEnvironment(),
    DATABASE_URL: database.url,
    BANJIAN_DATA_DIR: dataDir,
    BANJIAN_PORT: String(port),
    BANJIAN_TEMPORAL_PORT: String(temporalPort),
    BANJIAN_TEMPORAL_UI_PORT: '0',
    BANJIAN_ADMIN_KEY: ADMIN_KEY,
    BANJIAN_TEMPORAL_CLI: inject('temporalCliPath'),
    BANJIAN_WORKER_METRICS_ADDRESS: `127.0.0.1:${workerMetricsPort}`,
    // Long enough to see readiness go red at SIGTERM while the API still answers.
    BANJIAN_SHUTDOWN_GRACE_SECONDS: String(SHUTDOWN_GRACE_SECONDS),
    LOG_LEVEL: 'info',
  }
  banjian = startBanjian(env)
  await waitUntilReady(banjian, baseUrl)
})

afterAll(async () => {
  await stopBanjian(banjian)
  await database?.drop()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

interface Keys { window: string; department: string; auditor: string }
let keys: Keys
let caseId: string
let pendingId: string
const submissionKey = `window-e2e-${randomBytes(4).toString('hex')}`

describe('banjian started as a user starts it', () => {
  it('answers the operations endpoints: health, readiness, OpenAPI, docs and metrics', async () => {
    expect(await http(undefined, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } })
    expect(await http(undefined, 'GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready', postgres: 'ok', temporal: 'ok' } })

    const openapi = await http(undefined, 'GET', '/openapi.json')
    expect(openapi.status).toBe(200)
    expect(openapi.body.openapi).toMatch(/^3\.1\./)
    expect(openapi.body.info).toMatchObject({ title: 'banjian' })
    expect(openapi.body.paths['/v1/applications']).toHaveProperty('post')
    expect(openapi.body.paths['/v1/cases/{id}/history']).toHaveProperty('get')

    const docs = await http(undefined, 'GET', '/docs')
    expect(docs.status).toBe(200)
    expect(docs.type).toContain('text/html')
    expect(docs.text).toMatch(/swagger/i)

    const unauthenticated = await http(undefined, 'GET', '/v1/cases')
    expect(unauthenticated).toMatchObject({ status: 401, body: { code: 'unauthenticated' } })
    expect(unauthenticated.type).toContain('application/problem+json')

    const metrics = await http(undefined, 'GET', '/metrics')
    expect(metrics.status).toBe(200)
    expect(metrics.type).toContain('text/plain')
    expect(metrics.text).toContain('# TYPE banjian_http_request_duration_seconds histogram')
    expect(metrics.text).toMatch(/banjian_http_request_duration_seconds_bucket\{[^}]*route="\/readyz"/)
  })

  it('takes a case from submission to acceptance over HTTP, with its audit trail', async () => {
    const orgs: Array<[string, string, string]> = [
      ['gz', 'government', 'root'], ['gz-center', 'service-center', 'gz'], ['gz-amr', 'department', 'gz'],
    ]
    for (const [id, kind, parentId] of orgs) {
      expect((await http(ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
    }
    const key = async (organizationId: string, role: string) => {
      const created = await http(ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role })
      expect(created).toMatchObject({ status: 201, body: { organizationId, role } })
      return created.body.key as string
    }
    keys = { window: await key('gz-center', 'window'), department: await key('gz-amr', 'department'), auditor: await key('root', 'auditor') }
    expect((await http(ADMIN_KEY, 'PUT', `/v1/service-items/${ITEM_CODE}`, itemDraft())).status).toBe(200)
    // Reviewed by another key than the one that wrote the draft (rule 40), then published.
    const review = { approved: true, note: 'reviewed end to end' }
    expect((await http(await key('gz', 'supervisor'), 'POST', `/v1/service-items/${ITEM_CODE}/review`, review)).status).toBe(200)
    expect(await http(ADMIN_KEY, 'POST', `/v1/service-items/${ITEM_CODE}/publish`)).toMatchObject({ status: 200, body: { version: 1 } })

    const headers = { 'idempotency-key': submissionKey }
    const submitted = await http(keys.window, 'POST', '/v1/applications', applicationBody(), headers)
    expect(submitted).toMatchObject({ status: 201, body: { kind: 'application', status: 'submitted', version: 1, serviceItemCode: ITEM_CODE } })
    caseId = (submitted.body as CaseView).id
    const retried = await http(keys.window, 'POST', '/v1/applications', applicationBody(), headers)
    expect(retried).toMatchObject({ status: 201, body: { id: caseId } })

    const accepted = await http(keys.department, 'POST', `/v1/cases/${caseId}/actions`, { action: 'accept' })
    expect(accepted).toMatchObject({ status: 200, body: { id: caseId, status: 'accepted', version: 2 } })
    expect(await http(keys.window, 'GET', `/v1/cases/${caseId}`)).toMatchObject({ status: 200, body: { status: 'accepted', version: 2 } })

    const history = await http(keys.auditor, 'GET', `/v1/cases/${caseId}/history`)
    expect(history.status).toBe(200)
    const events = history.body.events as Array<{ seq: number; type: string; hash: string; prevHash: string }>
    expect(events.map((e) => [e.seq, e.type])).toEqual([[1, 'submitted'], [2, 'accepted']])
    expect(events[1]!.prevHash).toBe(events[0]!.hash)
    expect(new Set(events.map((e) => e.hash)).size).toBe(events.length)

    // A second case, left waiting, to act on after the restart.
    const pending = await http(keys.window, 'POST', '/v1/applications', applicationBody(), { 'idempotency-key': `${submissionKey}-2` })
    expect(pending.status).toBe(201)
    pendingId = (pending.body as CaseView).id

    const list = await http(keys.department, 'GET', '/v1/cases?limit=10')
    expect(list.status).toBe(200)
    expect((list.body.items as CaseView[]).map((c) => c.id).sort()).toEqual([caseId, pendingId].sort())
    expect(list.body.nextCursor).toBeNull()
  })

  it('runs a case from submission to delivery and rating, with a hash-chained history and the case as it was at any instant', async () => {
    const submitted = await http(keys.window, 'POST', '/v1/applications', applicationBody(), { 'idempotency-key': `${submissionKey}-full` })
    expect(submitted).toMatchObject({ status: 201, body: { status: 'submitted' } })
    const id = (submitted.body as CaseView).id
    const steps: Array<[string, keyof Keys, Record<string, unknown>, string]> = [
      ['accept', 'department', {}, 'accepted'],
      ['approve', 'department', { note: 'conditions met' }, 'approved'],
      ['issue_result', 'department', { certificateNo: 'GZ-E2E-1' }, 'result_issued'],
      ['deliver', 'window', { method: 'window' }, 'completed'],
      ['rate', 'window', { score: 5 }, 'completed'],
    ]
    // A wall-clock instant after each answer; the pause keeps it apart from the next event's.
    const after: Record<string, string> = {}
    for (const [action, role, params, status] of steps) {
      const answer = await http(keys[role], 'POST', `/v1/cases/${id}/actions`, { action, ...params })
      expect({ action, status: answer.status, caseStatus: answer.body?.status }).toEqual({ action, status: 200, caseStatus: status })
      after[action] = new Date().toISOString()
      await sleep(20)
    }
    expect(await http(keys.auditor, 'GET', `/v1/cases/${id}`)).toMatchObject({
      status: 200,
      body: { status: 'completed', version: 6, result: { certificateNo: 'GZ-E2E-1', method: 'window' }, rating: { score: 5, level: 'very_satisfied' } },
    })

    const history = await http(keys.auditor, 'GET', `/v1/cases/${id}/history`)
    expect(history.status).toBe(200)
    const events = history.body.events as Array<{ seq: number; at: string; type: string; actor: { organizationId: string; role: string }; hash: string; prevHash: string }>
    const window = { organizationId: 'gz-center', role: 'window' }
    const department = { organizationId: 'gz-amr', role: 'department' }
    expect(events.map((e) => ({ seq: e.seq, type: e.type, actor: { organizationId: e.actor.organizationId, role: e.actor.role } }))).toEqual([
      { seq: 1, type: 'submitted', actor: window },
      { seq: 2, type: 'accepted', actor: department },
      { seq: 3, type: 'approved', actor: department },
      { seq: 4, type: 'result_issued', actor: department },
      { seq: 5, type: 'delivered', actor: window },
      { seq: 6, type: 'rated', actor: window },
    ])
    events.forEach((e, i) => {
      expect(e.hash, `hash of event ${e.seq}`).toMatch(/^[0-9a-f]{64}$/)
      if (i > 0) expect(e.prevHash, `prevHash of event ${e.seq}`).toBe(events[i - 1]!.hash)
    })
    expect(new Set(events.map((e) => e.hash)).size).toBe(events.length)

    const at = async (instant: string) => http(keys.auditor, 'GET', `/v1/cases/${id}?at=${encodeURIComponent(instant)}`)
    for (const [action, status, version] of [['accept', 'accepted', 2], ['issue_result', 'result_issued', 4], ['deliver', 'completed', 5]] as const) {
      expect(await at(after[action]!), `the case just after ${action}`).toMatchObject({ status: 200, body: { id, status, version } })
    }
    expect(await at(new Date(Date.parse(events[0]!.at) - 1000).toISOString())).toMatchObject({ status: 404, body: { code: 'not_found' } })
  })

  it('serves the worker\'s own metrics (the SDK\'s Prometheus exporter) where BANJIAN_WORKER_METRICS_ADDRESS says, and per-command latencies', async () => {
    const worker = await fetch(workerMetricsUrl)
    expect(worker.status).toBe(200)
    const text = await worker.text()
    // The cases above ran workflow tasks and local activities (the projection) through this worker.
    expect(text).toMatch(/^temporal_workflow_task_execution_latency_seconds_bucket\{/m)
    expect(text).toMatch(/^temporal_worker_task_slots_available\{/m)
    expect(text).toMatch(/^temporal_local_activity_execution_latency_seconds_count\{activity_type="recordCaseEvents"/m)
    const api = await http(undefined, 'GET', '/metrics')
    expect(api.text).toMatch(/^banjian_command_duration_seconds_count\{command="submit",kind="application",outcome="done"\} [1-9]/m)
    expect(api.text).toMatch(/^banjian_command_duration_seconds_count\{command="accept",kind="application",outcome="done"\} [1-9]/m)
  })

  it('at SIGTERM turns /readyz 503 at once while still serving, then exits 0 within 20 s, leaving no Temporal dev server behind', async () => {
    const b = banjian!
    const pid = b.child.pid!
    expect((await http(undefined, 'GET', '/readyz')).status).toBe(200)
    const started = Date.now()
    b.child.kill('SIGTERM')
    // Out of a load balancer's rotation within the grace; the process still answers meanwhile.
    let ready = await http(undefined, 'GET', '/readyz')
    while (ready.status === 200 && Date.now() - started < 1_000) ready = await http(undefined, 'GET', '/readyz')
    expect(ready).toMatchObject({ status: 503, body: { code: 'not_ready', detail: expect.stringMatching(/shutting down/) } })
    expect(Date.now() - started).toBeLessThan(SHUTDOWN_GRACE_SECONDS * 1000)
    expect((await http(ADMIN_KEY, 'GET', '/v1/organizations')).status).toBe(200)
    const outcome = await Promise.race([b.exited, sleep(25_000).then(() => 'timeout' as const)])
    const tookMs = Date.now() - started
    // Soft, so one run reports every way the shutdown went wrong.
    expect.soft(outcome, `exit after SIGTERM; output:\n${b.output().slice(-4000)}`).toEqual({ code: 0, signal: null })
    expect.soft(tookMs).toBeLessThan(20_000)
    // A process killed at exit takes a moment to disappear; one that keeps running is an orphan.
    // Started detached, so its pid is the group id.
    let left = liveInGroup(pid)
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await sleep(100)
      left = liveInGroup(pid)
    }
    expect.soft(left.join('\n'), 'processes of its group still running').toBe('')
    expect.soft(await portOpen(temporalPort), 'the dev server still listens').toBe(false)
  }, 40_000)

  it('starts again on the same data directory and database: the cases are there and still take actions', async () => {
    // The first start generated the key that seals the cases' payloads in Temporal; this one must reuse it.
    const keyFile = join(dataDir, 'data-keys')
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600)
    const key = await readFile(keyFile, 'utf8')
    banjian = startBanjian(env)
    await waitUntilReady(banjian, baseUrl)
    expect(await readFile(keyFile, 'utf8')).toBe(key)

    expect(await http(keys.window, 'GET', `/v1/cases/${caseId}`)).toMatchObject({ status: 200, body: { status: 'accepted', version: 2 } })
    // The running workflow itself remembers its state: it refuses a second acceptance…
    const again = await http(keys.department, 'POST', `/v1/cases/${caseId}/actions`, { action: 'accept' })
    expect(again).toMatchObject({ status: 409, body: { code: 'invalid_transition' } })
    // …takes the action the waiting case is ready for…
    const accepted = await http(keys.department, 'POST', `/v1/cases/${pendingId}/actions`, { action: 'accept' })
    expect(accepted).toMatchObject({ status: 200, body: { id: pendingId, status: 'accepted', version: 2 } })
    const history = await http(keys.auditor, 'GET', `/v1/cases/${pendingId}/history`)
    const events = history.body.events as Array<{ type: string; hash: string; prevHash: string }>
    expect(events.map((e) => e.type)).toEqual(['submitted', 'accepted'])
    expect(events[1]!.prevHash).toBe(events[0]!.hash)
    // …and a window retrying its submission after the restart still gets the same case.
    const retried = await http(keys.window, 'POST', '/v1/applications', applicationBody(), { 'idempotency-key': submissionKey })
    expect(retried).toMatchObject({ status: 201, body: { id: caseId } })
  }, 120_000)
})
