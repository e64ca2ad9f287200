import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, expect, inject, it } from 'vitest'
import { freePort } from '../../src/infra/ports.ts'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'
import { freshDatabase, liveInGroup, userEnvironment } from '../support/processes.ts'
import { TEST_DATA_KEYS } from '../support/system.ts'

// `npm start` as a process manager runs it (a service unit, a container's command) and stops it:
// SIGTERM to npm, which passes it on to its child only. banjian must get it and stop, not be left
// running as an orphan with no one to stop it.

let database: { url: string; drop(): Promise<void> } | undefined
let dataDir: string | undefined

afterAll(async () => {
  await database?.drop()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

it('stops when npm is sent SIGTERM, leaving nothing of its own running', async () => {
  database = await freshDatabase(inject('databaseUrl'), 'npmstart')
  dataDir = await mkdtemp(join(tmpdir(), 'banjian-npm-start-'))
  const port = await freePort()
  const env = {
    ...userEnvironment(),
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    BANJIAN_DATA_KEYS: TEST_DATA_KEYS,
    BANJIAN_DATA_DIR: dataDir,
    BANJIAN_PORT: String(port),
    BANJIAN_ADMIN_KEY: `npm-start-${randomBytes(8).toString('hex')}`,
    // Its 'stopped' line is at info.
    LOG_LEVEL: 'info',
  }
  // Detached: npm leads a process group of its own, so that whatever it started can be found, and killed at the end.
  const npm = spawn('npm', ['start', '--', '--role', 'api'], { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  npm.stdout.on('data', (chunk: Buffer) => output += chunk.toString())
  npm.stderr.on('data', (chunk: Buffer) => output += chunk.toString())
  const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()))
  const pgid = npm.pid!
  try {
    for (const gaveUp = Date.now() + 90_000; ;) {
      if (npm.exitCode !== null || Date.now() > gaveUp) throw new Error(`npm start did not become ready:\n${output}`)
      if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false)) break
      await sleep(250)
    }
    expect(liveInGroup(pgid).some((line) => line.includes('src/cli/main.ts start')), liveInGroup(pgid).join('\n')).toBe(true)

    npm.kill('SIGTERM')
    await exited
    let left = liveInGroup(pgid)
    for (const gaveUp = Date.now() + 30_000; left.length > 0 && Date.now() < gaveUp; left = liveInGroup(pgid)) await sleep(250)
    expect(left.join('\n'), `still running after npm was stopped; output:\n${output.slice(-3000)}`).toBe('')
    expect(output).toMatch(/"msg":"stopped"/)
  } finally {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // Nothing left.
    }
  }
}, 150_000)
