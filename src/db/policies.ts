import { and, asc, desc, eq, gt, isNotNull, sql } from 'drizzle-orm'
import type { Policy, PolicyDraft } from '../domain/policy.ts'
import type { Signer } from '../domain/review.ts'
import type { Db, Tx } from './client.ts'
import type { StoredDraft } from './reviews.ts'
import { cases, policies, policyLedgers, policyVersions } from './schema.ts'

export type StoredPolicy = StoredDraft<PolicyDraft>

const policyColumns = {
  code: policies.code, draft: policies.draft, revision: policies.draftRevision, author: policies.draftAuthor,
  latestVersion: policies.latestVersion,
}

/** Creates the policy or replaces its draft as the next revision, written by `author`; its published versions stay. */
export async function savePolicyDraft(db: Db, code: string, draft: PolicyDraft, author: Signer)
  : Promise<StoredPolicy & { draft: PolicyDraft; author: Signer }> {
  const [row] = await db.insert(policies).values({ code, draft, draftAuthor: author, draftRevision: 1 })
    .onConflictDoUpdate({
      target: policies.code,
      set: { draft, draftAuthor: author, draftRevision: sql`${policies.draftRevision} + 1`, updatedAt: sql`now()` },
    })
    .returning({ code: policies.code, revision: policies.draftRevision, latestVersion: policies.latestVersion })
  return { code: row!.code, draft, revision: row!.revision, author, latestVersion: row!.latestVersion }
}

export async function findPolicy(db: Db, code: string): Promise<StoredPolicy | undefined> {
  const [row] = await db.select(policyColumns).from(policies).where(eq(policies.code, code))
  return row
}

/** The policy, locked against another save, review or publication until `tx` ends. */
export async function lockPolicy(tx: Tx, code: string): Promise<StoredPolicy | undefined> {
  const [row] = await tx.select(policyColumns).from(policies).where(eq(policies.code, code)).for('update')
  return row
}

/** Records `policy` as its latest version and clears the draft it was published from. */
export async function recordPolicyPublication(tx: Tx, policy: Policy): Promise<void> {
  await tx.insert(policyVersions).values({ code: policy.code, version: policy.version, policy, publishedAt: policy.publishedAt })
  await tx.update(policies).set({ draft: null, draftAuthor: null, latestVersion: policy.version, updatedAt: sql`now()` })
    .where(eq(policies.code, policy.code))
}

/**
 * What setting a policy's budget did: `previous` is the budget it replaced (null: unlimited,
 * undefined: the policy had no ledger yet); or, refused, the fen already `committed` (reserved or
 * paid) that the new budget would not cover.
 */
export type BudgetChange = { set: true; previous: number | null | undefined } | { set: false; committed: number }

/**
 * Gives the policy's ledger `budget` (null: unlimited), creating the ledger at the first
 * publication, unless the budget is below what is already reserved or paid. The ledger row stays
 * locked until `tx` ends, so no reservation slips in between the check and the commit.
 */
export async function setLedgerBudget(tx: Tx, code: string, budget: number | null): Promise<BudgetChange> {
  const [ledger] = await tx.select({ budget: policyLedgers.budget, reserved: policyLedgers.reserved, paid: policyLedgers.paid })
    .from(policyLedgers).where(eq(policyLedgers.code, code)).for('update')
  const committed = ledger ? ledger.reserved + ledger.paid : 0
  if (budget !== null && budget < committed) return { set: false, committed }
  await tx.insert(policyLedgers).values({ code, budget })
    .onConflictDoUpdate({ target: policyLedgers.code, set: { budget, updatedAt: sql`now()` } })
  return { set: true, previous: ledger?.budget }
}

/** The ids of the policy's fulfilment cases that wait for its budget to cover their amount. */
export async function casesWaitingForBudget(db: Db, code: string): Promise<string[]> {
  const rows = await db.select({ id: cases.id }).from(cases)
    .where(and(eq(cases.kind, 'fulfilment'), eq(cases.status, 'budget_exhausted'), sql`${cases.view}->>'policyCode' = ${code}`))
  return rows.map((row) => row.id)
}

/** The published policy: the latest version, or a given one. */
export async function findPublishedPolicy(db: Db, code: string, version?: number): Promise<Policy | undefined> {
  const [row] = await db.select({ policy: policyVersions.policy }).from(policyVersions)
    .where(version === undefined ? eq(policyVersions.code, code)
      : and(eq(policyVersions.code, code), eq(policyVersions.version, version)))
    .orderBy(desc(policyVersions.version)).limit(1)
  return row?.policy
}

/** Up to `limit` policies' latest published versions, in code order after `after`. */
export async function listLatestPolicies(db: Db, after: string | undefined, limit: number): Promise<Policy[]> {
  const rows = await db.select({ policy: policyVersions.policy }).from(policies)
    .innerJoin(policyVersions, and(eq(policyVersions.code, policies.code), eq(policyVersions.version, policies.latestVersion)))
    .where(and(isNotNull(policies.latestVersion), after === undefined ? undefined : gt(policies.code, after)))
    .orderBy(asc(policies.code)).limit(limit)
  return rows.map((row) => row.policy)
}
