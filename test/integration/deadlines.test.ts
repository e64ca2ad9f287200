import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { and, asc, eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProjectionActivities } from '../../src/activities/projection.ts'
import { createDeadlineReads, deadlinesWrite } from '../../src/db/deadlines.ts'
import { MIGRATIONS_FOLDER } from '../../src/db/migrate.ts'
import { caseEvents, cases, deadlines } from '../../src/db/schema.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { applicationBody, call, type Directory, seedDirectory } from '../support/fixtures.ts'
import { startTestSystem, type TestSystem } from '../support/system.ts'
import { shanghaiYear } from '../support/test-epoch.ts'

let sys: TestSystem
let dir: Directory

beforeAll(async () => {
  sys = await startTestSystem({ calendarPublishedThrough: shanghaiYear(Date.now()) + 2 })
  dir = await seedDirectory(sys.app)
})
afterAll(async () => sys?.stop())

const submit = async () => (await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())).body as CaseView
async function act(id: string, action: string, params: Record<string, unknown> = {}, key = dir.departmentKey): Promise<CaseView> {
  const r = await call(sys.app, key, 'POST', `/v1/cases/${id}/actions`, { action, ...params })
  if (r.status !== 200) throw new Error(`${action}: ${JSON.stringify(r.body)}`)
  return r.body as CaseView
}
const rowsOf = (caseId: string) =>
  sys.db.database.db.select().from(deadlines).where(eq(deadlines.caseId, caseId)).orderBy(asc(deadlines.key))
const row = async (caseId: string, key: string) => (await rowsOf(caseId)).find((r) => r.key === key)
const eventAt = async (caseId: string, type: string) => {
  const events = await sys.db.database.db.select().from(caseEvents).where(eq(caseEvents.caseId, caseId)).orderBy(asc(caseEvents.seq))
  return events.find((e) => e.type === type)!.at
}
/** Long enough around now to hold every instant these cases reach. */
const around = () => ({ from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 400 * 86_400_000).toISOString() })

