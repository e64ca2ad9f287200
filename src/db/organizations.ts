import { inArray } from 'drizzle-orm'
import type { Db } from './client.ts'
import { organizations } from './schema.ts'

export function createOrganizationReads(db: Db) {
  return {
    /** Those of `ids` that name no organisation. */
    async missing(ids: string[]): Promise<string[]> {
      if (ids.length === 0) return []
      const rows = await db.select({ id: organizations.id }).from(organizations).where(inArray(organizations.id, ids))
      const found = new Set(rows.map((r) => r.id))
      return ids.filter((id) => !found.has(id))
    },
  }
}
