import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BY_SCHEDULE, produceDueMonthlyReport } from '../../src/db/reports.ts'
import { ensureMonthlyReportSchedule } from '../../src/infra/report-schedule.ts'
import { monthlyReportScheduleId } from '../../src/workflows/monthly-report/contract.ts'
import { call, type Directory, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'

// The monthly report (API.md "Supervision and reporting", issue 12 item 3). Its figures come from
// the summary counters, written here for September 2025 as the projection would have: the report
// is a function of them, whatever today is.
let sys: TestSystem
let dir: Directory

beforeAll(async () => {
  // 2025 and 2026 as the State Council published them (National Day 2025: 1–8 October).
  sys = await startTestSystem({ calendarPublishedThrough: 2026 })
  dir = await seedDirectory(sys.app)
  for (const [id, kind, parentId] of [['rp', 'government', 'root'], ['rp-hr', 'department', 'rp'], ['rp-gsdm', 'service-management', 'rp'],
    ['rq', 'government', 'root'], ['rq-hr', 'department', 'rq']] as const) {
    expect((await call(sys.app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: `${id} 局`, kind, parentId })).status).toBe(200)
  }
  const q = (text: string, values: unknown[]) => sys.db.database.pool.query(text, values)
  for (const [org, item, open, warned, overdue, supervisions] of [['rp-hr', 'RP-1', 4, 2, 1, 1], ['rq-hr', 'RP-1', 1, 0, 0, 0]] as const) {
    await q(`INSERT INTO summary_current (organization_id, kind, service_item_code, open, warned, overdue, supervisions_open)
      VALUES ($1, 'application', $2, $3, $4, $5, $6)`, [org, item, open, warned, overdue, supervisions])
  }
  // Month rows, as the projection keeps them beside its day rows (src/db/summary.ts).
  const flow = `INSERT INTO summary_flow (organization_id, kind, service_item_code, span, starts, completed, completed_on_time, completed_early,
    working_days_sum, working_days_count, ratings_1, ratings_2, ratings_3, ratings_4, ratings_5)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`
  await q(flow, ['rp-hr', 'application', 'RP-1', 'month', '2025-09-01', 4, 3, 2, 14, 4, 0, 0, 1, 1, 2])
  await q(flow, ['rp-hr', 'complaint', '', 'month', '2025-09-01', 2, 2, 0, 6, 2, 0, 0, 0, 0, 0])
  await q(flow, ['rq-hr', 'application', 'RP-1', 'month', '2025-09-01', 4, 1, 0, 40, 4, 1, 1, 0, 0, 0])
  // A day of September (its month row already counts it), and the months around: in no September report.
  await q(flow, ['rp-hr', 'application', 'RP-1', 'day', '2025-09-30', 1, 1, 1, 2, 1, 0, 0, 0, 1, 0])
  await q(flow, ['rp-hr', 'application', 'RP-1', 'month', '2025-08-01', 7, 7, 7, 7, 7, 0, 0, 0, 0, 7])
  await q(flow, ['rp-hr', 'application', 'RP-1', 'month', '2025-10-01', 9, 9, 9, 9, 9, 9, 0, 0, 0, 0])
})
afterAll(async () => sys?.stop())

const keyOf = async (organizationId: string, role: string) =>
  ((await call(sys.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role })).body as { key: string }).key