describe('the deadlines projection', () => {
  it('has a running acceptance row for a submitted case, owned by the handling organisation', async () => {
    const created = await submit()
    expect(await rowsOf(created.id)).toEqual([{
      caseId: created.id, key: 'acceptance', kind: 'acceptance', caseKind: 'application', ownerOrganizationId: 'gz-amr',
      handlingOrganizationId: 'gz-amr', serviceItemCode: created.serviceItemCode, startedAt: created.createdAt,
      dueAt: created.deadlines[0]!.dueAt, state: 'running', warned: false, provisional: false, settledAt: null, workingDaysUsed: null,
    }])
  })

  it('gives an accepted and approved case met promised and statutory rows, settled at the decision', async () => {
    const { id } = await submit()
    const accepted = await act(id, 'accept')
    const approved = await act(id, 'approve', { note: 'conditions met' })
    const acceptedAt = await eventAt(id, 'accepted')
    const approvedAt = await eventAt(id, 'approved')
    const rows = await rowsOf(id)
    expect(rows.map((r) => [r.key, r.state])).toEqual([['acceptance', 'met'], ['promised', 'met'], ['result', 'running'], ['statutory', 'met']])
    for (const key of ['promised', 'statutory']) {
      expect(rows.find((r) => r.key === key)).toMatchObject({
        kind: key, ownerOrganizationId: 'gz-amr', startedAt: acceptedAt, settledAt: approvedAt,
        dueAt: accepted.deadlines.find((d) => d.key === key)!.dueAt,
      })
    }
    // Working-day limits say how many working days they took.
    for (const key of ['promised', 'statutory']) expect(rows.find((r) => r.key === key)!.workingDaysUsed).toEqual(expect.any(Number))
    expect(await row(id, 'acceptance')).toMatchObject({ settledAt: acceptedAt })
    const report = await createDeadlineReads(sys.db.database.db).onTimeByOwner({ ...around(), kinds: ['promised', 'statutory'] })
    expect(report.find((r) => r.organizationId === 'gz-amr')).toMatchObject({ met: expect.any(Number), averageWorkingDaysUsed: expect.any(Number) })
    expect(report.find((r) => r.organizationId === 'gz-amr')!.met).toBeGreaterThanOrEqual(2)
    expect(await row(id, 'result')).toMatchObject({
      startedAt: approvedAt, settledAt: null, dueAt: approved.deadlines.find((d) => d.key === 'result')!.dueAt,
    })
  })

  it('starts a deadline again when it runs again: acceptance after a supplement', async () => {
    const { id } = await submit()
    await act(id, 'request_supplement', { missing: ['lease'], note: 'lease unsigned' })
    expect(await row(id, 'acceptance')).toMatchObject({ state: 'met', settledAt: await eventAt(id, 'supplement_requested') })
    await act(id, 'supplement', { materials: [{ code: 'lease', ref: 'doc://lease/2' }] }, dir.windowKey)
    expect(await row(id, 'acceptance')).toMatchObject({ state: 'running', startedAt: await eventAt(id, 'supplemented'), settledAt: null })
  })

  it('records a missed opinion as missed, owned by the organisation that owed it', async () => {
    const { id } = await submit()
    await act(id, 'accept')
    await act(id, 'request_opinions', { organizationIds: ['gz-hr'], within: { duration: 'PT2S' } })
    await expect.poll(async () => (await row(id, 'opinion:gz-hr'))?.state, { timeout: 20_000, interval: 250 }).toBe('missed')
    const missed = (await row(id, 'opinion:gz-hr'))!
    // Missed at its due instant, not when the report of it reached the case.
    expect(missed).toMatchObject({
      kind: 'opinion', ownerOrganizationId: 'gz-hr', handlingOrganizationId: 'gz-amr',
      startedAt: await eventAt(id, 'opinions_requested'), settledAt: missed.dueAt,
    })
    expect(Date.parse(missed.dueAt)).toBeLessThanOrEqual(Date.parse(await eventAt(id, 'deadline_missed')))
    const report = await createDeadlineReads(sys.db.database.db).onTimeByOwner({ ...around(), kinds: ['opinion'] })
    expect(report.find((r) => r.organizationId === 'gz-hr')).toMatchObject({ missed: expect.any(Number) })
    expect(report.find((r) => r.organizationId === 'gz-hr')!.missed).toBeGreaterThanOrEqual(1)
  })

  it('writes nothing new when the same events are projected again', async () => {
    const { id } = await submit()
    await act(id, 'accept')
    const before = await rowsOf(id)
    const events = await sys.db.database.db.select().from(caseEvents).where(eq(caseEvents.caseId, id)).orderBy(asc(caseEvents.seq))
    const recorded = events.map(({ seq, at, type, actor, data, view }) => ({ event: { seq, at, type, actor, data }, view }))
    const { recordCaseEvents } = createProjectionActivities({ database: sys.db.database })
    expect(await recordCaseEvents({ caseId: id, recorded })).toEqual({ lastSeq: events.length })
    expect(await rowsOf(id)).toEqual(before)
  })

  it('reads runs back from its rows and the events when the views predate startedAt (cases running since then)', async () => {
    const { id } = await submit()
    await act(id, 'request_supplement', { missing: ['lease'], note: 'lease unsigned' })
    await act(id, 'supplement', { materials: [{ code: 'lease', ref: 'doc://lease/2' }] }, dir.windowKey)
    await act(id, 'accept')
    const current = await rowsOf(id)
    const events = await sys.db.database.db.select().from(caseEvents).where(eq(caseEvents.caseId, id)).orderBy(asc(caseEvents.seq))
    const legacy = events.map(({ seq, at, type, actor, data, view }) => ({
      event: { seq, at, type, actor, data },
      view: { ...view, deadlines: view.deadlines.map(({ startedAt: _, ...d }) => d) },
    }))
    await sys.db.database.db.delete(deadlines).where(eq(deadlines.caseId, id))
    // First the events up to the supplement, then the rest: the second batch reads the first's rows.
    const split = legacy.findIndex((r) => r.event.type === 'supplemented') + 1
    for (const batch of [legacy.slice(0, split), legacy.slice(split)]) {
      await sys.db.database.db.transaction(async (tx) => {
        await tx.execute((await deadlinesWrite(tx, id, batch))!)
      })
    }
    expect(await rowsOf(id)).toEqual(current)
    expect(await row(id, 'acceptance')).toMatchObject({ state: 'met', startedAt: await eventAt(id, 'supplemented') })
  })

  it('takes the owner, the settlement and the working days used from the view when it names them', async () => {
    const { id } = await submit()
    await act(id, 'accept')
    const approved = await act(id, 'approve', {})
    const events = await sys.db.database.db.select().from(caseEvents).where(eq(caseEvents.caseId, id)).orderBy(asc(caseEvents.seq))
    const last = events.at(-1)!
    const settledAt = '2026-01-05T01:00:00.000Z'
    const view: CaseView = {
      ...approved, version: last.seq + 1,
      deadlines: approved.deadlines.map((d) => d.key === 'promised' ? { ...d, organizationId: 'gz-hr', settledAt, workingDaysUsed: 3 }
        : d.key === 'result' ? { ...d, organizationId: 'gz-center', workingDaysUsed: 9 } : d),
    }
    const { recordCaseEvents } = createProjectionActivities({ database: sys.db.database })
    await recordCaseEvents({ caseId: id, recorded: [{ event: { ...last, seq: last.seq + 1, type: 'noted', data: {} }, view }] })
    expect(await row(id, 'promised')).toMatchObject({ ownerOrganizationId: 'gz-hr', handlingOrganizationId: 'gz-amr', settledAt, workingDaysUsed: 3 })
    // Running: neither settled nor a number of days used yet, whatever the view says.
    expect(await row(id, 'result')).toMatchObject({ ownerOrganizationId: 'gz-center', state: 'running', settledAt: null, workingDaysUsed: null })
  })

  it('is backfilled by its migration with the rows the projection writes', async () => {
    const a = await submit()
    await act(a.id, 'accept')
    await act(a.id, 'approve', {})
    const b = await submit()
    await act(b.id, 'request_supplement', { missing: ['lease'], note: 'lease unsigned' })
    await act(b.id, 'supplement', { materials: [{ code: 'lease', ref: 'doc://lease/2' }] }, dir.windowKey)
    const projected = [...await rowsOf(a.id), ...await rowsOf(b.id)]
    const migration = await readFile(join(MIGRATIONS_FOLDER, '0010_deadlines.sql'), 'utf8')
    const backfill = migration.split('--> statement-breakpoint').at(-1)!
    const { pool } = sys.db.database
    await pool.query('DELETE FROM deadlines')
    await pool.query(backfill)
    expect([...await rowsOf(a.id), ...await rowsOf(b.id)]).toEqual(projected)
    const [{ count }] = (await pool.query('SELECT count(*)::int AS count FROM cases WHERE NOT EXISTS (SELECT 1 FROM deadlines WHERE case_id = cases.id)')).rows
    expect(count).toBe(0)
  })
})

