import { Type, type TSchema } from 'typebox'
import { Refusal } from '../domain/refusal.ts'
import { Review, Signer } from '../domain/review.ts'
import type { Principal } from './auth.ts'
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
export function withDraft<R extends { draft: unknown }>(row: R | undefined, what: string, act: 'review' | 'publish'): R & { draft: NonNullable<R['draft']> } {
  if (!row) throw problem('not_found', `${what} does not exist`)
  if (!row.draft) throw problem('conflict', `${what} has no draft to ${act}`)
  return row as R & { draft: NonNullable<R['draft']> }
}

/** Refuses a draft with its problems, each at its path under `at` (`body` when saved, `draft` when published). */
export function refuseDraft(problems: ReadonlyArray<{ path: string; message: string }>, code: 'validation_failed' | 'unprocessable',
  at: 'body' | 'draft', lead = ''): never {
  throw problem(code, `${lead}${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    problems.map((p) => ({ path: `${at}${p.path}`, message: p.message })))
}
