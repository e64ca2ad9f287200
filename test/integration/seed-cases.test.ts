import { Value } from 'typebox/value'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedCases } from '../../scripts/seed-cases.ts'
import type { App } from '../../src/api/app.ts'
import { CaseView, priorityRank } from '../../src/domain/case-view.ts'
import { call } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal, type TestDatabase } from '../support/system.ts'

const COUNT = 2_000
/** Few departments, so that one has several pages of overdue cases at this size. */
const DEPARTMENTS = 12

let db: TestDatabase
let app: App
let auditorKey: string
let stop: (() => Promise<void>) | undefined

beforeAll(async () => {
  ({ db, app, stop } = await startAppWithoutTemporal('no Temporal in list tests'))
  await seedCases(db.database, { count: COUNT, departments: DEPARTMENTS })
  const key = await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'root', role: 'auditor' })
  expect(key.status).toBe(201)
  auditorKey = (key.body as { key: string }).key
})
afterAll(async () => stop?.())

/** Queue order as a reader sees it: priority, then the earliest running deadline (none runs: last). */
function queueKey(view: CaseView): [number, number] {
  const running = view.deadlines.filter((d) => d.state === 'running' || d.state === 'paused').map((d) => Date.parse(d.dueAt))
  return [priorityRank(view.priority), running.length ? Math.min(...running) : Number.POSITIVE_INFINITY]
}

describe('seeded read side', () => {
  it('holds the requested rows, with valid views that agree with their columns', async () => {
    const { rows } = await db.database.pool.query<{ id: string; view: CaseView; overdue: boolean; warned: boolean; handling: string }>(
      'SELECT id, view, overdue, warned, handling_organization_id AS handling FROM cases')
    expect(rows).toHaveLength(COUNT)
    for (const row of rows) {
      expect(Value.Check(CaseView, row.view), row.id).toBe(true)
      expect([row.view.id, row.view.overdue, row.view.warned, row.view.handlingOrganizationId]).toEqual([row.id, row.overdue, row.warned, row.handling])
    }
    const overdue = rows.filter((r) => r.overdue).length / COUNT
    expect(overdue).toBeGreaterThan(0.02)
    expect(overdue).toBeLessThan(0.09)
    expect(new Set(rows.map((r) => r.handling)).size).toBe(DEPARTMENTS)
  })

  it('lists exactly the overdue cases of one department, in queue order, each once across keyset pages', async () => {
    // A department with several pages of overdue cases that mix priorities, so order matters.
    const { rows: [chosen] } = await db.database.pool.query<{ id: string }>(`
      SELECT handling_organization_id AS id FROM cases WHERE overdue
      GROUP BY 1 ORDER BY count(*) >= 10 DESC, count(DISTINCT priority_rank) DESC, count(*) DESC, 1 LIMIT 1`)
    const department = chosen!.id
    const { rows: expected } = await db.database.pool.query<{ id: string }>(
      'SELECT id FROM cases WHERE overdue AND handling_organization_id = $1 ORDER BY priority_rank, next_due_at, id', [department])
    expect(expected.length).toBeGreaterThanOrEqual(10)

    const seen: CaseView[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const url: string = `/v1/cases?overdue=true&handlingOrganizationId=${department}&limit=3${cursor ? `&cursor=${cursor}` : ''}`
      const page = await call(app, auditorKey, 'GET', url)
      expect(page.status).toBe(200)
      const body = page.body as { items: CaseView[]; nextCursor: string | null }
      expect(body.items.length).toBeGreaterThan(0)
      seen.push(...body.items)
      cursor = body.nextCursor
      pages++
    } while (cursor && pages <= expected.length)

    expect(pages).toBe(Math.ceil(expected.length / 3))
    for (const view of seen) expect([view.overdue, view.handlingOrganizationId]).toEqual([true, department])
    expect(seen.map((v) => v.id)).toEqual(expected.map((r) => r.id))
    expect(new Set(seen.map((v) => v.id)).size).toBe(seen.length)
    const keys = seen.map(queueKey)
    for (let i = 1; i < keys.length; i++) {
      const [[rank0, due0], [rank1, due1]] = [keys[i - 1]!, keys[i]!]
      expect(rank1 > rank0 || (rank1 === rank0 && due1 >= due0), `${seen[i - 1]!.id} then ${seen[i]!.id}`).toBe(true)
    }
    expect(new Set(keys.map(([rank]) => rank)).size).toBeGreaterThan(1)
  })

  it('pages a department\'s worklist through what it handles and what it only gave an opinion on, in queue order, each once', async () => {
    const { rows: [busiest] } = await db.database.pool.query<{ id: string }>(`
      SELECT handling_organization_id AS id FROM cases WHERE overdue GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`)
    const department = busiest!.id
    // Opinions it gave on other departments' cases, spread through the queue.
    for (const which of ['overdue', 'NOT overdue']) {
      await db.database.pool.query(`UPDATE cases SET organizations = organizations || ARRAY[$1]::text[]
        WHERE id IN (SELECT id FROM cases WHERE handling_organization_id <> $1 AND ${which} ORDER BY md5(id) LIMIT 20)`, [department])
    }
    const key = await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: department, role: 'department' })
    const departmentKey = (key.body as { key: string }).key
    for (const query of ['overdue=true&', '']) {
      const { rows: expected } = await db.database.pool.query<{ id: string; handling: string }>(`
        SELECT id, handling_organization_id AS handling FROM cases
        WHERE (handling_organization_id = $1 OR organizations @> ARRAY[$1]::text[]) ${query ? 'AND overdue' : ''}
        ORDER BY priority_rank, next_due_at, id`, [department])
      expect(expected.some((r) => r.handling !== department), 'opinion cases among them').toBe(true)
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const page = await call(app, departmentKey, 'GET', `/v1/cases?${query}limit=7${cursor ? `&cursor=${cursor}` : ''}`)
        expect(page.status).toBe(200)
        const body = page.body as { items: CaseView[]; nextCursor: string | null }
        seen.push(...body.items.map((v) => v.id))
        cursor = body.nextCursor
      } while (cursor && seen.length <= expected.length)
      expect(seen, query || 'worklist').toEqual(expected.map((r) => r.id))
    }
  })

  it('leaves the summary counters as the seeded rows say: open cases, completions by day in total and by month and item', async () => {
    const { rows: [figures] } = await db.database.pool.query<Record<string, number>>(`SELECT
      (SELECT sum(open)::int FROM summary_current) AS open_counted,
      (SELECT count(*)::int FROM cases WHERE open) AS open_cases,
      (SELECT sum(overdue)::int FROM summary_current) AS overdue_counted,
      (SELECT count(*)::int FROM cases WHERE open AND overdue) AS overdue_cases,
      (SELECT sum(completed)::int FROM summary_flow WHERE span = 'day' AND kind = '*') AS completed_days,
      (SELECT sum(completed)::int FROM summary_flow WHERE span = 'month' AND strpos(kind, '*') = 0) AS completed_months,
      (SELECT count(*)::int FROM cases WHERE completed_at IS NOT NULL) AS completed_cases`)
    expect(figures!.open_cases).toBeGreaterThan(0)
    expect(figures!.completed_cases).toBeGreaterThan(0)
    expect([figures!.open_counted, figures!.overdue_counted, figures!.completed_days, figures!.completed_months])
      .toEqual([figures!.open_cases, figures!.overdue_cases, figures!.completed_cases, figures!.completed_cases])
  })
})
