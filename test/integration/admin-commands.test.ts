import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type App, buildApp } from '../../src/api/app.ts'
import { refusingGateway } from '../../src/api/case-gateway.ts'
import {
  createKeyCommand, listKeysCommand, publishCalendarCommand, revokeKeyCommand, showCalendarCommand,
} from '../../src/cli/admin-commands.ts'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'
import { connectClient, taskQueues } from '../../src/infra/temporal.ts'
import { calendarPropagationId } from '../../src/workflows/calendar-propagation/contract.ts'
import { call } from '../support/fixtures.ts'
import {
  ADMIN_KEY, startAppWithoutTemporal, TEST_DATA_KEYS, testDataConverter, testTarget, type TestDatabase, uniqueName,
} from '../support/system.ts'

const run = promisify(execFile)

let db: TestDatabase
let app: App
let stop: (() => Promise<void>) | undefined
let scratch: string
let lines: string[]
const out = (line: string) => lines.push(line)

beforeAll(async () => {
  ({ db, app, stop } = await startAppWithoutTemporal('no Temporal in admin command tests'))
  expect((await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz', { name: 'Guangzhou', kind: 'government', parentId: 'root' })).status).toBe(200)
  scratch = await mkdtemp(join(tmpdir(), 'banjian-admin-'))
})
afterAll(async () => {
  await stop?.()
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

describe('banjian keys', () => {
  it('creates a key that the API takes, lists it without its secret, and revokes it', async () => {
    lines = []
    expect(await createKeyCommand(db.database, { organization: 'gz', role: 'supervisor', name: 'night desk' }, out)).toBe(0)
    const created = JSON.parse(lines[0]!) as { id: string; key: string; organizationId: string; role: string }
    expect(created).toMatchObject({ organizationId: 'gz', role: 'supervisor', name: 'night desk' })
    expect((await call(app, created.key, 'GET', '/v1/settings/limits')).status).toBe(200)

    lines = []
    expect(await listKeysCommand(db.database, out)).toBe(0)
    const listed = lines.map((l) => JSON.parse(l) as { id: string })
    expect(listed.find((k) => k.id === created.id)).toMatchObject({ organizationId: 'gz', role: 'supervisor', revokedAt: null })
    expect(lines.join('\n')).not.toContain(created.key)

    lines = []
    expect(await revokeKeyCommand(db.database, created.id, out)).toBe(0)
    app.keys.forget()
    expect((await call(app, created.key, 'GET', '/v1/settings/limits')).status).toBe(401)
    expect(await revokeKeyCommand(db.database, 'key_nope', out)).toBe(1)
  })

  it('refuses an unknown organisation or role, and writes nothing', async () => {
    const before = (await db.database.pool.query('SELECT count(*)::int AS n FROM api_keys')).rows[0].n
    lines = []
    expect(await createKeyCommand(db.database, { organization: 'nowhere', role: 'window' }, out)).toBe(1)
    expect(await createKeyCommand(db.database, { organization: 'gz', role: 'emperor' }, out)).toBe(2)
    expect(lines).toEqual(['organisation nowhere does not exist', expect.stringContaining('--role must be one of admin, window')])
    expect((await db.database.pool.query('SELECT count(*)::int AS n FROM api_keys')).rows[0].n).toBe(before)
  })

  it('works from the command line, on the database DATABASE_URL names', async () => {
    const url = `${inject('databaseUrl')}?options=${encodeURIComponent(`-c search_path=${db.schemaName}`)}`
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'create', '--organization', 'gz', '--role', 'auditor'], {
      cwd: PROJECT_ROOT, env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }, timeout: 60_000,
    })
    const created = JSON.parse(stdout.split('\n')[0]!) as { key: string }
    expect((await call(app, created.key, 'GET', '/v1/organizations/gz')).status).toBe(200)
  }, 90_000)
})

describe('banjian calendar', () => {
  const unreachable = () => Promise.reject(new Error('connection refused'))

  it('publishes a year from a file as a new version; with Temporal out of reach, the next API start hands it out', async () => {
    const file = join(scratch, '2028.json')
    const days = [{ date: '2028-01-03', working: false, name: '元旦' }, { date: '2028-01-29', working: true, name: '春节调休' }]
    await writeFile(file, JSON.stringify(days))
    lines = []
    expect(await publishCalendarCommand(db.database, 2028, file, out, unreachable)).toBe(0)
    const version = Number(/calendar version (\d+)/.exec(lines[0]!)![1])
    expect(lines[1]).toBe('Temporal could not be reached (connection refused): the next API start hands it to the open cases it may move')
    expect((await call(app, ADMIN_KEY, 'GET', '/v1/calendar/2028')).body).toMatchObject({ year: 2028, published: true, days, version })

    lines = []
    expect(await showCalendarCommand(db.database, 2028, out)).toBe(0)
    expect(JSON.parse(lines.join('\n'))).toMatchObject({ year: 2028, published: true, days, version })

    // Left unpropagated: the next API process to start starts its propagation.
    expect((await db.database.pool.query('SELECT propagated_at FROM calendar_versions WHERE version = $1', [version])).rows[0])
      .toEqual({ propagated_at: null })
    const started: number[] = []
    const next = await buildApp({ database: db.database, gateway: {
      ...refusingGateway('only calendar propagation here'), propagateCalendar: async (v) => { started.push(v) },
    } })
    try {
      await next.ready()
      await expect.poll(() => started, { timeout: 10_000 }).toEqual([version])
    } finally {
      await next.close()
    }
  })

  it('works from the command line, starting the propagation on the Temporal the TEMPORAL_* variables name', async () => {
    const file = join(scratch, '2030.json')
    await writeFile(file, JSON.stringify([{ date: '2030-01-01', working: false, name: '元旦' }]))
    const url = `${inject('databaseUrl')}?options=${encodeURIComponent(`-c search_path=${db.schemaName}`)}`
    const prefix = uniqueName('cli')
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'calendar', 'publish', '2030', '--file', file], {
      cwd: PROJECT_ROOT, timeout: 60_000, env: {
        ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn', BANJIAN_TASK_QUEUE_PREFIX: prefix,
        TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace'), BANJIAN_DATA_KEYS: TEST_DATA_KEYS,
      },
    })
    const version = Number(/calendar version (\d+)/.exec(stdout)![1])
    expect(stdout).toContain(`workflow ${calendarPropagationId(taskQueues(prefix).calendar, version)} hands it to the open cases it may move`)
    const client = await connectClient(testTarget(), testDataConverter)
    try {
      // No worker serves this prefix: the workflow waits on its queue, and the test ends it.
      const handle = client.workflow.getHandle(calendarPropagationId(taskQueues(prefix).calendar, version))
      expect(await handle.describe()).toMatchObject({ taskQueue: taskQueues(prefix).calendar, status: { name: 'RUNNING' } })
      await handle.terminate('test: nothing to hand out')
    } finally {
      await client.connection.close()
    }
  }, 90_000)

  it('refuses a file that is not a year of exceptions, naming what is wrong, and publishes nothing', async () => {
    const versions = async () => (await db.database.pool.query('SELECT count(*)::int AS n FROM calendar_versions')).rows[0].n as number
    const before = await versions()
    const bad = join(scratch, 'bad.json')
    await writeFile(bad, JSON.stringify([{ date: '2029-02-30', working: false }, { date: '2030-01-01', working: false }]))
    lines = []
    expect(await publishCalendarCommand(db.database, 2029, bad, out, unreachable)).toBe(2)
    expect(lines.length).toBe(2)
    expect(lines[0]).toMatch(/^days\/0/)
    await writeFile(bad, '{"not": "days"}')
    expect(await publishCalendarCommand(db.database, 2029, bad, out, unreachable)).toBe(2)
    expect(await publishCalendarCommand(db.database, 2029, join(scratch, 'missing.json'), out, unreachable)).toBe(2)
    expect(await versions()).toBe(before)
  })
})
