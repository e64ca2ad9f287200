import { execFile } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { eq } from 'drizzle-orm'
import { DefaultLogger, Runtime } from '@temporalio/worker'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { archiveClosedHistories, closedRunsQuery, startArchiveLoop } from '../../src/audit/history-archive.ts'
import { verifyAudit } from '../../src/audit/verify.ts'
import { workflowHistories } from '../../src/db/schema.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'
import { applicationBody, call, type Directory, seedDirectory } from '../support/fixtures.ts'
import { startTestSystem, TEST_DATA_KEYS, type TestSystem } from '../support/system.ts'

const run = promisify(execFile)

let sys: TestSystem
let dir: Directory

beforeAll(async () => {
  sys = await startTestSystem()
  dir = await seedDirectory(sys.app)
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] })
  } catch {
    // startTestSystem installed one already: replay runs on it.
  }
})
afterAll(async () => sys?.stop())

/** Other test files share the dev server's namespace: archive only this file's task queue. */
const ownQueue = () => `TaskQueue = '${sys.queues.applications}'`
const archive = () => archiveClosedHistories({ client: sys.client, database: sys.db.database, where: ownQueue() })
const verify = (caseId?: string) =>
  verifyAudit({
    database: sys.db.database, workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: sys.dataConverter, ...(caseId ? { caseId } : {}),
  })

/** Submitted, accepted, approved, issued, delivered and rated 5: the workflow completes. */
async function completedCase(): Promise<string> {
  const created = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())
  const id = (created.body as CaseView).id
  const steps: Array<[string, string, Record<string, unknown>]> = [
    ['accept', dir.departmentKey, {}], ['approve', dir.departmentKey, { note: 'ok' }],
    ['issue_result', dir.departmentKey, { certificateNo: 'GZ-AUDIT-1' }], ['deliver', dir.windowKey, { method: 'window' }],
    ['rate', dir.windowKey, { score: 5 }],
  ]
  for (const [action, key, params] of steps) {
    const r = await call(sys.app, key, 'POST', `/v1/cases/${id}/actions`, { action, ...params })
    if (r.status !== 200) throw new Error(`${action}: ${JSON.stringify(r.body)}`)
  }
  await sys.client.workflow.getHandle(id).result()
  await untilListedClosed(id)
  return id
}

/** Visibility is eventually consistent: wait until it lists the run as closed. */
async function untilListedClosed(workflowId: string): Promise<void> {
  const query = closedRunsQuery(undefined, `${ownQueue()} AND WorkflowId = '${workflowId}'`)
  for (let i = 0; i < 100; i++) {
    if ((await sys.client.workflow.count(query)).count > 0) return
    await sleep(100)
  }
  throw new Error(`visibility never listed ${workflowId} as closed`)
}

const archivedRuns = (workflowId: string) =>
  sys.db.database.db.select().from(workflowHistories).where(eq(workflowHistories.workflowId, workflowId))

/** The test owns its schema (and is superuser): it can lift the append-only triggers to tamper. */
async function tamper(table: 'case_events' | 'workflow_histories', statement: string, params: unknown[]): Promise<void> {
  const client = await sys.db.database.pool.connect()
  try {
    await client.query('BEGIN')
    await client.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`)
    await client.query(statement, params)
    await client.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`)
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK')
    throw err
  } finally {
    client.release()
  }
}

