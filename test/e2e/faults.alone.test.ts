import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type DevServer, startDevServer } from '../../src/infra/dev-server.ts'
import { type EmbeddedPg, startEmbeddedPg } from '../../src/infra/embedded-pg.ts'
import { freePort } from '../../src/infra/ports.ts'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'
import { applicationBody, itemDraft, ITEM_CODE } from '../support/fixtures.ts'
import { type LoadPlan, type LoadRecord, type LoadTarget, publishLoadPolicy, runMixedLoad } from '../support/mixed-load.ts'
import { type Banjian, http, kill, startBanjian, userEnvironment, waitUntilReady, withAdmin } from '../support/processes.ts'
import { TEST_DATA_KEYS } from '../support/system.ts'

// Issue 14, "Faults, as end-to-end tests with figures": banjian as a city runs it, an API process
// and a worker process (`--role api`, `--role worker`), on a Postgres and a file-backed Temporal dev
// server of this file's own, so that each can be broken. Each test runs the mixed load
// (test/support/mixed-load.ts), breaks one thing in the middle of it, waits until the system has
// recovered, and holds every case to what the clients were told: nothing lost, nothing twice, every
// chain whole, every payment owed made once, every projection what its workflow says. The figures
// are printed; `banjian audit verify` passes after each. Alone: three servers and two processes.

const execute = promisify(execFile)
const ADMIN_KEY = `faults-admin-${randomBytes(8).toString('hex')}`
const NAMESPACE = 'faults'
const PLAN = { applications: 16, concurrency: 4, beneficiaries: 12, amount: 5_000 }

let scratch: string
let postgres: EmbeddedPg
let pgOptions: Parameters<typeof startEmbeddedPg>[0]
let temporal: DevServer
let temporalOptions: Parameters<typeof startDevServer>[0]
let env: Record<string, string>
let api: { process: Banjian; url: string; port: number }
let worker: Banjian
let keys: LoadTarget['keys']
let reviewer: string
let treasury: FakeTreasury

/**
 * The city treasury the worker pays through (BANJIAN_TREASURY_URL), as a real one behaves: it
 * honours Idempotency-Key (a key paid once is answered with the same reference, never paid again).
 * `ok` pays at once; `slow` pays, but answers after the adapter has stopped waiting (10 s); `fail`
 * answers 500 and pays nothing.
 */
interface FakeTreasury {
  url: string
  mode: 'ok' | 'slow' | 'fail'
  /** Payments made: idempotency key → reference. */
  paid: Map<string, string>
  requests: number
  server: Server
}

async function startTreasury(): Promise<FakeTreasury> {
  const fake: FakeTreasury = { url: '', mode: 'ok', paid: new Map(), requests: 0, server: createServer() }
  fake.server.on('request', (request, response) => {
    request.resume()
    request.on('end', () => {
      fake.requests++
      const key = String(request.headers['idempotency-key'])
      if (fake.mode === 'fail') return void response.writeHead(500).end('treasury down')
      if (!fake.paid.has(key)) fake.paid.set(key, `T-${fake.paid.size + 1}`)
      const answer = () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ reference: fake.paid.get(key) }))
      if (fake.mode === 'slow') setTimeout(answer, 12_000).unref()
      else answer()
    })
  })
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve))
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`
  return fake
}

const startApi = async (port: number) => {
  const process = startBanjian({ ...env, BANJIAN_PORT: String(port), BANJIAN_DATA_DIR: join(scratch, `api-${port}`) }, ['--role', 'api'])
  const url = `http://127.0.0.1:${port}`
  await waitUntilReady(process, url, 120_000)
  return { process, url, port }
}
const startWorker = async () => startBanjian({ ...env, BANJIAN_PORT: String(await freePort()), BANJIAN_DATA_DIR: join(scratch, 'worker') }, ['--role', 'worker'])
const call = (key: string, method: string, path: string, body?: unknown) => http(api.url, key, method, path, body)

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'banjian-faults-'))
  pgOptions = { dataDir: join(scratch, 'postgres'), port: await freePort(), database: 'faults' }
  temporalOptions = {
    cliPath: inject('temporalCliPath'), dbFilename: join(scratch, 'temporal.db'), port: await freePort(), uiPort: 0, namespace: NAMESPACE, retentionDays: 1,
  }
  ;[postgres, temporal, treasury] = await Promise.all([startEmbeddedPg(pgOptions), startDevServer(temporalOptions), startTreasury()])
  env = {
    ...userEnvironment(),
    DATABASE_URL: postgres.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    BANJIAN_ADMIN_KEY: ADMIN_KEY,
    BANJIAN_DATA_KEYS: TEST_DATA_KEYS,
    BANJIAN_SHUTDOWN_GRACE_SECONDS: '0',
    BANJIAN_RATE_LIMIT_PER_MINUTE: '0',
    BANJIAN_TREASURY_URL: treasury.url,
    LOG_LEVEL: 'warn',
  }
  api = await startApi(await freePort())
  worker = await startWorker()

  for (const [id, kind, parentId] of [['gz', 'government', 'root'], ['gz-center', 'service-center', 'gz'], ['gz-amr', 'department', 'gz'], ['gz-hr', 'department', 'gz']]) {
    expect((await call(ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
  }
  const key = async (organizationId: string, role: string) => (await call(ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role })).body.key as string
  reviewer = await key('gz', 'supervisor')
  expect((await call(ADMIN_KEY, 'PUT', `/v1/service-items/${ITEM_CODE}`, itemDraft())).status).toBe(200)
  expect((await call(reviewer, 'POST', `/v1/service-items/${ITEM_CODE}/review`, { approved: true, note: 'fault drill' })).status).toBe(200)
  expect((await call(ADMIN_KEY, 'POST', `/v1/service-items/${ITEM_CODE}/publish`)).status).toBe(200)
  keys = { admin: ADMIN_KEY, window: await key('gz-center', 'window'), department: await key('gz-amr', 'department'), policyDepartment: await key('gz-hr', 'department') }
}, 240_000)

