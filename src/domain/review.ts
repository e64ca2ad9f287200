// Review before publication (rules 2, 23 and 40): what someone wrote is published only after someone
// else approved that very revision of it. Written for any reviewed text (service guides and
// policies): a subject is named by its kind and id, and its drafts are numbered.
import { Type, type Static } from 'typebox'
import { Refusal } from './refusal.ts'
import { Role } from './roles.ts'

/** Who wrote or reviewed a text: the API key, its organisation and role. */
export const Signer = Type.Object({
  keyId: Type.String(),
  organizationId: Type.String(),
  role: Role,
}, { additionalProperties: false })
export type Signer = Static<typeof Signer>

/** Who may review (the route admits only them): supervisors and administrators. */
export const REVIEWER_ROLES = ['supervisor', 'admin'] as const

export const SUBJECT_KINDS = ['service-item', 'policy'] as const
export const ReviewSubject = Type.Object({
  kind: Type.Enum(SUBJECT_KINDS),
  id: Type.String(),
}, { additionalProperties: false })
export type ReviewSubject = Static<typeof ReviewSubject>

/** What a reviewer sends. */
export const ReviewDecision = Type.Object({
  approved: Type.Boolean(),
  note: Type.String({ minLength: 1, maxLength: 2000 }),
  /** The draft revision the reviewer read; another one current now → 409, nothing recorded. */
  revision: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
}, { additionalProperties: false })
export type ReviewDecision = Static<typeof ReviewDecision>

/** A review of one revision of a subject's draft. The latest review of a revision is the one that counts. */
export const Review = Type.Object({
  subject: ReviewSubject,
  revision: Type.Integer({ minimum: 0 }),
  approved: Type.Boolean(),
  note: Type.String(),
  author: Signer,
  reviewer: Signer,
  reviewedAt: Type.String(),
})
export type Review = Static<typeof Review>

/** The draft under review: its revision and who wrote it (null for drafts saved before authors were recorded). */
export interface ReviewedDraft {
  subject: ReviewSubject
  revision: number
  author: Signer | null
}

/** The review `reviewer` gives `draft`, or a Refusal: the author never reviews their own text. */
export function reviewOf(draft: ReviewedDraft, decision: ReviewDecision, reviewer: Signer, at: string): Review {
  if (decision.revision !== undefined && decision.revision !== draft.revision) {
    throw new Refusal('conflict', `the draft is at revision ${draft.revision}, not ${decision.revision}: read it again before reviewing`)
  }
  if (!draft.author) {
    throw new Refusal('conflict', 'the draft\'s author is not recorded: it must be saved again before it can be reviewed')
  }
  if (draft.author.keyId === reviewer.keyId) {
    throw new Refusal('forbidden', 'the key that wrote the draft may not review it: another key must')
  }
  return {
    subject: draft.subject, revision: draft.revision, approved: decision.approved, note: decision.note,
    author: draft.author, reviewer, reviewedAt: at,
  }
}

/**
 * The approval that lets `draft` be published: the latest review of exactly its revision, if it
 * approved; otherwise a Refusal (409 `conflict`).
 */
export function approvalFor(draft: Pick<ReviewedDraft, 'revision'>, latest: Review | undefined): Review & { approved: true } {
  if (!latest || latest.revision !== draft.revision) {
    throw new Refusal('conflict', `revision ${draft.revision} of the draft has not been reviewed: it needs an approved review before publication`)
  }
  if (!latest.approved) {
    throw new Refusal('conflict', `revision ${draft.revision} of the draft was not approved: ${latest.note}`)
  }
  return latest as Review & { approved: true }
}
