import type { Client } from '@temporalio/client'
import type { DataConverter } from '@temporalio/common'
import { type NativeConnection, Runtime, type RuntimeOptions, type Worker, type WorkerOptions } from '@temporalio/worker'
import { join, resolve } from 'node:path'
import pino, { type Logger } from 'pino'
import { createLoggingSender, type NotificationSender, startNotificationDispatcher } from './activities/notifications.ts'
import { buildApp, drainAndClose, type App } from './api/app.ts'
import { createCaseGateway } from './api/case-gateway.ts'
import { startArchiveLoop } from './audit/history-archive.ts'
import { codecCorsOrigins, type Config, ConfigError, usesExternalTemporal } from './config.ts'
import { openDatabase, type Database } from './db/client.ts'
import { prepareSchema } from './db/prepare.ts'
import { startCalendarPropagation } from './infra/calendar-propagation.ts'
import { dataKeysInDir, Keyring, parseDataKeys } from './infra/data-keys.ts'
import { type DevServerOptions, startDevServer } from './infra/dev-server.ts'
import { embeddedPgUrl, startEmbeddedPg } from './infra/embedded-pg.ts'
import { type InstanceLock, InstanceRunning, lockDataDir } from './infra/instance-lock.ts'
import { dataConverterFor, PayloadEncryption } from './infra/payload-encryption.ts'
import { resolveTemporalBinary } from './infra/temporal-binaries.ts'
import {
  connectClient, createWorkers, externalTarget, taskQueues, type TaskQueues, type TemporalTarget,
} from './infra/temporal.ts'
import type { PaymentAdapter } from './payments/adapter.ts'
import { createHttpTreasury } from './payments/http-treasury.ts'

export type ProcessRole = 'all' | 'api' | 'worker'

/** An in-memory dev server of the system's own (benchmarks, scripts), stopped with it. */
export interface OwnDevServer {
  devServer: Pick<DevServerOptions, 'port' | 'namespace' | 'retentionDays' | 'extraDynamicConfig'>
}

/** What tests, benchmarks and scripts swap; everything else comes from the config. */
export interface AssembleOverrides {
  /** Which parts run in this process: the API and the workers (default), or one of them. */
  role?: ProcessRole
  /** The system's logger, also the API's; `false` logs nothing. Default: pino at LOG_LEVEL. */
  logger?: Logger | false
  /** Where to look for the `temporal` CLI when BANJIAN_TEMPORAL_CLI does not say. */
  pathVar?: string
  /** An open, prepared database (a test's or a script's schema), used as is and left open. Default: DATABASE_URL, else the embedded Postgres. */
  database?: Database
  /** Default: the cluster the TEMPORAL_* settings name, else the embedded dev server in the data directory. */
  temporal?: TemporalTarget | OwnDevServer
  /** Default: BANJIAN_TASK_QUEUE_PREFIX. */
  taskQueuePrefix?: string
  /** A prebuilt workflow bundle (tests bundle once per run); default: bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle']
  /** Where the API listens (default BANJIAN_HOST:BANJIAN_PORT); `false`: built and ready for `inject` only. */
  listen?: { host: string; port: number } | false
  /** Archive closed runs' histories into Postgres (default, where workers run). */
  archive?: boolean
  /**
   * Where workers run, the dispatcher of notices to applicants: how it sends (default: a log line
   * per notice) and how often it looks for due ones; `false` runs none.
   */
  notifications?: false | { sender?: NotificationSender; intervalMs?: number; backoff?: { initialMs: number; maxMs: number } }
  /** Where workers pay fulfilments. Default: the treasury at BANJIAN_TREASURY_URL, else the ledger in Postgres. */
  payments?: PaymentAdapter
  /**
   * The keys Temporal's payloads are encrypted with. Default: BANJIAN_DATA_KEYS; else, with the
   * embedded dev server, its key file in the data directory; with an in-memory dev server of the
   * system's own, a key that dies with it. `false` encrypts nothing: only for recording the fixture
   * histories the replay tests read in clear.
   */
  dataKeys?: Keyring | false
}

/** The parts of a running banjian, as `assemble` built them. */
export interface RunningSystem {
  /** The API; absent where only workers run. */
  app: App | undefined
  /** Where the API listens, when it does. */
  url: string | undefined
  database: Database
  target: TemporalTarget
  queues: TaskQueues
  client: Client
  /** What the client and the workers convert payloads with (the encryption codec): more workers or clients on this system use it too. */
  dataConverter: DataConverter
  /** The workers' connection, absent where only the API runs: more workers may share it. */
  workerConnection: NativeConnection | undefined
  /** Stops everything in order: API, workers, connections, then what it started (servers, pools, the lock). */
  stop(): Promise<void>
}

