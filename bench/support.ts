// What the API benchmarks share: one run's system (dev server, fresh schema, worker, API on a
// loopback port — or that many API and worker processes — organisations, keys and a published
// item), the raw Temporal baseline on the same dev server, and the timing, percentile and
// reporting helpers.
import { type Client, type DataConverter, WithStartWorkflowOperation } from '@temporalio/client'
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker'
import cliProgress from 'cli-progress'
import { pino } from 'pino'
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { type Config, parseConfig } from '../src/config.ts'
import { openScratchDatabase } from '../src/db/prepare.ts'
import type { CaseView } from '../src/domain/case-view.ts'
import type { ServiceItemDraft } from '../src/domain/service-item.ts'
import { freePort } from '../src/infra/ports.ts'
import { assemble } from '../src/system.ts'
import { bareStepUpdate, type bareUpdatesWorkflow, type bareWorkflow } from './bare-workflow.ts'
import { openFloor } from './floor.ts'
import { cleanUp, cpuMeter, devServerPid, onCleanUp, startProcesses } from './processes.ts'

const ADMIN_KEY = `bench-admin-${randomBytes(8).toString('hex')}`
const BARE_QUEUE = 'bench-bare'
const BARE_WORKFLOW_PATH = fileURLToPath(new URL('./bare-workflow.ts', import.meta.url))
export const ITEM_CODE = 'BENCH-1'

export interface RunSize { n: number; concurrency: number; warmUp: number }

/** How the system is run: in this process (API and worker together), or as separate processes. */
export type Layout = 'in-process' | { apis: number; workers: number }

export interface BenchArgs extends RunSize {
  /** One whole run per layout: `--apis 1,2 --workers 1,2` is every pairing of the two lists. */
  layouts: Layout[]
  /** `--knee`: also raise the concurrency, doubling from 1, until p95 passes KNEE_P95_MS. */
  knee: boolean
}

/** A layout's name in the reports: `in-process`, or `2 APIs × 1 worker`. */
export const layoutName = (layout: Layout) => layout === 'in-process'
  ? 'in-process'
  : `${layout.apis} API${layout.apis === 1 ? '' : 's'} × ${layout.workers} worker${layout.workers === 1 ? '' : 's'}`

/**
 * `[N] [concurrency] [--apis a,b…] [--workers c,d…] [--knee]` from the command line; the warm-up is
 * min(warmUp, N) of each measured thing. Without `--apis` and `--workers`, one run in this process.
 */
