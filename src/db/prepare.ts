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
  await applyMigrations(database, options.schemaName)
  await seedOfficialCalendar(database.db)
  return bootstrapAccess(database.db, options.adminKey)
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
