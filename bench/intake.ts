// Intake throughput: applications submitted through the HTTP API (idempotency claim, guide and
// calendar look-ups, Update-with-Start, pre-review and projection) against bare Temporal workflows
// started and completed on the same dev server in the same run.
// Usage: node --import tsx bench/intake.ts [N] [concurrency]   (defaults 300 and 16)
// Needs Postgres in DATABASE_URL or TEST_DATABASE_URL; works in a fresh schema it drops at the end.
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker'
import cliProgress from 'cli-progress'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../src/api/app.ts'
import { createCaseGateway } from '../src/api/case-gateway.ts'
import { parseConfig } from '../src/config.ts'
import { bootstrapAccess } from '../src/db/bootstrap.ts'
import { seedOfficialCalendar } from '../src/db/calendar.ts'
import { openDatabase, quoteIdent } from '../src/db/client.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import type { ServiceItemDraft } from '../src/domain/service-item.ts'
import { startDevServer } from '../src/infra/dev-server.ts'
import { resolveTemporalBinary } from '../src/infra/temporal-binaries.ts'
import { connectClient, createWorkers, taskQueues } from '../src/infra/temporal.ts'
import type { bareWorkflow } from './bare-workflow.ts'

const N = Number(process.argv[2] ?? 300)
const CONCURRENCY = Number(process.argv[3] ?? 16)
if (!Number.isSafeInteger(N) || N <= 0) throw new Error(`N must be a positive integer, got ${process.argv[2]}`)
if (!Number.isSafeInteger(CONCURRENCY) || CONCURRENCY <= 0) throw new Error(`concurrency must be a positive integer, got ${process.argv[3]}`)
const WARM_UP = Math.min(20, N)
const ADMIN_KEY = `bench-admin-${randomBytes(8).toString('hex')}`
const BARE_QUEUE = 'bench-bare'
const BARE_WORKFLOW_PATH = fileURLToPath(new URL('./bare-workflow.ts', import.meta.url))

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

interface Measured { seconds: number; latenciesMs: number[] }

/** Runs `count` operations, at most `concurrency` at a time, timing each. */
async function measure(label: string, count: number, operation: (i: number) => Promise<void>): Promise<Measured> {
  const bar = new cliProgress.SingleBar({
    format: `${label.padEnd(28)} [{bar}] {value}/{total} {duration}s`, stream: process.stderr, hideCursor: true,
  }, cliProgress.Presets.shades_classic)
  bar.start(count, 0)
  const latenciesMs: number[] = []
  let next = 0
  const began = performance.now()
  try {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      while (next < count) {
        const i = next++
        const t = performance.now()
        await operation(i)
        latenciesMs.push(performance.now() - t)
        bar.increment()
      }
    }))
  } finally {
    bar.stop()
  }
  return { seconds: (performance.now() - began) / 1000, latenciesMs }
}

function percentile(sortedMs: number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1)]!
}

function summary(m: Measured, count: number) {
  const sorted = [...m.latenciesMs].sort((a, b) => a - b)
  return { rate: count / m.seconds, p50: percentile(sorted, 50), p95: percentile(sorted, 95) }
}

const item: ServiceItemDraft = {
  name: 'Benchmark item', departmentId: 'gz-amr', processing: 'promised',
  promisedLimit: { workingDays: 5 }, statutoryLimit: { workingDays: 20 },
  materials: [
    { code: 'application-form', name: 'Application form', required: true },
    { code: 'id-card', name: 'Identity card', required: true, sharedSource: 'resident-id' },
  ],
  channels: ['window'],
}