const EMBEDDED_NAMESPACE = 'banjian'

/**
 * The one composition of banjian, used by `start`, tests, benchmarks and scripts: Postgres and
 * Temporal (embedded unless configured or given), migrations, workers and the API.
 */
export async function assemble(config: Config, overrides: AssembleOverrides = {}): Promise<RunningSystem> {
  const role = overrides.role ?? 'all'
  const log = overrides.logger === false ? pino({ level: 'silent' }) : overrides.logger ?? pino({ level: config.LOG_LEVEL })
  const stack: Array<{ name: string; stop: () => Promise<unknown> }> = []
  const stopAll = async () => {
    for (const { name, stop } of stack.reverse()) {
      try {
        await stop()
      } catch (err) {
        log.error({ err }, `stopping ${name} failed`)
      }
    }
    stack.length = 0
  }
  try {
    const dataDir = resolve(config.BANJIAN_DATA_DIR)
    // The embedded servers in the data directory are this process's alone: a second start there
    // would take them for stale and stop them.
    let lock: InstanceLock | undefined
    if ((!overrides.database && !config.DATABASE_URL) || (!overrides.temporal && !usesExternalTemporal(config))) {
      lock = await lockDataDir(dataDir)
      stack.push({ name: 'data directory lock', stop: lock.release })
    }
    const keyring = overrides.dataKeys ?? await systemDataKeys(config, overrides, dataDir, log)
    let database = overrides.database
    if (!database) {
      let databaseUrl = config.DATABASE_URL
      if (!databaseUrl) {
        const embedded = await startEmbeddedDatabase(config, log)
        stack.push({ name: 'embedded postgres', stop: embedded.stop })
        databaseUrl = embedded.url
      }
      // Temporal payloads left in clear (recording fixtures) still leave no personal data in clear in Postgres.
      const opened = openDatabase({ url: databaseUrl, keyring: keyring || await configuredDataKeys(config, dataDir, log) })
      stack.push({ name: 'database pool', stop: opened.close })
      await prepareDatabase(opened, config, log)
      database = opened
    }

    const target = await connectTarget(config, overrides, dataDir, log, stack)
    const dataConverter = dataConverterFor(keyring || undefined)
    const queues = taskQueues(overrides.taskQueuePrefix ?? config.BANJIAN_TASK_QUEUE_PREFIX)
    const client = await connectClient(target, dataConverter)
    stack.push({ name: 'temporal client', stop: () => client.connection.close() })

    let workerConnection: NativeConnection | undefined
    if (role !== 'api') {
      const { workers, connection } = await createWorkers({
        target, queues, dataConverter, deps: { database, payments: overrides.payments ?? treasuryOf(config) }, cachedWorkflows: config.BANJIAN_WORKFLOW_CACHE,
        ...(overrides.workflowBundle ? { workflowBundle: overrides.workflowBundle } : {}),
      })
      workerConnection = connection
      stack.push({ name: 'worker connection', stop: () => connection.close() })
      const running = workers.map((w) => w.run())
      stack.push({ name: 'workers', stop: () => shutdownWorkers(workers, running) })
      log.info({ queues: Object.values(queues) }, 'workers running')
      if (overrides.archive ?? true) {
        // Closed runs' histories into Postgres (audit), before the cluster's retention deletes them.
        const archiver = startArchiveLoop({ client, database, intervalMs: config.BANJIAN_ARCHIVE_INTERVAL_SECONDS * 1000, log })
        stack.push({ name: 'history archiver', stop: archiver.stop })
      }
      if (overrides.notifications !== false) {
        // The outbox the projection fills, sent out at least once (src/activities/notifications.ts).
        const { sender = createLoggingSender(log), intervalMs = 1_000, backoff } = overrides.notifications ?? {}
        const dispatcher = startNotificationDispatcher({ database, sender, log, intervalMs, ...(backoff ? { backoff } : {}) })
        stack.push({ name: 'notification dispatcher', stop: dispatcher.stop })
      }
    }

    let app: App | undefined
    let url: string | undefined
    if (role !== 'worker') {
      const codec = keyring ? { codec: new PayloadEncryption(keyring), corsOrigins: codecCorsOrigins(config) } : undefined
      const built = await buildApp({ database, gateway: createCaseGateway(client, queues), ...(codec ? { codec } : {}) },
        { ...(overrides.logger === false ? {} : { logger: log }), rateLimitPerMinute: config.BANJIAN_RATE_LIMIT_PER_MINUTE })
      app = built
      stack.push({ name: 'http api', stop: () => drainAndClose(built, config.BANJIAN_SHUTDOWN_GRACE_SECONDS * 1000) })
      const listen = overrides.listen ?? { host: config.BANJIAN_HOST, port: config.BANJIAN_PORT }
      if (listen) {
        url = await built.listen(listen)
        lock?.describe({ url })
        log.info({ url, docs: `${url}/docs` }, 'banjian API listening')
      } else {
        await built.ready()
      }
    }
    return { app, url, database, target, queues, client, dataConverter, workerConnection, stop: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}

/** The configured treasury; none: the activities' default, the ledger in Postgres. */
function treasuryOf(config: Config): PaymentAdapter | undefined {
  const baseUrl = config.BANJIAN_TREASURY_URL
  return baseUrl ? createHttpTreasury({ baseUrl, token: config.BANJIAN_TREASURY_TOKEN }) : undefined
}

/** The Temporal to work on: as given, the configured cluster, or a dev server started here. */
async function connectTarget(config: Config, overrides: AssembleOverrides, dataDir: string, log: Logger,
  stack: Array<{ name: string; stop: () => Promise<unknown> }>): Promise<TemporalTarget> {
  const given = overrides.temporal
  if (given && !('devServer' in given)) return given
  if (!given && usesExternalTemporal(config)) return externalTarget(config.temporalEnv)
  const cliPath = await resolveTemporalBinary('cli', { explicitPath: config.BANJIAN_TEMPORAL_CLI, pathVar: overrides.pathVar })
  const server = await startDevServer(given
    ? { cliPath, uiPort: 0, ...given.devServer }
    : {
      cliPath, dbFilename: join(dataDir, 'temporal.sqlite'), port: config.BANJIAN_TEMPORAL_PORT,
      uiPort: config.BANJIAN_TEMPORAL_UI_PORT, namespace: EMBEDDED_NAMESPACE, retentionDays: config.BANJIAN_RETENTION_DAYS,
    })
  stack.push({ name: 'temporal dev server', stop: server.stop })
  void server.unexpectedExit.then(({ code, signal, stderr }) => {
    log.error({ code, signal, stderr }, 'the temporal dev server exited: no case moves until banjian is started again')
  })
  log.info({ address: server.address, ui: server.uiUrl ?? 'headless' }, 'temporal dev server started')
  return { address: server.address, namespace: server.namespace }
}

/** The data keys of `assemble` when none are given (see AssembleOverrides.dataKeys). */
async function systemDataKeys(config: Config, overrides: AssembleOverrides, dataDir: string, log: Logger): Promise<Keyring> {
  const given = overrides.temporal
  // An in-memory dev server forgets its histories when it stops: a key kept any longer guards nothing.
  if (given && 'devServer' in given && config.BANJIAN_DATA_KEYS === undefined) return Keyring.generate()
  if (given && !('devServer' in given) && config.BANJIAN_DATA_KEYS === undefined) {
    throw new ConfigError(['BANJIAN_DATA_KEYS: required with a Temporal cluster given to assemble (pass dataKeys)'])
  }
  return configuredDataKeys(config, dataDir, log)
}

/**
 * BANJIAN_DATA_KEYS; else, where Temporal is the embedded dev server, its key file in the data
 * directory (created on first start). A cluster of its own needs configured keys: a key made up on
 * one machine would leave every other process unable to read the cases.
 */
export async function configuredDataKeys(config: Config, dataDir: string, log: Pick<Logger, 'warn'>): Promise<Keyring> {
  if (config.BANJIAN_DATA_KEYS !== undefined) return new Keyring(parseDataKeys(config.BANJIAN_DATA_KEYS))
  if (usesExternalTemporal(config)) {
    throw new ConfigError(['BANJIAN_DATA_KEYS: required with an external Temporal cluster, the same in every banjian process '
      + '(id:base64 of 32 random bytes, e.g. k1:$(openssl rand -base64 32))'])
  }
  const { keys, created, path } = await dataKeysInDir(dataDir)
  if (created) log.warn({ path }, 'generated the data key that encrypts personal data in Temporal; back it up with the data directory')
  return new Keyring(keys)
}

/** The embedded Postgres under `<data dir>/pg`, started (initialised on first use) for this process. */
async function startEmbeddedDatabase(config: Config, log: Logger): Promise<{ url: string; stop: () => Promise<void> }> {
  const dataDir = join(resolve(config.BANJIAN_DATA_DIR), 'pg')
  const embedded = await startEmbeddedPg({
    dataDir, port: config.BANJIAN_EMBEDDED_PG_PORT, database: 'banjian',
    log: (m) => log.debug({ component: 'postgres' }, m.trim()),
  })
  log.info({ dataDir }, 'embedded postgres started')
  return embedded
}

/**
 * The database a one-off command (`audit verify`, `keys …`) works on: DATABASE_URL; else the
 * embedded Postgres of the `start` running on the data directory; else that one started for the
 * command (holding the data directory meanwhile) and stopped after it.
 */
export async function openCommandDatabase(config: Config, log: Logger, options: { dataKeys: boolean })
  : Promise<{ database: Database; close(): Promise<void> }> {
  // Only commands that read or write personal data need the keys configured (or create the embedded default's).
  const keyring = options.dataKeys ? await configuredDataKeys(config, resolve(config.BANJIAN_DATA_DIR), log) : null
  let url = config.DATABASE_URL
  let stopServer: (() => Promise<void>) | undefined
  if (!url) ({ url, stop: stopServer } = await embeddedForCommand(config, log))
  const database = openDatabase({ url, max: 4, keyring })
  return {
    database,
    async close() {
      await database.close()
      await stopServer?.()
    },
  }
}

async function embeddedForCommand(config: Config, log: Logger): Promise<{ url: string; stop?: () => Promise<void> }> {
  let lock: InstanceLock
  try {
    lock = await lockDataDir(config.BANJIAN_DATA_DIR)
  } catch (err) {
    if (!(err instanceof InstanceRunning)) throw err
    return { url: embeddedPgUrl(config.BANJIAN_EMBEDDED_PG_PORT, 'banjian') }
  }
  try {
    const embedded = await startEmbeddedDatabase(config, log)
    return {
      url: embedded.url,
      async stop() {
        await embedded.stop()
        await lock.release()
      },
    }
  } catch (err) {
    await lock.release()
    throw err
  }
}

/** The Temporal a one-off command works on, as `start` uses it: the configured cluster, else the embedded dev server of a running `start`. */
export function commandTemporalTarget(config: Config): TemporalTarget {
  return usesExternalTemporal(config)
    ? externalTarget(config.temporalEnv)
    : { address: `127.0.0.1:${config.BANJIAN_TEMPORAL_PORT}`, namespace: EMBEDDED_NAMESPACE }
}

/** Starts a calendar version's propagation from a one-off command, on commandTemporalTarget. */
export async function propagateCalendarFromCommand(config: Config, version: number, log: Pick<Logger, 'warn'>): Promise<string> {
  const keyring = await configuredDataKeys(config, resolve(config.BANJIAN_DATA_DIR), log)
  const client = await connectClient(commandTemporalTarget(config), dataConverterFor(keyring), { connectTimeout: '5 seconds' })
  try {
    return await startCalendarPropagation(client, taskQueues(config.BANJIAN_TASK_QUEUE_PREFIX).calendar, version)
  } finally {
    await client.connection.close()
  }
}

/** Migrations, the official calendar and the first administrator key. */
export async function prepareDatabase(database: Database, config: Config, log: Logger): Promise<void> {
  const { generatedKey } = await prepareSchema(database, { adminKey: config.BANJIAN_ADMIN_KEY })
  if (generatedKey) {
    // Printed once: only its hash is kept.
    process.stdout.write(`\nAdministrator API key (shown once, keep it): ${generatedKey}\n\n`)
    log.warn('generated the first administrator key; set BANJIAN_ADMIN_KEY to choose your own')
  }
}

async function shutdownWorkers(workers: Worker[], running: Array<Promise<void>>): Promise<void> {
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown()
  await Promise.allSettled(running)
}

/** The Temporal Runtime would otherwise stop workers on its own at SIGINT, before the API. */
export function installRuntime(options: Omit<RuntimeOptions, 'shutdownSignals'> = {}): void {
  Runtime.install({ ...options, shutdownSignals: [] })
}

/**
 * The SDK's own Prometheus exporter, for a process that runs workers, when
 * BANJIAN_WORKER_METRICS_ADDRESS says where: counters with `_total`, durations in seconds with `_seconds`, as
 * Prometheus names them and as banjian's own `/metrics` does.
 */
export function workerMetrics(config: Pick<Config, 'BANJIAN_WORKER_METRICS_ADDRESS'>, role: ProcessRole): Omit<RuntimeOptions, 'shutdownSignals'> {
  const bindAddress = config.BANJIAN_WORKER_METRICS_ADDRESS
  if (!bindAddress || role === 'api') return {}
  return { telemetryOptions: { metrics: { prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } } } }
}
