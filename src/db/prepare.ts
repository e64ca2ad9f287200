import { Keyring } from '../infra/data-keys.ts'
import { bootstrapAccess } from './bootstrap.ts'
import { seedOfficialCalendar } from './calendar.ts'
import { openDatabase, quoteIdent, type Database } from './client.ts'
import { applyMigrations } from './migrate.ts'

/**
 * What a database needs before anything runs on it: the migrations (into `schemaName`, default
 * `public`), the official calendar and the first administrator key. Returns a key it generated.
 */
export async function prepareSchema(database: Database, options: { schemaName?: string; adminKey?: string | undefined } = {})
  : Promise<{ generatedKey?: string }> {
  // Processes started together (two APIs and two workers on one database) prepare it one after
  // the other: the first migrates and seeds, the others find it done. A session lock on a
  // connection of its own, held while the pool's connections do the work.
  const lock = await database.pool.connect()
  const key = `banjian:prepare:${options.schemaName ?? 'public'}`
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [key])
    await applyMigrations(database, options.schemaName)
    await seedOfficialCalendar(database.db)
    return await bootstrapAccess(database.db, options.adminKey)
  } finally {
    await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined)
    lock.release()
  }
}

export interface ScratchDatabase {
  database: Database
  schemaName: string
  /** Drops the schema and closes the pool. */
  drop(): Promise<void>
}

/**
 * A schema of its own on `url`, prepared, for one test file, benchmark or recording. Its personal
 * fields are sealed under `keyring`, by default a key that dies with the schema.
 */
export async function openScratchDatabase(options: { url: string; schemaName: string; adminKey: string; max?: number; keyring?: Keyring })
  : Promise<ScratchDatabase> {
  const { schemaName } = options
  const database = openDatabase({
    url: options.url, schemaName, keyring: options.keyring ?? Keyring.generate(), ...(options.max ? { max: options.max } : {}),
  })
  const drop = async () => {
    try {
      await database.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schemaName)} CASCADE`)
    } finally {
      await database.close()
    }
  }
  try {
    await prepareSchema(database, { schemaName, adminKey: options.adminKey })
  } catch (err) {
    await drop()
    throw err
  }
  return { database, schemaName, drop }
}
