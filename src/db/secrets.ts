import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { Db } from './client.ts'
import { settings } from './schema.ts'

/**
 * A random 256-bit secret kept in the settings table as `secret:<name>`: every process on this
 * database reads the same one, and the first that asks creates it (a second racing insert yields).
 */
export async function sharedSecret(db: Db, name: string): Promise<Buffer> {
  const row = `secret:${name}`
  await db.insert(settings).values({ name: row, value: randomBytes(32).toString('base64url') }).onConflictDoNothing()
  const [stored] = await db.select({ value: settings.value }).from(settings).where(eq(settings.name, row))
  if (typeof stored?.value !== 'string') throw new Error(`settings row ${row} holds no secret`)
  return Buffer.from(stored.value, 'base64url')
}
