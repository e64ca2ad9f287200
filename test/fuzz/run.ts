// `npm run test:fuzz`: the whole system on a real socket (its own Temporal dev server, a fresh
// database), a small seeded directory, then schemathesis over /openapi.json with an admin key
// (and a window's and a department's for the two operations an admin may not call).
// Fails on any 5xx, on any 4xx that is not application/problem+json with a contract code, and on
// any answer the OpenAPI document does not describe (see CHECKS).
// Extra arguments go to `schemathesis run` (e.g. `npm run test:fuzz -- --max-examples 200`).
// Postgres: a fresh database on TEST_DATABASE_URL when set, else an embedded one.
import { DefaultLogger } from '@temporalio/worker'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import pino from 'pino'
import { PROBLEMS } from '../../src/api/problem.ts'
import { parseConfig } from '../../src/config.ts'
import { freePort } from '../../src/infra/ports.ts'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'
import { assemble, installRuntime, type RunningSystem } from '../../src/system.ts'
import { installSchemathesis } from '../../scripts/install-schemathesis.ts'
import { type CaseTally, countCases, relabelRule } from './report.ts'
import { seed } from './seed.ts'

/**
 * No 5xx; every 4xx problem+json with a contract code; responses as documented (status, media type,
 * body schema); and requests that break the documented schema refused.
 */
const CHECKS = [
  'not_a_server_error', 'problem_details_for_client_errors',
  'status_code_conformance', 'content_type_conformance', 'response_schema_conformance', 'negative_data_rejection',
]
/**
 * Sized for about three minutes on two cores; the fixed seed makes a failing run reproducible. One
 * worker: under Python 3.11, schemathesis's threads race in `ast.parse` (a CPython bug that
 * surfaces as "AST constructor recursion depth mismatch").
 */
const BUDGET = ['--phases', 'examples,coverage,fuzzing', '--max-examples', '50', '--seed', '20261202', '--workers', '1']

const schemathesis = await installSchemathesis()
const scratch = await mkdtemp(join(tmpdir(), 'banjian-fuzz-'))
const serverLog = join(scratch, 'server.log')
const adminKey = `fuzz-admin-${randomBytes(12).toString('hex')}`
const database = await freshDatabase(process.env.TEST_DATABASE_URL)
let system: RunningSystem | undefined
let exitCode = 1
try {
  const config = parseConfig({
    BANJIAN_DATA_DIR: scratch,
    BANJIAN_PORT: String(await freePort()),
    BANJIAN_TEMPORAL_PORT: String(await freePort()),
    BANJIAN_TEMPORAL_UI_PORT: '0',
    BANJIAN_EMBEDDED_PG_PORT: String(await freePort()),
    BANJIAN_ADMIN_KEY: adminKey,
    BANJIAN_TEMPORAL_CLI: process.env.BANJIAN_TEMPORAL_CLI,
    DATABASE_URL: database?.url,
    LOG_LEVEL: 'warn',
    // Thousands of requests a minute on one key: a 429 would stand in for the answer under test
    // (negative_data_rejection wants the 400). The limit has a test of its own (rate-limit.test.ts).
    BANJIAN_RATE_LIMIT_PER_MINUTE: '0',
  })
  installRuntime({ logger: new DefaultLogger('WARN') })
  const logger = pino({ level: config.LOG_LEVEL }, pino.destination({ dest: serverLog, sync: true }))
  system = await assemble(config, { logger, pathVar: process.env.PATH })
  const url = system.url!
  const seeded = await seed(url, adminKey)
  console.log(`fuzzing ${url}/openapi.json (seeded case ${seeded.ids.caseId})`)

  // Every operation as the administrator, and those an administrator may not call (it gets 403
  // before any validation) as the roles that do, with more examples: a window submits
  // applications and files escalations, the hotline files work orders, a department acts on the
  // seeded case. The window and the hotline go first: after the administrator's pass the window's
  // key met only 403 (seen on both of its routes), so neither was fuzzed past the door.
  const passes = [
    { as: 'window', key: seeded.windowKey, also: ['--include-path-regex', '^/v1/(applications|escalations|fulfilments)$', '--max-examples', '200'] },
    { as: 'hotline', key: seeded.hotlineKey, also: ['--include-path-regex', '^/v1/complaints$', '--max-examples', '100'] },
    { as: 'admin', key: adminKey, also: [] },
    { as: 'department', key: seeded.departmentKey, also: ['--include-path-regex', '^/v1/cases/\\{id\\}/actions$', '--max-examples', '200'] },
  ]
  exitCode = 0
  const tally: CaseTally = { passed: 0, failed: 0 }
  for (const pass of passes) {
    console.log(`\n--- as ${pass.as} ---`)
    const code = await runSchemathesis(schemathesis, [
      'run', `${url}/openapi.json`,
      '--header', `Authorization: Bearer ${pass.key}`,
      '--checks', CHECKS.join(','),
      ...BUDGET,
      ...pass.also,
      '--generation-database', 'none',
      '--request-timeout', '20',
      ...(process.env.CI ? ['--no-color'] : []),
      ...process.argv.slice(2),
    ], tally, {
      SCHEMATHESIS_HOOKS: join(PROJECT_ROOT, 'test', 'fuzz', 'hooks.py'),
      BANJIAN_FUZZ_PROBLEMS: JSON.stringify(PROBLEMS),
      BANJIAN_FUZZ_SEEDED: JSON.stringify(seeded.ids),
    })
    if (code !== 0) exitCode = code
  }
  console.log(`\nfuzz: ${tally.passed} passed, ${tally.failed} failed`)
} finally {
  await system?.stop()
  if (exitCode !== 0) await printServerErrors(serverLog)
  await database?.drop()
  await rm(scratch, { recursive: true, force: true })
}
process.exit(exitCode)

