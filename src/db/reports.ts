import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import { dayOfMs, WorkingCalendar, yearOfDay } from '../domain/calendar.ts'
import { dueMonth, type FigureSums, figuresOf, monthPeriod, type MonthlyReport } from '../domain/monthly-report.ts'
import { loadCalendarWindow } from './calendar.ts'
import type { Db, Tx } from './client.ts'
import type { Viewer } from './cases.ts'
import { monthlyReports, organizations, serviceItems, serviceItemVersions, summaryCurrent, summaryFlow } from './schema.ts'
import { supervisedOrganizations } from './scope.ts'

/** Who produced a version: the schedule, or the API key that asked for it. */
export const BY_SCHEDULE = 'schedule'

/**
 * One organisation's figures for one service item ('' for cases of none), summed over kinds: the
 * finest grain a report keeps, so that each reader's view of it (a supervisor's subtree) is summed
 * from it without producing the report again.
 */
export interface ReportRow extends FigureSums {
  organizationId: string
  serviceItemCode: string
  ratings: [number, number, number, number, number]
}

/** A stored version: the rows and the names as they were when it was produced. */
export interface StoredReport extends Pick<MonthlyReport, 'month' | 'version' | 'from' | 'to' | 'producedAt' | 'producedBy'> {
  rows: ReportRow[]
  organizationNames: Record<string, string>
  serviceItemNames: Record<string, string>
}

/**
 * The month's rows from the summary counters (src/db/summary.ts), never from cases: completions and
 * ratings in the month (its month rows, which the projection keeps beside the day rows), and what
 * was open, warned, overdue and unanswered at production.
 */
async function reportRows(db: Db | Tx, from: string): Promise<ReportRow[]> {
  const figures = await db.execute<{
    organization_id: string; service_item_code: string; open: number; warned: number; overdue: number; supervisions_open: number
    completed: number; completed_on_time: number; completed_early: number; working_days_sum: number; working_days_count: number
    r1: number; r2: number; r3: number; r4: number; r5: number
  }>(sql`SELECT organization_id, service_item_code,
      sum(open)::int AS open, sum(warned)::int AS warned, sum(overdue)::int AS overdue, sum(supervisions_open)::int AS supervisions_open,
      sum(completed)::int AS completed, sum(completed_on_time)::int AS completed_on_time, sum(completed_early)::int AS completed_early,
      sum(working_days_sum)::int AS working_days_sum, sum(working_days_count)::int AS working_days_count,
      sum(r1)::int AS r1, sum(r2)::int AS r2, sum(r3)::int AS r3, sum(r4)::int AS r4, sum(r5)::int AS r5
    FROM (
      SELECT ${summaryCurrent.organizationId} AS organization_id, ${summaryCurrent.serviceItemCode} AS service_item_code,
        ${summaryCurrent.open} AS open, ${summaryCurrent.warned} AS warned, ${summaryCurrent.overdue} AS overdue,
        ${summaryCurrent.supervisionsOpen} AS supervisions_open, 0 AS completed, 0 AS completed_on_time, 0 AS completed_early,
        0 AS working_days_sum, 0 AS working_days_count, 0 AS r1, 0 AS r2, 0 AS r3, 0 AS r4, 0 AS r5
      FROM ${summaryCurrent}
      UNION ALL
      SELECT ${summaryFlow.organizationId}, ${summaryFlow.serviceItemCode}, 0, 0, 0, 0,
        ${summaryFlow.completed}, ${summaryFlow.completedOnTime}, ${summaryFlow.completedEarly},
        ${summaryFlow.workingDaysSum}, ${summaryFlow.workingDaysCount},
        ${summaryFlow.ratings1}, ${summaryFlow.ratings2}, ${summaryFlow.ratings3}, ${summaryFlow.ratings4}, ${summaryFlow.ratings5}
      FROM ${summaryFlow} WHERE ${summaryFlow.span} = 'month' AND ${summaryFlow.starts} = ${from}::date
        -- The item rows only: the totals the summary keeps (kind '*' or '<kind>/*') would count twice.
        AND strpos(${summaryFlow.kind}, '*') = 0
    ) AS figures
    GROUP BY organization_id, service_item_code
    ORDER BY organization_id, service_item_code`)
  return figures.rows.map((r): ReportRow => ({
    organizationId: r.organization_id, serviceItemCode: r.service_item_code, open: r.open, warned: r.warned, overdue: r.overdue,
    supervisionsOpen: r.supervisions_open, completed: r.completed, completedOnTime: r.completed_on_time, completedEarly: r.completed_early,
    workingDaysSum: r.working_days_sum, workingDaysCount: r.working_days_count, ratings: [r.r1, r.r2, r.r3, r.r4, r.r5],
  })).filter((r) => r.open || r.supervisionsOpen || r.completed || r.ratings.some((n) => n > 0))
}