async function main(): Promise<void> {
  const config = parseConfig()
  const databaseUrl = config.DATABASE_URL ?? process.env.TEST_DATABASE_URL
  if (!databaseUrl) throw new Error('set DATABASE_URL or TEST_DATABASE_URL to a Postgres the benchmark may create a schema in')
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] })

  const cleanups: Array<() => Promise<unknown>> = []
  try {
    const cliPath = await resolveTemporalBinary('cli', { explicitPath: config.BANJIAN_TEMPORAL_CLI, pathVar: process.env.PATH })
    const server = await startDevServer({ cliPath, port: await freePort(), uiPort: 0, namespace: 'bench', retentionDays: 1 })
    cleanups.push(server.stop)
    const target = { address: server.address, namespace: server.namespace }

    const schemaName = `bench_${randomBytes(5).toString('hex')}`
    const database = openDatabase({ url: databaseUrl, schemaName })
    cleanups.push(() => database.close())
    cleanups.push(() => database.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schemaName)} CASCADE`))
    await applyMigrations(database, schemaName)
    await seedOfficialCalendar(database.db)
    await bootstrapAccess(database.db, ADMIN_KEY)

    const queues = taskQueues('bench')
    const { workers, connection } = await createWorkers({ target, queues, deps: { database } })
    cleanups.push(() => connection.close())
    const bare = await Worker.create({ connection, namespace: target.namespace, taskQueue: BARE_QUEUE, workflowsPath: BARE_WORKFLOW_PATH })
    const running = [...workers, bare].map((w) => w.run())
    cleanups.push(async () => {
      for (const w of [...workers, bare]) w.shutdown()
      await Promise.allSettled(running)
    })
    const client = await connectClient(target)
    cleanups.push(() => client.connection.close())
    const app = await buildApp({ database, gateway: createCaseGateway(client, queues) })
    cleanups.push(() => app.close())
    const url = await app.listen({ host: '127.0.0.1', port: 0 })

    const http = async (key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(`${url}${path}`, {
        method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await response.text()
      return { status: response.status, body: text ? JSON.parse(text) : undefined, text }
    }
    const expectStatus = async (status: number, answer: Promise<{ status: number; text: string }>) => {
      const { status: got, text } = await answer
      if (got !== status) throw new Error(`expected ${status}, got ${got}: ${text}`)
    }
    for (const [id, kind, parentId] of [['gz', 'government', 'root'], ['gz-center', 'service-center', 'gz'], ['gz-amr', 'department', 'gz']]) {
      await expectStatus(200, http(ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId }))
    }
    await expectStatus(200, http(ADMIN_KEY, 'PUT', '/v1/service-items/BENCH-1', item))
    await expectStatus(200, http(ADMIN_KEY, 'POST', '/v1/service-items/BENCH-1/publish'))
    const windowKey = (await http(ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-center', role: 'window' })).body.key as string

    const submit = (tag: string) => async (i: number) => expectStatus(201, http(windowKey, 'POST', '/v1/applications', {
      serviceItemCode: 'BENCH-1', channel: 'window',
      applicant: { type: 'person', name: `申请人${i}`, idNumber: `44010619900101${String(i).padStart(4, '0')}` },
      materials: [{ code: 'application-form', ref: `doc://form/${tag}/${i}` }],
    }, { 'idempotency-key': `bench-${tag}-${i}` }))
    const startBare = (tag: string) => async (i: number) => {
      await client.workflow.execute<typeof bareWorkflow>('bareWorkflow', { taskQueue: BARE_QUEUE, workflowId: `bare-${tag}-${i}` })
    }

    await measure('warm-up', WARM_UP, async (i) => {
      await submit('warm')(i)
      await startBare('warm')(i)
    })
    const api = summary(await measure('API submissions', N, submit('run')), N)
    const raw = summary(await measure('bare workflows', N, startBare('run')), N)

    const ms = (v: number) => `${v.toFixed(1)} ms`
    console.log(`intake: N=${N} concurrency=${CONCURRENCY} cores=${availableParallelism()} (after ${WARM_UP} warm-up of each)`)
    console.log(`  API submissions (POST /v1/applications, 201):   ${api.rate.toFixed(1)}/s   p50 ${ms(api.p50)}   p95 ${ms(api.p95)}`)
    console.log(`  bare workflows (client start + result):         ${raw.rate.toFixed(1)}/s   p50 ${ms(raw.p50)}   p95 ${ms(raw.p95)}`)
    console.log(`  ratio API/raw: ${(api.rate / raw.rate).toFixed(2)}`)
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup()
      } catch (err) {
        console.error('clean-up failed:', err)
      }
    }
  }
}

await main()
