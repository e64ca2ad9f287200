import { execFile, spawn } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.ts'
import { alive, stopChild } from './child-process.ts'

const run = promisify(execFile)

export interface DevServerOptions {
  cliPath: string
  /** SQLite file; omitted means in-memory (tests). */
  dbFilename?: string
  ip?: string
  port: number
  /** 0 = headless. */
  uiPort: number
  namespace: string
  retentionDays: number
  extraDynamicConfig?: Record<string, unknown>
  logLevel?: 'debug' | 'info' | 'warn' | 'error'
  startupTimeoutMs?: number
}

export interface DevServer {
  address: string
  namespace: string
  uiUrl: string | undefined
  /** The `temporal` process. */
  pid: number | undefined
  /**
   * Settles if the server exits without being stopped (a crash, a kill), with how it ended and the
   * end of what it wrote to stderr; never otherwise. Every case waits meanwhile: say so, loudly.
   */
  unexpectedExit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
  stop(): Promise<void>
}

/**
 * Starts `temporal server start-dev` as a child process and waits until it serves the namespace.
 * A dev server recorded as running on `dbFilename` is taken for stale and stopped: the caller
 * holds the file's directory (`lockDataDir`), or the file is its own scratch.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1'
  const address = `${ip}:${options.port}`
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port),
    '--namespace', options.namespace, '--log-level', options.logLevel ?? 'warn']
  if (options.dbFilename) {
    await mkdir(dirname(options.dbFilename), { recursive: true })
    args.push('--db-filename', options.dbFilename,
      '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL')
  }
  if (options.uiPort === 0) args.push('--headless')
  else args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch')
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`)
  const dynamic = { 'frontend.enableExecuteMultiOperation': true, ...options.extraDynamicConfig }
  for (const [key, value] of Object.entries(dynamic)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`)

  const pidFile = options.dbFilename ? `${options.dbFilename}.pid` : undefined
  if (pidFile) await stopStale(pidFile)
  // Its own process group: a Ctrl-C in the terminal must not stop Temporal before the worker has
  // drained; we stop it last, ourselves.
  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
  if (pidFile && child.pid) await writeFile(pidFile, String(child.pid))
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000)
  })
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  let stopping = false
  const unexpectedExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolveExit) => {
    child.once('exit', (code, signal) => {
      if (!stopping) resolveExit({ code, signal, stderr })
    })
  })
  const stop = () => {
    stopping = true
    return stopChild(child, exited, { signal: 'SIGTERM', force: 'SIGKILL', graceMs: 10_000 })
  }
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)

  try {
    await waitUntilServing(options, address, exited, () => stderr)
  } catch (err) {
    await stop()
    throw err
  }
  return {
    address,
    namespace: options.namespace,
    uiUrl: options.uiPort === 0 ? undefined : `http://${ip}:${options.uiPort}`,
    pid: child.pid,
    unexpectedExit,
    async stop() {
      process.removeListener('exit', killOnExit)
      await stop()
      if (pidFile) await rm(pidFile, { force: true })
    },
  }
}

async function waitUntilServing(
  options: DevServerOptions,
  address: string,
  exited: Promise<number | null>,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + (options.startupTimeoutMs ?? 60_000)
  let done = false
  void exited.then(() => {
    done = true
  })
  let lastError = ''
  while (Date.now() < deadline) {
    if (done) throw new Error(`temporal dev server exited during start-up:\n${stderr()}`)
    if (await portAnswers(options.ip ?? '127.0.0.1', options.port)) {
      try {
        // Setting the retention also proves the frontend serves our namespace.
        await run(options.cliPath, ['operator', 'namespace', 'update', '--address', address,
          '--namespace', options.namespace, '--retention', `${options.retentionDays * 24}h`])
        return
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err)
      }
    }
    await sleep(200)
  }
  throw new Error(`temporal dev server did not become ready at ${address}: ${lastError}\n${stderr()}`)
}

function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = connect({ host, port })
    socket.once('connect', () => {
      socket.destroy()
      resolvePort(true)
    })
    socket.once('error', () => resolvePort(false))
  })
}

/** A dev server left running by a process that was killed (SIGKILL) holds the port and the file. */
async function stopStale(pidFile: string): Promise<void> {
  let pid: number
  try {
    pid = Number(await readFile(pidFile, 'utf8'))
  } catch {
    return
  }
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8')
    if (cmdline.includes('start-dev')) {
      process.kill(pid, 'SIGTERM')
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100)
      if (alive(pid)) process.kill(pid, 'SIGKILL')
    }
  } catch {
    // Not running any more (or not ours): nothing to stop.
  }
  await rm(pidFile, { force: true })
}
