import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import type { Keyring } from '../infra/data-keys.ts'
import { PersonalData } from './personal-data.ts'
import * as schema from './schema.ts'

export type Db = NodePgDatabase<typeof schema>
/** The handle inside `db.transaction(...)`: the same queries, in that transaction. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

export interface Database {
  db: Db
  pool: pg.Pool
  /** How identity and phone numbers are sealed in this database's rows: whoever reads or writes them holds the keys. */
  personal: PersonalData
  close(): Promise<void>
}

export interface DatabaseOptions {
  url: string
  /**
   * The data keys personal fields are sealed under (BANJIAN_DATA_KEYS, or the embedded default's key
   * file); `null` where the handle's work touches no personal data (see PersonalData).
   */
  keyring: Keyring | null
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
  // A client that errors (the server restarted, an operator ended its session) must not crash the
  // process: idle, the pool replaces it; checked out between two queries (a transaction awaiting
  // the code), the pool is no longer listening and Node would throw the unhandled 'error' event.
  // That work's next query fails instead (its activity or request is retried), and the broken
  // client is not reused.
  pool.on('error', () => undefined)
  pool.on('connect', (client) => client.on('error', () => undefined))
  const db = drizzle(pool, { schema })
  return { db, pool, personal: new PersonalData(options.keyring), close: () => pool.end() }
}

export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe schema name: ${name}`)
  return `"${name}"`
}
