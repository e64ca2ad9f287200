import { asc, desc, eq, gte, lte, and, sql } from 'drizzle-orm'
import type { CalendarData, CalendarDay, CalendarYear } from '../domain/calendar.ts'
import { dayOfDate, endOfDayMs, formatInstant, startOfDayMs } from '../domain/calendar.ts'
import { sortCalendarDays } from '../domain/calendar-year.ts'
import { officialCalendarYears } from '../domain/official-calendar.ts'
import { recordPropagation } from './calendar-propagations.ts'
import type { Db } from './client.ts'
import { calendarVersions, calendarYears, cases } from './schema.ts'

/** Seeds the official years once (version 1); later changes are administrators' own versions. */
export async function seedOfficialCalendar(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('calendar'))`)
    const [existing] = await tx.select({ version: calendarVersions.version }).from(calendarVersions).limit(1)
    if (existing) return
    const years = officialCalendarYears()
    await tx.insert(calendarYears).values(years.map((y) => ({
      year: y.year, published: y.published, days: y.days, version: 1, source: 'chinese-days (State Council notices)',
    })))
    await tx.insert(calendarVersions).values({
      version: 1, years: years.map((y) => y.year), changedBy: 'seed', data: { years },
    })
  })
}

export async function currentCalendarVersion(db: Db): Promise<number> {
  const [row] = await db.select({ version: calendarVersions.version }).from(calendarVersions)
    .orderBy(desc(calendarVersions.version)).limit(1)
  return row?.version ?? 0
}

/**
 * The calendar a case carries: the years around `year` (a case's deadlines rarely reach further;
 * a deadline that does counts Monday–Friday and is marked provisional until a signal brings the
 * year). Keeps workflow inputs small.
 */
export async function loadCalendarWindow(db: Db, fromYear: number, toYear: number): Promise<CalendarData> {
  const version = await currentCalendarVersion(db)
  const rows = await db.select().from(calendarYears)
    .where(and(gte(calendarYears.year, fromYear), lte(calendarYears.year, toYear))).orderBy(asc(calendarYears.year))
  const years: CalendarYear[] = rows.map((r) => ({ year: r.year, published: r.published, days: r.days as CalendarDay[] }))
  return { version, years }
}

/** Caches calendar windows by version; a process notices another's change within `ttlMs`. */
export function createCalendarSource(db: Db, ttlMs = 2_000) {
  let checked = { version: -1, at: 0 }
  const windows = new Map<string, CalendarData>()
  return {
    async window(fromYear: number, toYear: number): Promise<CalendarData> {
      if (Date.now() - checked.at > ttlMs) checked = { version: await currentCalendarVersion(db), at: Date.now() }
      const cacheKey = `${checked.version}:${fromYear}:${toYear}`
      let data = windows.get(cacheKey)
      if (!data) {
        data = await loadCalendarWindow(db, fromYear, toYear)
        if (windows.size > 64) windows.clear()
        windows.set(cacheKey, data)
      }
      return data
    },
    invalidate(): void {
      checked = { version: -1, at: 0 }
      windows.clear()
    },
  }
}
export type CalendarSource = ReturnType<typeof createCalendarSource>

/** One year as stored: `version` is the calendar version that last changed it. */
export interface StoredCalendarYear extends CalendarYear {
  version: number
}

export async function readCalendarYear(db: Db, year: number): Promise<StoredCalendarYear | undefined> {
  const [row] = await db.select().from(calendarYears).where(eq(calendarYears.year, year))
  return row ? { year: row.year, published: row.published, days: row.days as CalendarDay[], version: row.version } : undefined
}

/**
 * Replaces a year's exceptions and publishes it as a new calendar version; every version stays in
 * calendar_versions. `wasPublished` tells a correction of a published year from a first publication.
 * In the same transaction it records the propagation of the version to the running cases, claimed
 * by the caller for `leaseMs` (0: left for the API processes' retry rounds).
 */
export async function publishCalendarYear(db: Db, change: { year: number; days: CalendarDay[]; changedBy: string; leaseMs: number }):
Promise<StoredCalendarYear & { wasPublished: boolean }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('calendar'))`)
    const [latest] = await tx.select({ version: calendarVersions.version }).from(calendarVersions)
      .orderBy(desc(calendarVersions.version)).limit(1)
    const version = (latest?.version ?? 0) + 1
    const [before] = await tx.select({ published: calendarYears.published }).from(calendarYears).where(eq(calendarYears.year, change.year))
    const stored: StoredCalendarYear = { year: change.year, published: true, days: sortCalendarDays(change.days), version }
    const row = { published: true, days: stored.days, version, source: 'administrator', updatedAt: sql`now()` }
    await tx.insert(calendarYears).values({ year: change.year, ...row })
      .onConflictDoUpdate({ target: calendarYears.year, set: row })
    await tx.insert(calendarVersions).values({
      version, years: [change.year], changedBy: change.changedBy,
      data: { years: [{ year: stored.year, published: stored.published, days: stored.days }] },
    })
    const wasPublished = before?.published ?? false
    await recordPropagation(tx, { version, year: change.year, correction: wasPublished }, change.leaseMs)
    return { ...stored, wasPublished }
  })
}

export interface CaseToRecalendar {
  id: string
  /** The Asia/Shanghai year the case was created in. */
  createdYear: number
}

/**
 * A page (keyset on id) of the open cases a change to `year` may move:
 * - `provisional`: cases with a provisional deadline, through their partial index (a first
 *   publication can only move deadlines that were provisional);
 * - `touching`: open cases created before the year ends with a running deadline due in or after
 *   it, or a paused one (it may yet reach the year): a correction of a published year also moves
 *   deadlines that were final.
 */
export async function findCasesToRecalendar(db: Db, query: {
  year: number; reach: 'provisional' | 'touching'; after?: string | undefined; limit: number
}): Promise<CaseToRecalendar[]> {
  const yearStart = formatInstant(startOfDayMs(dayOfDate(`${query.year}-01-01`)))
  const yearEnd = formatInstant(endOfDayMs(dayOfDate(`${query.year}-12-31`)))
  const reach = query.reach === 'provisional'
    ? sql`${cases.open} AND ${cases.provisional}`
    : sql`${cases.open} AND ${cases.createdAt} < ${yearEnd} AND EXISTS (
        SELECT 1 FROM jsonb_array_elements(${cases.view}->'deadlines') AS d
        WHERE d->>'state' = 'paused' OR (d->>'state' = 'running' AND (d->>'dueAt')::timestamptz >= ${yearStart}))`
  return db.select({ id: cases.id, createdYear: sql<number>`extract(year from ${cases.createdAt} at time zone 'Asia/Shanghai')::int` })
    .from(cases)
    .where(query.after === undefined ? reach : sql`${reach} AND ${cases.id} > ${query.after}`)
    .orderBy(asc(cases.id)).limit(query.limit)
}
