import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { alive } from '../../src/infra/child-process.ts'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'

// banjian as separate processes (`bin/banjian.js start`), for the end-to-end tests that kill,
// restart or split it, and the HTTP and SQL a test drives them with.

/** How a process ended: its exit code, or the signal that ended it. */
export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export interface Banjian {
  child: ChildProcess
  exited: Promise<Exit>
  output: () => string
}

/**
 * `banjian start` with `args` (`--role api`…) in its own process group, so that clean-up reaches
 * the dev server it starts too; its last output kept.
 */
export function startBanjian(env: Record<string, string>, args: string[] = []): Banjian {
  const child = spawn(process.execPath, ['bin/banjian.js', 'start', ...args], { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  return { child, exited, output: () => output }
}

/** Until the API at `baseUrl` answers /readyz 200; fails with the process's output if it exits or takes too long. */
export async function waitUntilReady(b: Banjian, baseUrl: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void b.exited.then(() => {
    exited = true
  })
  while (Date.now() < deadline) {
    if (exited) throw new Error(`banjian exited during start-up:\n${b.output()}`)
    try {
      if ((await fetch(`${baseUrl}/readyz`)).status === 200) return
    } catch {
      // not listening yet
    }
    await sleep(250)
  }
  throw new Error(`banjian did not become ready within ${timeoutMs} ms:\n${b.output()}`)
}

/** Live (not zombie) processes of the process group, each as `pid pgid stat args`. */
export function liveInGroup(pgid: number): string[] {
  if (!alive(-pgid)) return []
  return execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args=']).toString().split('\n').map((line) => line.trim())
    .filter((line) => line.split(/\s+/)[1] === String(pgid) && !line.split(/\s+/)[2]?.startsWith('Z'))
}

/** SIGKILL to the whole process group (the dev server a process started included); resolves once it has exited. */
export async function kill(b: Banjian | undefined): Promise<void> {
  if (!b?.child.pid) return
  try {
    process.kill(-b.child.pid, 'SIGKILL')
  } catch {
    return // gone already
  }
  await b.exited
}

/** One request to the API at `baseUrl` with `key`: a body as JSON, or a string as it is; the answer's body parsed when there is one. */
export async function http(baseUrl: string, key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined }
}

export async function withAdmin<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return await work(c)
  } finally {
    await c.end()
  }
}

/** A database of its own beside `adminUrl`'s, for processes that prepare it themselves; `drop` removes it, connections and all. */
export async function freshDatabase(adminUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`))
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      await withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    },
  }
}

/** Runs `work` over `items` with at most `limit` at a time; stops taking new items once `stop()` is true. */
export async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length && !stop()) await work(items[next++]!)
  }))
}

/** The environment a user would give banjian: this process's, without anything of banjian's, Temporal's or vitest's. */
export function userEnvironment(): Record<string, string> {
  const inherited = Object.entries(process.env).filter(([k]) => !/^(BANJIAN_|TEMPORAL_|DATABASE_URL$|TEST_DATABASE_URL$|NODE_OPTIONS$|NODE_ENV$|VITEST)/.test(k))
  return Object.fromEntries(inherited.filter((e): e is [string, string] => e[1] !== undefined))
}
