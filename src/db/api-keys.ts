import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { asc, eq, sql } from 'drizzle-orm'
import pg from 'pg'
import type { Role } from '../domain/roles.ts'
import type { Db, Tx } from './client.ts'
import { apiKeys, organizations } from './schema.ts'

export const hashKey = (secret: string) => createHash('sha256').update(secret).digest('hex')

/** A new secret: prefixed so leaked keys are easy to spot in logs and scanners. */
export const newKeySecret = () => `bj_${randomBytes(24).toString('base64url')}`

export class UnknownOrganization extends Error {
  constructor(readonly organizationId: string) {
    super(`organisation ${organizationId} does not exist`)
    this.name = 'UnknownOrganization'
  }
}

export interface CreatedApiKey { id: string; key: string; organizationId: string; role: Role; name?: string }

/** A key bound to one organisation and one role; the secret is returned here once, and only its hash kept. */
export async function createApiKey(db: Db | Tx, request: { organizationId: string; role: Role; name?: string | undefined }): Promise<CreatedApiKey> {
  const { organizationId, role, name } = request
  const [org] = await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, organizationId))
  if (!org) throw new UnknownOrganization(organizationId)
  const key = newKeySecret()
  const id = `key_${randomUUID()}`
  await db.insert(apiKeys).values({ id, organizationId, role, name: name ?? null, keyHash: hashKey(key) })
  return { id, key, organizationId, role, ...(name ? { name } : {}) }
}

/** The channel on which a revocation is announced to every process that caches keys. */
export const KEY_REVOKED_CHANNEL = 'banjian_api_key_revoked'

/**
 * Revokes a key (kept, for the record); false when there is no such key. Every process listening
 * on `KEY_REVOKED_CHANNEL` hears it when, and only if, the revocation commits.
 */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const revoked = await tx.update(apiKeys).set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
      .where(eq(apiKeys.id, id)).returning({ id: apiKeys.id })
    if (revoked.length === 0) return false
    await tx.execute(sql`SELECT pg_notify(${KEY_REVOKED_CHANNEL}, ${id})`)
    return true
  })
}

export interface RevocationListener {
  /** True while LISTEN holds on a live connection: only then is every revocation heard. */
  listening(): boolean
  close(): Promise<void>
}

/**
 * Listens for revocations on a connection of its own (a pooled one may be handed to anyone).
 * `revoked` runs on each; `lost` when the connection drops, after which it connects again every
 * `retryMs` until LISTEN holds once more.
 */
export function listenForKeyRevocations(pool: pg.Pool, handlers: { revoked: () => void; lost: () => void }, retryMs = 1_000): RevocationListener {
  let client: pg.Client | undefined
  let listening = false
  let closed = false
  let retry: NodeJS.Timeout | undefined

  const drop = (dropped: pg.Client) => {
    if (client !== dropped) return
    client = undefined
    listening = false
    handlers.lost()
    void dropped.end().catch(() => undefined)
    if (!closed) retry = setTimeout(() => void listen(), retryMs).unref()
  }
  const listen = async () => {
    const candidate = new pg.Client({ ...pool.options, application_name: 'banjian key revocations', keepAlive: true })
    client = candidate
    candidate.on('error', () => drop(candidate))
    candidate.on('end', () => drop(candidate))
    candidate.on('notification', (message) => {
      if (message.channel === KEY_REVOKED_CHANNEL) handlers.revoked()
    })
    try {
      await candidate.connect()
      await candidate.query(`LISTEN ${KEY_REVOKED_CHANNEL}`)
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

/** Every key with its binding and state, never its hash. */
export async function listApiKeys(db: Db) {
  return db.select({
    id: apiKeys.id, organizationId: apiKeys.organizationId, role: apiKeys.role, name: apiKeys.name,
    createdAt: apiKeys.createdAt, revokedAt: apiKeys.revokedAt,
  }).from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
}
