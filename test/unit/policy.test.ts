import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_VERIFY_WITHIN, entitlementOf, type PolicyDraft, policyDraftProblems, publishPolicy, readBeneficiary,
} from '../../src/domain/policy.ts'
import { fulfilmentCaseId } from '../../src/db/claims.ts'
import { PersonalData } from '../../src/db/personal-data.ts'
import { Keyring } from '../../src/infra/data-keys.ts'
import { policyTerms } from '../../src/domain/fulfilment/terms.ts'
import { storableText } from '../../src/domain/safe-text.ts'

// Policies (DOMAIN rules 23–25, API.md "Policy fulfilment"): drafts, entitlement by matching data,
// and the one case id per policy and beneficiary.

const DRAFT: PolicyDraft = {
  name: '稳岗补贴', departmentId: 'gz-hr', mode: 'no_application',
  eligibility: { and: [{ '>=': [{ var: 'employees' }, 10] }, { '==': [{ var: 'layoffs' }, 0] }] },
  amount: { '*': [{ var: 'employees' }, 50000] },
  payWithin: { workingDays: 10 },
}

describe('a policy draft', () => {
  it('with known operations and no confirmation window outside confirm mode has no problems', () => {
    expect(policyDraftProblems(DRAFT)).toEqual([])
  })

  it('names the path of an unknown operator, in the eligibility and in the amount', () => {
    expect(policyDraftProblems({ ...DRAFT, eligibility: { and: [true, { no_such_op: [1] }] }, amount: { sum: [1] } }).map((p) => p.path))
      .toEqual(['/eligibility/and/1/no_such_op', '/amount/sum'])
  })

  it('in confirm mode says how long the beneficiary has; in no other mode does it', () => {
    expect(policyDraftProblems({ ...DRAFT, mode: 'confirm' }).map((p) => p.path)).toEqual(['/confirmWithin'])
    expect(policyDraftProblems({ ...DRAFT, mode: 'confirm', confirmWithin: { workingDays: 5 } })).toEqual([])
    expect(policyDraftProblems({ ...DRAFT, confirmWithin: { workingDays: 5 } }).map((p) => p.path)).toEqual(['/confirmWithin'])
  })

  it('refuses text Postgres cannot store, by its path', () => {
    expect(policyDraftProblems({ ...DRAFT, name: 'a\u0000b' }).map((p) => p.path)).toEqual(['/name'])
  })

  it('is published with its defaults written out', () => {
    const policy = publishPolicy('WENGANG', 2, DRAFT, '2026-03-02T02:00:00.000Z', {})
    expect(policy).toMatchObject({ code: 'WENGANG', version: 2, budget: null, autoVerify: false, verifyWithin: DEFAULT_VERIFY_WITHIN })
    expect(policy).not.toHaveProperty('confirmWithin')
    expect(publishPolicy('X', 1, { ...DRAFT, budget: 0, autoVerify: true }, 'at', {})).toMatchObject({ budget: 0, autoVerify: true })
  })
})

describe('the terms a fulfilment case keeps of its policy', () => {
  it('are the version, the department, the mode and the limits, without the rules, the budget or the review', () => {
    const confirm = publishPolicy('WENGANG', 3, { ...DRAFT, mode: 'confirm', confirmWithin: { workingDays: 5 }, budget: 10 }, 'at',
      { reviewedAt: 'then' })
    expect(policyTerms(confirm)).toEqual({
      code: 'WENGANG', version: 3, departmentId: 'gz-hr', mode: 'confirm', autoVerify: false,
      confirmWithin: { workingDays: 5 }, verifyWithin: DEFAULT_VERIFY_WITHIN, payWithin: { workingDays: 10 },
    })
    // No confirmation window outside confirm mode: the key is absent, not undefined.
    expect(Object.keys(policyTerms(publishPolicy('WENGANG', 1, DRAFT, 'at', {})))).not.toContain('confirmWithin')
  })
})

describe('entitlement (rule 24: eligibility by matching data)', () => {
  const policy = publishPolicy('WENGANG', 1, DRAFT, 'at', {})

  it('gives the amount the rule computes over the attributes', () => {
    expect(entitlementOf(policy, { attributes: { employees: 12, layoffs: 0 } })).toEqual({ eligible: true, amount: 600000 })
    expect(entitlementOf({ ...policy, amount: 300 }, { attributes: { employees: 12, layoffs: 0 } })).toEqual({ eligible: true, amount: 300 })
  })

  it('gives nothing when the eligibility rule does not hold, or fails on these facts', () => {
    expect(entitlementOf(policy, { attributes: { employees: 12, layoffs: 1 } })).toMatchObject({ eligible: false })
    expect(entitlementOf({ ...policy, eligibility: { no_such_op: [] } }, { attributes: {} })).toMatchObject({ eligible: false })
  })

  it('never pays an amount that is not a positive whole number of fen', () => {
    for (const amount of [0, -5, 1.5, 'lots', Number.MAX_SAFE_INTEGER + 2]) {
      const entitlement = entitlementOf({ ...policy, amount: { var: 'x' } }, { attributes: { employees: 12, layoffs: 0, x: amount } })
      expect(entitlement, String(amount)).toMatchObject({ eligible: false })
      expect((entitlement as { reason: string }).reason).toContain('not a positive whole number of fen')
    }
    expect(entitlementOf({ ...policy, amount: { var: 'x' } }, { attributes: { employees: 12, layoffs: 0 } })).toMatchObject({ eligible: false })
  })
})

