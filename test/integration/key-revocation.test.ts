import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildApp, type App } from '../../src/api/app.ts'
import { refusingGateway } from '../../src/api/case-gateway.ts'
import { createKeyCommand, revokeKeyCommand } from '../../src/cli/admin-commands.ts'
import { openDatabase, type Database } from '../../src/db/client.ts'
import { ADMIN_KEY, createTestDatabase, type TestDatabase } from '../support/system.ts'

// Two API processes on one database, each caching the keys it has seen; an administrator revokes
// a key from the command line (a third connection). Both refuse it at once, not seconds later.

let db: TestDatabase
const instances: Array<{ app: App; database: Database }> = []
const cli: string[] = []

beforeAll(async () => {
  db = await createTestDatabase()
  for (let i = 0; i < 2; i++) {
    const database = openDatabase({ url: inject('databaseUrl'), schemaName: db.schemaName, max: 4, keyring: db.database.personal.keyring })
    const app = await buildApp({ database, gateway: refusingGateway('no Temporal in key revocation tests') })
    await app.ready()
    instances.push({ app, database })
  }
  await listeningEverywhere()
})
afterAll(async () => {
  for (const { app, database } of instances) {
    await app.close()
    await database.close()
  }
  await db?.drop()
})

async function listeningEverywhere(): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!instances.every(({ app }) => app.keys.listening())) {
    if (Date.now() > deadline) throw new Error('an API process did not listen for revocations within 10 s')
    await sleep(20)
  }
}

const status = async (app: App, key: string) =>
  (await app.inject({ method: 'GET', url: '/v1/organizations/root', headers: { authorization: `Bearer ${key}` } })).statusCode
const statuses = (key: string) => Promise.all(instances.map(({ app }) => status(app, key)))

async function newKey(): Promise<{ id: string; key: string }> {
  cli.length = 0
  expect(await createKeyCommand(db.database, { organization: 'root', role: 'auditor' }, (line) => cli.push(line))).toBe(0)
  const created = JSON.parse(cli[0]!) as { id: string; key: string }
  // Seen, and so cached, by both.
  expect(await statuses(created.key)).toEqual([200, 200])
  expect(await statuses(created.key)).toEqual([200, 200])
  return created
}

/** Well under the 5 s a cached key used to live. */
const AT_ONCE = { timeout: 1000, interval: 20 }

describe('a key revoked from the command line', () => {
  it('is refused at once by every API process that cached it', async () => {
    const { id, key } = await newKey()
    expect(await revokeKeyCommand(db.database, id, () => undefined)).toBe(0)
    await expect.poll(() => statuses(key), AT_ONCE).toEqual([401, 401])
    expect(await statuses(ADMIN_KEY)).toEqual([200, 200])
  })

  it('is refused at once through the API of the other process too', async () => {
    const { id, key } = await newKey()
    const [first] = instances
    expect((await first!.app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: { authorization: `Bearer ${ADMIN_KEY}` } })).statusCode).toBe(204)
    await expect.poll(() => statuses(key), AT_ONCE).toEqual([401, 401])
  })
})

describe('when the listening connection drops', () => {
  it('serves no cached key until it listens again, then caches and hears revocations as before', async () => {
    const { id, key } = await newKey()
    // Every API process's listener goes (other test files' processes listen again, as these do).
    await db.database.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name = 'banjian key revocations' AND pid <> pg_backend_pid()`)
    // A revocation nobody hears: it happens while nobody listens.
    await db.database.pool.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id])
    await expect.poll(() => statuses(key), AT_ONCE).toEqual([401, 401])

    await listeningEverywhere()
    const again = await newKey()
    expect(await revokeKeyCommand(db.database, again.id, () => undefined)).toBe(0)
    await expect.poll(() => statuses(again.key), AT_ONCE).toEqual([401, 401])
  })
})