/** The names the report prints: each organisation's, and each item's as its latest published version calls it. */
async function namesOf(db: Db | Tx, rows: ReportRow[]) {
  const organizationIds = [...new Set(rows.map((r) => r.organizationId))]
  const codes = [...new Set(rows.map((r) => r.serviceItemCode).filter((code) => code !== ''))]
  const orgs = organizationIds.length === 0 ? [] : await db.select({ id: organizations.id, name: organizations.name })
    .from(organizations).where(inArray(organizations.id, organizationIds))
  const items = codes.length === 0 ? [] : await db.select({ code: serviceItems.code, name: sql<string | null>`${serviceItemVersions.guide}->>'name'` })
    .from(serviceItems)
    .innerJoin(serviceItemVersions, and(eq(serviceItemVersions.code, serviceItems.code), eq(serviceItemVersions.version, serviceItems.latestVersion)))
    .where(inArray(serviceItems.code, codes))
  return {
    organizationNames: Object.fromEntries(orgs.map((o) => [o.id, o.name])),
    serviceItemNames: Object.fromEntries(items.filter((i) => i.name !== null).map((i) => [i.code, i.name!])),
  }
}

/**
 * Produces the next version of `month`'s report and stores it, in its own transaction. Never
 * rewrites one: versions are numbered under a lock on the month, and the table refuses UPDATE and
 * DELETE (migration 0016). With `onlyIfNone`, a version by `producedBy` that exists already is the
 * answer, found in the same locked transaction: a retried or repeated scheduled run adds nothing.
 */
export function produceMonthlyReport(db: Db, month: string, producedBy: string, options: ProduceOptions = {}): Promise<Produced> {
  return db.transaction((tx) => produceMonthlyReportIn(tx, month, producedBy, options))
}

export interface ProduceOptions {
  onlyIfNone?: boolean
  at?: Date
}
export interface Produced {
  version: number
  producedAt: string
  /** False when `onlyIfNone` found a version. */
  produced: boolean
}

