import type { Client } from '@temporalio/client'
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js'
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createActivities } from '../../src/activities/index.ts'
import { sequenceInHistory } from '../../src/audit/read-side-lag.ts'
import { auditPassed, verifyAudit } from '../../src/audit/verify.ts'
import { describeReport } from '../../src/cli/audit-verify.ts'
import type { ApplicationCommand } from '../../src/domain/application/application-case.ts'
import { connectClient } from '../../src/infra/temporal.ts'
import { actionUpdate, submittedUpdate, viewQuery } from '../../src/workflows/application/contract.ts'
import { createTestDatabase, type TestDatabase, testDataConverter, testTarget, uniqueName } from '../support/system.ts'
import { DEPARTMENT, newApplication, WINDOW } from '../support/time-skipping.ts'

// A case's read side can fall behind its workflow with every hash chain whole: the projection
// activity of its latest events keeps failing while the workflow has moved on. `audit verify`
// compares each case's last event in Postgres with the workflow's own sequence.

let db: TestDatabase
let client: Client
let worker: Worker
let running: Promise<void>
const taskQueue = uniqueName('read-side-')
/** Cases whose projection fails after their first event, as during a database outage. */
const outage = new Set<string>()

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] })
  } catch {
    // Another file in this process installed one.
  }
  db = await createTestDatabase()
  client = await connectClient(testTarget(), testDataConverter)
  const activities = createActivities({ database: db.database })
  const connection = await NativeConnection.connect({ address: testTarget().address })
  worker = await Worker.create({
    connection, namespace: testTarget().namespace, taskQueue, workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: testDataConverter,
    activities: {
      ...activities,
      async recordCaseEvents(input: Parameters<typeof activities.recordCaseEvents>[0]) {
        if (outage.has(input.caseId) && input.recorded.some((r) => r.event.seq > 1)) throw new Error('connection to Postgres lost (test outage)')
        return activities.recordCaseEvents(input)
      },
    },
  })
  running = worker.run()
})
afterAll(async () => {
  worker?.shutdown()
  await running
  await client?.connection.close()
  await db?.drop()
})

const verify = (caseId: string) => verifyAudit({
  database: db.database, client, caseId, settleMs: 300, workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: testDataConverter,
})
const command = (action: string, actor: ApplicationCommand['actor'], params: Record<string, unknown> = {}): ApplicationCommand => ({ action, actor, params })

async function submitted(prefix: string): Promise<string> {
  const id = uniqueName(prefix)
  const handle = await client.workflow.start('applicationWorkflow', { workflowId: id, taskQueue, args: [newApplication(id)] })
  await handle.executeUpdate(submittedUpdate)
  return id
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('timed out')
}

describe('audit verify compares each read side with its workflow', () => {
  it('reports a running case whose projection keeps failing, and stops once it has caught up', async () => {
    const id = await submitted('lagging-')
    outage.add(id)
    const handle = client.workflow.getHandle(id)
    // The department's accept is applied, and its projection retries: the request hangs meanwhile.
    const accepting = handle.executeUpdate(actionUpdate, { args: [command('accept', DEPARTMENT)] })
    accepting.catch(() => undefined)
    await until(async () => (await handle.query(viewQuery)).version === 2)

    const lagging = await verify(id)
    expect(lagging.readSide).toEqual({ cases: 1, lagging: [{ caseId: id, readSeq: 1, workflowSeq: 2, source: 'query' }], unverified: [] })
    // Nothing else would have told: the chain of what did land is whole.
    expect(lagging.chains.broken).toEqual([])
    expect(auditPassed(lagging)).toBe(false)
    expect(describeReport(lagging)).toContain(`LAGGING ${id}: the read side's last event is 1, behind its workflow's 2 (from its query)`)

    outage.delete(id)
    expect((await accepting).version).toBe(2)
    const caughtUp = await verify(id)
    expect(caughtUp.readSide).toEqual({ cases: 1, lagging: [], unverified: [] })
    expect(auditPassed(caughtUp)).toBe(true)
  })

  it('reads a closed workflow\'s sequence from its history', async () => {
    const id = await submitted('closed-')
    const handle = client.workflow.getHandle(id)
    await handle.executeUpdate(actionUpdate, { args: [command('withdraw', WINDOW, { reason: 'moved away' })] })
    // A withdrawn service is rated too (rule 29); once rated, nothing is left and the run closes.
    await handle.executeUpdate(actionUpdate, { args: [command('rate', WINDOW, { score: 5 })] })
    await handle.result()
    expect((await verify(id)).readSide).toEqual({ cases: 1, lagging: [], unverified: [] })

    // A row set back by hand: what a lost projection of the last event would leave.
    await db.database.pool.query('UPDATE cases SET last_seq = 1 WHERE id = $1', [id])
    expect((await verify(id)).readSide?.lagging).toEqual([{ caseId: id, readSeq: 1, workflowSeq: 3, source: 'history' }])
  })

  it('says which cases it could not compare: no workflow live or archived', async () => {
    const id = await submitted('gone-')
    // A row for a case whose workflow never existed here (restored from another installation, say).
    await db.database.pool.query(`INSERT INTO cases SELECT (jsonb_populate_record(NULL::cases, to_jsonb(c) || jsonb_build_object('id', $2::text))).*
      FROM cases c WHERE id = $1`, [id, `${id}-orphan`])
    const report = await verify(`${id}-orphan`)
    expect(report.readSide?.unverified).toEqual([{ caseId: `${id}-orphan`, problem: 'neither Temporal nor the archive holds its workflow' }])
    expect(auditPassed(report)).toBe(false)
  })
})

describe('a workflow\'s own sequence in its history', () => {
  const fixture = async (name: string) =>
    historyFromJSON(JSON.parse(await readFile(new URL(`../fixtures/histories/${name}.json`, import.meta.url), 'utf8')))

  it('is the last event it sent to the projection, or the sequence its run was continued with', async () => {
    expect(await sequenceInHistory(await fixture('submitted'), [])).toBe(1)
    expect(await sequenceInHistory(await fixture('rated'), [])).toBe(6)
    expect(await sequenceInHistory(await fixture('rectified'), [])).toBe(9)
    expect(await sequenceInHistory(await fixture('continued-run'), [])).toBe(2)
    expect(await sequenceInHistory(await fixture('opinion-watch-given'), [])).toBeUndefined()
  })

  it('is what the projection answered in its local activity markers, for a case started with local activities', async () => {
    expect(await sequenceInHistory(await fixture('local-submitted'), [])).toBe(1)
    expect(await sequenceInHistory(await fixture('local-rated'), [])).toBe(6)
    expect(await sequenceInHistory(await fixture('local-rectified'), [])).toBe(9)
    expect(await sequenceInHistory(await fixture('local-continued-run'), [])).toBe(2)
  })
})
