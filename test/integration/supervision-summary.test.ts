import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProjectionActivities } from '../../src/activities/projection.ts'
import { createOrganizationReads } from '../../src/db/organizations.ts'
import { MIGRATIONS_FOLDER } from '../../src/db/migrate.ts'
import { rebuildSummaryCounters } from '../../src/db/summary.ts'
import { ApplicationCase, caseLimits } from '../../src/domain/application/application-case.ts'
import type { RecordedEvent } from '../../src/domain/case-view.ts'
import type { Actor } from '../../src/domain/roles.ts'
import { call } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal } from '../support/system.ts'
import { calendarWith, testGuide } from '../support/time-skipping.ts'

// GET /v1/supervision/summary (API.md "Supervision and reporting") over the counters the
// projection keeps, fed by real application cases (the kernel, through the projection activity,
// as the workflow's activity calls it) on real Postgres, at pinned instants in March and April
// 2026: nothing here depends on today's date. Promised limit 5 working days, statutory 20.

let env: Awaited<ReturnType<typeof startAppWithoutTemporal>>
const keys: Record<string, string> = {}
const WINDOW: Actor = { organizationId: 'gz-center', role: 'window' }
const YX_AMR: Actor = { organizationId: 'gz-yx-amr', role: 'department' }
const HP_AMR: Actor = { organizationId: 'gz-hp-amr', role: 'department' }

// root ⊃ gz ⊃ gz-yx ⊃ gz-yx-amr, gz ⊃ gz-hp ⊃ gz-hp-amr; gz-center under gz.
const TREE: Array<[string, string, string?]> = [
  ['root', 'government'], ['gz', 'government', 'root'], ['gz-center', 'service-center', 'gz'],
  ['gz-yx', 'government', 'gz'], ['gz-yx-amr', 'department', 'gz-yx'], ['gz-hp', 'government', 'gz'], ['gz-hp-amr', 'department', 'gz-hp'],
]

const MARCH = 'from=2026-03-01&to=2026-03-31'
const APRIL = 'from=2026-04-01&to=2026-04-30'
/** The statutory deadline's working days for the cases decided early and on time (read from their views). */
const workingDays: Record<string, number> = {}

beforeAll(async () => {
  env = await startAppWithoutTemporal('the summary reads the counters only')
  for (const [id, kind, parentId] of TREE) {
    const r = await call(env.app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, ...(parentId ? { parentId } : {}) })
    expect(r.status).toBe(200)
  }
  for (const [name, organizationId, role] of [
    ['admin', 'root', 'admin'], ['auditor', 'root', 'auditor'], ['yx', 'gz-yx', 'supervisor'], ['hp', 'gz-hp', 'supervisor'],
    ['yxAmr', 'gz-yx-amr', 'department'], ['window', 'gz-center', 'window'],
  ] as const) {
    const r = await call(env.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role })
    keys[name] = (r.body as { key: string }).key
  }
  await runCases()
})
afterAll(async () => env?.stop())

const project = (caseId: string, recorded: RecordedEvent[]) =>
  createProjectionActivities({ database: env.db.database }).recordCaseEvents({ caseId, recorded })

function submit(id: string, departmentId: string, at: string) {
  return ApplicationCase.submit({
    id, guide: testGuide({ departmentId }), actor: WINDOW, calendar: calendarWith(), at, limits: caseLimits(),
    submission: {
      applicant: { type: 'person', name: '李四', idNumber: '440106198805052345' }, channel: 'window',
      priority: { greenChannel: false, urgent: false }, materials: [{ code: 'form', ref: 'doc://form', source: 'applicant' }],
    },
  })
}

/**
 * In gz-yx-amr: EARLY (decided within the promise, delivered 5 March, rated 5), ON-TIME (promise
 * missed, decided within the statutory limit, delivered 13 March, rated 2), LATE (both missed,
 * delivered 1 April 00:30 in Shanghai, which is still 31 March in UTC, rated 4 then). In
 * gz-hp-amr: OPEN (accepted, promise missed: open and overdue), and MOVED, accepted in gz-yx-amr
 * and transferred there.
 */
