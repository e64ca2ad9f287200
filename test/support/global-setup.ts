import { bundleWorkflowCode } from '@temporalio/worker'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { parseConfig } from '../../src/config.ts'
import { startDevServer } from '../../src/infra/dev-server.ts'
import { startEmbeddedPg } from '../../src/infra/embedded-pg.ts'
import { resolveTemporalBinary } from '../../src/infra/temporal-binaries.ts'
import { QUIET_BUNDLER, workflowBundleOptions } from '../../src/infra/temporal.ts'
import { freePort } from '../../src/infra/ports.ts'
import { resolveTestEpoch, TEST_EPOCH_VARIABLE } from './test-epoch.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string
    temporalNamespace: string
    databaseUrl: string
    workflowBundlePath: string
    testServerPath: string
    temporalCliPath: string
    /** The instant date-dependent tests run as of (BANJIAN_TEST_EPOCH), or null for the real clock. */
    testEpochMs: number | null
  }
}

export const TEST_NAMESPACE = 'banjian-test'


/**
 * Once per test run: one Temporal dev server, one Postgres (the machine's, via TEST_DATABASE_URL,
 * or an embedded one), and the workflow bundle built once for every test file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = process.env
  const config = parseConfig(env)
  const testEpochMs = testEpochOf(env[TEST_EPOCH_VARIABLE])
  const scratch = await mkdtemp(join(tmpdir(), 'banjian-test-'))
  const cleanups: Array<() => Promise<void>> = [() => rm(scratch, { recursive: true, force: true })]
  const [cliPath, testServerPath] = await Promise.all([
    resolveTemporalBinary('cli', { explicitPath: config.BANJIAN_TEMPORAL_CLI, pathVar: env.PATH }),
    resolveTemporalBinary('testServer', { explicitPath: config.BANJIAN_TEMPORAL_TEST_SERVER, pathVar: env.PATH }),
  ])

  const server = await startDevServer({
    cliPath, port: await freePort(), uiPort: 0, namespace: TEST_NAMESPACE, retentionDays: 1,
    dbFilename: join(scratch, 'temporal.sqlite'),
    // Small histories in tests so continue-as-new paths actually run.
    extraDynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 400 },
  })
  cleanups.unshift(server.stop)

  let databaseUrl = env.TEST_DATABASE_URL
  if (!databaseUrl) {
    const pg = await startEmbeddedPg({ dataDir: join(scratch, 'pg'), port: await freePort(), database: 'banjian_test' })
    cleanups.unshift(pg.stop)
    databaseUrl = pg.url
  }

  const { code } = await bundleWorkflowCode(workflowBundleOptions(QUIET_BUNDLER))
  const workflowBundlePath = join(scratch, 'workflows.js')
  await writeFile(workflowBundlePath, code)

  project.provide('temporalAddress', server.address)
  project.provide('temporalNamespace', TEST_NAMESPACE)
  project.provide('databaseUrl', databaseUrl)
  project.provide('workflowBundlePath', workflowBundlePath)
  project.provide('testServerPath', testServerPath)
  project.provide('temporalCliPath', cliPath)
  project.provide('testEpochMs', testEpochMs)

  return async () => {
    for (const cleanup of cleanups) await cleanup()
  }
}

/** Resolves BANJIAN_TEST_EPOCH once per run, and says so once when it had to move it forward. */
function testEpochOf(requested: string | undefined): number | null {
  if (!requested) return null
  const { epochMs, movedYears } = resolveTestEpoch(requested, Date.now())
  const asOf = new Date(epochMs).toISOString()
  if (movedYears > 0) {
    console.warn(`${TEST_EPOCH_VARIABLE}=${requested} is already past; moved forward ${movedYears} year(s): tests run as of ${asOf}`)
  } else {
    console.warn(`${TEST_EPOCH_VARIABLE}: tests run as of ${asOf}`)
  }
  return epochMs
}

