import type { Client } from '@temporalio/client'
import { DefaultLogger, Runtime } from '@temporalio/worker'
import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import { buildApp, type App, type AppOptions } from '../../src/api/app.ts'
import { refusingGateway } from '../../src/api/case-gateway.ts'
import { parseConfig } from '../../src/config.ts'
import { openScratchDatabase, type ScratchDatabase } from '../../src/db/prepare.ts'
import { Keyring, parseDataKeys } from '../../src/infra/data-keys.ts'
import { dataConverterFor } from '../../src/infra/payload-encryption.ts'
import type { TaskQueues, TemporalTarget } from '../../src/infra/temporal.ts'
import { type AssembleOverrides, assemble } from '../../src/system.ts'

export const ADMIN_KEY = 'test-admin-key-0123456789'

/**
 * The data key every test encrypts Temporal's payloads with (BANJIAN_DATA_KEYS for the banjian
 * processes tests start): one fixed key, so a test's client opens what another process sealed.
 */
export const TEST_DATA_KEYS = `test1:${Buffer.alloc(32, 'banjian test data key').toString('base64')}`
export const testKeyring = new Keyring(parseDataKeys(TEST_DATA_KEYS))
/** What the test systems' clients and workers convert payloads with. */
export const testDataConverter = dataConverterFor(testKeyring)

let runtimeInstalled = false
function quietRuntime(): void {
  if (runtimeInstalled) return
  runtimeInstalled = true
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] })
}

export const uniqueName = (prefix: string) => `${prefix}${randomBytes(5).toString('hex')}`

export type TestDatabase = ScratchDatabase

/** A fresh schema on the test Postgres, migrated and seeded, for one test file. */
export function createTestDatabase(): Promise<TestDatabase> {
  return openScratchDatabase({ url: inject('databaseUrl'), schemaName: uniqueName('t_'), adminKey: ADMIN_KEY, max: 8 })
}

/** The API on a fresh schema, with a gateway that refuses every Temporal call (`why` says so). */
export async function startAppWithoutTemporal(why: string, options: AppOptions = {}): Promise<{ app: App; db: TestDatabase; stop(): Promise<void> }> {
  const db = await createTestDatabase()
  const app = await buildApp({ database: db.database, gateway: refusingGateway(why) }, options)
  await app.ready()
  return {
    app,
    db,
    async stop() {
      await app.close()
      await db.drop()
    },
  }
}

export const testTarget = (): TemporalTarget => ({ address: inject('temporalAddress'), namespace: inject('temporalNamespace') })

export interface TestSystem {
  app: App
  client: Client
  queues: TaskQueues
  db: TestDatabase
  dataConverter: typeof testDataConverter
  stop(): Promise<void>
}

/**
 * Pins a test schema's calendar to "published through `lastYear`": later years are removed (no
 * notice has come out for them) and a year up to it that the seed lacks is published as
 * Monday–Friday, so that which deadlines are provisional does not depend on the years the official
 * data covers. Call it before the app first reads the calendar.
 */
export async function pinCalendarThrough(db: TestDatabase, lastYear: number): Promise<void> {
  await db.database.pool.query('DELETE FROM calendar_years WHERE year > $1', [lastYear])
  await db.database.pool.query(`INSERT INTO calendar_years (year, published, days, version, source)
    SELECT year, true, '[]'::jsonb, 1, 'test: Monday to Friday'
    FROM generate_series((SELECT min(year) FROM calendar_years), $1::int) AS year
    ON CONFLICT (year) DO NOTHING`, [lastYear])
}

export interface TestSystemOptions {
  /** Pin the calendar (see pinCalendarThrough) before the app starts. */
  calendarPublishedThrough?: number
  /** The notice dispatcher's sender and pace (default: the logging sender, every second). */
  notifications?: AssembleOverrides['notifications']
}

/** The API and a worker on their own task queues, against the run's dev server and a fresh schema. */
export async function startTestSystem(options: TestSystemOptions = {}): Promise<TestSystem> {
  quietRuntime()
  const db = await createTestDatabase()
  try {
    if (options.calendarPublishedThrough !== undefined) await pinCalendarThrough(db, options.calendarPublishedThrough)
    // Stopped at once: no load balancer waits on a test's readiness.
    const system = await assemble(parseConfig({ BANJIAN_SHUTDOWN_GRACE_SECONDS: '0' }), {
      logger: false, database: db.database, temporal: testTarget(), taskQueuePrefix: uniqueName('q'),
      workflowBundle: { codePath: inject('workflowBundlePath') }, listen: false, archive: false, dataKeys: testKeyring,
      ...(options.notifications !== undefined ? { notifications: options.notifications } : {}),
    })
    return {
      app: system.app!, client: system.client, queues: system.queues, db, dataConverter: system.dataConverter,
      async stop() {
        await system.stop()
        await db.drop()
      },
    }
  } catch (err) {
    await db.drop()
    throw err
  }
}