async function runCases(): Promise<void> {
  const parents = createOrganizationReads(env.db.database.db)
  const advance = async (id: string, kase: ApplicationCase, to: string) => {
    kase.place(await parents.parentsOf(kase.unplacedBy(Number.POSITIVE_INFINITY)))
    await project(id, kase.advance(to))
  }
  const complete = async (id: string, kase: ApplicationCase, decidedAt: string, deliveredAt: string) => {
    await project(id, kase.apply({ action: 'approve', actor: YX_AMR, params: {} }, decidedAt))
    await project(id, kase.apply({ action: 'issue_result', actor: YX_AMR, params: {} }, decidedAt))
    await project(id, kase.apply({ action: 'deliver', actor: WINDOW, params: { method: 'window' } }, deliveredAt))
  }
  const rate = (id: string, kase: ApplicationCase, score: number, at: string) =>
    project(id, kase.apply({ action: 'rate', actor: WINDOW, params: { score } }, at))

  const early = submit('A-EARLY', 'gz-yx-amr', '2026-03-02T02:00:00.000Z')
  await project('A-EARLY', early.recorded)
  await project('A-EARLY', early.application.apply({ action: 'accept', actor: YX_AMR, params: {} }, '2026-03-02T03:00:00.000Z'))
  await complete('A-EARLY', early.application, '2026-03-04T02:00:00.000Z', '2026-03-05T02:00:00.000Z')
  await rate('A-EARLY', early.application, 5, '2026-03-06T02:00:00.000Z')

  const onTime = submit('A-ONTIME', 'gz-yx-amr', '2026-03-02T02:00:00.000Z')
  await project('A-ONTIME', onTime.recorded)
  await project('A-ONTIME', onTime.application.apply({ action: 'accept', actor: YX_AMR, params: {} }, '2026-03-02T03:00:00.000Z'))
  await advance('A-ONTIME', onTime.application, onTime.application.book.get('promised')!.dueAt)
  await complete('A-ONTIME', onTime.application, '2026-03-12T02:00:00.000Z', '2026-03-13T02:00:00.000Z')
  await rate('A-ONTIME', onTime.application, 2, '2026-03-16T02:00:00.000Z')

  const late = submit('A-LATE', 'gz-yx-amr', '2026-03-02T02:00:00.000Z')
  await project('A-LATE', late.recorded)
  await project('A-LATE', late.application.apply({ action: 'accept', actor: YX_AMR, params: {} }, '2026-03-02T03:00:00.000Z'))
  await advance('A-LATE', late.application, late.application.book.get('promised')!.dueAt)
  // The level-1 record is answered before the statutory deadline passes, so nothing climbs further.
  await project('A-LATE', late.application.apply({ action: 'respond_supervision', actor: YX_AMR, params: { note: 'on it' } }, '2026-03-11T02:00:00.000Z'))
  await advance('A-LATE', late.application, late.application.book.get('statutory')!.dueAt)
  await complete('A-LATE', late.application, '2026-03-31T10:00:00.000Z', '2026-03-31T16:30:00.000Z')
  await rate('A-LATE', late.application, 4, '2026-03-31T16:40:00.000Z')

  const open = submit('A-OPEN', 'gz-hp-amr', '2026-03-02T02:00:00.000Z')
  await project('A-OPEN', open.recorded)
  await project('A-OPEN', open.application.apply({ action: 'accept', actor: HP_AMR, params: {} }, '2026-03-02T03:00:00.000Z'))
  await advance('A-OPEN', open.application, open.application.book.get('promised')!.dueAt)

  const moved = submit('A-MOVED', 'gz-yx-amr', '2026-03-02T02:00:00.000Z')
  await project('A-MOVED', moved.recorded)
  await project('A-MOVED', moved.application.apply({ action: 'accept', actor: YX_AMR, params: {} }, '2026-03-02T03:00:00.000Z'))
  await project('A-MOVED', moved.application.apply({ action: 'transfer', actor: YX_AMR, params: { toOrganizationId: 'gz-hp-amr', reason: 'theirs' } },
    '2026-03-03T02:00:00.000Z'))

  for (const id of ['A-EARLY', 'A-ONTIME']) {
    const { rows: [row] } = await env.db.database.pool.query<{ used: number }>(
      "SELECT (d->>'workingDaysUsed')::int AS used FROM cases, jsonb_array_elements(view->'deadlines') d WHERE id = $1 AND d->>'key' = 'statutory'", [id])
    workingDays[id] = row!.used
  }
}

interface Row {
  organizationId: string; open: number; warned: number; overdue: number; completed: number; completedOnTime: number
  onTimeRate: number | null; earlyCompletionRate: number | null; averageWorkingDays: number | null
  ratings: Record<string, number>; supervisionsOpen: number
}

const summary = async (key: string, query: string) => {
  const r = await call(env.app, key, 'GET', `/v1/supervision/summary?${query}`)
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body as { from: string; to: string; organizations: Row[] }
}
const byId = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.organizationId, r]))
const noRatings = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 }

