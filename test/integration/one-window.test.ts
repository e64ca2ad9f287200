import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import { applicationBody, call, type Directory, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'

// DOMAIN rule 38 (一窗办理): only comprehensive windows, at service centres and convenience
// centres, receive applications and hand out results. A window key elsewhere is refused with 403.

let sys: TestSystem
let dir: Directory
const keys: Record<string, string> = {}

beforeAll(async () => {
  sys = await startTestSystem()
  dir = await seedDirectory(sys.app)
  const orgs: Array<[string, string]> = [['gz-conv', 'convenience-center'], ['gz-12345', 'hotline'], ['gz-power', 'public-utility']]
  for (const [id, kind] of orgs) {
    const r = await call(sys.app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId: 'gz' })
    if (r.status !== 200) throw new Error(JSON.stringify(r.body))
  }
  for (const organizationId of ['gz-conv', 'gz-12345', 'gz-power', 'gz-amr', 'gz']) {
    const r = await call(sys.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role: 'window' })
    if (r.status !== 201) throw new Error(JSON.stringify(r.body))
    keys[organizationId] = (r.body as { key: string }).key
  }
})
afterAll(async () => sys?.stop())

const countCases = async () => Number((await sys.db.database.pool.query('SELECT count(*) AS n FROM cases')).rows[0].n)
const countIdempotencyKeys = async () => Number((await sys.db.database.pool.query('SELECT count(*) AS n FROM idempotency_keys')).rows[0].n)
const history = async (id: string) => (await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${id}/history`)).body as { events: unknown[] }

describe('one window', () => {
  it('rule 38: refuses with 403 a submission by a window of any organisation but a service or convenience centre, writing nothing', async () => {
    const before = { cases: await countCases(), keys: await countIdempotencyKeys() }
    for (const org of ['gz-12345', 'gz-power', 'gz-amr', 'gz']) {
      for (const body of [applicationBody(), { serviceItemCode: 7 }]) {
        const r = await sys.app.inject({
          method: 'POST', url: '/v1/applications', payload: body,
          headers: { authorization: `Bearer ${keys[org]}`, 'idempotency-key': `one-window-${org}` },
        })
        expect({ org, status: r.statusCode, code: r.json().code }).toEqual({ org, status: 403, code: 'forbidden' })
        expect(r.headers['content-type']).toContain('application/problem+json')
      }
    }
    expect({ cases: await countCases(), keys: await countIdempotencyKeys() }).toEqual(before)
  })

  it('rule 38: takes submissions from the windows of service centres and convenience centres', async () => {
    for (const key of [dir.windowKey, keys['gz-conv']!]) {
      const r = await call(sys.app, key, 'POST', '/v1/applications', applicationBody())
      expect(r.status).toBe(201)
      expect((r.body as CaseView).kind).toBe('application')
    }
  })

  it('rule 38: refuses with 403 a delivery by a window elsewhere, records nothing, and lets a convenience centre deliver', async () => {
    const submitted = await call(sys.app, keys['gz-conv']!, 'POST', '/v1/applications', applicationBody())
    const id = (submitted.body as CaseView).id
    for (const action of [{ action: 'accept' }, { action: 'approve' }, { action: 'issue_result', certificateNo: 'GZ-38' }]) {
      expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, action)).status).toBe(200)
    }
    const before = await history(id)
    for (const org of ['gz-12345', 'gz-power', 'gz-amr']) {
      const r = await call(sys.app, keys[org]!, 'POST', `/v1/cases/${id}/actions`, { action: 'deliver', method: 'window' })
      expect({ org, status: r.status, code: r.body.code }).toEqual({ org, status: 403, code: 'forbidden' })
      expect(r.headers['content-type']).toContain('application/problem+json')
    }
    expect(await history(id)).toEqual(before)
    const delivered = await call(sys.app, keys['gz-conv']!, 'POST', `/v1/cases/${id}/actions`, { action: 'deliver', method: 'window' })
    expect(delivered.status).toBe(200)
    expect((delivered.body as CaseView).status).toBe('completed')
  })

  it('rule 38: a refused decision is handed out only by a comprehensive window too', async () => {
    const submitted = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())
    const id = (submitted.body as CaseView).id
    for (const action of [{ action: 'accept' }, { action: 'deny', reason: 'conditions not met' }]) {
      expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, action)).status).toBe(200)
    }
    const refused = await call(sys.app, keys['gz-amr']!, 'POST', `/v1/cases/${id}/actions`, { action: 'deliver', method: 'mail' })
    expect(refused).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    expect((await call(sys.app, dir.windowKey, 'POST', `/v1/cases/${id}/actions`, { action: 'deliver', method: 'mail' })).status).toBe(200)
  })
})
