import { Type } from 'typebox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedCases } from '../../scripts/seed-cases.ts'
import type { App } from '../../src/api/app.ts'
import { createCursors } from '../../src/api/cursor.ts'
import { sharedSecret } from '../../src/db/secrets.ts'
import { call, itemDraft, publishItem } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal, type TestDatabase } from '../support/system.ts'

let app: App
let db: TestDatabase
let stop: (() => Promise<void>) | undefined

beforeAll(async () => {
  ({ app, db, stop } = await startAppWithoutTemporal('no Temporal in cursor tests'))
  await seedCases(db.database, { count: 60, departments: 3 })
  for (const code of ['CUR-1', 'CUR-2', 'CUR-3']) {
    expect((await call(app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, itemDraft({ departmentId: 'gz' }))).status).toBe(200)
    expect((await publishItem(app, code)).status).toBe(200)
  }
})

afterAll(async () => stop?.())

const LISTS = ['/v1/cases', '/v1/organizations', '/v1/service-items']

/** Every page of a list, following nextCursor; the cursors it was given along the way. */
async function walk(list: string): Promise<{ ids: string[]; cursors: string[] }> {
  const ids: string[] = []
  const cursors: string[] = []
  let cursor: string | null = null
  do {
    const page = await call(app, ADMIN_KEY, 'GET', `${list}?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    expect(page.status).toBe(200)
    ids.push(...(page.body.items as Array<{ id?: string; code?: string }>).map((item) => item.id ?? item.code!))
    cursor = page.body.nextCursor
    if (cursor) cursors.push(cursor)
  } while (cursor)
  return { ids, cursors }
}

const refused = { status: 400, body: { code: 'validation_failed', errors: [{ path: 'querystring/cursor', message: 'is not a cursor this list gave out' }] } }

/** The unsigned cursors of before: the sort key as base64url JSON, taken at its word. */
const unsigned = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url')

describe('list cursors', () => {
  it('page every list without gaps or repeats', async () => {
    for (const list of LISTS) {
      const { ids, cursors } = await walk(list)
      expect(cursors.length, list).toBeGreaterThan(0)
      expect(new Set(ids).size, list).toBe(ids.length)
    }
    expect((await walk('/v1/cases')).ids).toHaveLength(60)
  })

  it('refuse with 400 the repros that reached SQL as 500s: a bad timestamp, a huge number, a float rank, a NUL, an SQL fragment', async () => {
    const keys = [
      [2, 'not a time', 'A1'],
      [1e300, '2026-12-01T00:00:00.000Z', 'A1'],
      [1.5, '2026-12-01T00:00:00.000Z', 'A1'],
      [2, '2026-12-01T00:00:00.000Z', 'A\u0000'],
      [2, "2026-12-01'); DROP TABLE cases; --", 'A1'],
      ['1) OR (1=1', '2026-12-01T00:00:00.000Z', 'A1'],
      ['x\u0000'], [42], [], {}, 'garbage',
    ]
    for (const list of LISTS) {
      for (const key of keys) {
        const r = await call(app, ADMIN_KEY, 'GET', `${list}?cursor=${encodeURIComponent(unsigned(key))}`)
        expect({ list, key, ...r }).toMatchObject({ list, key, ...refused })
      }
      for (const text of ['', '.', 'a.b', 'a.b.c', '%%%', '\u0000']) {
        const r = await call(app, ADMIN_KEY, 'GET', `${list}?cursor=${encodeURIComponent(text)}`)
        expect(r.status, `${list} ${JSON.stringify(text)}`).toBe(400)
      }
    }
  })

  it('refuse one the server gave out once changed, or given out for another list', async () => {
    const { cursors: caseCursors } = await walk('/v1/cases')
    const { cursors: orgCursors } = await walk('/v1/organizations')
    const issued = caseCursors[0]!
    const [payload, signature] = issued.split('.') as [string, string]
    const key = JSON.parse(Buffer.from(payload, 'base64url').toString()) as [number, string, string]
    const moved = `${unsigned([key[0], key[1], `${key[2]}0`])}.${signature}`
    expect(await call(app, ADMIN_KEY, 'GET', `/v1/cases?cursor=${encodeURIComponent(moved)}`)).toMatchObject(refused)
    expect(await call(app, ADMIN_KEY, 'GET', `/v1/cases?cursor=${encodeURIComponent(`${payload}.${signature.slice(1)}`)}`)).toMatchObject(refused)
    expect(await call(app, ADMIN_KEY, 'GET', `/v1/service-items?cursor=${encodeURIComponent(orgCursors[0]!)}`)).toMatchObject(refused)
    expect(await call(app, ADMIN_KEY, 'GET', `/v1/cases?cursor=${encodeURIComponent(orgCursors[0]!)}`)).toMatchObject(refused)
    expect((await call(app, ADMIN_KEY, 'GET', `/v1/cases?cursor=${encodeURIComponent(issued)}`)).status).toBe(200)
  })

  it('are signed with one secret in the database, which every API process shares, and still checked for shape', async () => {
    const secret = await sharedSecret(db.database.db, 'cursor')
    expect(await sharedSecret(db.database.db, 'cursor')).toEqual(secret)
    const anyKey = createCursors(secret).of('cases', Type.Unknown())
    // Signed as this server would sign, but not a key of queue order: refused all the same.
    for (const key of [[1.5, '2026-12-01T00:00:00.000Z', 'A1'], [2, '2026-12-02T23:59:60Z', 'A1'], [2, 'infinity', 'A\u0000'], [70000, 'infinity', 'A1']]) {
      expect(await call(app, ADMIN_KEY, 'GET', `/v1/cases?cursor=${encodeURIComponent(anyKey.seal(key))}`)).toMatchObject(refused)
    }
    const first = await call(app, ADMIN_KEY, 'GET', '/v1/cases?limit=3')
    const last = first.body.items[2] as { id: string }
    const { rows: [row] } = await db.database.pool.query<{ rank: number; due: string }>(
      'SELECT priority_rank AS rank, next_due_at AS due FROM cases WHERE id = $1', [last.id])
    const due = Number.isFinite(new Date(row!.due).getTime()) ? new Date(row!.due).toISOString() : 'infinity'
    const resumed = await call(app, ADMIN_KEY, 'GET', `/v1/cases?limit=3&cursor=${encodeURIComponent(anyKey.seal([row!.rank, due, last.id]))}`)
    const second = await call(app, ADMIN_KEY, 'GET', `/v1/cases?limit=3&cursor=${encodeURIComponent(first.body.nextCursor)}`)
    expect(resumed.body.items).toEqual(second.body.items)
  })
})
