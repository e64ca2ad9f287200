import { and, inArray } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { sharedMaterials } from '../db/schema.ts'
import type { AttachedMaterial } from '../domain/case-view.ts'

/**
 * Where the government already holds an applicant's materials (shared data, e-licences). The
 * default reads the `shared_materials` table; a city plugs in its own data exchange by passing
 * another implementation to `createActivities`.
 */
export interface SharedDataSource {
  /** For each source that holds something for this subject, a reference to it. */
  lookup(subject: string, sources: string[]): Promise<Map<string, string>>
}

/** The table holds each subject as a blind index (storeIssuedCertificates): asked under every key, rows from before a rotation are found. */
export function createTableSharedData(database: Database): SharedDataSource {
  return {
    async lookup(subject, sources) {
      if (sources.length === 0) return new Map()
      const rows = await database.db.select({ source: sharedMaterials.source, ref: sharedMaterials.ref }).from(sharedMaterials)
        .where(and(inArray(sharedMaterials.subject, database.personal.subjectIndexes(subject)), inArray(sharedMaterials.source, sources)))
      return new Map(rows.map((r) => [r.source, r.ref]))
    },
  }
}

export interface PreReviewInput {
  subject: string
  wanted: Array<{ code: string; source: string }>
}

export function createSharedDataActivities(source: SharedDataSource) {
  return {
    /** DOMAIN rule 19: what the government holds is attached, never asked for again. */
    async attachSharedMaterials({ subject, wanted }: PreReviewInput): Promise<AttachedMaterial[]> {
      const found = await source.lookup(subject, [...new Set(wanted.map((w) => w.source))])
      return wanted.flatMap(({ code, source: from }) => {
        const ref = found.get(from)
        return ref ? [{ code, ref, source: 'shared' as const }] : []
      })
    },
  }
}
export type SharedDataActivities = ReturnType<typeof createSharedDataActivities>
