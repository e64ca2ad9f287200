import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { connect } from 'node:net'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.ts'

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
  stop(): Promise<void>
}

/** Starts `temporal server start-dev` as a child process and waits until it serves the namespace. */
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

  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000)
  })
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  const stop = () => stopChild(child, exited)
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
    async stop() {
      process.removeListener('exit', killOnExit)
      await stop()
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

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = sleep(10_000).then(() => 'timeout' as const)
  if ((await Promise.race([exited, timer])) === 'timeout') {
    child.kill('SIGKILL')
    await exited
  }
}
