import { createHash } from 'node:crypto'

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
