// What the API benchmarks share: one run's system (dev server, fresh schema, worker, API on a
// loopback port, organisations, keys and a published item), the raw Temporal baseline on the same
// dev server, and the timing, percentile and reporting helpers.
import { type Client, WithStartWorkflowOperation } from '@temporalio/client'
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker'
import cliProgress from 'cli-progress'
import { pino } from 'pino'
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseConfig } from '../src/config.ts'
import { openScratchDatabase } from '../src/db/prepare.ts'
import type { CaseView } from '../src/domain/case-view.ts'
import type { ServiceItemDraft } from '../src/domain/service-item.ts'
import { freePort } from '../src/infra/ports.ts'
import { assemble } from '../src/system.ts'
import { bareStepUpdate, type bareUpdatesWorkflow, type bareWorkflow } from './bare-workflow.ts'

const ADMIN_KEY = `bench-admin-${randomBytes(8).toString('hex')}`
const BARE_QUEUE = 'bench-bare'
const BARE_WORKFLOW_PATH = fileURLToPath(new URL('./bare-workflow.ts', import.meta.url))
export const ITEM_CODE = 'BENCH-1'

export interface RunSize { n: number; concurrency: number; warmUp: number }

/** `[N] [concurrency]` from the command line; the warm-up is min(warmUp, N) of each measured thing. */
export function runSize(defaults: RunSize, argv = process.argv.slice(2)): RunSize {
  const n = Number(argv[0] ?? defaults.n)
  const concurrency = Number(argv[1] ?? defaults.concurrency)
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`N must be a positive integer, got ${argv[0]}`)
  if (!Number.isSafeInteger(concurrency) || concurrency <= 0) throw new Error(`concurrency must be a positive integer, got ${argv[1]}`)
  return { n, concurrency, warmUp: Math.min(defaults.warmUp, n) }
}

// ---- timing ---------------------------------------------------------------------------------

export interface Measured { seconds: number; latenciesMs: number[] }

/** Runs `count` operations, at most `concurrency` at a time, timing each; progress on stderr. */
export async function measure(label: string, count: number, concurrency: number,
  operation: (i: number) => Promise<void>): Promise<Measured> {
  const bar = new cliProgress.SingleBar({
    format: `${label.padEnd(28)} [{bar}] {value}/{total} {duration}s`, stream: process.stderr, hideCursor: true,
  }, cliProgress.Presets.shades_classic)
  bar.start(count, 0)
  const latenciesMs: number[] = []
  let next = 0
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
  return { seconds: (performance.now() - began) / 1000, latenciesMs }
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) throw new Error('no samples')
  return sortedMs[Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1))]!
}

export interface Summary { rate: number; p50: number; p95: number }

export function summarize({ seconds, latenciesMs }: Measured): Summary {
  const sorted = [...latenciesMs].sort((a, b) => a - b)
  return { rate: latenciesMs.length / seconds, p50: percentile(sorted, 50), p95: percentile(sorted, 95) }
}

const ms = (v: number) => `${v.toFixed(1)} ms`

/** The report: a heading, one aligned line per measured thing, and the rate of the first over the last. */
export function report(title: string, size: RunSize, lines: Array<[name: string, detail: string, summary: Summary]>): void {
  const labels = lines.map(([name, detail]) => `${name} (${detail}):`)
  const width = Math.max(...labels.map((l) => l.length))
  console.log(`${title}: N=${size.n} concurrency=${size.concurrency} cores=${availableParallelism()} (after ${size.warmUp} warm-up of each)`)
  lines.forEach(([, , s], i) => {
    console.log(`  ${labels[i]!.padEnd(width)} ${`${s.rate.toFixed(1)}/s`.padStart(9)}   p50 ${ms(s.p50)}   p95 ${ms(s.p95)}`)
  })
  const [first, last] = [lines[0]!, lines[lines.length - 1]!]
  console.log(`  ratio ${first[0]}/${last[0]}: ${(first[2].rate / last[2].rate).toFixed(3)}`)
}

// ---- the system under test ------------------------------------------------------------------

export interface Answer { status: number; body: any; text: string }

/** Histogram sums and counts of one Prometheus scrape, by series (`name{labels}`). */
export type Scrape = Map<string, number>

/** The `_sum` and `_count` series of a Prometheus text exposition. */
export function parseScrape(text: string): Scrape {
  const series: Scrape = new Map()
  for (const m of text.matchAll(/^([a-z_:][a-z0-9_:]*(?:_sum|_count))(\{[^}]*\})? ([0-9.eE+-]+)$/gm)) series.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]))
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


/**
 * Starts everything in a fresh schema (Postgres from DATABASE_URL or TEST_DATABASE_URL) and an
 * in-memory dev server, runs `work`, and tears it all down again, also when `work` fails.
 */
export async function withBenchSystem(work: (system: BenchSystem) => Promise<void>): Promise<void> {
  const config = parseConfig()
  const databaseUrl = config.DATABASE_URL ?? process.env.TEST_DATABASE_URL
  if (!databaseUrl) throw new Error('set DATABASE_URL or TEST_DATABASE_URL to a Postgres the benchmark may create a schema in')
  // The SDK's own metrics, scraped for the time breakdown of a command (bench/lifecycle).
  const workerMetricsAddress = `127.0.0.1:${await freePort()}`
  Runtime.install({
    logger: new DefaultLogger('ERROR'), shutdownSignals: [],
    telemetryOptions: { metrics: { prometheus: { bindAddress: workerMetricsAddress, unitSuffix: true, useSecondsForDurations: true } } },
  })

  const cleanups: Array<() => Promise<unknown>> = []
  try {
    const scratch = await openScratchDatabase({ url: databaseUrl, schemaName: `bench_${randomBytes(5).toString('hex')}`, adminKey: ADMIN_KEY })
    cleanups.push(scratch.drop)
    const system = await assemble({ ...config, BANJIAN_SHUTDOWN_GRACE_SECONDS: 0 }, {
      // Errors only, on stderr: a 500 in a run says why (it once took a reproduction to learn).
      logger: pino({ level: 'error' }, process.stderr), pathVar: process.env.PATH, database: scratch.database,
      temporal: { devServer: { port: await freePort(), namespace: 'bench', retentionDays: 1 } },
      taskQueuePrefix: 'bench', listen: { host: '127.0.0.1', port: 0 }, archive: false,
    })
    cleanups.push(system.stop)
    const { client, target, url } = system
    const bare = await Worker.create({
      connection: system.workerConnection!, namespace: target.namespace, taskQueue: BARE_QUEUE, workflowsPath: BARE_WORKFLOW_PATH,
      // The baseline pays for encryption too (the system's client starts it): a fair ratio.
      dataConverter: system.dataConverter,
    })
    const running = bare.run()
    cleanups.push(async () => {
      bare.shutdown()
      await Promise.allSettled([running])
    })

    const http: BenchSystem['http'] = async (key, method, path, body, headers = {}) => {
      const response = await fetch(`${url!}${path}`, {
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
    await work({
      client, keys, http, expect,
      scrape: async () => parseScrape(`${await text(`${url!}/metrics`)}\n${await text(`http://${workerMetricsAddress}/metrics`)}`),
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
    })
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