export function benchArgs(defaults: RunSize, argv = process.argv.slice(2)): BenchArgs {
  const positional: string[] = []
  const lists: Record<string, number[]> = {}
  let knee = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--knee') knee = true
    else if (arg === '--apis' || arg === '--workers') {
      const values = (argv[++i] ?? '').split(',').map(Number)
      if (values.some((v) => !Number.isSafeInteger(v) || v <= 0)) throw new Error(`${arg} takes positive integers, comma-separated, got ${argv[i]}`)
      lists[arg.slice(2)] = values
    } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`)
    else positional.push(arg)
  }
  const n = Number(positional[0] ?? defaults.n)
  const concurrency = Number(positional[1] ?? defaults.concurrency)
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`N must be a positive integer, got ${positional[0]}`)
  if (!Number.isSafeInteger(concurrency) || concurrency <= 0) throw new Error(`concurrency must be a positive integer, got ${positional[1]}`)
  const layouts: Layout[] = lists.apis || lists.workers
    ? (lists.apis ?? [1]).flatMap((apis) => (lists.workers ?? [1]).map((workers) => ({ apis, workers })))
    : ['in-process']
  return { n, concurrency, warmUp: Math.min(defaults.warmUp, n), layouts, knee }
}

// ---- timing ---------------------------------------------------------------------------------

/**
 * A timed phase: its length, each operation's latency, and the CPU seconds used meanwhile by the
 * whole machine (`machine`), this process (`bench`) and each of the run's processes by name.
 */
export interface Measured { seconds: number; latenciesMs: number[]; cpuSeconds: Record<string, number> }

/** The run's processes whose CPU each phase reads (set by withBenchSystem): the dev server, and the API and worker processes. */
let metered: Record<string, number | undefined> = {}

/** Runs `count` operations, at most `concurrency` at a time, timing each; progress on stderr. */
export async function measure(label: string, count: number, concurrency: number,
  operation: (i: number) => Promise<void>): Promise<Measured> {
  const bar = new cliProgress.SingleBar({
    format: `${label.padEnd(28)} [{bar}] {value}/{total} {duration}s`, stream: process.stderr, hideCursor: true,
  }, cliProgress.Presets.shades_classic)
  bar.start(count, 0)
  const latenciesMs: number[] = []
  let next = 0
  const cpu = await cpuMeter(metered)()
  const began = performance.now()
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
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
  const seconds = (performance.now() - began) / 1000
  return { seconds, latenciesMs, cpuSeconds: await cpu() }
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) throw new Error('no samples')
  return sortedMs[Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1))]!
}

export interface Summary {
  rate: number; p50: number; p95: number
  /**
   * The machine's CPU per operation (every process, Postgres's too), and how busy its cores were:
   * whether the rate is the CPU's; and each process's share per operation, Postgres (and anything
   * else running) being the rest.
   */
  cpu?: { msPerOp: number; busy: number; byProcess: Record<string, number> }
}

export function summarize({ seconds, latenciesMs, cpuSeconds }: Measured): Summary {
  const sorted = [...latenciesMs].sort((a, b) => a - b)
  const perOp = (cpuS: number) => (cpuS * 1000) / latenciesMs.length
  const { machine = 0, ...processes } = cpuSeconds
  const named = Object.values(processes).reduce((sum, v) => sum + v, 0)
  return {
    rate: latenciesMs.length / seconds, p50: percentile(sorted, 50), p95: percentile(sorted, 95),
    cpu: {
      msPerOp: perOp(machine), busy: machine / (seconds * availableParallelism()),
      byProcess: { ...Object.fromEntries(Object.entries(processes).map(([name, v]) => [name, perOp(v)])), 'the rest (Postgres)': perOp(machine - named) },
    },
  }
}

const cpuOf = (s: Summary) => (s.cpu ? `   CPU ${s.cpu.msPerOp.toFixed(1)} ms each, cores ${(100 * s.cpu.busy).toFixed(0)}% busy` : '')
const cpuSharesOf = (s: Summary) => Object.entries(s.cpu?.byProcess ?? {}).map(([name, v]) => `${name} ${v.toFixed(1)}`).join(', ')

const ms = (v: number) => `${v.toFixed(1)} ms`

/** The report: a heading, one aligned line per measured thing, and the rate of the first over the last. */
export function report(title: string, size: RunSize, lines: Array<[name: string, detail: string, summary: Summary]>): void {
  const labels = lines.map(([name, detail]) => `${name} (${detail}):`)
  const width = Math.max(...labels.map((l) => l.length))
  console.log(`${title}: N=${size.n} concurrency=${size.concurrency} cores=${availableParallelism()} (after ${size.warmUp} warm-up of each)`)
  lines.forEach(([, , s], i) => {
    console.log(`  ${labels[i]!.padEnd(width)} ${`${s.rate.toFixed(1)}/s`.padStart(9)}   p50 ${ms(s.p50)}   p95 ${ms(s.p95)}${cpuOf(s)}`)
  })
  for (const [name, , s] of lines) if (s.cpu) console.log(`    ${name}: CPU ms each by process: ${cpuSharesOf(s)}`)
  const [first, last] = [lines[0]!, lines[lines.length - 1]!]
  console.log(`  ratio ${first[0]}/${last[0]}: ${(first[2].rate / last[2].rate).toFixed(3)}`)
}

// ---- scale: process counts and the knee -------------------------------------------------------

/** The latency at which a command stops being usable at a window: the knee is where p95 passes it. */
export const KNEE_P95_MS = 1000
const KNEE_MAX_CONCURRENCY = 256

export interface KneeStep { concurrency: number; summary: Summary }

/** Operations per step at least this many times its concurrency: each in-flight slot is reused, a steady state. */
const KNEE_ROUNDS = 4

/**
 * Raises the concurrency, doubling from 1, until `run`'s p95 passes KNEE_P95_MS (or
 * KNEE_MAX_CONCURRENCY is reached); the knee is the first concurrency past it. Each step runs
 * `n` operations, or KNEE_ROUNDS times its concurrency if more.
 */
export async function findKnee(n: number, run: (concurrency: number, count: number) => Promise<Summary>)
  : Promise<{ steps: KneeStep[]; knee: number | undefined }> {
  const steps: KneeStep[] = []
  for (let concurrency = 1; concurrency <= KNEE_MAX_CONCURRENCY; concurrency *= 2) {
    const summary = await run(concurrency, Math.max(n, KNEE_ROUNDS * concurrency))
    steps.push({ concurrency, summary })
    if (summary.p95 > KNEE_P95_MS) return { steps, knee: concurrency }
  }
  return { steps, knee: undefined }
}

export function printKnee(label: string, { steps, knee }: { steps: KneeStep[]; knee: number | undefined }): void {
  console.log(`  ${label}: concurrency → rate, p50, p95`)
  for (const { concurrency, summary: s } of steps) {
    console.log(`    ${String(concurrency).padStart(4)}: ${`${s.rate.toFixed(1)}/s`.padStart(8)}   p50 ${ms(s.p50)}   p95 ${ms(s.p95)}${cpuOf(s)}`)
  }
  console.log(knee === undefined
    ? `  knee: p95 stayed within ${KNEE_P95_MS} ms up to concurrency ${steps[steps.length - 1]!.concurrency}`
    : `  knee: p95 passed ${KNEE_P95_MS} ms at concurrency ${knee} (${steps.length > 1 ? `${steps[steps.length - 2]!.concurrency} was the last within it` : 'already at 1'})`)
}

export interface ScaleRow { layout: Layout; api: Summary; bare: Summary; knee?: number | undefined; kneeMeasured: boolean }

/** The table of rate by process count, one row per layout, each with its own baseline measured in the same system. */
export function printScaleTable(title: string, rows: ScaleRow[]): void {
  console.log(`${title}: rate by process count (each row one whole run on a fresh dev server and database)`)
  const width = Math.max(...rows.map((r) => layoutName(r.layout).length))
  for (const r of rows) {
    const knee = r.kneeMeasured ? `   knee ${r.knee === undefined ? `> ${KNEE_MAX_CONCURRENCY}` : r.knee}` : ''
    console.log(`  ${layoutName(r.layout).padEnd(width)}  ${`${r.api.rate.toFixed(1)}/s`.padStart(8)}   p50 ${ms(r.api.p50)}   p95 ${ms(r.api.p95)}`
      + `   bare ${`${r.bare.rate.toFixed(1)}/s`.padStart(8)}   ratio ${(r.api.rate / r.bare.rate).toFixed(3)}${knee}`)
  }
}

// ---- the system under test ------------------------------------------------------------------

export interface Answer { status: number; body: any; text: string }

/** Histogram sums and counts of one Prometheus scrape, by series (`name{labels}`). */
export type Scrape = Map<string, number>

/** The `_sum` and `_count` series of a Prometheus text exposition (or several). */
export function parseScrape(text: string): Scrape {
  const series: Scrape = new Map()
  // Several processes' texts concatenated: a series they share is summed.
  for (const m of text.matchAll(/^([a-z_:][a-z0-9_:]*(?:_sum|_count))(\{[^}]*\})? ([0-9.eE+-]+)$/gm)) {
    const name = `${m[1]}${m[2] ?? ''}`
    series.set(name, (series.get(name) ?? 0) + Number(m[3]))
  }
  return series
}

/**
 * What a histogram gained between two scrapes, over the series whose labels include every one of
 * `labels`: the seconds observed and how many observations.
 */
export function gained(before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): { seconds: number; count: number } {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  const total = (scrape: Scrape, suffix: string) => [...scrape].filter(([series]) => series.startsWith(`${name}${suffix}`)
    && /^[{]|^$/.test(series.slice(name.length + suffix.length)) && wanted.every((l) => series.includes(l))).reduce((sum, [, v]) => sum + v, 0)
  return { seconds: total(after, '_sum') - total(before, '_sum'), count: total(after, '_count') - total(before, '_count') }
}

export interface BenchSystem {
  client: Client
  /** One scrape of the API's /metrics and of the worker's Prometheus exporter together. */
  scrape(): Promise<Scrape>
  keys: { window: string; department: string }
  /** One request to the API over its loopback socket. */
  http(key: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>
  /** The same request, failing the run unless it answers `status`; returns the parsed body. */
  expect(status: number, key: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<any>
  /** POST /v1/applications for applicant `i`, idempotent per `tag`; the case as created. */
  submit(tag: string, i: number): Promise<CaseView>
  /** The raw baseline: a bare workflow started and awaited on the same dev server. */
  runBare(tag: string, i: number): Promise<void>
  /**
   * The fair baseline for a full case: a bare workflow started by Update-with-Start, then given
   * `updates` more Updates, each awaited, then its result. Each Update's latency goes into
   * `latencies` when given.
   */
  runBareUpdates(tag: string, i: number, updates: number, latencies?: number[]): Promise<void>
  /**
   * The guarantees' floor (bench/floor.ts): the same as runBareUpdates, each command over HTTP and
   * each Update writing its event to Postgres before it answers.
   */
  runFloor(tag: string, i: number, updates: number, latencies?: number[]): Promise<void>
  /** Fails unless the floor's cases have written `events` events in all (bench/floor.ts). */
  expectFloorWritten(events: number): Promise<void>
}

const item: ServiceItemDraft = {
  name: 'Benchmark item', departmentId: 'gz-amr', processing: 'promised',
  promisedLimit: { workingDays: 5 }, statutoryLimit: { workingDays: 20 },
  materials: [
    { code: 'application-form', name: 'Application form', required: true },
    { code: 'id-card', name: 'Identity card', required: true, sharedSource: 'resident-id' },
  ],
  channels: ['window', 'online'],
}


/** Where the system under test answers, and what it runs on, however it was started. */
interface Running {
  client: Client
  /** The bare baseline's worker connection. */
  connection: NativeConnection
  namespace: string
  dataConverter: DataConverter
  /** Each API's base URL: requests take them in turn. */
  urls: string[]
  /** Every process's Prometheus text: the APIs' /metrics and the workers' exporters. */
  metricsUrls: string[]
  /** The Postgres the run's database lives in, where the floor (bench/floor.ts) keeps its schema. */
  databaseUrl: string
}

/**
 * Starts everything in a fresh schema (Postgres from DATABASE_URL or TEST_DATABASE_URL) and an
 * in-memory dev server, runs `work`, and tears it all down again, also when `work` fails. In
 * process (the default), or as `banjian start --role api` and `--role worker` processes against one
 * dev server and one fresh database, as a city scales out.
 */
export async function withBenchSystem(work: (system: BenchSystem) => Promise<void>, layout: Layout = 'in-process'): Promise<void> {
  const config = parseConfig()
  const databaseUrl = config.DATABASE_URL ?? process.env.TEST_DATABASE_URL
  if (!databaseUrl) throw new Error('set DATABASE_URL or TEST_DATABASE_URL to a Postgres the benchmark may create a schema in')
  // The SDK's own metrics, scraped for the time breakdown of a command (bench/lifecycle); once per
  // process, which may run several layouts.
  if (!runtimeInstalled) {
    const workerMetricsAddress = `127.0.0.1:${await freePort()}`
    Runtime.install({
      logger: new DefaultLogger('ERROR'), shutdownSignals: [],
      telemetryOptions: { metrics: { prometheus: { bindAddress: workerMetricsAddress, unitSuffix: true, useSecondsForDurations: true } } },
    })
    runtimeInstalled = workerMetricsAddress
  }
  try {
    const running = layout === 'in-process'
      ? await inProcess(config, databaseUrl, runtimeInstalled)
      : await asProcesses(databaseUrl, layout)
    await work(await benchOn(running))
  } finally {
    metered = {}
    await cleanUp()
  }
}

let runtimeInstalled: string | undefined

async function inProcess(config: Config, databaseUrl: string, workerMetricsAddress: string): Promise<Running> {
  const scratch = await openScratchDatabase({ url: databaseUrl, schemaName: `bench_${randomBytes(5).toString('hex')}`, adminKey: ADMIN_KEY })
  onCleanUp('scratch schema', scratch.drop)
  const system = await assemble({ ...config, BANJIAN_SHUTDOWN_GRACE_SECONDS: 0, BANJIAN_RATE_LIMIT_PER_MINUTE: 0 }, {
    // Errors only, on stderr: a 500 in a run says why (it once took a reproduction to learn).
    logger: pino({ level: 'error' }, process.stderr), pathVar: process.env.PATH, database: scratch.database,
    temporal: { devServer: { port: await freePort(), namespace: 'bench', retentionDays: 1 } },
    taskQueuePrefix: 'bench', listen: { host: '127.0.0.1', port: 0 }, archive: false,
  })
  onCleanUp('system', system.stop)
  // This process is the API and the worker (and the bench's client): `bench`.
  metered = { temporal: await devServerPid(Number(system.target.address.split(':').pop())) }
  return {
    client: system.client, connection: system.workerConnection!, namespace: system.target.namespace,
    dataConverter: system.dataConverter, urls: [system.url!], metricsUrls: [`${system.url!}/metrics`, `http://${workerMetricsAddress}/metrics`],
    databaseUrl,
  }
}

