import { sql } from 'drizzle-orm'
import pg from 'pg'
import type { Db, Tx } from './client.ts'

/** A key revoked, or an organisation's kind changed (which every key of it carries): caches of keys forget. */
export const KEY_REVOKED_CHANNEL = 'banjian_api_key_revoked'
/** A guide published (payload `guide:<code>`) or a limit changed (`limits`): caches of what submissions read forget. */
export const PUBLISHED_CHANNEL = 'banjian_published'

/**
 * Announces `payload` on `channel` to every process listening on this schema (listenFor) when, and
 * only if, `tx` commits. Channels are a database's, not a schema's: each is scoped by its schema
 * (scopedChannel), so that deployments sharing a database, or test files sharing one, never hear
 * each other's changes.
 */
export async function announce(tx: Db | Tx, channel: string, payload: string): Promise<void> {
  await tx.execute(sql`SELECT pg_notify(${channel} || '.' || current_schema(), ${payload})`)
}

/** The channel `channel` is announced on in schema `schema`. */
export const scopedChannel = (channel: string, schema: string) => `${channel}.${schema}`

export interface Listener {
  /** True while LISTEN holds on a live connection: only then is every announcement heard. */
  listening(): boolean
  close(): Promise<void>
}

/**
 * Listens on `channel`, as announced in the pool's schema, on a connection of its own (a pooled
 * one may be handed to anyone), named `name` in pg_stat_activity. `heard` runs on each announcement; `lost` when the connection drops,
 * after which it connects again every `retryMs` until LISTEN holds once more. A cache that forgets
 * on both, and caches only while `listening()`, never outlives a change announced to it.
 */
export function listenFor(pool: pg.Pool, listener: { name: string; channel: string; heard: (payload: string) => void; lost: () => void },
  retryMs = 1_000): Listener {
  let client: pg.Client | undefined
  let listening = false
  let closed = false
  let retry: NodeJS.Timeout | undefined
  let channel: string | undefined

  const drop = (dropped: pg.Client) => {
    if (client !== dropped) return
    client = undefined
    listening = false
    listener.lost()
    void dropped.end().catch(() => undefined)
    if (!closed) retry = setTimeout(() => void listen(), retryMs).unref()
  }
  const listen = async () => {
    const candidate = new pg.Client({ ...pool.options, application_name: listener.name, keepAlive: true })
    client = candidate
    candidate.on('error', () => drop(candidate))
    candidate.on('end', () => drop(candidate))
    candidate.on('notification', (message) => {
      if (message.channel === channel) listener.heard(message.payload ?? '')
    })
    try {
      await candidate.connect()
      const { rows } = await candidate.query<{ schema: string }>('SELECT current_schema() AS schema')
      channel = scopedChannel(listener.channel, rows[0]!.schema)
      await candidate.query(`LISTEN ${candidate.escapeIdentifier(channel)}`)
      if (client === candidate && !closed) listening = true
    } catch {
      drop(candidate)
    }
  }
  void listen()

  return {
    listening: () => listening,
    async close() {
      closed = true
      clearTimeout(retry)
      const last = client
      client = undefined
      listening = false
      await last?.end().catch(() => undefined)
    },
  }
}

/**
 * Answers kept in memory for `ttlMs` while the changes to them are heard on `channel`: everything
 * is forgotten at each announcement and whenever the listening connection drops, and nothing is
 * kept while it is down, since a change made then would go unheard. An answer read before a
 * forgetting is not kept after it. `ttlMs` only bounds how long a change made without its
 * announcement (by hand, in SQL) goes unseen. At most `maxEntries` are kept.
 */
export function announcedCache(pool: pg.Pool, listener: { name: string; channel: string }, ttlMs: number, maxEntries = 10_000) {
  const entries = new Map<string, { value: unknown; expires: number }>()
  // Bumped at every forgetting: an answer read before a change was heard is not kept after it.
  let generation = 0
  const forget = () => {
    generation++
    entries.clear()
  }
  const changes = listenFor(pool, { ...listener, heard: forget, lost: forget })
  return {
    /** The answer kept under `key`, else `read`'s, kept when no change can have been missed while it ran. */
    async get<T>(key: string, read: () => Promise<T>): Promise<T> {
      const hit = entries.get(key)
      if (hit && hit.expires > Date.now()) return hit.value as T
      const readAt = generation
      const value = await read()
      if (changes.listening() && readAt === generation) {
        if (entries.size >= maxEntries) entries.clear()
        entries.set(key, { value, expires: Date.now() + ttlMs })
      }
      return value
    },
    forget,
    /** Whether changes are heard (and so answers kept). */
    listening: () => changes.listening(),
    close: () => changes.close(),
  }
}
