import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type App, buildApp } from '../../src/api/app.ts'
import { refusingGateway } from '../../src/api/case-gateway.ts'
import { openDatabase, quoteIdent, type Database } from '../../src/db/client.ts'
import { sharedSecret } from '../../src/db/secrets.ts'
import { isDatabaseUnavailable } from '../../src/db/unavailable.ts'
import { call } from '../support/fixtures.ts'
import { ADMIN_KEY, createTestDatabase, type TestDatabase, uniqueName } from '../support/system.ts'

// A database that may no longer be written (issue 14: a full disk or a read-only database,
// simulated as a Postgres role that may only read): the API answers 503 problem+json, and nothing
// of the refused request is there afterwards.

const role = uniqueName('readonly_')
let db: TestDatabase
let readOnly: Database
let app: App

beforeAll(async () => {
  db = await createTestDatabase()
  // What the app writes once at its first start, written while it still could.
  await sharedSecret(db.database.db, 'cursor')
  const schema = quoteIdent(db.schemaName)
  // A password of its own: the embedded Postgres (a machine without one) authenticates by scram, not trust.
  const password = randomBytes(12).toString('hex')
  await db.database.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
  await db.database.pool.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`)
  await db.database.pool.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`)
  const url = new URL(inject('databaseUrl'))
  url.username = role
  url.password = password
  readOnly = openDatabase({ url: url.toString(), schemaName: db.schemaName, keyring: db.database.personal.keyring, max: 2 })
  app = await buildApp({ database: readOnly, gateway: refusingGateway('no Temporal for a read-only database') })
})

afterAll(async () => {
  await app?.close()
  await readOnly?.close()
  await db?.database.pool.query(`DROP OWNED BY ${role}`).catch(() => undefined)
  await db?.database.pool.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined)
  await db?.drop()
})

describe('a database that may no longer be written', () => {
  it('still answers reads, refuses writes with 503 not_ready problem+json, and keeps nothing of them', async () => {
    expect((await call(app, ADMIN_KEY, 'GET', '/v1/organizations')).status).toBe(200)
    for (const [method, url, body] of [
      ['PUT', '/v1/organizations/gz-readonly', { name: 'Read-only office', kind: 'department', parentId: 'root' }],
      ['POST', '/v1/api-keys', { organizationId: 'root', role: 'auditor', name: 'read-only test' }],
    ] as const) {
      const refused = await call(app, ADMIN_KEY, method, url, body)
      expect(refused.status, url).toBe(503)
      expect(refused.headers['content-type'], url).toMatch(/^application\/problem\+json/)
      expect(refused.body, url).toMatchObject({ status: 503, code: 'not_ready', detail: expect.stringMatching(/database/) })
    }
    const written = await db.database.pool.query(
      'SELECT (SELECT count(*)::int FROM organizations WHERE id = $1) AS organizations, (SELECT count(*)::int FROM api_keys WHERE name = $2) AS keys',
      ['gz-readonly', 'read-only test'])
    expect(written.rows).toEqual([{ organizations: 0, keys: 0 }])
  })

  it('tells unavailability from a wrong request: a broken statement stays an internal error', async () => {
    const denied = await readOnly.pool.query('INSERT INTO organizations (id) VALUES ($1)', ['x']).catch((err: unknown) => err)
    expect(isDatabaseUnavailable(denied)).toBe(true)
    const wrong = await readOnly.pool.query('SELECT no_such_column FROM organizations').catch((err: unknown) => err)
    expect(wrong).toBeInstanceOf(Error)
    expect(isDatabaseUnavailable(wrong)).toBe(false)
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: denied }))).toBe(true)
  })
})