describe('on-time rates by owner', () => {
  it('counts met, missed and open deadlines and averages the working days used, in the period only', async () => {
    const { db } = sys.db.database
    const [some] = await db.select({ id: cases.id }).from(cases).limit(1)
    const id = some!.id
    const at = (day: number) => `2020-03-${String(day).padStart(2, '0')}T02:00:00.000Z`
    const base = {
      caseId: id, caseKind: 'application', handlingOrganizationId: 'gz-amr', serviceItemCode: null, warned: false, provisional: false,
      startedAt: at(1), workingDaysUsed: null,
    }
    await db.insert(deadlines).values([
      { ...base, key: 'r1', kind: 'promised', ownerOrganizationId: 'r-a', dueAt: at(10), state: 'met', settledAt: at(5), workingDaysUsed: 4 },
      { ...base, key: 'r2', kind: 'promised', ownerOrganizationId: 'r-a', dueAt: at(10), state: 'met', settledAt: at(6), workingDaysUsed: 5 },
      { ...base, key: 'r3', kind: 'statutory', ownerOrganizationId: 'r-a', dueAt: at(8), state: 'missed', settledAt: at(8), workingDaysUsed: 6 },
      { ...base, key: 'r4', kind: 'promised', ownerOrganizationId: 'r-a', dueAt: at(20), state: 'running', settledAt: null },
      { ...base, key: 'r5', kind: 'opinion', ownerOrganizationId: 'r-b', dueAt: at(9), state: 'missed', settledAt: at(9) },
      // Outside the period, or neither met nor missed: not counted.
      { ...base, key: 'r6', kind: 'promised', ownerOrganizationId: 'r-a', dueAt: at(30), state: 'met', settledAt: '2020-04-02T00:00:00.000Z' },
      { ...base, key: 'r7', kind: 'promised', ownerOrganizationId: 'r-a', dueAt: '2020-04-10T00:00:00.000Z', state: 'running', settledAt: null },
      { ...base, key: 'r8', kind: 'promised', ownerOrganizationId: 'r-a', dueAt: at(10), state: 'cancelled', settledAt: at(7) },
    ])
    const reads = createDeadlineReads(db)
    const march = { from: '2020-03-01T00:00:00.000Z', to: '2020-04-01T00:00:00.000Z' }
    expect(await reads.onTimeByOwner(march)).toEqual([
      { organizationId: 'r-a', met: 2, missed: 1, open: 1, averageWorkingDaysUsed: 5 },
      { organizationId: 'r-b', met: 0, missed: 1, open: 0, averageWorkingDaysUsed: null },
    ])
    expect(await reads.onTimeByOwner({ ...march, kinds: ['promised'] })).toEqual([
      { organizationId: 'r-a', met: 2, missed: 0, open: 1, averageWorkingDaysUsed: 4.5 },
    ])
    await db.delete(deadlines).where(and(eq(deadlines.caseId, id), inArray(deadlines.key, ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'])))
  })
})
