import { and, desc, eq } from 'drizzle-orm'
import type { Db } from './client.ts'
import { serviceItemVersions } from './schema.ts'
import type { Guide } from '../domain/service-item.ts'

/** The published guide of an item: the latest, or a given version. */
export async function findGuide(db: Db, code: string, version?: number): Promise<Guide | undefined> {
  const [row] = await db.select({ guide: serviceItemVersions.guide }).from(serviceItemVersions)
    .where(version === undefined ? eq(serviceItemVersions.code, code)
      : and(eq(serviceItemVersions.code, code), eq(serviceItemVersions.version, version)))
    .orderBy(desc(serviceItemVersions.version)).limit(1)
  return row?.guide as Guide | undefined
}
