// banjian as a city runs it, for the benchmarks that measure separate processes (`banjian start
// --role api` and `--role worker`): starting and stopping them, cleaning up whatever a run started
// however it ends, and reading their memory and CPU from /proc.
import type { Client, DataConverter } from '@temporalio/client'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { parseConfig } from '../src/config.ts'
import { formatDataKey, Keyring, parseDataKeys } from '../src/infra/data-keys.ts'
import { type DevServer, startDevServer } from '../src/infra/dev-server.ts'
import { dataConverterFor } from '../src/infra/payload-encryption.ts'
import { freePort } from '../src/infra/ports.ts'
import { PROJECT_ROOT, resolveTemporalBinary } from '../src/infra/temporal-binaries.ts'
import { connectClient, taskQueues } from '../src/infra/temporal.ts'

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's times. */
const CLOCK_TICKS = 100
const RSS_SAMPLE_MS = 500

export interface Banjian {
  role: 'api' | 'worker'
  child: ChildProcess
  exited: Promise<unknown>
  output: () => string
}

// ---- clean-up ---------------------------------------------------------------------------------

/** What a run has started, stopped in reverse order however the run ends. */
const cleanups: Array<[name: string, stop: () => Promise<unknown>]> = []
const groups = new Set<number>()
let interrupted = false

/** Registers how to stop something the run started; `cleanUp` stops them, last first. */
export function onCleanUp(name: string, stop: () => Promise<unknown>): void {
  cleanups.push([name, stop])
}

export async function cleanUp(): Promise<void> {
  for (const [name, stop] of cleanups.splice(0).reverse()) {
    try {
      await stop()
    } catch (err) {
      console.error(`clean-up of ${name} failed:`, err)
    }
  }
}

/** Whether the run was stopped by SIGINT or SIGTERM (its failures are then the clean-up's doing). */
export const wasInterrupted = () => interrupted

// The last resort, when the bench dies without its clean-up: no banjian process outlives it.
process.once('exit', () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // Gone already.
    }
  }
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    console.error(`\n${signal}: cleaning up`)
    void cleanUp().finally(() => process.exit(130))
  })
}

// ---- processes --------------------------------------------------------------------------------

