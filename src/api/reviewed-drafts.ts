import { Type, type TSchema } from 'typebox'
import type { Db, Tx } from '../db/client.ts'
import { latestReview, recordReview, type StoredDraft } from '../db/reviews.ts'
import { Refusal } from '../domain/refusal.ts'
import {
  approvalFor, Review, type ReviewDecision, reviewOf, type ReviewSubject, Signer,
} from '../domain/review.ts'
import type { Principal } from './auth.ts'
import { createOnce } from './idempotency.ts'
import { problem } from './problem.ts'

// What the catalogue's reviewed texts (service guides and policies) share at the HTTP edge: their
// codes, the draft as answered, who signs, and how a draft's problems and a review's refusals are
// told (rules 2, 23 and 40).

/** A service item's or a policy's code: 1–100 of letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export const CatalogueCode = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' })

/** The draft as the catalogue answers it: the text, its revision, its author, the latest version and the revision's review. */
export const DraftAnswer = <T extends TSchema>(draft: T, what: string) => Type.Object({
  code: Type.String(),
  draft,
  /** Counts every save of the draft; a review approves one revision. */
  revision: Type.Integer({ minimum: 0, description: `counts every save of the ${what}'s draft` }),
  author: Type.Union([Signer, Type.Null()]),
  latestVersion: Type.Union([Type.Integer(), Type.Null()]),
  /** The latest review of this revision, null until it has one. */
  review: Type.Union([Review, Type.Null()]),
})

export const signerOf = ({ keyId, organizationId, role }: Principal): Signer => ({ keyId, organizationId, role })

/** Runs a domain rule, turning its Refusal into the contract's problem. */
export function refusing<T>(rule: () => T): T {
  try {
    return rule()
  } catch (err) {
    if (err instanceof Refusal) throw problem(err.code, err.message)
    throw err
  }
}

/** A row locked for review or publication, with its draft: 404 with no row, 409 with no draft. */
function withDraft<R extends { draft: unknown }>(row: R | undefined, what: string, act: 'review' | 'publish'): R & { draft: NonNullable<R['draft']> } {
  if (!row) throw problem('not_found', `${what} does not exist`)
  if (!row.draft) throw problem('conflict', `${what} has no draft to ${act}`)
  return row as R & { draft: NonNullable<R['draft']> }
}

/** Refuses a draft with its problems, each at its path under `at` (`body` when saved, `draft` when published). */
function refuseDraft(problems: ReadonlyArray<{ path: string; message: string }>, code: 'validation_failed' | 'unprocessable',
  at: 'body' | 'draft', lead = ''): never {
  throw problem(code, `${lead}${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    problems.map((p) => ({ path: `${at}${p.path}`, message: p.message })))
}

/** A kind of reviewed text, as reading, reviewing and publishing its draft need it. */
export interface ReviewedKind<D> {
  subject: ReviewSubject['kind']
  /** How messages name one: `service item`, `policy`. */
  name: string
  /** Its reviews' Idempotency-Key scope: a service item may have a policy's code, and one key must not answer for both. */
  reviewScope: string
  find(db: Db, code: string): Promise<StoredDraft<D> | undefined>
  /** The row, locked against another save, review or publication until `tx` ends. */
  lock(tx: Tx, code: string): Promise<StoredDraft<D> | undefined>
  /** What keeps a draft from publication: checked when it is saved, and again when it is published. */
  problems(draft: D): ReadonlyArray<{ path: string; message: string }>
}

/** Who asks, about which text, and under which Idempotency-Key if any. */
export interface DraftRequest {
  principal: Principal
  code: string
  key: string | undefined
}

const subjectOf = (kind: ReviewedKind<unknown>, code: string): ReviewSubject => ({ kind: kind.subject, id: code })

/** A draft about to be saved: its problems refused at `body` (400), a department that does not exist 422. */
export async function checkDraftToSave<D extends { departmentId: string }>(kind: ReviewedKind<D>, draft: D,
  organizations: { missing(ids: string[]): Promise<string[]> }): Promise<void> {
  const problems = kind.problems(draft)
  if (problems.length > 0) refuseDraft(problems, 'validation_failed', 'body')
  const [unknown] = await organizations.missing([draft.departmentId])
  if (unknown) throw problem('unprocessable', `organisation ${unknown} does not exist`)
}

/** The unpublished draft with its revision's latest review: 404 when there is none. */
export async function readDraft<D>(db: Db, kind: ReviewedKind<D>, code: string) {
  const row = await kind.find(db, code)
  if (!row?.draft) throw problem('not_found', `${kind.name} ${code} has no draft`)
  const review = await latestReview(db, subjectOf(kind, code), row.revision)
  return { ...row, draft: row.draft, review: review ?? null }
}

/**
 * Records `decision` on the current draft (rule 40: by another key than its author). With an
 * Idempotency-Key, retries, concurrent ones too, hear the first review's answer.
 */
export async function reviewDraft<D>(db: Db, kind: ReviewedKind<D>, { principal, code, key }: DraftRequest,
  decision: ReviewDecision): Promise<Review> {
  const review = async (tx: Tx): Promise<Review> => {
    const row = withDraft(await kind.lock(tx, code), `${kind.name} ${code}`, 'review')
    const draft = { subject: subjectOf(kind, code), revision: row.revision, author: row.author }
    const made = refusing(() => reviewOf(draft, decision, signerOf(principal), new Date().toISOString()))
    await recordReview(tx, made)
    return made
  }
  if (!key) return db.transaction(review)
  const first = await createOnce(db, {
    organizationId: principal.organizationId, scope: `${kind.reviewScope}:${code}`, key, body: { code, keyId: principal.keyId, ...decision },
    create: async (tx) => {
      const made = await review(tx)
      return { id: String(made.revision), review: made }
    },
  })
  return first.review
}

/** A draft that may be published now: the text, the version it becomes, and who wrote and approved it. */
export interface ApprovedDraft<D> {
  draft: D
  version: number
  signatures: Pick<Review, 'author' | 'reviewer' | 'reviewedAt'>
  publishedAt: string
}

/**
 * The locked row's draft, fit for publication as its next version: checked again (a draft saved
 * before a rule was checked must not reach a case, 422) and approved at its revision (409).
 */
export async function approvedDraft<D>(tx: Tx, kind: ReviewedKind<D>, code: string): Promise<ApprovedDraft<D>> {
  const row = withDraft(await kind.lock(tx, code), `${kind.name} ${code}`, 'publish')
  const unfit = kind.problems(row.draft)
  if (unfit.length > 0) refuseDraft(unfit, 'unprocessable', 'draft', 'the draft cannot be published: ')
  const latest = await latestReview(tx, subjectOf(kind, code), row.revision)
  const approval = refusing(() => approvalFor(row, latest))
  return {
    draft: row.draft, version: (row.latestVersion ?? 0) + 1,
    signatures: { author: approval.author, reviewer: approval.reviewer, reviewedAt: approval.reviewedAt },
    publishedAt: new Date().toISOString(),
  }
}
