import { and, asc, eq, sql, type SQL } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import { figuresOf, type ReportFigures } from '../domain/monthly-report.ts'
import type { Db, Tx } from './client.ts'
import type { Viewer } from './cases.ts'
import { organizationsUnder, supervisedOrganizations } from './scope.ts'
import { summaryCurrent, summaryFlow } from './schema.ts'

/**
 * Deadlines that are not the handling organisation's own handling of the case, or that come after
 * it: they never make a completion late, nor count in its working days.
 */
const NOT_HANDLING = ['rating', 'rectification', 'supervision', 'opinion', 'deferred_materials', 'verification', 'confirm']
const notHandling = `(${NOT_HANDLING.map((k) => `'${k}'`).join(', ')})`

/**
 * What one `cases` row adds to the summary counters, as rows of (organisation, kind, item, day)
 * with the figures; `day` is null for the current figures. The single definition of every
 * figure: the projection reads it for the row before and after its write (and applies the
 * difference), and the rebuild sums it over every row. Static SQL over the table `"cases"`.
 *
 * - Current: an open case counts once for its handling organisation, and as warned and overdue
 *   when it is; a closed case counts nothing (its `overdue` stays set for history).
 * - Supervision records without an answer count for the organisation that owes it.
 * - Completed (`completed_at`, its kind's ended statuses) on that Shanghai day, for the handling
 *   organisation: on time unless its statutory deadline was missed (kinds without one: unless any
 *   handling deadline was); early when its promised deadline (承诺时限) was met (kinds without a
 *   promise: when on time); working days from the statutory deadline's run, else the longest
 *   handling one. A missed deadline is settled at its due instant, so its view does not say how
 *   long the case really took: working days are summed over on-time completions only, with their
 *   count, and the average is over those.
 * - A rating counts on the Shanghai day it was given.
 */
const CONTRIBUTIONS = `
SELECT "cases"."handling_organization_id" AS organization_id, "cases"."kind", coalesce("cases"."service_item_code", '') AS service_item_code,
  NULL::date AS day, 1 AS open, "cases"."warned"::int AS warned, "cases"."overdue"::int AS overdue, 0 AS supervisions_open,
  0 AS completed, 0 AS completed_on_time, 0 AS completed_early, 0 AS working_days_sum, 0 AS working_days_count, NULL::int AS rating
WHERE "cases"."open"
UNION ALL
SELECT s->>'organizationId', "cases"."kind", coalesce("cases"."service_item_code", ''), NULL, 0, 0, 0, 1, 0, 0, 0, 0, 0, NULL
FROM jsonb_array_elements(coalesce("cases"."view"->'supervisions', '[]'::jsonb)) AS s
WHERE s->>'respondedAt' IS NULL
UNION ALL
SELECT "cases"."handling_organization_id", "cases"."kind", coalesce("cases"."service_item_code", ''),
  ("cases"."completed_at" AT TIME ZONE 'Asia/Shanghai')::date, 0, 0, 0, 0,
  1, on_time::int, (CASE WHEN has_promised THEN coalesce(promised_met, false) ELSE on_time END)::int,
  coalesce(working_days, 0), (working_days IS NOT NULL)::int, NULL
FROM (
  SELECT *, CASE WHEN on_time THEN CASE WHEN has_statutory THEN statutory_days ELSE handling_days END END AS working_days
  FROM (
    SELECT *, NOT coalesce(CASE WHEN has_statutory THEN statutory_missed ELSE handling_missed END, false) AS on_time
    FROM (
      SELECT
        coalesce(bool_or(d->>'kind' = 'statutory'), false) AS has_statutory,
        coalesce(bool_or(d->>'kind' = 'promised'), false) AS has_promised,
        bool_or(d->>'state' = 'missed') FILTER (WHERE d->>'kind' = 'statutory') AS statutory_missed,
        bool_or(d->>'state' = 'missed') FILTER (WHERE d->>'kind' NOT IN ${notHandling}) AS handling_missed,
        bool_and(d->>'state' = 'met') FILTER (WHERE d->>'kind' = 'promised') AS promised_met,
        max((d->>'workingDaysUsed')::int) FILTER (WHERE d->>'kind' = 'statutory') AS statutory_days,
        max((d->>'workingDaysUsed')::int) FILTER (WHERE d->>'kind' NOT IN ${notHandling}) AS handling_days
      FROM jsonb_array_elements(coalesce("cases"."view"->'deadlines', '[]'::jsonb)) AS d
    ) AS deadline_facts
  ) AS timeliness
) AS completion
WHERE "cases"."completed_at" IS NOT NULL
UNION ALL
SELECT "cases"."handling_organization_id", "cases"."kind", coalesce("cases"."service_item_code", ''),
  (("cases"."view"->'rating'->>'at')::timestamptz AT TIME ZONE 'Asia/Shanghai')::date, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  ("cases"."view"->'rating'->>'score')::int
WHERE "cases"."view" ? 'rating'`