/** `banjian start --role <role>` in a process group of its own, its last output kept, stopped at clean-up. */
export function startBanjian(role: 'api' | 'worker', env: Record<string, string>): Banjian {
  const child = spawn(process.execPath, ['bin/banjian.js', 'start', '--role', role], {
    cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (child.pid) groups.add(child.pid)
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const banjian = { role, child, exited, output: () => output }
  onCleanUp(`banjian ${role}`, () => kill(banjian))
  return banjian
}

async function kill(b: Banjian): Promise<void> {
  const pid = b.child.pid
  if (!pid) return
  groups.delete(pid)
  if (b.child.exitCode !== null || b.child.signalCode !== null) return
  try {
    // The whole group: the database is dropped and the dev server stopped next, so nothing needs draining.
    process.kill(-pid, 'SIGKILL')
  } catch {
    return
  }
  await b.exited
}

/** This process's environment without banjian's, Temporal's and Postgres's settings, and `values` over it. */
export function childEnv(values: Record<string, string>): Record<string, string> {
  const inherited = Object.entries(process.env)
    .filter(([k]) => !/^(BANJIAN_|TEMPORAL_|DATABASE_URL$|TEST_DATABASE_URL$|NODE_OPTIONS$|NODE_ENV$)/.test(k))
    .filter((e): e is [string, string] => e[1] !== undefined)
  return { ...Object.fromEntries(inherited), ...values }
}

/** Polls `read` until `holds`; past `timeoutMs` fails with the last value and the processes' evidence. */
export async function until<T>(what: string, read: () => Promise<T>, holds: (value: T) => boolean, timeoutMs: number,
  evidence: () => string, pollMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (holds(value)) return value
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs} ms: ${JSON.stringify(value)}\n${evidence()}`)
    await sleep(pollMs)
  }
}

/** Until the API at `baseUrl` answers /readyz 200. */
export function untilReady(baseUrl: string, evidence: () => string): Promise<number> {
  return until(`the API at ${baseUrl} being ready`, () => fetch(`${baseUrl}/readyz`).then((r) => r.status, () => 0), (s) => s === 200, 120_000, evidence)
}

export interface ProcessesOptions {
  /** A Postgres URL where a database of the run's own is created, and dropped at clean-up. */
  adminUrl: string
  apis: number
  workers: number
  namespace: string
  taskQueuePrefix: string
  adminKey: string
  /** The queue every worker must poll before the run is ready (a name from `taskQueues`). */
  readyQueue: keyof ReturnType<typeof taskQueues>
  /** The dev server's store on disk, as `banjian start` keeps it, rather than in memory. */
  storeOnDisk?: boolean
  logLevel?: string
  /**
   * Whether the workers archive closed workflows' histories as they would in production (the
   * default), or only once at start: a bench with baselines on the same namespace turns it off,
   * since every minute the archiver would take up the baselines' closed workflows, in whichever
   * phase its turn fell, and charge that phase with the worker's and Postgres's CPU.
   */
  archive?: boolean
}

export interface Processes {
  server: DevServer
  databaseUrl: string
  /** A client of the run's namespace, with the processes' data key. */
  client: Client
  dataConverter: DataConverter
  apis: Array<{ banjian: Banjian; url: string }>
  workers: Array<{ banjian: Banjian; metricsUrl: string }>
  /** The tail of every process's output, for a failure's message. */
  evidence: () => string
}

/**
 * A dev server, a fresh database and `apis` + `workers` banjian processes on them, as a city runs
 * them, all stopped at clean-up. The first API migrates the database before the others start; ready
 * once every API answers /readyz and every worker polls `readyQueue`.
 */
export async function startProcesses(options: ProcessesOptions): Promise<Processes> {
  const config = parseConfig()
  const dataDir = await mkdtemp(join(tmpdir(), 'banjian-bench-'))
  onCleanUp('data directory', () => rm(dataDir, { recursive: true, force: true }))
  const cliPath = await resolveTemporalBinary('cli', { explicitPath: config.BANJIAN_TEMPORAL_CLI, pathVar: process.env.PATH })
  const server = await startDevServer({
    cliPath, port: await freePort(), uiPort: 0, namespace: options.namespace, retentionDays: 1,
    ...(options.storeOnDisk ? { dbFilename: join(dataDir, 'temporal.db') } : {}),
  })
  onCleanUp('temporal dev server', () => server.stop())
  void server.unexpectedExit.then(({ code, signal, stderr }) => {
    console.error(`the temporal dev server exited mid-run (code ${code}, signal ${signal}); its last stderr:\n${stderr}`)
  })

  const databaseName = `bench_${randomBytes(5).toString('hex')}`
  await withDb(options.adminUrl, (c) => c.query(`CREATE DATABASE ${databaseName}`))
  onCleanUp(`database ${databaseName}`, () => withDb(options.adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`)))
  const dbUrl = new URL(options.adminUrl)
  dbUrl.pathname = `/${databaseName}`
  const databaseUrl = dbUrl.toString()

  // Every process and the run's client share one data key, made for this run.
  const dataKeys = formatDataKey(Keyring.generate().current)
  const env = childEnv({
    DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: options.namespace,
    BANJIAN_TASK_QUEUE_PREFIX: options.taskQueuePrefix, BANJIAN_DATA_DIR: dataDir, BANJIAN_ADMIN_KEY: options.adminKey,
    BANJIAN_DATA_KEYS: dataKeys, BANJIAN_RATE_LIMIT_PER_MINUTE: '0', BANJIAN_SHUTDOWN_GRACE_SECONDS: '0', LOG_LEVEL: options.logLevel ?? 'error',
    ...(options.archive === false ? { BANJIAN_ARCHIVE_INTERVAL_SECONDS: String(24 * 60 * 60) } : {}),
  })
  const apis: Processes['apis'] = []
  const workers: Processes['workers'] = []
  const evidence = () => [...apis, ...workers].map(({ banjian: b }) => `--- ${b.role} ${b.child.pid} (tail) ---\n${b.output().slice(-4000)}`).join('\n')
  const startApi = async () => {
    const port = await freePort()
    apis.push({ banjian: startBanjian('api', { ...env, BANJIAN_PORT: String(port) }), url: `http://127.0.0.1:${port}` })
  }
  await startApi()
  await untilReady(apis[0]!.url, evidence)
  for (let i = 1; i < options.apis; i++) await startApi()
  for (let i = 0; i < options.workers; i++) {
    const metrics = `127.0.0.1:${await freePort()}`
    workers.push({ banjian: startBanjian('worker', { ...env, BANJIAN_WORKER_METRICS_ADDRESS: metrics }), metricsUrl: `http://${metrics}/metrics` })
  }
  for (const { url } of apis) await untilReady(url, evidence)

  const dataConverter = dataConverterFor(new Keyring(parseDataKeys(dataKeys)))
  const client = await connectClient({ address: server.address, namespace: options.namespace }, dataConverter)
  onCleanUp('temporal client', () => client.connection.close())
  const queue = taskQueues(options.taskQueuePrefix)[options.readyQueue]
  await until(`${options.workers} workers polling ${queue}`, async () => new Set((await client.workflowService.describeTaskQueue({
    namespace: options.namespace, taskQueue: { name: queue },
  })).pollers?.map((p) => p.identity)).size, (pollers) => pollers >= options.workers, 180_000, evidence)
  return { server, databaseUrl, client, dataConverter, apis, workers, evidence }
}

