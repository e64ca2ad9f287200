import { and, inArray, notInArray } from 'drizzle-orm'
import type { OrganizationKind } from '../domain/roles.ts'
import type { Db } from './client.ts'
import { organizations } from './schema.ts'

/**
 * The kinds that handle cases, and so may take one over (`transfer`) or give an opinion on it
 * (`request_opinions`). A government, a service centre or the root handles none: a case sent
 * there would have nobody to act on it.
 */
export const CASE_HANDLING_KINDS: readonly OrganizationKind[] = ['department', 'authorized-org', 'public-utility']

export function createOrganizationReads(db: Db) {
  return {
    /** Those of `ids` that name no organisation. */
    async missing(ids: string[]): Promise<string[]> {
      if (ids.length === 0) return []
      const rows = await db.select({ id: organizations.id }).from(organizations).where(inArray(organizations.id, ids))
      const found = new Set(rows.map((r) => r.id))
      return ids.filter((id) => !found.has(id))
    },
    /** Those of `ids` that exist but handle no cases, with their kind. */
    async handlingNoCases(ids: string[]): Promise<Array<{ id: string; kind: OrganizationKind }>> {
      if (ids.length === 0) return []
      return db.select({ id: organizations.id, kind: organizations.kind }).from(organizations)
        .where(and(inArray(organizations.id, ids), notInArray(organizations.kind, [...CASE_HANDLING_KINDS])))
    },
  }
}
