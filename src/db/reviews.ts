import { and, desc, eq } from 'drizzle-orm'
import type { Review, ReviewSubject, Signer } from '../domain/review.ts'
import type { Db, Tx } from './client.ts'
import { reviews } from './schema.ts'

/**
 * A reviewed catalogue text (a service item, a policy) as administrators edit it: its draft (null
 * once published), the draft's revision (counting every save) and author, and its latest
 * published version.
 */
export interface StoredDraft<D> {
  code: string
  draft: D | null
  revision: number
  author: Signer | null
  latestVersion: number | null
}

/** Keeps a review; earlier reviews of the same revision stay, the latest counts. */
export async function recordReview(tx: Db | Tx, review: Review): Promise<void> {
  await tx.insert(reviews).values({
    subjectKind: review.subject.kind, subjectId: review.subject.id, revision: review.revision, approved: review.approved,
    note: review.note, author: review.author, reviewer: review.reviewer, reviewedAt: review.reviewedAt,
  })
}

/** The latest review of `revision` of the subject's draft, if any. */
export async function latestReview(tx: Db | Tx, subject: ReviewSubject, revision: number): Promise<Review | undefined> {
  const [row] = await tx.select().from(reviews)
    .where(and(eq(reviews.subjectKind, subject.kind), eq(reviews.subjectId, subject.id), eq(reviews.revision, revision)))
    .orderBy(desc(reviews.id)).limit(1)
  return row && {
    subject: { kind: row.subjectKind, id: row.subjectId }, revision: row.revision, approved: row.approved, note: row.note,
    author: row.author, reviewer: row.reviewer, reviewedAt: row.reviewedAt,
  }
}
