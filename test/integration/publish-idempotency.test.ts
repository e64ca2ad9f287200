import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/api/app.ts'
import { approveDraft, call, itemDraft } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal, type TestDatabase } from '../support/system.ts'

// A catalogue tool that times out retries its publish with the same Idempotency-Key, possibly many
// times at once. Every retry must hear what the first attempt answered: the version it made.

let app: App
let db: TestDatabase
let stop: (() => Promise<void>) | undefined

beforeAll(async () => {
  ({ app, db, stop } = await startAppWithoutTemporal('publishing reaches no workflow'))
  for (const [id, kind, parentId] of [['gz', 'government', 'root'], ['gz-amr', 'department', 'gz']]) {
    expect((await call(app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
  }
})
afterAll(async () => stop?.())

const publish = (code: string, key: string) => call(app, ADMIN_KEY, 'POST', `/v1/service-items/${code}/publish`, undefined, { 'idempotency-key': key })
const versions = async (code: string) =>
  (await db.database.pool.query<{ version: number }>('SELECT version FROM service_item_versions WHERE code = $1 ORDER BY version', [code])).rows.map((r) => r.version)

describe('publishing with an Idempotency-Key', () => {
  it('gives 50 concurrent retries the first answer, and publishes once', async () => {
    const code = 'IDEM-PUBLISH-1'
    expect((await call(app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, itemDraft())).status).toBe(200)
    await approveDraft(app, code)
    const answers = await Promise.all(Array.from({ length: 50 }, () => publish(code, 'publish-retry-1')))
    const statuses = answers.map((a) => a.status)
    expect(statuses.filter((s) => s !== 200), JSON.stringify(answers.find((a) => a.status !== 200)?.body)).toEqual([])
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1)
    expect(answers[0]!.body).toMatchObject({ code, version: 1 })
    expect(await versions(code)).toEqual([1])
  })

  it('answers a later retry with the first version even after a new draft; a new key publishes the next', async () => {
    const code = 'IDEM-PUBLISH-2'
    expect((await call(app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, itemDraft())).status).toBe(200)
    await approveDraft(app, code)
    const first = await publish(code, 'publish-retry-2')
    expect(first.status).toBe(200)
    expect((await call(app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, itemDraft({ name: 'renamed' }))).status).toBe(200)
    const retried = await publish(code, 'publish-retry-2')
    expect({ status: retried.status, body: retried.body }).toEqual({ status: first.status, body: first.body })
    await approveDraft(app, code)
    const next = await publish(code, 'publish-next')
    expect(next.body).toMatchObject({ code, version: 2, name: 'renamed' })
    expect(await versions(code)).toEqual([1, 2])
  })

  it('publishes nothing, and remembers nothing, when the first attempt is refused', async () => {
    const code = 'IDEM-PUBLISH-3'
    const refused = await publish(code, 'publish-retry-3')
    expect(refused.status).toBe(404)
    expect((await call(app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, itemDraft())).status).toBe(200)
    // Refused again, for want of a review: still nothing remembered.
    expect(await publish(code, 'publish-retry-3')).toMatchObject({ status: 409, body: { code: 'conflict' } })
    await approveDraft(app, code)
    const retried = await publish(code, 'publish-retry-3')
    expect(retried.body).toMatchObject({ code, version: 1 })
  })
})