describe('archiving closed workflow histories', () => {
  it('archives a completed case\'s run in one round, nothing new in the next, and the archived history replays', async () => {
    const id = await completedCase()
    expect(await archive()).toEqual({ listed: 1, archived: 1, skipped: 0, missing: 0 })
    expect(await archive()).toEqual({ listed: 1, archived: 0, skipped: 1, missing: 0 })

    const rows = await archivedRuns(id)
    expect(rows).toHaveLength(1)
    const { runId } = await sys.client.workflow.getHandle(id).describe()
    const history = rows[0]!.history as { events: unknown[] }
    expect(rows[0]).toMatchObject({ workflowId: id, runId, workflowType: 'applicationWorkflow', status: 'COMPLETED', eventCount: history.events.length })
    expect(history.events.length).toBeGreaterThan(10)

    const report = await verify(id)
    expect(report.histories).toEqual({ checked: 1, failed: [] })
    expect(report.chains).toEqual({ cases: 1, events: 6, broken: [] })
  })

  it('archives the history as Temporal stores it, applicant encrypted, and replays it only with the data keys', async () => {
    const id = await completedCase()
    await archive()
    const stored = JSON.stringify((await archivedRuns(id))[0]!.history)
    expect(stored).toContain(Buffer.from('binary/encrypted').toString('base64'))
    expect(stored).not.toContain((applicationBody().applicant as { idNumber: string }).idNumber)
    const keyless = await verifyAudit({
      database: sys.db.database, workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: { payloadCodecs: [] }, caseId: id,
    })
    expect(keyless.histories.failed).toEqual([expect.objectContaining({ workflowId: id })])
    expect((await verify(id)).histories).toEqual({ checked: 1, failed: [] })
  })

  it('never duplicates a run when two archivers run at once', async () => {
    const id = await completedCase()
    const rounds = await Promise.all([archive(), archive()])
    expect(rounds.map((r) => r.archived).sort()).toEqual([0, 1])
    expect(await archivedRuns(id)).toHaveLength(1)
  })

  it('runs rounds on an interval in the worker, survives a failing round, and stops cleanly', async () => {
    const logs: Array<{ level: number; msg: string; archived?: number }> = []
    const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
    const loop = startArchiveLoop({ client: sys.client, database: sys.db.database, where: ownQueue(), intervalMs: 200, log })
    const id = await completedCase()
    for (let i = 0; i < 100 && (await archivedRuns(id)).length === 0; i++) await sleep(100)
    await loop.stop()
    expect(await archivedRuns(id)).toHaveLength(1)
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'archived closed workflow histories', archived: 1 }))
    const seen = logs.length
    await sleep(500)
    expect(logs).toHaveLength(seen)

    // A visibility query the server refuses: every round fails, is logged, and the next one still comes.
    const failing = startArchiveLoop({ client: sys.client, database: sys.db.database, where: 'NoSuchAttribute = 1', intervalMs: 100, log })
    for (let i = 0; i < 50 && logs.filter((l) => l.level === 50).length < 2; i++) await sleep(100)
    await failing.stop()
    expect(logs.filter((l) => l.level === 50).length).toBeGreaterThanOrEqual(2)
    expect(logs.find((l) => l.level === 50)?.msg).toBe('archiving workflow histories failed; the next round retries')
  })

  it('keeps archived histories append-only: UPDATE, DELETE and TRUNCATE are refused', async () => {
    const { pool } = sys.db.database
    await expect(pool.query('UPDATE workflow_histories SET status = \'COMPLETED\'')).rejects.toThrow(/append-only \(UPDATE refused\)/)
    await expect(pool.query('DELETE FROM workflow_histories')).rejects.toThrow(/append-only \(DELETE refused\)/)
    await expect(pool.query('TRUNCATE workflow_histories')).rejects.toThrow(/append-only \(TRUNCATE refused\)/)
    expect((await pool.query('SELECT count(*)::int AS n FROM workflow_histories')).rows[0].n).toBeGreaterThan(0)
  })
})

