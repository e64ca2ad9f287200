import { fileURLToPath } from 'node:url'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import { quoteIdent, type Database } from './client.ts'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url))

/** Applies pending migrations; throws (never logs-and-continues) when one fails. */
export async function applyMigrations(database: Database, schemaName = 'public'): Promise<void> {
  await database.pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schemaName)}`)
  await migrate(database.db, {
    migrationsFolder: MIGRATIONS_FOLDER,
    migrationsSchema: schemaName === 'public' ? 'drizzle' : schemaName,
  })
}
