import { inArray, sql } from 'drizzle-orm'
import type { Limit } from '../domain/limit.ts'
import {
  DEFAULT_LIMIT_SETTINGS, isLimitSettingName, LIMIT_SETTING_NAMES, type LimitSettingName, type LimitSettings,
} from '../domain/limit-settings.ts'
import { announce, PUBLISHED_CHANNEL } from './announcements.ts'
import type { Db } from './client.ts'
import { settings } from './schema.ts'

// The settings table holds other kinds of settings too; limits live under this prefix.
const PREFIX = 'limit:'
const ROW_NAMES = LIMIT_SETTING_NAMES.map((name) => `${PREFIX}${name}`)

/** Every limit setting: the stored value, or the default. New cases read their limits here. */
export async function readLimits(db: Db): Promise<LimitSettings> {
  const rows = await db.select({ name: settings.name, value: settings.value }).from(settings)
    .where(inArray(settings.name, ROW_NAMES))
  const limits: LimitSettings = { ...DEFAULT_LIMIT_SETTINGS }
  for (const row of rows) {
    const name = row.name.slice(PREFIX.length)
    if (isLimitSettingName(name)) limits[name] = row.value as Limit
  }
  return limits
}

/** Stores the given limits (the others keep their values), announced on PUBLISHED_CHANNEL, and returns them all. */
export async function writeLimits(db: Db, changes: Partial<Record<LimitSettingName, Limit>>): Promise<LimitSettings> {
  const rows = Object.entries(changes)
    .filter((entry): entry is [LimitSettingName, Limit] => isLimitSettingName(entry[0]) && entry[1] !== undefined)
    .map(([name, value]) => ({ name: `${PREFIX}${name}`, value }))
  if (rows.length > 0) {
    await db.transaction(async (tx) => {
      await tx.insert(settings).values(rows)
        .onConflictDoUpdate({ target: settings.name, set: { value: sql`excluded.value`, updatedAt: sql`now()` } })
      await announce(tx, PUBLISHED_CHANNEL, 'limits')
    })
  }
  return readLimits(db)
}