afterAll(async () => {
  await Promise.all([kill(api?.process), kill(worker)])
  await temporal?.stop()
  await postgres?.stop()
  treasury?.server.closeAllConnections()
  treasury?.server.close()
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

/** What each fault test prints, and holds to zero but for the counts and the time. */
interface Figures {
  acknowledged: number
  retried: number
  unexpected: number
  found: number
  lost: number
  duplicated: number
  brokenChains: number
  paymentsMade: number
  paymentsOwed: number
  projectionsDiffering: number
  /** `banjian audit verify` exited 0: histories replay, chains hold, projections match. */
  auditPassed: boolean
  recoverySeconds: number
}

/**
 * The load with `fault` injected after a quarter of the applications. `fault` breaks something and
 * mends it, and returns when it has; the system counts as recovered once a new application can be
 * submitted and accepted again, timed from the start of the fault.
 */
async function drill(name: string, fault: () => Promise<void>): Promise<Figures> {
  const tag = randomBytes(3).toString('hex')
  const target: LoadTarget = { apiUrl: () => api.url, keys }
  const policyCode = await publishLoadPolicy(target, reviewer, { tag, ...PLAN })
  let recoverySeconds = Number.NaN
  const plan: LoadPlan = {
    tag, ...PLAN,
    inject: {
      at: Math.ceil(PLAN.applications / 4),
      fault: async () => {
        const began = performance.now()
        await fault()
        await writable(tag)
        recoverySeconds = (performance.now() - began) / 1000
      },
    },
  }
  const record = await runMixedLoad(target, plan, policyCode).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${outputs()}`)
  })
  const figures = await hold(record, tag, recoverySeconds)
  console.log([
    `fault: ${name}`,
    `  requests acknowledged: ${figures.acknowledged} (${figures.retried} unanswered attempts sent again; ${figures.unexpected} unexpected answers)`,
    `  cases: ${figures.found} found, ${figures.lost} lost, ${figures.duplicated} duplicated`,
    `  events with a broken chain: ${figures.brokenChains}`,
    `  payments: ${figures.paymentsMade} made, ${figures.paymentsOwed} owed`,
    `  projections that differ from their workflow: ${figures.projectionsDiffering}; banjian audit verify ${figures.auditPassed ? 'passed' : 'FAILED'}`,
    `  time to recover: ${figures.recoverySeconds.toFixed(1)} s`,
  ].join('\n'))
  if (record.unexpected.length > 0) console.log(record.unexpected.join('\n'))
  return figures
}

/** What the API and the worker last wrote, for a failure to show. */
const outputs = () => `--- API:\n${api.process.output().slice(-6_000)}\n--- worker:\n${worker.output().slice(-6_000)}`

/** Until an application can be submitted and accepted: the whole write path (API, Temporal, worker, Postgres) works. */
async function writable(tag: string): Promise<void> {
  const deadline = Date.now() + 180_000
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    try {
      const body = applicationBody({ applicant: { type: 'person', name: `${tag}-probe${attempt}`, idNumber: `440106199${tag}${attempt}` } })
      const submitted = await http(api.url, keys.window, 'POST', '/v1/applications', body, { 'idempotency-key': `${tag}-probe-${attempt}` })
      if (submitted.status === 201) {
        const accepted = await http(api.url, keys.department, 'POST', `/v1/cases/${submitted.body.id}/actions`, { action: 'accept' })
        if (accepted.status === 200) return
      }
    } catch {
      // not there yet
    }
    await sleep(500)
  }
  throw new Error(`the system did not recover within 180 s\n${outputs()}`)
}

/** Every case against what the clients were told, the campaign's payments, and `banjian audit verify`. */
async function hold(record: LoadRecord, tag: string, recoverySeconds: number): Promise<Figures> {
  let found = 0
  const lost: string[] = []
  for (const [id, told] of record.told) {
    const shown = await call(ADMIN_KEY, 'GET', `/v1/cases/${id}`)
    if (shown.status === 200 && shown.body.kind === told.kind && shown.body.status === told.status) found++
    else lost.push(`${id}: told ${told.kind} ${told.status}, shown ${shown.status} ${shown.body?.kind} ${shown.body?.status}`)
  }
  if (lost.length > 0) console.log(`lost:\n${lost.join('\n')}`)

  // Each client's case is one person (named after the run); a campaign's beneficiary one claim and one case.
  const duplicated = await withAdmin(postgres.url, async (c) => {
    const people = await c.query<{ n: number }>(`SELECT (count(*) - count(DISTINCT person))::int AS n FROM (
      SELECT coalesce(view->'applicant'->>'name', view->'complainant'->>'name', view->'citizen'->>'name') AS person FROM cases) AS p
      WHERE person LIKE $1 AND person NOT LIKE $2`, [`${tag}-%`, `${tag}-probe%`])
    return people.rows[0]!.n
  })

  let paymentsMade = 0
  if (record.campaign) {
    const { id, policyCode } = record.campaign
    const deadline = Date.now() + 120_000
    for (;;) {
      const progress = (await call(ADMIN_KEY, 'GET', `/v1/campaigns/${id}`)).body
      const ledger = (await call(ADMIN_KEY, 'GET', `/v1/policies/${policyCode}/ledger`)).body
      // Made: what the treasury paid out for the policy's cases, each key once; the ledger must agree.
      paymentsMade = [...treasury.paid.keys()].filter((key) => key.startsWith(`banjian-payment:F-${policyCode}-`)).length
      if ((progress.status === 'completed' && ledger.payments >= PLAN.beneficiaries) || Date.now() > deadline) {
        expect(ledger.payments).toBe(paymentsMade)
        expect(ledger.paid).toBe(ledger.payments * PLAN.amount)
        expect(ledger.paid).toBeLessThanOrEqual(ledger.budget)
        break
      }
      await sleep(500)
    }
  }

  const audit = await auditUntilSettled()
  return {
    acknowledged: record.acknowledged, retried: record.retried, unexpected: record.unexpected.length,
    found, lost: lost.length, duplicated, brokenChains: audit.brokenChains, paymentsMade, paymentsOwed: record.campaign ? PLAN.beneficiaries : Number.NaN,
    projectionsDiffering: audit.lagging, auditPassed: audit.passed, recoverySeconds,
  }
}

/** `banjian audit verify`, again while the read side still catches up (a minute at most); its last report. */
async function auditUntilSettled(): Promise<{ passed: boolean; brokenChains: number; lagging: number; output: string }> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const { code, output } = await execute(process.execPath, ['bin/banjian.js', 'audit', 'verify'], { cwd: PROJECT_ROOT, env, maxBuffer: 16 << 20 })
      .then(({ stdout, stderr }) => ({ code: 0, output: `${stdout}${stderr}` }))
      .catch((err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }))
    const brokenChains = Number(/hash chains: \d+ cases, \d+ events, (\d+) problems/.exec(output)?.[1] ?? Number.NaN)
    const lagging = Number(/read side: \d+ cases against their workflows, (\d+) lagging/.exec(output)?.[1] ?? Number.NaN)
    if (code === 0 || Date.now() > deadline) return { passed: code === 0, brokenChains, lagging, output }
    await sleep(2_000)
  }
}

function expectWhole(figures: Figures): void {
  expect(figures).toMatchObject({
    unexpected: 0, lost: 0, duplicated: 0, brokenChains: 0, projectionsDiffering: 0, auditPassed: true, paymentsMade: PLAN.beneficiaries, paymentsOwed: PLAN.beneficiaries,
  })
  expect(figures.found).toBeGreaterThan(PLAN.applications)
  expect(figures.recoverySeconds).toBeGreaterThan(0)
}

describe('faults under a mixed load', () => {
  it('a worker killed (SIGKILL) while the API keeps serving', async () => {
    expectWhole(await drill('worker SIGKILL', async () => {
      await kill(worker)
      await sleep(2_000)
      worker = await startWorker()
    }))
  }, 600_000)

  it('an API killed (SIGKILL) in the middle of requests, which clients send again', async () => {
    expectWhole(await drill('API SIGKILL', async () => {
      await kill(api.process)
      await sleep(1_000)
      api = await startApi(api.port)
    }))
  }, 600_000)

  it('Postgres stopped and started again, readiness red meanwhile and green after', async () => {
    let red = false
    expectWhole(await drill('Postgres restart', async () => {
      await postgres.stop()
      red = (await fetch(`${api.url}/readyz`)).status === 503
      // stop() stops waiting after 10 s; a busy server's shutdown (its checkpoint) may take longer,
      // and a server started meanwhile would find the old one's lock and exit. Down is when its pid file goes.
      for (const gaveUp = Date.now() + 120_000; existsSync(join(pgOptions.dataDir, 'postmaster.pid')) && Date.now() < gaveUp;) await sleep(250)
      await sleep(2_000)
      postgres = await startEmbeddedPg(pgOptions)
    }))
    expect(red).toBe(true)
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200)
  }, 600_000)

  it('a treasury that answers too late, then fails, then pays: each payment made once', async () => {
    // From the start of the load: the campaign's first payments meet it.
    treasury.mode = 'slow'
    const asked = treasury.requests
    try {
      expectWhole(await drill('slow, then failing, payment adapter', async () => {
        await sleep(8_000)
        treasury.mode = 'fail'
        await sleep(8_000)
        treasury.mode = 'ok'
      }))
    } finally {
      treasury.mode = 'ok'
    }
    // The payments were asked for again (too late, then refused), and made once each all the same.
    expect(treasury.requests - asked).toBeGreaterThan(PLAN.beneficiaries)
  }, 600_000)

  it('a database that may no longer be written: 503 problem+json meanwhile, nothing half-written after', async () => {
    // Every session of banjian's role read-only, as a full disk or an operator's emergency leaves
    // it: set for the role, and the sessions it has ended so that they come back under it.
    let isReadOnly = false
    const readOnly = async (on: boolean) => isReadOnly !== on && withAdmin(postgres.url, async (c) => {
      isReadOnly = on
      await c.query('SET default_transaction_read_only = off')
      await c.query(`ALTER ROLE CURRENT_USER ${on ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`)
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid()')
    })
    // The probe: a write the API makes itself before anything else (no workflow waits on it).
    const office = { name: 'Read-only office', kind: 'department', parentId: 'gz' }
    let refused: { status: number; body: any } | undefined
    try {
      expectWhole(await drill('read-only database', async () => {
        await readOnly(true)
        try {
          for (const gaveUp = Date.now() + 30_000; refused?.status !== 503 && Date.now() < gaveUp;) {
            const response = await fetch(`${api.url}/v1/organizations/gz-read-only`, {
              method: 'PUT', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
              body: JSON.stringify(office), signal: AbortSignal.timeout(5_000),
            }).catch(() => undefined)
            refused = response && { status: response.status, body: await response.json() }
          }
          await sleep(4_000)
        } finally {
          await readOnly(false)
        }
      }))
    } finally {
      await readOnly(false)
    }
    expect(refused).toMatchObject({ status: 503, body: { code: 'not_ready', status: 503 } })
    // The refused write left nothing.
    const left = await withAdmin(postgres.url, (c) => c.query('SELECT count(*)::int AS n FROM organizations WHERE id = $1', ['gz-read-only']))
    expect(left.rows[0].n).toBe(0)
  }, 600_000)

  it('the Temporal server stopped and started again (its file kept)', async () => {
    expectWhole(await drill('Temporal restart', async () => {
      await temporal.stop()
      await sleep(3_000)
      temporal = await startDevServer(temporalOptions)
    }))
  }, 600_000)
})
