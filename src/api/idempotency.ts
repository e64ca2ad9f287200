import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/client.ts'
import { canonicalJson } from '../db/hash-chain.ts'
import { idempotencyKeys } from '../db/schema.ts'
import { problem } from './problem.ts'

export const requestHash = (body: unknown) => createHash('sha256').update(canonicalJson(body)).digest('hex')

/**
 * Binds an Idempotency-Key to the resource it creates. The first caller's `candidateId` wins;
 * every later caller with the same body gets that id back, a different body is a conflict.
 */
export async function claimIdempotencyKey(db: Db, claim: {
  organizationId: string; scope: string; key: string; body: unknown; candidateId: string
}): Promise<string> {
  const hash = requestHash(claim.body)
  await db.insert(idempotencyKeys).values({
    organizationId: claim.organizationId, scope: claim.scope, key: claim.key, requestHash: hash, resourceId: claim.candidateId,
  }).onConflictDoNothing()
  const [row] = await db.select().from(idempotencyKeys).where(and(
    eq(idempotencyKeys.organizationId, claim.organizationId),
    eq(idempotencyKeys.scope, claim.scope),
    eq(idempotencyKeys.key, claim.key),
  ))
  if (!row) throw new Error('idempotency key vanished after insert')
  if (row.requestHash !== hash) {
    throw problem('idempotency_conflict', `Idempotency-Key ${claim.key} was used before with a different request`)
  }
  return row.resourceId
}

const sha256 = (text: string) => createHash('sha256').update(text).digest()

/** AES-256-GCM under a key only the holder of the Idempotency-Key can derive. */
function sealingKey(idempotencyKey: string, scope: string): Buffer {
  return Buffer.from(hkdfSync('sha256', idempotencyKey, scope, 'banjian idempotent response', 32))
}

function seal(value: unknown, idempotencyKey: string, scope: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', sealingKey(idempotencyKey, scope), iv)
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()])
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.')
}

function unseal(sealed: string, idempotencyKey: string, scope: string): unknown {
  const [iv, tag, body] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'))
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(idempotencyKey, scope), iv!)
  decipher.setAuthTag(tag!)
  return JSON.parse(Buffer.concat([decipher.update(body!), decipher.final()]).toString('utf8'))
}

/**
 * Creates something whose answer holds a secret at most once per Idempotency-Key: the first call
 * runs `create` and keeps its answer sealed (see `idempotency_keys.sealed_response`); a retry with
 * the same body gets the same answer back; a different body is a conflict. Concurrent retries
 * wait for the first.
 */
export async function createOnce<T extends { id: string }>(db: Db, claim: {
  organizationId: string; scope: string; key: string; body: unknown; create: (tx: Tx) => Promise<T>
}): Promise<T> {
  const keyHash = sha256(claim.key).toString('hex')
  const hash = requestHash(claim.body)
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`${claim.organizationId}\n${claim.scope}\n${keyHash}`}))`)
    const [row] = await tx.select().from(idempotencyKeys).where(and(
      eq(idempotencyKeys.organizationId, claim.organizationId), eq(idempotencyKeys.scope, claim.scope), eq(idempotencyKeys.key, keyHash),
    ))
    if (row) {
      if (row.requestHash !== hash || !row.sealedResponse) {
        throw problem('idempotency_conflict', `Idempotency-Key ${claim.key} was used before with a different request`)
      }
      return unseal(row.sealedResponse, claim.key, claim.scope) as T
    }
    const created = await claim.create(tx)
    await tx.insert(idempotencyKeys).values({
      organizationId: claim.organizationId, scope: claim.scope, key: keyHash, requestHash: hash, resourceId: created.id,
      sealedResponse: seal(created, claim.key, claim.scope),
    })
    return created
  })
}
