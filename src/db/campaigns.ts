import type pg from 'pg'
import type { FulfilmentOpening } from '../domain/fulfilment/terms.ts'
import { policyTerms } from '../domain/fulfilment/terms.ts'
import { type Beneficiary, entitlementOf, type Policy, readBeneficiary } from '../domain/policy.ts'
import type { Actor } from '../domain/roles.ts'
import { storableText } from '../domain/safe-text.ts'
import { claimedCases, fulfilmentCaseId, insertClaims, lockClaims, type NewClaim } from './claims.ts'
import { BENEFICIARY_FIELDS, type PersonalData } from './personal-data.ts'

// A campaign's rows, read and written with plain SQL: pages of a thousand lines, one round trip
// each, are what makes 100,000 beneficiaries an afternoon's work rather than a week's.

/** What `GET /v1/campaigns/{id}` shows. */
export interface CampaignProgress {
  id: string
  policyCode: string
  policyVersion: number
  organizationId: string
  status: 'running' | 'completed' | 'failed'
  total: number
  invalid: number
  evaluated: number
  duplicates: number
  eligible: number
  ineligible: number
  casesCreated: number
  errors: Array<{ line: number; message: string }>
  createdAt: string
  completedAt: string | null
}

/** One page of a campaign evaluated: up to which line, and whether that was the last. */
export interface EvaluatedPage {
  through: number
  done: boolean
}

/**
 * Evaluates lines `afterLine + 1 … afterLine + pageSize` of a campaign (rule 24: eligibility by
 * matching data) and claims a case for each eligible beneficiary without one, counting the page in
 * the campaign's progress, all in one transaction. A page already evaluated (a retried activity)
 * is not evaluated or counted again.
 */
export async function evaluateCampaignPage(pool: pg.Pool, personal: PersonalData, campaignId: string, afterLine: number, pageSize: number)
  : Promise<EvaluatedPage> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const { rows: [campaign] } = await client.query<{ total: number; evaluated_through: number; policy: Policy }>(
      `SELECT c.total, c.evaluated_through, v.policy FROM campaigns c
         JOIN policy_versions v ON v.code = c.policy_code AND v.version = c.policy_version
        WHERE c.id = $1 FOR UPDATE OF c`, [campaignId])
    if (!campaign) throw new Error(`campaign ${campaignId} does not exist`)
    const through = Math.min(afterLine + pageSize, campaign.total)
    if (campaign.evaluated_through >= through) {
      await client.query('ROLLBACK')
      return { through, done: through >= campaign.total }
    }
    const { rows: stored } = await client.query<{ line: number; beneficiary: Beneficiary }>(
      `SELECT line, beneficiary FROM campaign_lines
        WHERE campaign_id = $1 AND line > $2 AND line <= $3 AND beneficiary IS NOT NULL ORDER BY line`,
      [campaignId, afterLine, through])
    const lines = stored.map(({ line, beneficiary }) => ({ line, beneficiary: personal.open(beneficiary, BENEFICIARY_FIELDS) }))
    const policy = campaign.policy
    // Another campaign of the same policy, or an application, claims one at a time with this page.
    await lockClaims(client, policy.code)
    const claimed = await claimedCases(client, personal, policy.code, [...new Set(lines.map((l) => l.beneficiary.id))])
    const taken = new Set(claimed.keys())
    let duplicates = 0
    let ineligible = 0
    const claims: NewClaim[] = []
    for (const { line, beneficiary } of lines) {
      if (taken.has(beneficiary.id)) {
        duplicates++
        continue
      }
      const entitlement = entitlementOf(policy, beneficiary)
      if (!entitlement.eligible) {
        ineligible++
        continue
      }
      taken.add(beneficiary.id)
      claims.push({ line, beneficiaryId: beneficiary.id, caseId: fulfilmentCaseId(personal, policy.code, beneficiary.id), amount: entitlement.amount, campaignId })
    }
    await insertClaims(client, personal, policy.code, claims)
    await client.query(
      `UPDATE campaigns SET evaluated = evaluated + $2, duplicates = duplicates + $3, eligible = eligible + $4,
              ineligible = ineligible + $5, evaluated_through = $6 WHERE id = $1`,
      [campaignId, lines.length, duplicates, claims.length, ineligible, through])
    await client.query('COMMIT')
    return { through, done: through >= campaign.total }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}

/** A case a campaign page starts: its id (derived from policy and beneficiary) and what opens it. */
export interface PageOpening {
  caseId: string
  opening: FulfilmentOpening
}