describe('banjian audit verify', () => {
  it('finds every archived history replayable and every hash chain whole when nothing was touched', async () => {
    const report = await verify()
    const { rows: [counts] } = await sys.db.database.pool.query(
      'SELECT (SELECT count(*)::int FROM workflow_histories) AS histories, (SELECT count(*)::int FROM cases) AS cases, (SELECT count(*)::int FROM case_events) AS events')
    expect(report).toEqual({
      histories: { checked: counts.histories, failed: [] },
      chains: { cases: counts.cases, events: counts.events, broken: [] },
    })
    expect(counts.histories).toBeGreaterThanOrEqual(2)
  })

  it('reports an archived history that no longer matches the workflow code as non-deterministic', async () => {
    const id = await completedCase()
    await archive()
    const [genuine] = await archivedRuns(id)
    const history = structuredClone(genuine!.history) as { events: Array<Record<string, any>> }
    renameFirstActivity(history, 'someOtherActivity')
    await sys.db.database.db.insert(workflowHistories).values({ ...genuine!, runId: 'tampered-run', history, archivedAt: undefined })

    const report = await verify(id)
    expect(report.histories.checked).toBe(2)
    expect(report.histories.failed).toEqual([{ workflowId: id, runId: 'tampered-run', error: expect.stringMatching(/nondetermin/i) }])
    expect(report.chains.broken).toEqual([])
  })

  it('reports a changed event and a deleted event as broken chains at their seq', async () => {
    const changed = await completedCase()
    const deleted = await completedCase()
    await tamper('case_events', 'UPDATE case_events SET data = jsonb_set(data, \'{note}\', \'"tampered"\') WHERE case_id = $1 AND seq = 3', [changed])
    await tamper('case_events', 'DELETE FROM case_events WHERE case_id = $1 AND seq = 4', [deleted])

    expect((await verify(changed)).chains).toEqual({
      cases: 1, events: 6, broken: [{ caseId: changed, seq: 3, problem: 'hash does not match the event\'s content' }],
    })
    expect((await verify(deleted)).chains).toEqual({
      cases: 1, events: 5, broken: [{ caseId: deleted, seq: 4, problem: 'event 4 is missing (the next is 5)' }],
    })
    const all = await verify()
    expect(all.chains.broken.map((b) => [b.caseId, b.seq])).toEqual(expect.arrayContaining([[changed, 3], [deleted, 4]]))
    expect(all.histories.failed.map((f) => f.runId)).toEqual(['tampered-run'])
  })

  it('checks the case row against the end of its chain', async () => {
    const id = await completedCase()
    await sys.db.database.pool.query('UPDATE cases SET last_hash = $2 WHERE id = $1', [id, 'f'.repeat(64)])
    expect((await verify(id)).chains.broken).toEqual([{ caseId: id, seq: 6, problem: 'cases.last_hash does not match the hash of the last event' }])
  })

  it('exits 0 when the case verifies and 1, naming the break, once it is tampered with (the real CLI)', async () => {
    const id = await completedCase()
    await archive()
    const url = `${inject('databaseUrl')}?options=${encodeURIComponent(`-c search_path=${sys.db.schemaName}`)}`
    const cli = () => run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', 'verify', '--case', id], {
      cwd: PROJECT_ROOT, timeout: 90_000, env: {
        ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn',
        // The cluster the case ran on, to compare its read side with its workflow.
        TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace'), BANJIAN_DATA_KEYS: TEST_DATA_KEYS,
      },
    }).then(({ stdout }) => ({ code: 0, stdout }), (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: `${err.stdout}${err.stderr}` }))

    const good = await cli()
    expect(good).toEqual({ code: 0, stdout: expect.stringContaining('audit verified') })
    expect(good.stdout).toContain('histories: 1 replayed against the current workflow code, 0 failed')
    expect(good.stdout).toContain('hash chains: 1 cases, 6 events, 0 problems')
    expect(good.stdout).toContain('read side: 1 cases against their workflows, 0 lagging, 0 unverifiable')

    await tamper('case_events', 'UPDATE case_events SET actor = jsonb_set(actor, \'{organizationId}\', \'"gz-hr"\') WHERE case_id = $1 AND seq = 2', [id])
    const bad = await cli()
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain(`BROKEN chain ${id} at seq 2: hash does not match the event's content`)
    expect(bad.stdout).toContain('audit FAILED')
  }, 180_000)
})

/**
 * Renames the first activity a history ran: a regular one's scheduled type, or (a case projected
 * by local activity) the type its marker recorded, which replay compares with the code's.
 */
function renameFirstActivity(history: { events: Array<Record<string, any>> }, name: string): void {
  for (const event of history.events) {
    const scheduled = event.activityTaskScheduledEventAttributes
    if (scheduled) {
      scheduled.activityType.name = name
      return
    }
    const marker = event.markerRecordedEventAttributes
    if (marker?.markerName === 'core_local_activity') {
      const payload = marker.details.data.payloads[0]
      const data = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'))
      payload.data = Buffer.from(JSON.stringify({ ...data, activity_type: name })).toString('base64')
      return
    }
  }
  throw new Error('the history ran no activity')
}
