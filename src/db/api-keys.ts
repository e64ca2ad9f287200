import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { asc, eq, sql } from 'drizzle-orm'
import type { Role } from '../domain/roles.ts'
import { announce, KEY_REVOKED_CHANNEL } from './announcements.ts'
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

/**
 * Revokes a key (kept, for the record); false when there is no such key. Every process listening
 * on `KEY_REVOKED_CHANNEL` hears it when, and only if, the revocation commits.
 */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const revoked = await tx.update(apiKeys).set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
      .where(eq(apiKeys.id, id)).returning({ id: apiKeys.id })
    if (revoked.length === 0) return false
    await announce(tx, KEY_REVOKED_CHANNEL, id)
    return true
  })
}

/** Every key with its binding and state, never its hash. */
export async function listApiKeys(db: Db) {
  return db.select({
    id: apiKeys.id, organizationId: apiKeys.organizationId, role: apiKeys.role, name: apiKeys.name,
    createdAt: apiKeys.createdAt, revokedAt: apiKeys.revokedAt,
  }).from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
}
