import { spawn } from 'node:child_process'
import { afterAll, expect, inject, it } from 'vitest'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'
import { freshDatabase, userEnvironment } from '../support/processes.ts'
import { TEST_DATA_KEYS } from '../support/system.ts'

// The benchmarks issue 13 is measured with, run end to end at a few cases each, so that they do not
// rot between the sessions that run them in full: each starts its own system in this process, runs
// every measured thing (the API, bare workflows, bare cases and the guarantees' floor, which
// checks that it wrote every event it should have), prints its ratios, and cleans up. Alone: each
// run starts a dev server of its own and keeps both cores busy, and a dev server started beside
// another's start-up can lose a port it picked to it (CI once saw one exit during start-up so).

let database: { url: string; drop(): Promise<void> } | undefined

afterAll(async () => {
  await database?.drop()
})

async function bench(script: string, ...args: string[]): Promise<string> {
  database ??= await freshDatabase(inject('databaseUrl'), 'bench')
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: PROJECT_ROOT,
    env: {
      ...userEnvironment(), TEST_DATABASE_URL: database.url, BANJIAN_DATA_KEYS: TEST_DATA_KEYS,
      BANJIAN_TEMPORAL_CLI: inject('temporalCliPath'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-20_000) })
  const code = await new Promise((resolve) => child.once('exit', resolve))
  expect(code, `${script} ${args.join(' ')}:\n${stdout}\n${stderr}`).toBe(0)
  return stdout
}

const ratio = (output: string, label: string) => {
  const m = output.match(new RegExp(`ratio ${label}: (\\d+\\.\\d{3})`))
  expect(m, `"ratio ${label}" in:\n${output}`).not.toBeNull()
  return Number(m![1])
}

it('bench:intake measures submissions against bare workflows and against the guarantees\' floor', async () => {
  const output = await bench('bench/intake.ts', '4', '2')
  expect(ratio(output, 'API submissions/bare workflows')).toBeGreaterThan(0)
  expect(ratio(output, 'API submissions/floor submissions')).toBeGreaterThan(0)
  expect(ratio(output, 'floor submissions/bare workflows')).toBeGreaterThan(0)
}, 180_000)

it('bench:lifecycle measures full cases against bare cases and the guarantees\' floor, with the time breakdown', async () => {
  const output = await bench('bench/lifecycle.ts', '2', '1')
  expect(ratio(output, 'API full cases/bare cases')).toBeGreaterThan(0)
  expect(ratio(output, 'API full cases/floor cases')).toBeGreaterThan(0)
  expect(ratio(output, 'floor cases/bare cases')).toBeGreaterThan(0)
  expect(output).toMatch(/each action's p50 over the floor's: accept \d/)
  expect(output).toMatch(/of which the projection into Postgres \(local activity\) +\d+\.\d ms +\d+ runs/)
}, 300_000)
