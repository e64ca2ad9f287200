import { createHash } from 'node:crypto'
import type pg from 'pg'

// Beside the claims (node:crypto, so outside the domain and the workflow bundle): the campaign's
// activities and the application route derive the id; the workflow is given it.

/**
 * Rule 25 and "one beneficiary, one policy, one case, ever": the case id, and so the workflow id,
 * is derived from the policy and the beneficiary, so that no rerun, duplicate line or later
 * application can start a second one. The beneficiary's id is hashed: ids are personal data.
 */
export function fulfilmentCaseId(policyCode: string, beneficiaryId: string): string {
  const digest = createHash('sha256').update(`${policyCode}\n${beneficiaryId}`).digest('hex').slice(0, 32)
  return `F-${policyCode}-${digest}`
}

/**
 * Claims the one case a beneficiary may have under a policy, for an application, with its
 * Idempotency-Key in the same transaction: `claimed` (go on and start it), `retry` (the same
 * request again: its case exists), `duplicate` (the beneficiary has a case already) or
 * `key_conflict` (the key came before with another body).
 */
export async function claimForApplication(pool: pg.Pool, claim: {
  policyCode: string; beneficiaryId: string; caseId: string; amount: number
  idempotency?: { organizationId: string; key: string; requestHash: string }
}): Promise<'claimed' | 'retry' | 'duplicate' | 'key_conflict'> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const key = claim.idempotency
    if (key) {
      const { rowCount } = await client.query(
        `INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, resource_id) VALUES ($1, 'fulfilments', $2, $3, $4)
         ON CONFLICT DO NOTHING`, [key.organizationId, key.key, key.requestHash, claim.caseId])
      if (rowCount === 0) {
        // A statement of its own: it sees the first request's key once that has committed.
        const { rows: [first] } = await client.query<{ request_hash: string }>(
          'SELECT request_hash FROM idempotency_keys WHERE organization_id = $1 AND scope = \'fulfilments\' AND key = $2',
          [key.organizationId, key.key])
        await client.query('ROLLBACK')
        return first!.request_hash === key.requestHash ? 'retry' : 'key_conflict'
      }
    }
    const { rowCount } = await client.query(
      'INSERT INTO fulfilment_claims (policy_code, beneficiary_id, case_id, amount) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [claim.policyCode, claim.beneficiaryId, claim.caseId, claim.amount])
    if (rowCount === 0) {
      await client.query('ROLLBACK')
      return 'duplicate'
    }
    await client.query('COMMIT')
    return 'claimed'
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}