describe('POST and GET /v1/reports/monthly/{month}', () => {
  it('rule 33: produces the month from the counters: per organisation and per service item, with the summary\'s rates', async () => {
    const produced = await call(sys.app, ADMIN_KEY, 'POST', '/v1/reports/monthly/2025-09')
    expect(produced).toMatchObject({ status: 201, body: { version: 1 } })
    const report = (await call(sys.app, dir.auditorKey, 'GET', '/v1/reports/monthly/2025-09')).body
    expect(report).toMatchObject({ month: '2025-09', version: 1, from: '2025-09-01', to: '2025-09-30' })
    const rows = Object.fromEntries((report.organizations as Array<{ organizationId: string }>).map((o) => [o.organizationId, o]))
    expect(rows['rp-hr']).toEqual({
      organizationId: 'rp-hr', organizationName: 'rp-hr 局', open: 4, warned: 2, overdue: 1, supervisionsOpen: 1,
      completed: 6, completedOnTime: 5, onTimeRate: 5 / 6, earlyCompletionRate: 2 / 6, averageWorkingDays: 20 / 6,
      ratings: { 1: 0, 2: 0, 3: 1, 4: 1, 5: 2 },
    })
    expect(rows['rq-hr']).toMatchObject({ completed: 4, completedOnTime: 1, onTimeRate: 0.25, earlyCompletionRate: 0, averageWorkingDays: 10 })
    // Per item, over both organisations; the complaint has no item and is in no item's row.
    expect(report.serviceItems).toEqual([expect.objectContaining({
      serviceItemCode: 'RP-1', open: 5, completed: 8, completedOnTime: 4, onTimeRate: 0.5, ratings: { 1: 1, 2: 1, 3: 1, 4: 1, 5: 2 },
    })])
  })

  it('never rewrites a version: a new run is the next version, and the old one stays readable', async () => {
    await sys.db.database.pool.query(`UPDATE summary_flow SET completed = completed + 10
      WHERE organization_id = 'rq-hr' AND span = 'month' AND starts = '2025-09-01'`)
    const again = await call(sys.app, ADMIN_KEY, 'POST', '/v1/reports/monthly/2025-09')
    expect(again).toMatchObject({ status: 201, body: { version: 2 } })
    const completedOf = (report: { organizations: Array<{ organizationId: string; completed: number }> }) =>
      report.organizations.find((o) => o.organizationId === 'rq-hr')!.completed
    expect(completedOf((await call(sys.app, ADMIN_KEY, 'GET', '/v1/reports/monthly/2025-09')).body)).toBe(14)
    expect(completedOf((await call(sys.app, ADMIN_KEY, 'GET', '/v1/reports/monthly/2025-09?version=1')).body)).toBe(4)
    const versions = (await call(sys.app, ADMIN_KEY, 'GET', '/v1/reports/monthly/2025-09/versions')).body.items
    expect(versions.map((v: { version: number }) => v.version)).toEqual([1, 2])
    await expect(sys.db.database.pool.query('UPDATE monthly_reports SET produced_by = \'x\' WHERE month = \'2025-09\'')).rejects.toThrow(/append-only/)
    await expect(sys.db.database.pool.query('DELETE FROM monthly_reports WHERE month = \'2025-09\'')).rejects.toThrow(/append-only/)
  })

  it('answers the same Idempotency-Key with the same version, and produces nothing more', async () => {
    const headers = { 'idempotency-key': 'report-2025-08-once' }
    const first = await call(sys.app, ADMIN_KEY, 'POST', '/v1/reports/monthly/2025-08', undefined, headers)
    const second = await call(sys.app, ADMIN_KEY, 'POST', '/v1/reports/monthly/2025-08', undefined, headers)
    expect(first).toMatchObject({ status: 201, body: { version: 1 } })
    // The same answer; its headers differ only in what moves between two requests (Date, the key's remaining rate).
    expect({ status: second.status, body: second.body }).toEqual({ status: first.status, body: first.body })
    expect((await call(sys.app, ADMIN_KEY, 'GET', '/v1/reports/monthly/2025-08/versions')).body.items).toHaveLength(1)
  })

  it('serves CSV and a printable page with Chinese labels by Accept', async () => {
    const csv = await sys.app.inject({ method: 'GET', url: '/v1/reports/monthly/2025-09?version=1', headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'text/csv' } })
    expect(csv.statusCode).toBe(200)
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(csv.body).toMatch(/^\uFEFFmonth,2025-09,version,1,/)
    expect(csv.body).toContain('\r\nrp-hr,rp-hr 局,4,2,1,6,5,')
    const page = await sys.app.inject({ method: 'GET', url: '/v1/reports/monthly/2025-09', headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'text/html,*/*;q=0.8' } })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.headers['content-security-policy']).toContain("default-src 'none'")
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    expect(page.body).toContain('政务服务月度报告：2025年9月')
    expect(page.body).toContain('<td>rp-hr 局</td>')
  })

  it('shows a supervisor its own subtree (a service-management one its government\'s), and refuses departments and windows', async () => {
    const organizationsSeenBy = async (key: string) =>
      ((await call(sys.app, key, 'GET', '/v1/reports/monthly/2025-09?version=1')).body.organizations as Array<{ organizationId: string }>)
        .map((o) => o.organizationId)
    expect(await organizationsSeenBy(await keyOf('rp-gsdm', 'supervisor'))).toEqual(['rp-hr'])
    const items = (await call(sys.app, await keyOf('rq', 'supervisor'), 'GET', '/v1/reports/monthly/2025-09?version=1')).body.serviceItems
    expect(items).toEqual([expect.objectContaining({ serviceItemCode: 'RP-1', completed: 4 })])
    expect((await call(sys.app, await keyOf('rp', 'supervisor'), 'POST', '/v1/reports/monthly/2025-07')).status).toBe(201)
    for (const key of [dir.departmentKey, dir.windowKey]) {
      expect((await call(sys.app, key, 'GET', '/v1/reports/monthly/2025-09')).body).toMatchObject({ status: 403, code: 'forbidden' })
      expect((await call(sys.app, key, 'POST', '/v1/reports/monthly/2025-09')).body).toMatchObject({ status: 403, code: 'forbidden' })
    }
    expect((await call(sys.app, dir.auditorKey, 'POST', '/v1/reports/monthly/2025-09')).body).toMatchObject({ status: 403, code: 'forbidden' })
  })

  it('refuses a malformed month, a month not begun and a version that does not exist', async () => {
    for (const month of ['2025-13', '2025-9', 'latest', '2025-09-01']) {
      expect((await call(sys.app, ADMIN_KEY, 'GET', `/v1/reports/monthly/${month}`)).body).toMatchObject({ status: 400, code: 'validation_failed' })
    }
    expect((await call(sys.app, ADMIN_KEY, 'POST', '/v1/reports/monthly/2999-01')).body).toMatchObject({ status: 422, code: 'unprocessable' })
    expect((await call(sys.app, ADMIN_KEY, 'GET', '/v1/reports/monthly/2025-09?version=99')).body).toMatchObject({ status: 404, code: 'not_found' })
    expect((await call(sys.app, ADMIN_KEY, 'GET', '/v1/reports/monthly/2024-01')).body).toMatchObject({ status: 404, code: 'not_found' })
  })
})

