import { Runtime, type RuntimeOptions, type Worker } from '@temporalio/worker'
import { join, resolve } from 'node:path'
import pino, { type Logger } from 'pino'
import { buildApp, type App } from './api/app.ts'
import { createCaseGateway } from './api/case-gateway.ts'
import { startArchiveLoop } from './audit/history-archive.ts'
import { type Config, usesExternalTemporal } from './config.ts'
import { bootstrapAccess } from './db/bootstrap.ts'
import { seedOfficialCalendar } from './db/calendar.ts'
import { openDatabase, type Database } from './db/client.ts'
import { applyMigrations } from './db/migrate.ts'
import { startCalendarPropagation } from './infra/calendar-propagation.ts'
import { startDevServer } from './infra/dev-server.ts'
import { embeddedPgUrl, startEmbeddedPg } from './infra/embedded-pg.ts'
import { type InstanceLock, InstanceRunning, lockDataDir } from './infra/instance-lock.ts'
import { resolveTemporalBinary } from './infra/temporal-binaries.ts'
import { connectClient, createWorkers, externalTarget, taskQueues, type TemporalTarget } from './infra/temporal.ts'

export type Role = 'all' | 'api' | 'worker'

export interface RunningSystem {
  url: string | undefined
  target: TemporalTarget
  databaseUrl: string
  /** Stops everything in order: API, workers, connections, then the embedded servers. */
  stop(): Promise<void>
}

const EMBEDDED_NAMESPACE = 'banjian'

/** Starts banjian: Postgres and Temporal (embedded unless configured), migrations, worker and API. */
export async function startSystem(config: Config, options: { role: Role; logger?: Logger; pathVar?: string }): Promise<RunningSystem> {
  const log = options.logger ?? pino({ level: config.LOG_LEVEL })
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
    if (!config.DATABASE_URL || !usesExternalTemporal(config)) {
      lock = await lockDataDir(dataDir)
      stack.push({ name: 'data directory lock', stop: lock.release })
    }
    let databaseUrl = config.DATABASE_URL
    if (!databaseUrl) {
      const embedded = await startEmbeddedDatabase(config, log)
      stack.push({ name: 'embedded postgres', stop: embedded.stop })
      databaseUrl = embedded.url
    }
    const database = openDatabase({ url: databaseUrl })
    stack.push({ name: 'database pool', stop: database.close })
    await prepareDatabase(database, config, log)

    let target: TemporalTarget
    if (usesExternalTemporal(config)) {
      target = externalTarget(config.temporalEnv)
    } else {
      const cliPath = await resolveTemporalBinary('cli', { explicitPath: config.BANJIAN_TEMPORAL_CLI, pathVar: options.pathVar })
      const server = await startDevServer({
        cliPath, dbFilename: join(dataDir, 'temporal.sqlite'), port: config.BANJIAN_TEMPORAL_PORT,
        uiPort: config.BANJIAN_TEMPORAL_UI_PORT, namespace: EMBEDDED_NAMESPACE, retentionDays: config.BANJIAN_RETENTION_DAYS,
      })
      stack.push({ name: 'temporal dev server', stop: server.stop })
      target = { address: server.address, namespace: server.namespace }
      log.info({ address: server.address, ui: server.uiUrl ?? 'headless' }, 'temporal dev server started')
    }
    const queues = taskQueues(config.BANJIAN_TASK_QUEUE_PREFIX)
    const client = await connectClient(target)
    stack.push({ name: 'temporal client', stop: () => client.connection.close() })

    if (options.role !== 'api') {
      const { workers, connection } = await createWorkers({ target, queues, deps: { database } })
      stack.push({ name: 'worker connection', stop: () => connection.close() })
      const running = workers.map((w) => w.run())
      stack.push({ name: 'workers', stop: () => shutdownWorkers(workers, running) })
      log.info({ queues: Object.values(queues) }, 'workers running')
      // Closed runs' histories into Postgres (audit), before the cluster's retention deletes them.
      const archiver = startArchiveLoop({ client, database, intervalMs: config.BANJIAN_ARCHIVE_INTERVAL_SECONDS * 1000, log })
      stack.push({ name: 'history archiver', stop: archiver.stop })
    }

    let url: string | undefined
    if (options.role !== 'worker') {
      const app: App = await buildApp({ database, gateway: createCaseGateway(client, queues) }, { logger: log })
      stack.push({ name: 'http api', stop: () => app.close() })
      url = await app.listen({ host: config.BANJIAN_HOST, port: config.BANJIAN_PORT })
      lock?.describe({ url })
      log.info({ url, docs: `${url}/docs` }, 'banjian API listening')
    }
    return { url, target, databaseUrl, stop: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
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
export async function openCommandDatabase(config: Config, log: Logger): Promise<{ database: Database; close(): Promise<void> }> {
  let url = config.DATABASE_URL
  let stopServer: (() => Promise<void>) | undefined
  if (!url) ({ url, stop: stopServer } = await embeddedForCommand(config, log))
  const database = openDatabase({ url, max: 4 })
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
export async function propagateCalendarFromCommand(config: Config, version: number): Promise<void> {
  const client = await connectClient(commandTemporalTarget(config), { connectTimeout: '5 seconds' })
  try {
    await startCalendarPropagation(client, taskQueues(config.BANJIAN_TASK_QUEUE_PREFIX).calendar, version)
  } finally {
    await client.connection.close()
  }
}

/** Migrations, the official calendar and the first administrator key. */
export async function prepareDatabase(database: Database, config: Config, log: Logger): Promise<void> {
  await applyMigrations(database)
  await seedOfficialCalendar(database.db)
  const { generatedKey } = await bootstrapAccess(database.db, config.BANJIAN_ADMIN_KEY)
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