async function asProcesses(adminUrl: string, layout: { apis: number; workers: number }): Promise<Running> {
  const run = await startProcesses({
    adminUrl, ...layout, namespace: 'bench', taskQueuePrefix: 'bench', adminKey: ADMIN_KEY, readyQueue: 'applications',
    // As in one process (`archive: false`): no archiving of the baselines' workflows mid-run.
    archive: false,
  })
  const connection = await NativeConnection.connect({ address: run.server.address })
  onCleanUp('bare worker connection', () => connection.close())
  const count = { api: 0, worker: 0 }
  metered = {
    temporal: run.server.pid,
    ...Object.fromEntries([...run.apis, ...run.workers].map(({ banjian: b }) => [`${b.role} ${++count[b.role]}`, b.child.pid])),
  }
  return {
    client: run.client, connection, namespace: 'bench', dataConverter: run.dataConverter, urls: run.apis.map((a) => a.url),
    metricsUrls: [...run.apis.map((a) => `${a.url}/metrics`), ...run.workers.map((w) => w.metricsUrl)],
    databaseUrl: adminUrl,
  }
}

/** The organisations, keys and published item of a run, and the BenchSystem over them. */
async function benchOn(running: Running): Promise<BenchSystem> {
  const { client } = running
  const floor = await openFloor(running.databaseUrl, client, BARE_QUEUE)
  const bare = await Worker.create({
    connection: running.connection, namespace: running.namespace, taskQueue: BARE_QUEUE, workflowsPath: BARE_WORKFLOW_PATH,
    activities: floor.activities,
    // The baseline pays for encryption too (the system's client starts it): a fair ratio.
    dataConverter: running.dataConverter,
  })
  const bareRunning = bare.run()
  onCleanUp('bare worker', async () => {
    bare.shutdown()
    await Promise.allSettled([bareRunning])
  })

  let turn = 0
  const http: BenchSystem['http'] = async (key, method, path, body, headers = {}) => {
    const url = running.urls[turn++ % running.urls.length]!
    const response = await fetch(`${url}${path}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined, text }
  }
  const expect: BenchSystem['expect'] = async (status, ...request) => {
    const answer = await http(...request)
    if (answer.status !== status) throw new Error(`${request[1]} ${request[2]}: expected ${status}, got ${answer.status}: ${answer.text}`)
    return answer.body
  }

  for (const [id, kind, parentId] of [['gz', 'government', 'root'], ['gz-center', 'service-center', 'gz'], ['gz-amr', 'department', 'gz']]) {
    await expect(200, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })
  }
  const key = async (organizationId: string, role: string) =>
    (await expect(201, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role })).key as string
  await expect(200, ADMIN_KEY, 'PUT', `/v1/service-items/${ITEM_CODE}`, item)
  // Another key than the draft's author reviews it (rule 40).
  await expect(200, await key('gz', 'supervisor'), 'POST', `/v1/service-items/${ITEM_CODE}/review`, { approved: true, note: 'benchmark item' })
  await expect(200, ADMIN_KEY, 'POST', `/v1/service-items/${ITEM_CODE}/publish`)
  const keys = { window: await key('gz-center', 'window'), department: await key('gz-amr', 'department') }

  const text = async (address: string) => (await fetch(address)).text()
  return {
    client, keys, http, expect,
    scrape: async () => parseScrape((await Promise.all(running.metricsUrls.map(text))).join('\n')),
    submit: (tag, i) => expect(201, keys.window, 'POST', '/v1/applications', {
      serviceItemCode: ITEM_CODE, channel: 'window',
      applicant: { type: 'person', name: `申请人${i}`, idNumber: `44010619900101${String(i).padStart(4, '0')}` },
      materials: [{ code: 'application-form', ref: `doc://form/${tag}/${i}` }],
    }, { 'idempotency-key': `bench-${tag}-${i}` }),
    runBare: async (tag, i) => {
      await client.workflow.execute<typeof bareWorkflow>('bareWorkflow', { taskQueue: BARE_QUEUE, workflowId: `bare-${tag}-${i}` })
    },
    runBareUpdates: async (tag, i, updates, latencies) => {
      const timed = async (update: () => Promise<unknown>) => {
        const began = performance.now()
        await update()
        latencies?.push(performance.now() - began)
      }
      const start = new WithStartWorkflowOperation<typeof bareUpdatesWorkflow>('bareUpdatesWorkflow', {
        taskQueue: BARE_QUEUE, workflowId: `bare-updates-${tag}-${i}`, args: [updates + 1], workflowIdConflictPolicy: 'FAIL',
      })
      await client.workflow.executeUpdateWithStart(bareStepUpdate, { startWorkflowOperation: start })
      const handle = await start.workflowHandle()
      for (let u = 0; u < updates; u++) await timed(() => handle.executeUpdate(bareStepUpdate))
      await handle.result()
    },
    runFloor: floor.run,
    expectFloorWritten: floor.expectWritten,
  }
}
