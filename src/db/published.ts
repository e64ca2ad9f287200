import type { LimitSettings } from '../domain/limit-settings.ts'
import type { Guide } from '../domain/service-item.ts'
import { announcedCache, PUBLISHED_CHANNEL } from './announcements.ts'
import type { Database } from './client.ts'
import { findGuide } from './guides.ts'
import { readLimits } from './settings.ts'

/**
 * What every submission reads and administrators seldom change: a service item's latest guide and
 * the limits that belong to no item. Kept in memory so a busy window does not cost two queries per
 * submission. Publishing a guide and changing a limit are announced through Postgres NOTIFY when
 * they commit (PUBLISHED_CHANNEL), and every process forgets at once; the process that made the
 * change also forgets before it answers (`forget`), so its next request reads the change. While
 * the listening connection is down nothing is cached. `ttlMs` only bounds how long a change made
 * by hand in SQL, unannounced, goes unseen.
 *
 * What is handed out is frozen: it is shared by every request that reads it.
 */
export function createPublishedReads(database: Pick<Database, 'db' | 'pool'>, ttlMs = 5_000) {
  const cache = announcedCache(database.pool, { name: 'banjian publications', channel: PUBLISHED_CHANNEL }, ttlMs)
  return {
    /** The item's latest published guide; undefined when it has none. */
    guide(code: string): Promise<Guide | undefined> {
      return cache.get(`guide:${code}`, async () => deepFreeze(await findGuide(database.db, code)))
    },
    /** Every limit that belongs to no service item. */
    limits(): Promise<LimitSettings> {
      return cache.get('limits', async () => deepFreeze(await readLimits(database.db)))
    },
    forget: cache.forget,
    /** Whether changes are heard (and so answers cached). */
    listening: cache.listening,
    close: cache.close,
  }
}
export type PublishedReads = ReturnType<typeof createPublishedReads>

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
