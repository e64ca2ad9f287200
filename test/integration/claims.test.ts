import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { claimForApplication } from '../../src/db/claims.ts'
import { PersonalData } from '../../src/db/personal-data.ts'
import { Keyring } from '../../src/infra/data-keys.ts'
import { createTestDatabase, type TestDatabase, uniqueName } from '../support/system.ts'

// "One beneficiary, one policy, one case, ever" (rule 25) when claims are found by a blind index
// that depends on the key: processes that still index under the old key and processes that already
// index under the new one claim the same beneficiaries at once, as they do while a rotation rolls
// out (README: every process first lists the new key second, then first).

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => db?.drop())

describe('claims across a key rotation', () => {
  it('rule 25: give each beneficiary one case, whichever key each claimer indexes with', async () => {
    const old = Keyring.generate('old').current
    const next = Keyring.generate('new').current
    const rolledOut = new PersonalData(new Keyring([old, next]))
    const rotated = new PersonalData(new Keyring([next, old]))
    const policyCode = uniqueName('CLAIM-')
    const beneficiaries = Array.from({ length: 30 }, (_, n) => `4401061990${String(n).padStart(8, '0')}`)
    const outcomes = await Promise.all(beneficiaries.flatMap((beneficiaryId) => [rolledOut, rotated].map(async (personal) =>
      ({ beneficiaryId, claim: await claimForApplication(db.database.pool, personal, { policyCode, beneficiaryId, amount: 100 }) }))))
    for (const beneficiaryId of beneficiaries) {
      const claims = outcomes.filter((o) => o.beneficiaryId === beneficiaryId).map((o) => o.claim)
      expect(claims.map((c) => c.outcome).sort(), beneficiaryId).toEqual(['claimed', 'duplicate'])
      // The duplicate names the case the claim holds, not one derived under its own key.
      const [first, second] = claims as Array<{ caseId: string }>
      expect(first!.caseId).toBe(second!.caseId)
    }
    const { rows } = await db.database.pool.query('SELECT count(*)::int AS n FROM fulfilment_claims WHERE policy_code = $1', [policyCode])
    expect(rows[0].n).toBe(beneficiaries.length)
  })
})
