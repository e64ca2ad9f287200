import type pg from 'pg'
import type { PersonalData } from './personal-data.ts'

// Beside the claims (keys, so outside the domain and the workflow bundle): the campaign's
// activities and the application route derive the id; the workflow is given it.

/**
 * A new fulfilment case's id, and so its workflow id: derived from the policy and the beneficiary
 * under the current data key (the claim's blind index), so that one who holds a case id cannot
 * try identity numbers against it, as they could against a plain hash. What keeps "one
 * beneficiary, one policy, one case, ever" is the claim (`claimedCases`), which knows the case
 * whatever key it was derived under; the id only has to be new and unguessable.
 */
export function fulfilmentCaseId(personal: PersonalData, policyCode: string, beneficiaryId: string): string {
  const index = personal.claimIndex(policyCode, beneficiaryId)
  const digest = Buffer.from(index.slice(index.indexOf('.') + 1), 'base64url').subarray(0, 16).toString('hex')
  return `F-${policyCode}-${digest}`
}

/** A claim to write: the beneficiary in clear here, sealed and indexed as it is stored. */
export interface NewClaim {
  beneficiaryId: string
  caseId: string
  amount: number
  campaignId?: string
  line?: number
}

/**
 * Claims of one policy are made one transaction at a time (a transaction-scoped advisory lock): a
 * claim is found by its blind index under every key, which no unique key can hold across a
 * rotation, so the lookup and the insert must not interleave with another claimer's.
 */
export async function lockClaims(client: pg.PoolClient, policyCode: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`fulfilment_claims ${policyCode}`])
}

/**
 * The beneficiaries among `beneficiaryIds` that hold a claim under the policy, each with its case:
 * found by the claim's blind index under every key, or in clear for claims made before claims
 * were sealed (until `banjian keys rotate-data` indexes them).
 */
export async function claimedCases(client: pg.PoolClient, personal: PersonalData, policyCode: string, beneficiaryIds: readonly string[])
  : Promise<Map<string, string>> {
  const byIndex = new Map<string, string>()
  for (const id of beneficiaryIds) {
    for (const index of personal.claimIndexes(policyCode, id)) byIndex.set(index, id)
  }
  const { rows } = await client.query<{ beneficiary_id: string; case_id: string; legacy: boolean }>(
    `SELECT beneficiary_id, case_id, beneficiary_sealed IS NULL AS legacy FROM fulfilment_claims
      WHERE policy_code = $1 AND (beneficiary_id = ANY($2::text[]) OR (beneficiary_sealed IS NULL AND beneficiary_id = ANY($3::text[])))`,
    [policyCode, [...byIndex.keys()], beneficiaryIds])
  const found = new Map<string, string>()
  for (const row of rows) {
    const id = row.legacy ? row.beneficiary_id : byIndex.get(row.beneficiary_id)
    if (id !== undefined) found.set(id, row.case_id)
  }
  return found
}

/** Writes claims (their beneficiaries indexed and sealed); the caller holds `lockClaims` and found none of them claimed. */
export async function insertClaims(client: pg.PoolClient, personal: PersonalData, policyCode: string, claims: readonly NewClaim[]): Promise<void> {
  if (claims.length === 0) return
  await client.query(
    `INSERT INTO fulfilment_claims (policy_code, beneficiary_id, beneficiary_sealed, case_id, amount, campaign_id, line)
     SELECT $1, u.beneficiary_id, u.beneficiary_sealed, u.case_id, u.amount, u.campaign_id, u.line
       FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::int[])
         AS u(beneficiary_id, beneficiary_sealed, case_id, amount, campaign_id, line)`,
    [policyCode, claims.map((c) => personal.claimIndex(policyCode, c.beneficiaryId)), claims.map((c) => personal.sealText(c.beneficiaryId)),
      claims.map((c) => c.caseId), claims.map((c) => c.amount), claims.map((c) => c.campaignId ?? null), claims.map((c) => c.line ?? null)])
}

/**
 * Claims the one case a beneficiary may have under a policy, for an application, with its
 * Idempotency-Key in the same transaction: `claimed` (go on and start it), `retry` (the same
 * request again: its case is the one the key names), `duplicate` (the beneficiary has a case
 * already, named) or `key_conflict` (the key came before with another body).
 */
export async function claimForApplication(pool: pg.Pool, personal: PersonalData, claim: {
  policyCode: string; beneficiaryId: string; amount: number
  idempotency?: { organizationId: string; key: string; requestHash: string }
}): Promise<{ outcome: 'claimed' | 'retry' | 'duplicate'; caseId: string } | { outcome: 'key_conflict' }> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const caseId = fulfilmentCaseId(personal, claim.policyCode, claim.beneficiaryId)
    const key = claim.idempotency
    if (key) {
      const { rowCount } = await client.query(
        `INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, resource_id) VALUES ($1, 'fulfilments', $2, $3, $4)
         ON CONFLICT DO NOTHING`, [key.organizationId, key.key, key.requestHash, caseId])
      if (rowCount === 0) {
        // A statement of its own: it sees the first request's key once that has committed.
        const { rows: [first] } = await client.query<{ request_hash: string; resource_id: string }>(
          'SELECT request_hash, resource_id FROM idempotency_keys WHERE organization_id = $1 AND scope = \'fulfilments\' AND key = $2',
          [key.organizationId, key.key])
        await client.query('ROLLBACK')
        return first!.request_hash === key.requestHash ? { outcome: 'retry', caseId: first!.resource_id } : { outcome: 'key_conflict' }
      }
    }
    await lockClaims(client, claim.policyCode)
    const existing = (await claimedCases(client, personal, claim.policyCode, [claim.beneficiaryId])).get(claim.beneficiaryId)
    if (existing !== undefined) {
      await client.query('ROLLBACK')
      return { outcome: 'duplicate', caseId: existing }
    }
    await insertClaims(client, personal, claim.policyCode, [{ beneficiaryId: claim.beneficiaryId, caseId, amount: claim.amount }])
    await client.query('COMMIT')
    return { outcome: 'claimed', caseId }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}
