// Review before publication: who may review a draft, which review lets it be published, and the
// shapes a review travels in.
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import { Refusal } from '../../src/domain/refusal.ts'
import {
  approvalFor, Review, ReviewDecision, REVIEWER_ROLES, reviewOf, type ReviewedDraft, type Signer,
} from '../../src/domain/review.ts'

const AUTHOR: Signer = { keyId: 'key_author', organizationId: 'root', role: 'admin' }
const REVIEWER: Signer = { keyId: 'key_reviewer', organizationId: 'gz', role: 'supervisor' }
const AT = '2026-03-02T02:00:00.000Z'
const draft = (overrides: Partial<ReviewedDraft> = {}): ReviewedDraft =>
  ({ subject: { kind: 'service-item', id: 'ITEM-1' }, revision: 3, author: AUTHOR, ...overrides })

function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run()
  } catch (err) {
    if (err instanceof Refusal) return { code: err.code, message: err.message }
    throw err
  }
  throw new Error('not refused')
}

describe('reviewing a draft', () => {
  it('rule 40: records the review of the current revision, with its author and reviewer', () => {
    const review = reviewOf(draft(), { approved: true, note: 'matches the regulation' }, REVIEWER, AT)
    expect(review).toStrictEqual({
      subject: { kind: 'service-item', id: 'ITEM-1' }, revision: 3, approved: true, note: 'matches the regulation',
      author: AUTHOR, reviewer: REVIEWER, reviewedAt: AT,
    })
    expect(Value.Check(Review, review)).toBe(true)
    expect(reviewOf(draft(), { approved: false, note: 'fees missing', revision: 3 }, REVIEWER, AT)).toMatchObject({ approved: false, revision: 3 })
  })

  it('rule 40: the key that wrote the draft may not review it, whatever its role', () => {
    expect(refusal(() => reviewOf(draft(), { approved: true, note: 'fine' }, AUTHOR, AT)))
      .toEqual({ code: 'forbidden', message: 'the key that wrote the draft may not review it: another key must' })
    const sameKeyOtherOrg = { ...AUTHOR, organizationId: 'gz', role: 'supervisor' as const }
    expect(refusal(() => reviewOf(draft(), { approved: false, note: 'no' }, sameKeyOtherOrg, AT)).code).toBe('forbidden')
    // Another key of the same organisation and role is another person's.
    expect(reviewOf(draft(), { approved: true, note: 'fine' }, { ...AUTHOR, keyId: 'key_other_admin' }, AT).approved).toBe(true)
  })

  it('rule 40: a draft whose author is not recorded cannot be reviewed', () => {
    expect(refusal(() => reviewOf(draft({ author: null }), { approved: true, note: 'fine' }, REVIEWER, AT))).toEqual({
      code: 'conflict', message: 'the draft\'s author is not recorded: it must be saved again before it can be reviewed',
    })
  })

  it('rule 2: refuses a review of a revision that is no longer the draft', () => {
    expect(refusal(() => reviewOf(draft(), { approved: true, note: 'fine', revision: 2 }, REVIEWER, AT))).toEqual({
      code: 'conflict', message: 'the draft is at revision 3, not 2: read it again before reviewing',
    })
  })

  it('is open to supervisors and administrators', () => {
    expect(REVIEWER_ROLES).toEqual(['supervisor', 'admin'])
  })
})

describe('publishing after review', () => {
  const approved = reviewOf(draft(), { approved: true, note: 'fine' }, REVIEWER, AT)

  it('rule 2: needs an approved review of exactly the current revision', () => {
    expect(approvalFor(draft(), approved)).toBe(approved)
    expect(refusal(() => approvalFor(draft(), undefined))).toEqual({
      code: 'conflict', message: 'revision 3 of the draft has not been reviewed: it needs an approved review before publication',
    })
    expect(refusal(() => approvalFor(draft({ revision: 4 }), approved)).code).toBe('conflict')
  })

  it('rule 2: is refused after a review that did not approve, with its note', () => {
    const rejected = reviewOf(draft(), { approved: false, note: 'the fee is missing' }, REVIEWER, AT)
    expect(refusal(() => approvalFor(draft(), rejected))).toEqual({
      code: 'conflict', message: 'revision 3 of the draft was not approved: the fee is missing',
    })
  })
})

describe('the review shapes', () => {
  it('take a decision and a note, and optionally the revision read', () => {
    const ok = (d: unknown) => Value.Check(ReviewDecision, d)
    expect(ok({ approved: true, note: 'n' })).toBe(true)
    expect(ok({ approved: false, note: 'n'.repeat(2000), revision: 1 })).toBe(true)
    for (const bad of [
      { approved: true }, { note: 'n' }, { approved: 'yes', note: 'n' }, { approved: true, note: '' },
      { approved: true, note: 'n'.repeat(2001) }, { approved: true, note: 'n', revision: 0 },
      { approved: true, note: 'n', revision: 1.5 }, { approved: true, note: 'n', colour: 'blue' },
    ]) {
      expect(ok(bad), JSON.stringify(bad)).toBe(false)
    }
  })
})