/** The row's contributions as one JSON array: what the projection reads before and after its write. */
export const summaryContributions = sql<Contribution[]>`(SELECT coalesce(jsonb_agg(x), '[]'::jsonb) FROM (${sql.raw(CONTRIBUTIONS)}) AS x)`

/** One row of CONTRIBUTIONS, as JSON gives it (a date as `YYYY-MM-DD`). */
export interface Contribution {
  organization_id: string
  kind: string
  service_item_code: string
  day: string | null
  open: number
  warned: number
  overdue: number
  supervisions_open: number
  completed: number
  completed_on_time: number
  completed_early: number
  working_days_sum: number
  working_days_count: number
  rating: number | null
}

/**
 * Flow rows that total a kind's items (`application/*`) and every kind (`*`), with item '': the
 * summary without an item filter reads these, a tenth of the rows (a year at the root summed 40,000
 * item rows in 42 ms). Real kinds never hold `*`.
 */
const EVERY_KIND = '*'
const EVERY_ITEM = '/*'
const everyItemOf = (kind: string) => `${kind}${EVERY_ITEM}`

const CURRENT_FIGURES = ['open', 'warned', 'overdue', 'supervisionsOpen'] as const
const FLOW_FIGURES = ['completed', 'completedOnTime', 'completedEarly', 'workingDaysSum', 'workingDaysCount',
  'ratings1', 'ratings2', 'ratings3', 'ratings4', 'ratings5'] as const
type CurrentRow = typeof summaryCurrent.$inferInsert & Record<(typeof CURRENT_FIGURES)[number], number>
type FlowRow = typeof summaryFlow.$inferInsert & Record<(typeof FLOW_FIGURES)[number], number>

/**
 * The writes that add `after` and take away `before` (a case row's contributions around its
 * write), for the projection's transaction, built and not yet sent (src/db/together.ts): at most
 * one per table, none when the figures did not move (most events change nothing here). Rows go in
 * key order, so two cases moving counts between the same organisations lock the counter rows in
 * the same order and cannot deadlock.
 */
export function summaryWrites(tx: Tx, before: readonly Contribution[], after: readonly Contribution[]): SQL[] {
  const current = new Map<string, CurrentRow>()
  const flow = new Map<string, FlowRow>()
  const add = (c: Contribution, sign: 1 | -1) => {
    const key = { organizationId: c.organization_id, kind: c.kind, serviceItemCode: c.service_item_code }
    if (c.day === null) {
      const id = JSON.stringify([key.organizationId, key.kind, key.serviceItemCode])
      const row = current.get(id) ?? { ...key, open: 0, warned: 0, overdue: 0, supervisionsOpen: 0 }
      row.open += sign * c.open
      row.warned += sign * c.warned
      row.overdue += sign * c.overdue
      row.supervisionsOpen += sign * c.supervisions_open
      current.set(id, row)
      return
    }
    // Each day's figures count for its month too, and for the kind's and the organisation's totals.
    const buckets = [[key.kind, key.serviceItemCode], [everyItemOf(key.kind), ''], [EVERY_KIND, '']] as const
    for (const [span, starts] of [['day', c.day], ['month', `${c.day.slice(0, 8)}01`]] as const) for (const [kind, serviceItemCode] of buckets) {
      const id = JSON.stringify([key.organizationId, kind, serviceItemCode, span, starts])
      const row = flow.get(id) ?? {
        organizationId: key.organizationId, kind, serviceItemCode, span, starts, completed: 0, completedOnTime: 0, completedEarly: 0, workingDaysSum: 0, workingDaysCount: 0,
        ratings1: 0, ratings2: 0, ratings3: 0, ratings4: 0, ratings5: 0,
      }
      row.completed += sign * c.completed
      row.completedOnTime += sign * c.completed_on_time
      row.completedEarly += sign * c.completed_early
      row.workingDaysSum += sign * c.working_days_sum
      row.workingDaysCount += sign * c.working_days_count
      if (c.rating !== null) row[ratingFigure(c.rating)] += sign
      flow.set(id, row)
    }
  }
  for (const c of before) add(c, -1)
  for (const c of after) add(c, 1)
  const moved = <R extends Record<string, unknown>>(rows: Map<string, R>, figures: readonly (keyof R)[]) =>
    [...rows].filter(([, row]) => figures.some((f) => row[f] !== 0)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row)
  const currentRows = moved(current, CURRENT_FIGURES)
  const flowRows = moved(flow, FLOW_FIGURES)
  const writes: SQL[] = []
  if (currentRows.length > 0) {
    writes.push(tx.insert(summaryCurrent).values(currentRows).onConflictDoUpdate({
      target: [summaryCurrent.organizationId, summaryCurrent.kind, summaryCurrent.serviceItemCode],
      set: incremented(summaryCurrent, CURRENT_FIGURES),
    }).getSQL())
  }
  if (flowRows.length > 0) {
    writes.push(tx.insert(summaryFlow).values(flowRows).onConflictDoUpdate({
      target: [summaryFlow.organizationId, summaryFlow.span, summaryFlow.starts, summaryFlow.kind, summaryFlow.serviceItemCode],
      set: incremented(summaryFlow, FLOW_FIGURES),
    }).getSQL())
  }
  return writes
}

