import { and, asc, eq, gt, inArray, notInArray, sql } from 'drizzle-orm'
import type { OrganizationKind } from '../domain/roles.ts'
import type { Db } from './client.ts'
import { announce, KEY_REVOKED_CHANNEL } from './announcements.ts'
import { organizations } from './schema.ts'

/**
 * The kinds that handle cases, and so may take one over (`transfer`) or give an opinion on it
 * (`request_opinions`). A government, a service centre or the root handles none: a case sent
 * there would have nobody to act on it.
 */
export const CASE_HANDLING_KINDS: readonly OrganizationKind[] = ['department', 'authorized-org', 'public-utility']

export function createOrganizationReads(db: Db) {
  return {
    /** Those of `ids` that name no organisation. */
    async missing(ids: string[]): Promise<string[]> {
      if (ids.length === 0) return []
      const rows = await db.select({ id: organizations.id }).from(organizations).where(inArray(organizations.id, ids))
      const found = new Set(rows.map((r) => r.id))
      return ids.filter((id) => !found.has(id))
    },
    /** The kind of organisation `id`, or undefined when there is none. */
    async kindOf(id: string): Promise<OrganizationKind | undefined> {
      const [row] = await db.select({ kind: organizations.kind }).from(organizations).where(eq(organizations.id, id))
      return row?.kind
    },
    /**
     * The parent of each of `ids` and of all their ancestors, read from the tree paths; null for a
     * root, and for an id the tree does not know.
     */
    async parentsOf(ids: readonly string[]): Promise<Record<string, string | null>> {
      const parents: Record<string, string | null> = Object.fromEntries(ids.map((id) => [id, null]))
      if (ids.length === 0) return parents
      const rows = await db.select({ path: organizations.path }).from(organizations).where(inArray(organizations.id, [...ids]))
      for (const { path } of rows) {
        const chain = path.split('/').filter(Boolean)
        chain.forEach((id, i) => {
          parents[id] = i === 0 ? null : chain[i - 1]!
        })
      }
      return parents
    },
    /** Those of `ids` that exist but handle no cases, with their kind. */
    async handlingNoCases(ids: string[]): Promise<Array<{ id: string; kind: OrganizationKind }>> {
      if (ids.length === 0) return []
      return db.select({ id: organizations.id, kind: organizations.kind }).from(organizations)
        .where(and(inArray(organizations.id, ids), notInArray(organizations.kind, [...CASE_HANDLING_KINDS])))
    },
  }
}

const columns = {
  id: organizations.id, name: organizations.name, kind: organizations.kind, parentId: organizations.parentId,
  createdAt: organizations.createdAt, updatedAt: organizations.updatedAt,
}

/** A change that would break the tree: an unknown parent, or a cycle. The message says which. */
export class TreeChangeRefused extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TreeChangeRefused'
  }
}

/**
 * Creates or updates an organisation, under `parentId` or at the top, and moves its subtree
 * with it. Tree changes are serialised so that two concurrent moves cannot build a cycle.
 */
export async function saveOrganization(db: Db, organization: { id: string; name: string; kind: OrganizationKind; parentId?: string | undefined }) {
  const { id, name, kind, parentId } = organization
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('organizations'))`)
    let path = `/${id}/`
    if (parentId !== undefined) {
      const [parent] = await tx.select({ path: organizations.path }).from(organizations).where(eq(organizations.id, parentId))
      if (!parent) throw new TreeChangeRefused(`parent organisation ${parentId} does not exist`)
      if (parent.path.includes(`/${id}/`)) throw new TreeChangeRefused(`${parentId} lies under ${id}: that would make a cycle`)
      path = `${parent.path}${id}/`
    }
    const [before] = await tx.select({ path: organizations.path, kind: organizations.kind }).from(organizations).where(eq(organizations.id, id))
    const [row] = await tx.insert(organizations).values({ id, name, kind, parentId: parentId ?? null, path })
      .onConflictDoUpdate({ target: organizations.id, set: { name, kind, parentId: parentId ?? null, path, updatedAt: sql`now()` } })
      .returning(columns)
    if (before && before.path !== path) {
      // A plain prefix test: with LIKE, an `_` or `%` in an id would match other organisations' paths.
      await tx.execute(sql`UPDATE organizations SET path = ${path} || substr(path, ${before.path.length + 1})
        WHERE starts_with(path, ${before.path}) AND id <> ${id}`)
    }
    // Keys are cached with their organisation's kind (the one-window rule reads it): a new kind
    // clears every process's cache, as a revocation does, when and only if this commits.
    if (before && before.kind !== kind) await announce(tx, KEY_REVOKED_CHANNEL, `organization:${id}`)
    return row!
  })
}

export async function findOrganization(db: Db, id: string) {
  const [row] = await db.select(columns).from(organizations).where(eq(organizations.id, id))
  return row
}

/** Up to `limit` organisations in id order, after `after`. */
export async function listOrganizations(db: Db, after: string | undefined, limit: number) {
  return db.select(columns).from(organizations)
    .where(after === undefined ? undefined : gt(organizations.id, after))
    .orderBy(asc(organizations.id)).limit(limit)
}
