import { asc, desc, eq, gte, isNull, lte, and, sql, type SQL } from 'drizzle-orm'
import type { CalendarData, CalendarDay, CalendarYear } from '../domain/calendar.ts'
import { dayOfDate, endOfDayMs, formatInstant, startOfDayMs } from '../domain/calendar.ts'
import { sortCalendarDays } from '../domain/calendar-year.ts'
import { officialCalendarYears } from '../domain/official-calendar.ts'
import { provisionalYear, withStatutoryHolidays } from '../domain/statutory-holidays.ts'
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
      // No case predates the seed: there is nothing to hand it to.
      version: 1, years: years.map((y) => y.year), changedBy: 'seed', data: { years }, propagatedAt: sql`now()`,
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
 * year). Keeps workflow inputs small. A year in it without the State Council's notice counts the
 * statutory holidays (rule 34), worked out here and carried as data: workflows never compute them.
 */
export async function loadCalendarWindow(db: Db, fromYear: number, toYear: number): Promise<CalendarData> {
  const version = await currentCalendarVersion(db)
  const rows = await db.select().from(calendarYears)
    .where(and(gte(calendarYears.year, fromYear), lte(calendarYears.year, toYear))).orderBy(asc(calendarYears.year))
  const years: CalendarYear[] = rows.map((r) => ({ year: r.year, published: r.published, days: r.days as CalendarDay[] }))
  return { version, years: withStatutoryHolidays(years, fromYear, toYear) }
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
 * A year as deadlines count it: as stored once published; until then with its statutory holidays
 * (rule 34) and the version that last stored it, null if none did.
 */
export async function readCountedCalendarYear(db: Db, year: number): Promise<CalendarYear & { version: number | null }> {
  const stored = await readCalendarYear(db, year)
  if (stored?.published) return stored
  return { ...provisionalYear(year, stored), version: stored?.version ?? null }
}

/**
 * Replaces a year's exceptions and publishes it as a new calendar version; every version stays in
 * calendar_versions. `wasPublished` tells a correction of a published year from a first publication.
 * The version is left unpropagated: the caller starts its propagation workflow (or the next API start does).
 */
export async function publishCalendarYear(db: Db, change: { year: number; days: CalendarDay[]; changedBy: string }):
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
    const wasPublished = before?.published ?? false
    await tx.insert(calendarVersions).values({
      version, years: [change.year], changedBy: change.changedBy, correction: wasPublished,
      data: { years: [{ year: stored.year, published: stored.published, days: stored.days }] },
    })
    return { ...stored, wasPublished }
  })
}

/** What a calendar version changed, as its propagation needs it. */
export interface CalendarChange {
  version: number
  years: number[]
  /** A published year was republished: deadlines that were final may move too. */
  correction: boolean
}

export async function readCalendarChange(db: Db, version: number): Promise<CalendarChange | undefined> {
  const [row] = await db.select({ version: calendarVersions.version, years: calendarVersions.years, correction: calendarVersions.correction })
    .from(calendarVersions).where(eq(calendarVersions.version, version))
  return row
}

/** The versions whose propagation has not yet reached every case, oldest first. */
export async function unpropagatedCalendarVersions(db: Db): Promise<number[]> {
  const rows = await db.select({ version: calendarVersions.version }).from(calendarVersions)
    .where(isNull(calendarVersions.propagatedAt)).orderBy(asc(calendarVersions.version))
  return rows.map((r) => r.version)
}

/** One pass of the version's propagation reached every case (kept the first time only). */
export async function markCalendarPropagated(db: Db, version: number): Promise<void> {
  await db.update(calendarVersions).set({ propagatedAt: sql`now()` })
    .where(and(eq(calendarVersions.version, version), isNull(calendarVersions.propagatedAt)))
}

export interface CaseToRecalendar {
  id: string
  /** The Asia/Shanghai year the case was created in. */
  createdYear: number
}

/**
 * The open cases a change may move:
 * - a first publication of one year: cases with a provisional deadline, through their partial
 *   index (it can only move deadlines that were provisional);
 * - a correction of one published year: open cases created before the year ends with a running
 *   deadline due in or after it, or a paused one (it may yet reach the year): deadlines that were
 *   final move too;
 * - a version of several years (only the seed is one): every open case.
 */
function casesToRecalendar(change: CalendarChange): SQL {
  const [year] = change.years
  if (change.years.length !== 1 || year === undefined) return sql`${cases.open}`
  if (!change.correction) return sql`${cases.open} AND ${cases.provisional}`
  const yearStart = formatInstant(startOfDayMs(dayOfDate(`${year}-01-01`)))
  const yearEnd = formatInstant(endOfDayMs(dayOfDate(`${year}-12-31`)))
  return sql`${cases.open} AND ${cases.createdAt} < ${yearEnd} AND EXISTS (
    SELECT 1 FROM jsonb_array_elements(${cases.view}->'deadlines') AS d
    WHERE d->>'state' = 'paused' OR (d->>'state' = 'running' AND (d->>'dueAt')::timestamptz >= ${yearStart}))`
}

/** A page (keyset on id) of the open cases `change` may move. */
export async function findCasesToRecalendar(db: Db, query: {
  change: CalendarChange; after?: string | undefined; limit: number
}): Promise<CaseToRecalendar[]> {
  const reach = casesToRecalendar(query.change)
  return db.select({ id: cases.id, createdYear: sql<number>`extract(year from ${cases.createdAt} at time zone 'Asia/Shanghai')::int` })
    .from(cases)
    .where(query.after === undefined ? reach : sql`${reach} AND ${cases.id} > ${query.after}`)
    .orderBy(asc(cases.id)).limit(query.limit)
}

/** How many open cases `change` may move, as the read side stands now. */
export async function countCasesToRecalendar(db: Db, change: CalendarChange): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(cases).where(casesToRecalendar(change))
  return row?.n ?? 0
}
