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
  const read = async () => (await db.select({ value: settings.value }).from(settings).where(eq(settings.name, row)))[0]
  // Read first: a process that starts while the database takes no writes still starts.
  let stored = await read()
  if (!stored) {
    await db.insert(settings).values({ name: row, value: randomBytes(32).toString('base64url') }).onConflictDoNothing()
    stored = await read()
  }
  if (typeof stored?.value !== 'string') throw new Error(`settings row ${row} holds no secret`)
  return Buffer.from(stored.value, 'base64url')
}