describe('GET /v1/supervision/summary', () => {
  it('rule 33: counts March\'s completions on their Shanghai days: on time, early, working days, ratings', async () => {
    expect(workingDays['A-EARLY']).toBeGreaterThan(0)
    expect(workingDays['A-ONTIME']).toBeGreaterThan(workingDays['A-EARLY']!)
    const march = await summary(keys.admin!, MARCH)
    expect([march.from, march.to]).toEqual(['2026-03-01', '2026-03-31'])
    expect(byId(march.organizations)['gz-yx-amr']).toEqual({
      // ON-TIME, rated 2, stays open for its rectification, and overdue since its promise was missed.
      organizationId: 'gz-yx-amr', open: 1, warned: 0, overdue: 1,
      completed: 2, completedOnTime: 2, onTimeRate: 1, earlyCompletionRate: 0.5,
      averageWorkingDays: (workingDays['A-EARLY']! + workingDays['A-ONTIME']!) / 2,
      ratings: { ...noRatings, 2: 1, 5: 1 },
      // Unanswered: ON-TIME's record for its missed promise, LATE's for its missed statutory limit.
      supervisionsOpen: 2,
    })
    const { rows: open } = await env.db.database.pool.query<{ id: string }>(
      "SELECT id FROM cases WHERE handling_organization_id = 'gz-yx-amr' AND open AND overdue")
    expect(open.map((r) => r.id)).toEqual(['A-ONTIME'])
  })

  it('counts a completion at 00:30 on 1 April in Shanghai in April, late, with its rating', async () => {
    const april = byId((await summary(keys.admin!, APRIL)).organizations)
    expect(april['gz-yx-amr']).toMatchObject({
      completed: 1, completedOnTime: 0, onTimeRate: 0, earlyCompletionRate: 0, averageWorkingDays: null, ratings: { ...noRatings, 4: 1 },
    })
    const both = byId((await summary(keys.admin!, 'from=2026-03-01&to=2026-04-01')).organizations)
    expect(both['gz-yx-amr']).toMatchObject({ completed: 3, completedOnTime: 2, onTimeRate: 2 / 3, earlyCompletionRate: 1 / 3 })
  })

  it('shows open, overdue and transferred cases where they are handled now, rates null with nothing completed', async () => {
    const march = byId((await summary(keys.admin!, MARCH)).organizations)
    expect(march['gz-hp-amr']).toEqual({
      organizationId: 'gz-hp-amr', open: 2, warned: march['gz-hp-amr']!.warned, overdue: 1, completed: 0, completedOnTime: 0,
      onTimeRate: null, earlyCompletionRate: null, averageWorkingDays: null, ratings: noRatings, supervisionsOpen: 1,
    })
    const { rows: [warned] } = await env.db.database.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM cases WHERE handling_organization_id = 'gz-hp-amr' AND open AND warned")
    expect(march['gz-hp-amr']!.warned).toBe(warned!.n)
    // Nothing is counted for the department MOVED left, nor for organisations without figures.
    expect(Object.keys(march).sort()).toEqual(['gz-hp-amr', 'gz-yx-amr'])
  })

  it('agrees with the supervisions projection on unanswered records', async () => {
    const { rows } = await env.db.database.pool.query<{ organization_id: string; n: number }>(
      'SELECT organization_id, count(*)::int AS n FROM supervisions WHERE responded_at IS NULL GROUP BY 1 ORDER BY 1')
    const march = byId((await summary(keys.admin!, MARCH)).organizations)
    expect(rows.map((r) => [r.organization_id, r.n])).toEqual(Object.values(march).filter((r) => r.supervisionsOpen > 0)
      .map((r) => [r.organizationId, r.supervisionsOpen]).sort())
  })

  it('shows a supervisor its own subtree only, and narrows to an organisation within it', async () => {
    expect((await summary(keys.yx!, MARCH)).organizations.map((r) => r.organizationId)).toEqual(['gz-yx-amr'])
    expect((await summary(keys.hp!, MARCH)).organizations.map((r) => r.organizationId)).toEqual(['gz-hp-amr'])
    expect((await summary(keys.yx!, `${MARCH}&organizationId=gz-hp`)).organizations).toEqual([])
    expect((await summary(keys.admin!, `${MARCH}&organizationId=gz-hp`)).organizations.map((r) => r.organizationId)).toEqual(['gz-hp-amr'])
    expect((await summary(keys.auditor!, MARCH)).organizations).toEqual((await summary(keys.admin!, MARCH)).organizations)
  })

  it('rule 33: filters by kind and service item', async () => {
    expect((await summary(keys.admin!, `${MARCH}&kind=complaint`)).organizations).toEqual([])
    // Every case here is an ITEM-1 application: the item's rows, the kind's totals and every kind's agree.
    const all = (await summary(keys.admin!, MARCH)).organizations
    expect(all.length).toBeGreaterThan(0)
    for (const filter of ['kind=application&serviceItemCode=ITEM-1', 'kind=application', 'serviceItemCode=ITEM-1']) {
      expect((await summary(keys.admin!, `${MARCH}&${filter}`)).organizations, filter).toEqual(all)
    }
    expect((await summary(keys.admin!, `${MARCH}&serviceItemCode=OTHER`)).organizations).toEqual([])
  })

  it('refuses departments and windows, a period that ends before it starts, and days that do not exist', async () => {
    for (const key of [keys.yxAmr!, keys.window!]) {
      expect((await call(env.app, key, 'GET', `/v1/supervision/summary?${MARCH}`)).status).toBe(403)
    }
    const backwards = await call(env.app, keys.admin!, 'GET', '/v1/supervision/summary?from=2026-04-01&to=2026-03-31')
    expect(backwards.status).toBe(400)
    expect(backwards.headers['content-type']).toContain('application/problem+json')
    for (const query of ['from=2026-02-30&to=2026-03-31', 'from=2026-3-1&to=2026-03-31', 'to=2026-03-31T00:00:00Z']) {
      expect((await call(env.app, keys.admin!, 'GET', `/v1/supervision/summary?${query}`)).status, query).toBe(400)
    }
  })

  it('defaults to the current month so far', async () => {
    const { from, to } = await summary(keys.admin!, '')
    expect(from).toBe(`${to.slice(0, 8)}01`)
    expect(to).toMatch(/^\d{4}-\d{2}-\d{2}$/)
  })
})

