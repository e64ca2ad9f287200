import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import * as schema from './schema.ts'

export type Db = NodePgDatabase<typeof schema>
/** The handle inside `db.transaction(...)`: the same queries, in that transaction. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

export interface Database {
  db: Db
  pool: pg.Pool
  close(): Promise<void>
}

export interface DatabaseOptions {
  url: string
  /** Postgres schema to work in (tests give each file its own); default `public`. */
  schemaName?: string
  max?: number
}

export function openDatabase(options: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    ...(options.schemaName ? { options: `-c search_path=${quoteIdent(options.schemaName)}` } : {}),
  })
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined)
  const db = drizzle(pool, { schema })
  return { db, pool, close: () => pool.end() }
}

export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe schema name: ${name}`)
  return `"${name}"`
}