function ratingFigure(score: number): `ratings${1 | 2 | 3 | 4 | 5}` {
  if (!Number.isInteger(score) || score < 1 || score > 5) throw new Error(`rating score ${score} is not 1–5`)
  return `ratings${score as 1 | 2 | 3 | 4 | 5}`
}

/** `SET n = table.n + excluded.n` for each figure. */
function incremented<T extends Record<F, PgColumn>, F extends string>(table: T, figures: readonly F[]): Record<F, SQL> {
  return Object.fromEntries(figures.map((f) => [f, sql`${table[f]} + ${sql.raw(`excluded.${JSON.stringify(table[f].name)}`)}`])) as Record<F, SQL>
}

/**
 * Recomputes every counter from the `cases` rows in one pass (bulk-loaded cases bypass the
 * projection; the migration that added the counters ran the same). Replaces what was there.
 */
export async function rebuildSummaryCounters(db: Db | Tx): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql.raw('LOCK TABLE "summary_current", "summary_flow" IN EXCLUSIVE MODE'))
    await tx.execute(sql.raw('DELETE FROM "summary_current"'))
    await tx.execute(sql.raw('DELETE FROM "summary_flow"'))
    await tx.execute(sql.raw(REBUILD))
  })
}

/** Whether the counters hold nothing while cases exist: a schema seeded before they were kept. */
export async function summaryCountersMissing(db: Db): Promise<boolean> {
  const { rows: [row] } = await db.execute<{ missing: boolean }>(sql.raw(
    `SELECT NOT EXISTS (SELECT 1 FROM "summary_current") AND NOT EXISTS (SELECT 1 FROM "summary_flow")
      AND EXISTS (SELECT 1 FROM "cases") AS missing`))
  return row?.missing === true
}

/** Every row's contributions, summed into both tables (one statement; also in the migration). */
export const REBUILD = `
WITH contributions AS MATERIALIZED (
  SELECT x.* FROM "cases" CROSS JOIN LATERAL (${CONTRIBUTIONS}) AS x WHERE x.organization_id IS NOT NULL
), current_figures AS (
  INSERT INTO "summary_current" ("organization_id", "kind", "service_item_code", "open", "warned", "overdue", "supervisions_open")
  SELECT organization_id, kind, service_item_code, sum(open), sum(warned), sum(overdue), sum(supervisions_open)
  FROM contributions WHERE day IS NULL GROUP BY 1, 2, 3
)
INSERT INTO "summary_flow" ("organization_id", "kind", "service_item_code", "span", "starts", "completed", "completed_on_time",
  "completed_early", "working_days_sum", "working_days_count", "ratings_1", "ratings_2", "ratings_3", "ratings_4", "ratings_5")
SELECT organization_id,
  CASE WHEN grouping(service_item_code) = 0 THEN kind WHEN grouping(kind) = 0 THEN kind || '${EVERY_ITEM}' ELSE '${EVERY_KIND}' END,
  coalesce(service_item_code, ''), span, starts,
  sum(completed), sum(completed_on_time), sum(completed_early),
  sum(working_days_sum), sum(working_days_count), count(*) FILTER (WHERE rating = 1), count(*) FILTER (WHERE rating = 2),
  count(*) FILTER (WHERE rating = 3), count(*) FILTER (WHERE rating = 4), count(*) FILTER (WHERE rating = 5)
FROM (
  SELECT *, 'day' AS span, day AS starts FROM contributions WHERE day IS NOT NULL
  UNION ALL
  SELECT *, 'month', date_trunc('month', day)::date FROM contributions WHERE day IS NOT NULL
) AS spans
GROUP BY organization_id, span, starts, ROLLUP (kind, service_item_code)`

