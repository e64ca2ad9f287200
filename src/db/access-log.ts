import { and, asc, eq, gt } from 'drizzle-orm'
import type { Db } from './client.ts'
import { personalDataAccess } from './schema.ts'

/** One answer that showed a case's personal numbers in clear. */
export interface PersonalDataAccess {
  caseId: string
  keyId: string
  organizationId: string
  role: string
  /** The operation that answered (`getCase`, `listCases`, `submitApplication`, …). */
  operation: string
  /** What it showed in clear: `applicant.idNumber`, `citizen.phone`, … */
  fields: string[]
}

/**
 * Records who was shown which case's personal numbers, before the answer leaves (PIPL Art. 51 and
 * 54: a handler must be able to show who accessed personal information). One statement for a
 * whole list page. Append-only: the table refuses UPDATE, DELETE and TRUNCATE (its migration).
 */
export async function recordPersonalDataAccess(db: Db, accesses: readonly PersonalDataAccess[]): Promise<void> {
  if (accesses.length === 0) return
  await db.insert(personalDataAccess).values([...accesses])
}

export interface AccessLogEntry {
  id: number
  at: string
  keyId: string
  organizationId: string
  role: string
  operation: string
  fields: string[]
}

/** A case's access log, oldest first, a page at a time after entry `after`. */
export async function readAccessLog(db: Db, caseId: string, limit: number, after?: number): Promise<{ items: AccessLogEntry[]; next: number | undefined }> {
  const rows = await db.select({
    id: personalDataAccess.id, at: personalDataAccess.at, keyId: personalDataAccess.keyId, organizationId: personalDataAccess.organizationId,
    role: personalDataAccess.role, operation: personalDataAccess.operation, fields: personalDataAccess.fields,
  }).from(personalDataAccess)
    .where(and(eq(personalDataAccess.caseId, caseId), after === undefined ? undefined : gt(personalDataAccess.id, after)))
    .orderBy(asc(personalDataAccess.id)).limit(limit + 1)
  const items = rows.slice(0, limit).map((r) => ({ ...r, id: Number(r.id) }))
  return { items, next: rows.length > limit ? items[items.length - 1]!.id : undefined }
}
