import { randomUUID } from 'node:crypto'
import { and, eq, isNull } from 'drizzle-orm'
import { hashKey, newKeySecret } from './api-keys.ts'
import type { Db } from './client.ts'
import { apiKeys, organizations } from './schema.ts'

export const ROOT_ORGANIZATION = 'root'
const BOOTSTRAP_KEY_ID = 'key_bootstrap-admin'

/**
 * The root organisation and a first administrator key. With `adminKey` (BANJIAN_ADMIN_KEY) that
 * key is the administrator's; without it, a key is generated once, when no administrator key
 * exists, and returned so the caller can print it. Only its hash is stored.
 */
export async function bootstrapAccess(db: Db, adminKey: string | undefined): Promise<{ generatedKey?: string }> {
  await db.insert(organizations).values({ id: ROOT_ORGANIZATION, name: 'Root', kind: 'government', path: `/${ROOT_ORGANIZATION}/` })
    .onConflictDoNothing()
  if (adminKey) {
    const keyHash = hashKey(adminKey)
    await db.insert(apiKeys).values({ id: BOOTSTRAP_KEY_ID, organizationId: ROOT_ORGANIZATION, role: 'admin', name: 'BANJIAN_ADMIN_KEY', keyHash })
      .onConflictDoUpdate({ target: apiKeys.id, set: { keyHash, revokedAt: null } })
    return {}
  }
  const [existing] = await db.select({ id: apiKeys.id }).from(apiKeys)
    .where(and(eq(apiKeys.role, 'admin'), isNull(apiKeys.revokedAt))).limit(1)
  if (existing) return {}
  const generatedKey = newKeySecret()
  await db.insert(apiKeys).values({
    id: `key_${randomUUID()}`, organizationId: ROOT_ORGANIZATION, role: 'admin', name: 'generated at first start', keyHash: hashKey(generatedKey),
  })
  return { generatedKey }
}