/** The dev server's `temporal` process (startDevServer keeps its pid to itself): the one serving `port`. */
export async function devServerPid(port: number): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0')
      if (args.includes('start-dev') && args[args.indexOf('--port') + 1] === String(port)) return Number(entry)
    } catch {
      // Exited meanwhile.
    }
  }
  return undefined
}

// ---- memory and CPU ---------------------------------------------------------------------------

/** A field of /proc/<pid>/status in KiB, or undefined once the process is gone. */
async function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

/** Samples VmRSS of each process every RSS_SAMPLE_MS; `peaks()` also reads VmHWM, the kernel's own peak. */
export function rssSampler(pids: Record<string, number>) {
  const max: Record<string, number> = Object.fromEntries(Object.keys(pids).map((name) => [name, 0]))
  const last: Record<string, number> = { ...max }
  const sample = async () => {
    for (const [name, pid] of Object.entries(pids)) {
      last[name] = (await statusKiB(pid, 'VmRSS')) ?? 0
      max[name] = Math.max(max[name]!, last[name])
    }
  }
  const timer = setInterval(() => void sample(), RSS_SAMPLE_MS)
  return {
    /** The last sample, for a progress line: `api 205 MiB, worker 1,503 MiB…`. */
    latest: () => Object.entries(last).map(([name, kib]) => `${name} ${(kib / 1024).toFixed(0)} MiB`).join(', '),
    async peaks(): Promise<Record<string, number>> {
      clearInterval(timer)
      await sample()
      for (const [name, pid] of Object.entries(pids)) max[name] = Math.max(max[name]!, (await statusKiB(pid, 'VmHWM')) ?? 0)
      return { ...max }
    },
    stop: () => clearInterval(timer),
  }
}

/** CPU seconds (user + system) a process has used so far, or undefined once it is gone. */
async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // After the command name (which may hold spaces): field 3 (state) onwards; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return undefined
  }
}

/**
 * CPU seconds the whole machine has been busy so far, over all its cores (/proc/stat: user, nice,
 * system, irq, softirq and steal; not idle or iowait): Postgres's backends included, which come
 * and go and so cannot be read per process.
 */
export async function machineBusySeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
  return [user, nice, system, irq, softirq, steal].reduce((sum: number, v) => sum + (v ?? 0), 0) / CLOCK_TICKS
}

/** CPU seconds of each named process (and of this one, `bench`, and of the whole `machine`) over a phase: `cpu()` starts it, the answer ends it. */
export function cpuMeter(pids: Record<string, number | undefined>): () => Promise<() => Promise<Record<string, number>>> {
  const read = async () => {
    const used: Record<string, number> = {
      bench: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6, machine: await machineBusySeconds(),
    }
    for (const [name, pid] of Object.entries(pids)) if (pid) used[name] = (await cpuSeconds(pid)) ?? 0
    return used
  }
  return async () => {
    const before = await read()
    return async () => {
      const after = await read()
      return Object.fromEntries(Object.entries(after).map(([name, v]) => [name, v - (before[name] ?? 0)]))
    }
  }
}

// ---- Postgres ---------------------------------------------------------------------------------

export async function withDb<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return await work(c)
  } finally {
    await c.end()
  }
}
