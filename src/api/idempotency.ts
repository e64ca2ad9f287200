import { createHash } from 'node:crypto'
import { and, eq } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
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
