import { asc, desc, gte, lte, and, sql } from 'drizzle-orm'
import type { CalendarData, CalendarDay, CalendarYear } from '../domain/calendar.ts'
import { officialCalendarYears } from '../domain/official-calendar.ts'
import type { Db } from './client.ts'
import { calendarVersions, calendarYears } from './schema.ts'

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
