import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { alive } from '../../src/infra/child-process.ts'
import { freePort } from '../../src/infra/ports.ts'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'
import { type Banjian, startBanjian, userEnvironment, waitUntilReady } from '../support/processes.ts'

// `npm start` twice on one data directory, as a user does it: nothing configured, so each start
// would run its own Postgres and Temporal dev server there. The second must leave the first alone;
// once the first is dead (SIGKILL: its servers left running), a start takes over as before.

const run = promisify(execFile)
const ADMIN_KEY = `single-admin-${randomBytes(8).toString('hex')}`
let dataDir: string
let env: Record<string, string>
let baseUrl: string
const started: Banjian[] = []

/** `start`; the API role where the worker adds nothing but its start-up time (bundling the workflows). */
function start(args: string[], overrides: Record<string, string> = {}): Banjian {
  const b = startBanjian({ ...env, ...overrides }, args)
  started.push(b)
  return b
}

/** The pids of the embedded Postgres and Temporal dev server serving the data directory. */
async function servers(): Promise<{ postgres: number; temporal: number }> {
  const postgres = Number((await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0])
  const temporal = Number(await readFile(join(dataDir, 'temporal.sqlite.pid'), 'utf8'))
  return { postgres, temporal }
}

async function http(method: string, path: string, body?: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, body: await response.json() as unknown }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'banjian-single-'))
  const port = await freePort()
  baseUrl = `http://127.0.0.1:${port}`
  env = {
    ...userEnvironment(),
    BANJIAN_DATA_DIR: dataDir,
    BANJIAN_PORT: String(port),
    BANJIAN_EMBEDDED_PG_PORT: String(await freePort()),
    BANJIAN_TEMPORAL_PORT: String(await freePort()),
    BANJIAN_TEMPORAL_UI_PORT: '0',
    BANJIAN_ADMIN_KEY: ADMIN_KEY,
    BANJIAN_TEMPORAL_CLI: inject('temporalCliPath'),
    LOG_LEVEL: 'warn',
  }
})

afterAll(async () => {
  const left = await servers().catch(() => undefined)
  for (const b of started) {
    if (b.child.exitCode !== null || b.child.signalCode !== null) continue
    b.child.kill('SIGTERM')
    if (!(await Promise.race([b.exited.then(() => true), sleep(30_000).then(() => false)]))) b.child.kill('SIGKILL')
  }
  // Whatever a killed start left running.
  for (const pid of [left?.postgres, left?.temporal]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL')
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
}, 90_000)

describe('two starts on one data directory', () => {
  it('refuses the second, which touches nothing, and recovers once the first is dead', async () => {
    const first = start(['--role', 'api'])
    await waitUntilReady(first, baseUrl)
    expect((await http('PUT', '/v1/organizations/gz', { name: 'Guangzhou', kind: 'government', parentId: 'root' })).status).toBe(200)
    const before = await servers()

    // Another API port, so that only the data directory is shared.
    const second = start([], { BANJIAN_PORT: String(await freePort()) })
    expect(await Promise.race([second.exited.then((exit) => exit.code), sleep(60_000).then(() => 'still running')])).not.toBe(0)
    expect(second.child.exitCode).toBeGreaterThan(0)
    expect(second.output()).toMatch(/already running/)
    expect(second.output()).toContain(`pid ${first.child.pid}`)

    expect(await servers()).toEqual(before)
    expect(alive(before.postgres) && alive(before.temporal)).toBe(true)
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200)
    expect((await http('GET', '/v1/organizations/gz')).status).toBe(200)

    // A one-off command works on the running instance's database and leaves it running.
    const listed = await run(process.execPath, ['bin/banjian.js', 'keys', 'list'], { cwd: PROJECT_ROOT, env, timeout: 60_000 })
    expect(listed.stdout).toContain('key_bootstrap-admin')
    expect(await servers()).toEqual(before)
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200)

    // Killed outright: its Postgres and dev server are left running, stale. A start recovers.
    first.child.kill('SIGKILL')
    await first.exited
    const third = start(['--role', 'api'])
    await waitUntilReady(third, baseUrl)
    expect(alive(before.postgres) || alive(before.temporal)).toBe(false)
    expect((await http('GET', '/v1/organizations/gz')).status).toBe(200)
  }, 300_000)
})