describe('the schedule', () => {
  it('is created once when the API starts, daily at 09:00 in Shanghai, and creating it again finds it', async () => {
    await sys.app.ready()
    const handle = sys.client.schedule.getHandle(monthlyReportScheduleId(sys.queues.calendar))
    // Created in the background at start-up: wait for it.
    let described: Awaited<ReturnType<typeof handle.describe>> | undefined
    for (let i = 0; i < 50 && !described; i++) {
      described = await handle.describe().catch(() => undefined)
      if (!described) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(described?.spec.timezone).toBe('Asia/Shanghai')
    expect(described?.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 9, end: 9, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] })
    expect(described?.action).toMatchObject({ type: 'startWorkflow', workflowType: 'monthlyReportWorkflow', taskQueue: sys.queues.calendar })
    expect(described?.policies.overlap).toBe('SKIP')
    expect(await ensureMonthlyReportSchedule(sys.client, sys.queues.calendar)).toBe('exists')
  })

  it('rule 33: produces the due report on the first working day of the month by the official calendar, once, not before', async () => {
    const run = (asOf: string) => sys.client.workflow.execute('monthlyReportWorkflow', {
      taskQueue: sys.queues.calendar, workflowId: `report-run-${asOf}`, args: [{ asOf }],
    })
    // 8 October 2025 is the last day of the National Day holiday: August's report is due still.
    expect(await run('2025-10-08T01:00:00.000Z')).toEqual({ month: '2025-08', version: 2, produced: true })
    // The 9th is the first working day: September's. The schedule's first; two earlier ones were on demand.
    expect(await run('2025-10-09T01:00:00.000Z')).toEqual({ month: '2025-09', version: 3, produced: true })
    expect(await run('2025-10-10T01:00:00.000Z')).toEqual({ month: '2025-09', version: 3, produced: false })
    const latest = (await call(sys.app, ADMIN_KEY, 'GET', '/v1/reports/monthly/2025-09')).body
    expect(latest).toMatchObject({ version: 3, producedBy: BY_SCHEDULE, producedAt: '2025-10-09T01:00:00.000Z' })
    // Straight through the database function too: the same answer.
    expect(await produceDueMonthlyReport(sys.db.database.db, Date.parse('2025-10-31T12:00:00Z'))).toMatchObject({ month: '2025-09', version: 3, produced: false })
  })
})