/** The cases claimed by lines `from + 1 … through` of a campaign, in line order, with the policy version they run under. */
export async function pageOpenings(pool: pg.Pool, personal: PersonalData, campaignId: string, from: number, through: number): Promise<PageOpening[]> {
  const { rows } = await pool.query<{ case_id: string; amount: string; beneficiary: Beneficiary; policy: Policy }>(
    `SELECT c.case_id, c.amount, l.beneficiary, v.policy
       FROM fulfilment_claims c
       JOIN campaign_lines l ON l.campaign_id = c.campaign_id AND l.line = c.line
       JOIN campaigns k ON k.id = c.campaign_id
       JOIN policy_versions v ON v.code = k.policy_code AND v.version = k.policy_version
      WHERE c.campaign_id = $1 AND c.line > $2 AND c.line <= $3 ORDER BY c.line`, [campaignId, from, through])
  return rows.map((r) => {
    // The attributes found the beneficiary eligible; the case needs only who to pay.
    const { attributes: _attributes, ...payee } = personal.open(r.beneficiary, BENEFICIARY_FIELDS)
    return { caseId: r.case_id, opening: { policy: policyTerms(r.policy), beneficiary: payee, amount: Number(r.amount), campaignId } }
  })
}

/** Counts the cases a page started; the last page completes the campaign. Once per page. */
export async function recordPageStarted(pool: pg.Pool, campaignId: string, through: number, created: number): Promise<void> {
  await pool.query(
    `UPDATE campaigns SET cases_created = cases_created + CASE WHEN started_through < $2 THEN $3 ELSE 0 END,
            started_through = GREATEST(started_through, $2),
            status = CASE WHEN $2 >= total THEN 'completed' ELSE status END,
            completed_at = CASE WHEN $2 >= total THEN coalesce(completed_at, now()) ELSE completed_at END
      WHERE id = $1 AND (started_through < $2 OR (status = 'running' AND $2 >= total))`, [campaignId, through, created])
}

/** One entry of an upload: a parsed value, or why the line is not one. */
export type UploadEntry = { line: number; value: unknown } | { line: number; error: string }

/** Rows written per statement while an upload streams in. */
const UPLOAD_BATCH = 1000
/** Invalid lines listed in the campaign's `errors`; the rest are only counted. */
export const MAX_LISTED_ERRORS = 100

/** Where an upload's Idempotency-Key is kept: the same table and scope rules as every other POST. */
export interface UploadKey {
  organizationId: string
  scope: string
  key: string
}

/**
 * Keeps an upload durable before it is answered: the campaign and every line, written a batch at a
 * time while the body streams in, in one transaction, so that a failed upload leaves nothing
 * behind. `requestHash` is read once the body is through. With an Idempotency-Key, a retry of the
 * same body finds the first campaign (and this one is rolled back); another body is a conflict.
 */
