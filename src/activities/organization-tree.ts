import type { Database } from '../db/client.ts'
import { createOrganizationReads } from '../db/organizations.ts'

/** What a case asks of the organisation tree: whom a supervision record climbs to. */
export function createOrganizationTreeActivities(deps: { database: Database }) {
  const organizations = createOrganizationReads(deps.database.db)
  return {
    /** Each organisation's parent and those of its ancestors (null at a root or for an unknown id). */
    async organizationParents({ ids }: { ids: string[] }): Promise<Record<string, string | null>> {
      return organizations.parentsOf(ids)
    },
  }
}