/**
 * The organisations whose figures `viewer` may see, as a condition on an organisation id column:
 * everything for administrators and auditors, a supervisor's own subtree, nothing for anyone else
 * (the route refuses them first). The one place the summary decides scope.
 */
export function organizationsVisibleTo(viewer: Viewer, column: SQL | PgColumn): SQL | undefined {
  switch (viewer.role) {
    case 'admin':
    case 'auditor':
      return undefined
    case 'supervisor':
      // The subtree it oversees: a service-management office's is its government's (scope.ts).
      return sql`${column} = ANY(ARRAY(${supervisedOrganizations(viewer)}))`
    default:
      return sql`false`
  }
}

/**
 * `column` is `ancestor` or lies under it, by tree path (a whole segment: `_` is no wildcard). As
 * `= ANY(ARRAY(…))`, not `IN (…)`: Postgres guesses a third of the tree matches a path test and then
 * hash-joins every flow row of the period (29 ms for one department's year on a million cases);
 * an array it reads the counters' organisation-first keys with (3 ms).
 */
function inSubtree(column: SQL | PgColumn, ancestor: string): SQL {
  return sql`${column} = ANY(ARRAY(${organizationsUnder(sql`${ancestor}::text`)}))`
}

/** The flow rows that hold a filter's figures: an item's own, else its kind's or every kind's totals. */
function flowRowsOf(filter: Pick<SummaryFilter, 'kind' | 'serviceItemCode'>): SQL[] {
  if (filter.serviceItemCode !== undefined) {
    return [
      eq(summaryFlow.serviceItemCode, filter.serviceItemCode),
      filter.kind ? eq(summaryFlow.kind, filter.kind) : sql`strpos(${summaryFlow.kind}, '*') = 0`,
    ]
  }
  return [eq(summaryFlow.kind, filter.kind ? everyItemOf(filter.kind) : EVERY_KIND)]
}

/**
 * The flow rows that make up the days `from`..`to` (inclusive): the months that lie wholly inside,
 * and the days before and after them.
 */
function inPeriod(from: string, to: string): SQL {
  const { months, days } = periodSpans(from, to)
  const range = (span: 'day' | 'month', [first, last]: readonly [string, string]) =>
    sql`(${summaryFlow.span} = ${span} AND ${summaryFlow.starts} BETWEEN ${first}::date AND ${last}::date)`
  return sql`(${sql.join([...(months ? [range('month', months)] : []), ...days.map((d) => range('day', d))], sql` OR `)})`
}

/**
 * A period of calendar days (inclusive) as the first days of the months wholly inside it
 * (inclusive) and the day ranges before and after those.
 */
export function periodSpans(from: string, to: string): { months?: [string, string]; days: Array<[string, string]> } {
  const firstOfNext = (date: string) => new Date(Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)), 1)).toISOString().slice(0, 10)
  const dayBefore = (date: string) => new Date(Date.parse(date) - 86_400_000).toISOString().slice(0, 10)
  const firstMonth = from.endsWith('-01') ? from : firstOfNext(from)
  // The first day after the whole months: the next month's when `to` is the last of its own.
  const afterMonths = dayBefore(firstOfNext(to)) === to ? firstOfNext(to) : `${to.slice(0, 8)}01`
  if (firstMonth >= afterMonths) return { days: [[from, to]] }
  const days: Array<[string, string]> = []
  if (from < firstMonth) days.push([from, dayBefore(firstMonth)])
  if (afterMonths <= to) days.push([afterMonths, to])
  return { months: [firstMonth, `${dayBefore(afterMonths).slice(0, 8)}01`], days }
}

export interface SummaryFilter {
  /** Only this organisation and its subtree (within the viewer's scope). */
  organizationId?: string | undefined
  kind?: string | undefined
  serviceItemCode?: string | undefined
  /** Shanghai calendar days, both inclusive. */
  from: string
  to: string
}

