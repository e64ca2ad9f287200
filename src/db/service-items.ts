import { and, asc, eq, gt, isNotNull, sql } from 'drizzle-orm'
import type { Signer } from '../domain/review.ts'
import type { Guide, ServiceItemDraft } from '../domain/service-item.ts'
import { announce, PUBLISHED_CHANNEL } from './announcements.ts'
import type { Db, Tx } from './client.ts'
import type { StoredDraft } from './reviews.ts'
import { serviceItems, serviceItemVersions } from './schema.ts'

export type StoredServiceItem = StoredDraft<ServiceItemDraft>

const itemColumns = {
  code: serviceItems.code, draft: serviceItems.draft, revision: serviceItems.draftRevision, author: serviceItems.draftAuthor,
  latestVersion: serviceItems.latestVersion,
}

/**
 * Creates the item or replaces its draft as the next revision, written by `author`; its published
 * versions stay as they are.
 */
export async function saveServiceItemDraft(db: Db, code: string, draft: ServiceItemDraft, author: Signer)
  : Promise<StoredServiceItem & { draft: ServiceItemDraft; author: Signer }> {
  const [row] = await db.insert(serviceItems).values({ code, draft, draftAuthor: author, draftRevision: 1 })
    .onConflictDoUpdate({
      target: serviceItems.code,
      set: { draft, draftAuthor: author, draftRevision: sql`${serviceItems.draftRevision} + 1`, updatedAt: sql`now()` },
    })
    .returning({ code: serviceItems.code, revision: serviceItems.draftRevision, latestVersion: serviceItems.latestVersion })
  return { code: row!.code, draft, revision: row!.revision, author, latestVersion: row!.latestVersion }
}

export async function findServiceItem(db: Db, code: string): Promise<StoredServiceItem | undefined> {
  const [row] = await db.select(itemColumns).from(serviceItems).where(eq(serviceItems.code, code))
  return row && { ...row, draft: row.draft as ServiceItemDraft | null }
}

/** The item, locked against another save, review or publication until `tx` ends. */
export async function lockServiceItem(tx: Tx, code: string): Promise<StoredServiceItem | undefined> {
  const [row] = await tx.select(itemColumns).from(serviceItems).where(eq(serviceItems.code, code)).for('update')
  return row && { ...row, draft: row.draft as ServiceItemDraft | null }
}

/**
 * Records `guide` as its item's latest version and clears the draft it was published from;
 * announced on PUBLISHED_CHANNEL when `tx` commits.
 */
export async function recordPublication(tx: Tx, guide: Guide): Promise<void> {
  await tx.insert(serviceItemVersions).values({ code: guide.code, version: guide.version, guide, publishedAt: guide.publishedAt })
  await announce(tx, PUBLISHED_CHANNEL, `guide:${guide.code}`)
  await tx.update(serviceItems).set({ draft: null, draftAuthor: null, latestVersion: guide.version, updatedAt: sql`now()` })
    .where(eq(serviceItems.code, guide.code))
}

/** Up to `limit` items' latest published guides, in code order after `after`. */
export async function listLatestGuides(db: Db, after: string | undefined, limit: number): Promise<Guide[]> {
  const rows = await db.select({ guide: serviceItemVersions.guide }).from(serviceItems)
    .innerJoin(serviceItemVersions, and(eq(serviceItemVersions.code, serviceItems.code), eq(serviceItemVersions.version, serviceItems.latestVersion)))
    .where(and(isNotNull(serviceItems.latestVersion), after === undefined ? undefined : gt(serviceItems.code, after)))
    .orderBy(asc(serviceItems.code)).limit(limit)
  return rows.map((row) => row.guide as Guide)
}