/** produceMonthlyReport in a transaction the caller holds (an Idempotency-Key's). */
export async function produceMonthlyReportIn(tx: Tx, month: string, producedBy: string, options: ProduceOptions = {}): Promise<Produced> {
  const { from, to } = monthPeriod(month)
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`monthly-report:${month}`}))`)
  if (options.onlyIfNone) {
    const [own] = await tx.select({ version: monthlyReports.version, producedAt: monthlyReports.producedAt }).from(monthlyReports)
      .where(and(eq(monthlyReports.month, month), eq(monthlyReports.producedBy, producedBy))).orderBy(desc(monthlyReports.version)).limit(1)
    if (own) return { ...own, produced: false }
  }
  const [last] = await tx.select({ version: monthlyReports.version }).from(monthlyReports)
    .where(eq(monthlyReports.month, month)).orderBy(desc(monthlyReports.version)).limit(1)
  const rows = await reportRows(tx, from)
  const version = (last?.version ?? 0) + 1
  const producedAt = (options.at ?? new Date()).toISOString()
  const body: StoredReport = { month, version, from, to, producedAt, producedBy, rows, ...await namesOf(tx, rows) }
  await tx.insert(monthlyReports).values({ month, version, producedAt, producedBy, body })
  return { version, producedAt, produced: true }
}

/**
 * What the schedule runs each day: the report due by `atMs` (the previous month's, from the
 * current month's first working day by the official calendar on), when the schedule has not
 * produced it yet. Days before that, and days after it was produced, add nothing.
 */
export async function produceDueMonthlyReport(db: Db, atMs: number): Promise<Produced & { month: string }> {
  const year = yearOfDay(dayOfMs(atMs))
  const calendar = WorkingCalendar.from(await loadCalendarWindow(db, year - 1, year))
  const month = dueMonth(atMs, calendar)
  return { month, ...await produceMonthlyReport(db, month, BY_SCHEDULE, { onlyIfNone: true, at: new Date(atMs) }) }
}

/** The stored version (the latest without one), or undefined. */
export async function readMonthlyReport(db: Db, month: string, version?: number): Promise<StoredReport | undefined> {
  const [row] = await db.select({ body: monthlyReports.body }).from(monthlyReports)
    .where(and(eq(monthlyReports.month, month), version === undefined ? undefined : eq(monthlyReports.version, version)))
    .orderBy(desc(monthlyReports.version)).limit(1)
  return row?.body as StoredReport | undefined
}

/** The versions of a month, oldest first. */
export async function monthlyReportVersions(db: Db, month: string): Promise<Array<{ version: number; producedAt: string; producedBy: string }>> {
  return db.select({ version: monthlyReports.version, producedAt: monthlyReports.producedAt, producedBy: monthlyReports.producedBy })
    .from(monthlyReports).where(eq(monthlyReports.month, month)).orderBy(monthlyReports.version)
}

/**
 * The report as `viewer` may read it: administrators and auditors the whole of it, a supervisor
 * the organisations it oversees (scope.ts), with the per-item table summed over those alone.
 */
export async function reportFor(db: Db, stored: StoredReport, viewer: Viewer): Promise<MonthlyReport> {
  let rows = stored.rows
  if (viewer.role === 'supervisor') {
    const visible = await db.execute<{ id: string }>(supervisedOrganizations(viewer))
    const ids = new Set(visible.rows.map((r) => r.id))
    rows = rows.filter((r) => ids.has(r.organizationId))
  }
  const byOrganization = sumBy(rows, (r) => r.organizationId)
  const byItem = sumBy(rows.filter((r) => r.serviceItemCode !== ''), (r) => r.serviceItemCode)
  const { month, version, from, to, producedAt, producedBy } = stored
  return {
    month, version, from, to, producedAt, producedBy,
    organizations: [...byOrganization].map(([organizationId, row]) => ({
      organizationId, organizationName: stored.organizationNames[organizationId] ?? organizationId, ...figuresOf(row),
    })),
    serviceItems: [...byItem].map(([serviceItemCode, row]) => ({
      serviceItemCode, serviceItemName: stored.serviceItemNames[serviceItemCode] ?? null, ...figuresOf(row),
    })),
  }
}

type Sums = Omit<ReportRow, 'organizationId' | 'serviceItemCode'>

function sumBy(rows: ReportRow[], key: (row: ReportRow) => string): Map<string, Sums> {
  const sums = new Map<string, Sums>()
  for (const row of [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))) {
    const id = key(row)
    const sum = sums.get(id) ?? {
      open: 0, warned: 0, overdue: 0, supervisionsOpen: 0, completed: 0, completedOnTime: 0, completedEarly: 0,
      workingDaysSum: 0, workingDaysCount: 0, ratings: [0, 0, 0, 0, 0],
    }
    for (const name of ['open', 'warned', 'overdue', 'supervisionsOpen', 'completed', 'completedOnTime', 'completedEarly',
      'workingDaysSum', 'workingDaysCount'] as const) sum[name] += row[name]
    sum.ratings = sum.ratings.map((n, i) => n + row.ratings[i]!) as Sums['ratings']
    sums.set(id, sum)
  }
  return sums
}

