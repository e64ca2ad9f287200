import { Client } from '@temporalio/client'
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker'
import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import { buildApp, type App } from '../../src/api/app.ts'
import { createCaseGateway, refusingGateway } from '../../src/api/case-gateway.ts'
import { bootstrapAccess } from '../../src/db/bootstrap.ts'
import { seedOfficialCalendar } from '../../src/db/calendar.ts'
import { openDatabase, quoteIdent, type Database } from '../../src/db/client.ts'
import { applyMigrations } from '../../src/db/migrate.ts'
import { connectClient, createWorkers, taskQueues, type TaskQueues, type TemporalTarget } from '../../src/infra/temporal.ts'

export const ADMIN_KEY = 'test-admin-key-0123456789'

let runtimeInstalled = false
function quietRuntime(): void {
  if (runtimeInstalled) return
  runtimeInstalled = true
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] })
}

export const uniqueName = (prefix: string) => `${prefix}${randomBytes(5).toString('hex')}`

export interface TestDatabase {
  database: Database
  schemaName: string
  drop(): Promise<void>
}

/** A fresh schema on the test Postgres, migrated and seeded, for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const schemaName = uniqueName('t_')
  const database = openDatabase({ url: inject('databaseUrl'), schemaName, max: 8 })
  await applyMigrations(database, schemaName)
  await seedOfficialCalendar(database.db)
  await bootstrapAccess(database.db, ADMIN_KEY)
  return {
    database,
    schemaName,
    async drop() {
      await database.pool.query(`DROP SCHEMA ${quoteIdent(schemaName)} CASCADE`)
      await database.close()
    },
  }
}

/** The API on a fresh schema, with a gateway that refuses every Temporal call (`why` says so). */
export async function startAppWithoutTemporal(why: string): Promise<{ app: App; db: TestDatabase; stop(): Promise<void> }> {
  const db = await createTestDatabase()
  const app = await buildApp({ database: db.database, gateway: refusingGateway(why) })
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
}

/** The API and a worker on their own task queues, against the run's dev server and a fresh schema. */
export async function startTestSystem(options: TestSystemOptions = {}): Promise<TestSystem> {
  quietRuntime()
  const db = await createTestDatabase()
  if (options.calendarPublishedThrough !== undefined) await pinCalendarThrough(db, options.calendarPublishedThrough)
  const target = testTarget()
  const queues = taskQueues(uniqueName('q'))
  const { workers, connection } = await createWorkers({
    target, queues, deps: { database: db.database }, workflowBundle: { codePath: inject('workflowBundlePath') },
  })
  const running = workers.map((w: Worker) => w.run())
  const client = await connectClient(target)
  const app = await buildApp({ database: db.database, gateway: createCaseGateway(client, queues) })
  await app.ready()
  return {
    app, client, queues, db,
    async stop() {
      await app.close()
      for (const w of workers) w.shutdown()
      await Promise.allSettled(running)
      await connection.close()
      await client.connection.close()
      await db.drop()
    },
  }
}
