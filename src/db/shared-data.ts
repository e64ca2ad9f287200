import { and, inArray } from 'drizzle-orm'
import type { AttachedMaterial } from '../domain/case-view.ts'
import type { Database } from './client.ts'
import { sharedMaterials } from './schema.ts'

/**
 * Where the government already holds an applicant's materials (shared data, e-licences). The
 * default reads the `shared_materials` table; a city plugs in its own data exchange by passing
 * another implementation as `sharedData` to the API (`AppDeps`), which pre-reviews submissions, and
 * to `createActivities`, for cases started before the API did.
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

/**
 * Pre-review's look-up (DOMAIN rule 19): what the government holds is attached, never asked for
 * again. The API runs it before it starts a case; the activity is for cases started before that.
 */
export async function preReview(source: SharedDataSource, { subject, wanted }: PreReviewInput): Promise<AttachedMaterial[]> {
  if (wanted.length === 0) return []
  const found = await source.lookup(subject, [...new Set(wanted.map((w) => w.source))])
  return wanted.flatMap(({ code, source: from }) => {
    const ref = found.get(from)
    return ref ? [{ code, ref, source: 'shared' as const }] : []
  })
}