describe('a campaign line read as a beneficiary', () => {
  const good = { id: '91440101MA5CXXXX1X', type: 'enterprise', name: '某某科技有限公司', attributes: { employees: 12 } }

  it('is a beneficiary when it has the fields', () => {
    expect(readBeneficiary(good)).toEqual({ beneficiary: good })
    expect(readBeneficiary({ ...good, account: '6222000011112222' })).toHaveProperty('beneficiary')
    // A null fact is a fact: the depth walk steps over it.
    const withNull = { ...good, attributes: { employees: 12, layoffs: null } }
    expect(readBeneficiary(withNull)).toEqual({ beneficiary: withNull })
  })

  it('says why it is not one', () => {
    expect(readBeneficiary([good])).toEqual({ error: 'a line is one JSON object' })
    expect(readBeneficiary(null)).toEqual({ error: 'a line is one JSON object' })
    expect(readBeneficiary('91440101MA5CXXXX1X')).toEqual({ error: 'a line is one JSON object' })
    expect(readBeneficiary({ ...good, id: undefined })).toEqual({ error: 'the beneficiary has no id' })
    expect(readBeneficiary({ ...good, id: 7 })).toEqual({ error: 'the beneficiary has no id' })
    expect((readBeneficiary({ ...good, type: 'robot' }) as { error: string }).error).toMatch(/^\/type /)
    expect((readBeneficiary({ ...good, extra: 1 }) as { error: string }).error).toMatch(/extra|additional/)
    expect((readBeneficiary({ ...good, name: 'x\u0000' }) as { error: string }).error).toBe('/name must not contain U+0000 or an unpaired UTF-16 surrogate')
  })

  it('is refused when it nests deeper than a beneficiary needs, before anything walks it', () => {
    let deep: unknown = 1
    for (let i = 0; i < 40; i++) deep = [deep]
    expect(readBeneficiary({ ...good, attributes: { deep } })).toEqual({ error: 'the line nests deeper than 16 levels' })
    // Exactly 16 levels is allowed: the line, its attributes and 14 lists.
    let sixteen: unknown = 1
    for (let i = 0; i < 14; i++) sixteen = [sixteen]
    expect(readBeneficiary({ ...good, attributes: { sixteen } })).toHaveProperty('beneficiary')
    expect(readBeneficiary({ ...good, attributes: { sixteen: [sixteen] } })).toEqual({ error: 'the line nests deeper than 16 levels' })
  })
})

describe('the case id', () => {
  const personal = new PersonalData(Keyring.generate('k1'))

  it('is one per policy and beneficiary under a key, and does not show the beneficiary\'s id', () => {
    const id = fulfilmentCaseId(personal, 'WENGANG', '440106199001011234')
    expect(id).toBe(fulfilmentCaseId(personal, 'WENGANG', '440106199001011234'))
    expect(id).toMatch(/^F-WENGANG-[0-9a-f]{32}$/)
    expect(id).not.toContain('440106')
    expect(fulfilmentCaseId(personal, 'WENGANG', '440106199001011235')).not.toBe(id)
    expect(fulfilmentCaseId(personal, 'OTHER', '440106199001011234')).not.toBe(id)
  })

  it('cannot be found by trying identity numbers without the key: a plain hash, or another key, gives another id', () => {
    const id = fulfilmentCaseId(personal, 'WENGANG', '440106199001011234')
    const plain = createHash('sha256').update('WENGANG\n440106199001011234').digest('hex').slice(0, 32)
    expect(id).not.toBe(`F-WENGANG-${plain}`)
    expect(fulfilmentCaseId(new PersonalData(Keyring.generate('k1')), 'WENGANG', '440106199001011234')).not.toBe(id)
  })
})

describe('storable words about refused text', () => {
  it('replace U+0000 and lone surrogates, and leave safe text as it is', () => {
    expect(storableText('/bad\u0000key must not')).toBe('/bad\ufffdkey must not')
    expect(storableText('x\ud800y\udc00')).toBe('x\ufffdy\ufffd')
    expect(storableText('a\ud83d\ude00b')).toBe('a\ud83d\ude00b')
    expect(storableText('plain')).toBe('plain')
  })
})
