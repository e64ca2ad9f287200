import type { LimitSettings } from '../domain/limit-settings.ts'
import type { Guide } from '../domain/service-item.ts'
import { listenFor, PUBLISHED_CHANNEL } from './announcements.ts'
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
  const guides = new Map<string, Cached<Guide | undefined>>()
  let limits: Cached<LimitSettings> | undefined
  // Bumped at every forgetting: an answer read before a change was heard is not cached after it.
  let generation = 0
  const forget = () => {
    generation++
    guides.clear()
    limits = undefined
  }
  const changes = listenFor(database.pool, { name: 'banjian publications', channel: PUBLISHED_CHANNEL, heard: forget, lost: forget })

  /** `read`, kept by `keep` only when no change could have been missed while it ran. */
  async function cached<T>(hit: Cached<T> | undefined, read: () => Promise<T>, keep: (entry: Cached<T>) => void): Promise<T> {
    if (hit && hit.expires > Date.now()) return hit.value
    const readAt = generation
    const value = deepFreeze(await read())
    if (changes.listening() && readAt === generation) keep({ value, expires: Date.now() + ttlMs })
    return value
  }

  return {
    /** The item's latest published guide; undefined when it has none. */
    guide(code: string): Promise<Guide | undefined> {
      return cached(guides.get(code), () => findGuide(database.db, code), (entry) => {
        if (guides.size > 10_000) guides.clear()
        guides.set(code, entry)
      })
    },
    /** Every limit that belongs to no service item. */
    limits(): Promise<LimitSettings> {
      return cached(limits, () => readLimits(database.db), (entry) => {
        limits = entry
      })
    },
    forget,
    /** Whether changes are heard (and so answers cached). */
    listening: () => changes.listening(),
    close: () => changes.close(),
  }
}
export type PublishedReads = ReturnType<typeof createPublishedReads>

interface Cached<T> { value: T; expires: number }

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