/** Runs schemathesis, passing its report through (see report.ts), and adds its test cases to `tally`. */
function runSchemathesis(command: string, args: string[], tally: CaseTally, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: scratch, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
    let casesNext = false
    createInterface({ input: child.stdout }).on('line', (line) => {
      console.log(relabelRule(line))
      if (casesNext) Object.assign(tally, countCases(line, tally))
      casesNext = line.trim() === 'Test cases:'
    })
    child.once('error', reject)
    // 'close', not 'exit': the report's last lines (its "Test cases:") may still be in the pipe at exit.
    child.once('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

/** A fresh database on the machine's Postgres, dropped afterwards; none means start an embedded one. */
async function freshDatabase(adminUrl: string | undefined): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  if (!adminUrl) return undefined
  const name = `fuzz_${randomBytes(5).toString('hex')}`
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

/** The server's own account of each distinct failure (schemathesis only sees the hidden 500). */
async function printServerErrors(path: string): Promise<void> {
  const counts = new Map<string, number>()
  for (const line of (await readFile(path, 'utf8').catch(() => '')).split('\n')) {
    if (!line) continue
    const entry = JSON.parse(line) as { level: number; msg?: string; err?: { type?: string; message?: string; stack?: string } }
    if (entry.level < 50) continue
    const stack = entry.err?.stack?.split('\n').map((l) => l.trim()) ?? []
    const what = [
      `${entry.msg ?? ''}: ${entry.err?.type ?? ''} ${entry.err?.message?.split('\n')[0]?.slice(0, 160) ?? ''}`,
      stack.find((l) => l.startsWith('caused by:')),
      stack.find((l) => l.includes(`${PROJECT_ROOT}/src/`))?.replace(`${PROJECT_ROOT}/`, ''),
    ].filter(Boolean).join('\n     ')
    counts.set(what, (counts.get(what) ?? 0) + 1)
  }
  if (counts.size === 0) return
  console.error('\nServer errors logged during the run:')
  for (const [what, n] of counts) console.error(`  ${n}× ${what}`)
}
