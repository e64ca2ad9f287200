import type { AttachedMaterial } from '../domain/case-view.ts'
import { type PreReviewInput, preReview, type SharedDataSource } from '../db/shared-data.ts'

export function createSharedDataActivities(source: SharedDataSource) {
  return {
    /** Pre-review inside a case whose start input carries none (`preReviewed`): histories from before the API ran it. */
    attachSharedMaterials: (input: PreReviewInput): Promise<AttachedMaterial[]> => preReview(source, input),
  }
}
export type SharedDataActivities = ReturnType<typeof createSharedDataActivities>