export async function storeCampaign(pool: pg.Pool, personal: PersonalData, upload: {
  id: string; policy: Policy; actor: Actor; entries: AsyncIterable<UploadEntry>
  idempotency?: UploadKey & { requestHash: () => string }
}): Promise<{ id: string; created: boolean } | { conflict: true }> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query(
      `INSERT INTO campaigns (id, policy_code, policy_version, organization_id, actor, status, total, invalid, errors)
       VALUES ($1, $2, $3, $4, $5, 'running', 0, 0, '[]')`,
      [upload.id, upload.policy.code, upload.policy.version, upload.actor.organizationId, JSON.stringify(upload.actor)])
    let total = 0
    let invalid = 0
    const errors: Array<{ line: number; message: string }> = []
    let batch: Array<{ line: number; beneficiary: string | null; error: string | null }> = []
    const flush = async () => {
      if (batch.length === 0) return
      await client.query(
        `INSERT INTO campaign_lines (campaign_id, line, beneficiary, error)
         SELECT $1, u.line, u.beneficiary, u.error FROM unnest($2::int[], $3::jsonb[], $4::text[]) AS u(line, beneficiary, error)`,
        [upload.id, batch.map((r) => r.line), batch.map((r) => r.beneficiary), batch.map((r) => r.error)])
      batch = []
    }
    for await (const entry of upload.entries) {
      total = Math.max(total, entry.line)
      const read = 'error' in entry ? entry : readBeneficiary(entry.value)
      if ('error' in read) {
        invalid++
        // A reason may quote what was refused (a key holding U+0000): stored, it must be storable.
        const message = storableText(read.error)
        if (errors.length < MAX_LISTED_ERRORS) errors.push({ line: entry.line, message })
        batch.push({ line: entry.line, beneficiary: null, error: message })
      } else {
        batch.push({ line: entry.line, beneficiary: JSON.stringify(personal.seal(read.beneficiary, BENEFICIARY_FIELDS)), error: null })
      }
      if (batch.length >= UPLOAD_BATCH) await flush()
    }
    await flush()
    await client.query('UPDATE campaigns SET total = $2, invalid = $3, errors = $4 WHERE id = $1',
      [upload.id, total, invalid, JSON.stringify(errors)])
    if (upload.idempotency) {
      const { organizationId, scope, key } = upload.idempotency
      const hash = upload.idempotency.requestHash()
      // Waits for a concurrent upload with the same key to commit or roll back; then the key is
      // ours, or the first one's (read by a statement of its own, which sees that commit).
      const { rowCount } = await client.query(
        `INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, resource_id) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`, [organizationId, scope, key, hash, upload.id])
      if (rowCount === 0) {
        const { rows: [first] } = await client.query<{ request_hash: string; resource_id: string }>(
          'SELECT request_hash, resource_id FROM idempotency_keys WHERE organization_id = $1 AND scope = $2 AND key = $3',
          [organizationId, scope, key])
        await client.query('ROLLBACK')
        return first!.request_hash === hash ? { id: first!.resource_id, created: false } : { conflict: true }
      }
    }
    await client.query('COMMIT')
    return { id: upload.id, created: true }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}

/** A campaign not yet through its last page, and where its workflow would go on from. */
export interface UnfinishedCampaign {
  id: string
  actor: Actor
  /** Lines up to this one have their cases started. */
  startedThrough: number
}

/**
 * The campaigns not yet through their last page, oldest first: those running as they should, and
 * those whose workflow never started (the API stopped between the upload and the start, or
 * Temporal was down) or failed. Few at any time: a city runs a handful of campaigns a week.
 */
export async function unfinishedCampaigns(pool: pg.Pool): Promise<UnfinishedCampaign[]> {
  const { rows } = await pool.query<{ id: string; actor: Actor; started_through: number }>(
    'SELECT id, actor, started_through FROM campaigns WHERE status = \'running\' ORDER BY created_at, id')
  return rows.map((r) => ({ id: r.id, actor: r.actor, startedThrough: r.started_through }))
}

/** A campaign's progress as `GET /v1/campaigns/{id}` shows it, or undefined. */
export async function campaignProgress(pool: pg.Pool, id: string): Promise<(CampaignProgress & {
  departmentId: string; paid: number; budgetLeft: number | null
}) | undefined> {
  const { rows: [row] } = await pool.query(
    `SELECT k.*, v.policy->>'departmentId' AS department_id, l.budget, l.reserved, l.paid AS ledger_paid,
            (SELECT count(*) FROM fulfilment_claims c JOIN payments p ON p.case_id = c.case_id AND p.status = 'paid'
              WHERE c.campaign_id = k.id) AS paid_cases
       FROM campaigns k
       JOIN policy_versions v ON v.code = k.policy_code AND v.version = k.policy_version
       LEFT JOIN policy_ledgers l ON l.code = k.policy_code
      WHERE k.id = $1`, [id])
  if (!row) return undefined
  const at = (v: unknown) => (v === null ? null : new Date(v as string).toISOString())
  return {
    id: row.id, policyCode: row.policy_code, policyVersion: row.policy_version, organizationId: row.organization_id,
    departmentId: row.department_id, status: row.status, total: row.total, invalid: row.invalid, evaluated: row.evaluated,
    duplicates: row.duplicates, eligible: row.eligible, ineligible: row.ineligible, casesCreated: row.cases_created,
    errors: row.errors, paid: Number(row.paid_cases),
    budgetLeft: row.budget === null ? null : Number(row.budget) - Number(row.reserved ?? 0) - Number(row.ledger_paid ?? 0),
    createdAt: at(row.created_at)!, completedAt: at(row.completed_at),
  }
}

/** The latest published version of a policy. */
export async function latestPolicy(pool: pg.Pool, code: string): Promise<Policy | undefined> {
  const { rows: [row] } = await pool.query<{ policy: Policy }>(
    'SELECT policy FROM policy_versions WHERE code = $1 ORDER BY version DESC LIMIT 1', [code])
  return row?.policy
}