/** One organisation's figures (API.md "Supervision and reporting"), as the monthly report also gives them. */
export interface OrganizationSummary extends ReportFigures {
  organizationId: string
}

export function createSummaryReads(db: Db) {
  return {
    /**
     * Each organisation's own figures, one row per organisation in scope with any figure that is
     * not zero, in id order. Rows are not rolled up: a district's row holds what the district
     * itself handles, and its departments have rows of their own (the caller sums a subtree if it
     * wants one). Reads the counters only, never cases.
     */
    async byOrganization(viewer: Viewer, filter: SummaryFilter): Promise<OrganizationSummary[]> {
      const scope = (column: PgColumn) => and(
        organizationsVisibleTo(viewer, column),
        filter.organizationId ? inSubtree(column, filter.organizationId) : undefined,
      )
      const current = db.select({
        organizationId: summaryCurrent.organizationId,
        open: sql<number>`sum(${summaryCurrent.open})::int`.as('open'),
        warned: sql<number>`sum(${summaryCurrent.warned})::int`.as('warned'),
        overdue: sql<number>`sum(${summaryCurrent.overdue})::int`.as('overdue'),
        supervisionsOpen: sql<number>`sum(${summaryCurrent.supervisionsOpen})::int`.as('supervisions_open'),
      }).from(summaryCurrent).where(and(
        scope(summaryCurrent.organizationId),
        filter.kind ? eq(summaryCurrent.kind, filter.kind) : undefined,
        filter.serviceItemCode ? eq(summaryCurrent.serviceItemCode, filter.serviceItemCode) : undefined,
      )).groupBy(summaryCurrent.organizationId).as('current')
      const total = (column: PgColumn, alias: string) => sql<number>`sum(${column})::int`.as(alias)
      const flow = db.select({
        organizationId: summaryFlow.organizationId,
        completed: total(summaryFlow.completed, 'completed'),
        completedOnTime: total(summaryFlow.completedOnTime, 'completed_on_time'),
        completedEarly: total(summaryFlow.completedEarly, 'completed_early'),
        workingDaysSum: total(summaryFlow.workingDaysSum, 'working_days_sum'),
        workingDaysCount: total(summaryFlow.workingDaysCount, 'working_days_count'),
        ratings1: total(summaryFlow.ratings1, 'ratings_1'),
        ratings2: total(summaryFlow.ratings2, 'ratings_2'),
        ratings3: total(summaryFlow.ratings3, 'ratings_3'),
        ratings4: total(summaryFlow.ratings4, 'ratings_4'),
        ratings5: total(summaryFlow.ratings5, 'ratings_5'),
      }).from(summaryFlow).where(and(
        scope(summaryFlow.organizationId),
        inPeriod(filter.from, filter.to),
        ...flowRowsOf(filter),
      )).groupBy(summaryFlow.organizationId).as('flow')
      const n = (column: unknown) => sql<number>`coalesce(${column}, 0)`.mapWith(Number)
      const rows = await db.select({
        organizationId: sql<string>`coalesce(${current.organizationId}, ${flow.organizationId})`,
        open: n(current.open), warned: n(current.warned), overdue: n(current.overdue), supervisionsOpen: n(current.supervisionsOpen),
        completed: n(flow.completed), completedOnTime: n(flow.completedOnTime), completedEarly: n(flow.completedEarly),
        workingDaysSum: n(flow.workingDaysSum), workingDaysCount: n(flow.workingDaysCount),
        ratings1: n(flow.ratings1), ratings2: n(flow.ratings2), ratings3: n(flow.ratings3), ratings4: n(flow.ratings4), ratings5: n(flow.ratings5),
      }).from(current).fullJoin(flow, eq(current.organizationId, flow.organizationId))
        .orderBy(asc(sql`1`))
      return rows.map(present).filter((r) => r.open || r.warned || r.overdue || r.supervisionsOpen || r.completed
        || Object.values(r.ratings).some((v) => v > 0))
    },
  }
}

function present(row: {
  organizationId: string; open: number; warned: number; overdue: number; supervisionsOpen: number; completed: number
  completedOnTime: number; completedEarly: number; workingDaysSum: number; workingDaysCount: number
  ratings1: number; ratings2: number; ratings3: number; ratings4: number; ratings5: number
}): OrganizationSummary {
  return { organizationId: row.organizationId, ...figuresOf({ ...row, ratings: [row.ratings1, row.ratings2, row.ratings3, row.ratings4, row.ratings5] }) }
}