describe('the counters', () => {
  const snapshot = async () => {
    const current = await env.db.database.pool.query(
      'SELECT * FROM summary_current WHERE open <> 0 OR warned <> 0 OR overdue <> 0 OR supervisions_open <> 0 ORDER BY 1, 2, 3')
    const flow = await env.db.database.pool.query(`SELECT * FROM summary_flow WHERE completed <> 0 OR working_days_count <> 0
      OR ratings_1 <> 0 OR ratings_2 <> 0 OR ratings_3 <> 0 OR ratings_4 <> 0 OR ratings_5 <> 0 ORDER BY 1, 2, 3, 4, 5`)
    return { current: current.rows, flow: flow.rows }
  }

  it('kept incrementally equal a rebuild from the case rows', async () => {
    const kept = await snapshot()
    expect(kept.current.length).toBeGreaterThan(0)
    expect(kept.flow.map((r: { span: string }) => r.span)).toContain('month')
    await rebuildSummaryCounters(env.db.database.db)
    expect(await snapshot()).toEqual(kept)
  })

  it('are left as they were by a retried or repeated projection call', async () => {
    const { rows } = await env.db.database.pool.query<{ seq: number; at: string; type: string; actor: Actor; data: Record<string, unknown>; view: RecordedEvent['view'] }>(
      "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS at, type, actor, data, view FROM case_events WHERE case_id = 'A-LATE' ORDER BY seq")
    const history: RecordedEvent[] = rows.map(({ view, ...event }) => ({ event, view }))
    const before = await snapshot()
    // The last batch again (a retried activity), and the whole history (a replay).
    await project('A-LATE', history.slice(-1))
    await project('A-LATE', history)
    expect(await snapshot()).toEqual(before)
  })

  it('are what migration 0015 computes for cases projected before it, completion instants included', async () => {
    const statements = (await readFile(join(MIGRATIONS_FOLDER, '0015_summary_counters.sql'), 'utf8')).split('--> statement-breakpoint')
    const backfill = statements.find((s) => s.includes('UPDATE "cases"'))!
    const rebuild = statements.find((s) => s.includes('INSERT INTO "summary_flow"'))!
    const completions = 'SELECT id, completed_at FROM cases WHERE completed_at IS NOT NULL ORDER BY id'
    const projected = (await env.db.database.pool.query(completions)).rows
    expect(projected.map((r: { id: string }) => r.id)).toEqual(['A-EARLY', 'A-LATE', 'A-ONTIME'])
    const kept = await snapshot()
    await env.db.database.pool.query('UPDATE cases SET completed_at = NULL')
    await env.db.database.pool.query('DELETE FROM summary_current; DELETE FROM summary_flow')
    await env.db.database.pool.query(backfill)
    await env.db.database.pool.query(rebuild)
    expect((await env.db.database.pool.query(completions)).rows).toEqual(projected)
    expect(await snapshot()).toEqual(kept)
  })
})
