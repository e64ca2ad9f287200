import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KEY_REVOKED_CHANNEL, scopedChannel } from '../../src/db/announcements.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { applicationBody, call, type Directory, itemDraft, publishItem, seedDirectory } from '../support/fixtures.ts'
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

  it('rule 38: a window whose organisation stops being a centre is refused at once, though its key was cached', async () => {
    const r = await call(sys.app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-moving', { name: 'moving', kind: 'convenience-center', parentId: 'gz' })
    expect(r.status).toBe(200)
    const key = ((await call(sys.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-moving', role: 'window' })).body as { key: string }).key
    expect((await call(sys.app, key, 'POST', '/v1/applications', applicationBody())).status).toBe(201)
    await call(sys.app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-moving', { name: 'moving', kind: 'public-utility', parentId: 'gz' })
    const refused = await call(sys.app, key, 'POST', '/v1/applications', applicationBody())
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 403, code: 'forbidden' })
    expect(refused.body.detail).toContain('organisation gz-moving is a public-utility')
    // And another process hears it: the change is announced on the channel keys are revoked on, in this schema.
    const listener = await sys.db.database.pool.connect()
    const heard = new Promise<string>((resolve) => {
      listener.once('notification', (message) => resolve(message.payload ?? ''))
    })
    try {
      await listener.query(`LISTEN ${listener.escapeIdentifier(scopedChannel(KEY_REVOKED_CHANNEL, sys.db.schemaName))}`)
      // The change is saved (and this process has forgotten its keys) before the window tries again:
      // the announcement may reach the listener before the saving request has answered.
      expect((await call(sys.app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-moving', { name: 'moving', kind: 'service-center', parentId: 'gz' })).status).toBe(200)
      expect(await heard).toBe('organization:gz-moving')
    } finally {
      await listener.query('UNLISTEN *')
      listener.release()
    }
    expect((await call(sys.app, key, 'POST', '/v1/applications', applicationBody())).status).toBe(201)
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

// Rules 1–4 (seed §(二)): one catalogue. Every window and channel submits under the one published
// guide of an item, whichever centre receives the case; a case keeps the version it was submitted
// under; public utilities publish guides of their own like departments.
describe('one catalogue', () => {
  const guideOf = async (code: string) => (await call(sys.app, dir.windowKey, 'GET', `/v1/service-items/${code}`)).body as { version: number }
  const publish = async (code: string, draft: ReturnType<typeof itemDraft>) => {
    expect((await call(sys.app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, draft)).status).toBe(200)
    const published = await publishItem(sys.app, code)
    expect(published.status, JSON.stringify(published.body)).toBe(200)
    return published.body as { version: number; departmentId: string }
  }

  it('rule 1: the window and the online channel submit under the same published guide, its latest version, never a draft', async () => {
    const code = 'ONE-CAT-1'
    await publish(code, itemDraft({ channels: ['window', 'online'] }))
    const second = await publish(code, itemDraft({ channels: ['window', 'online'], promisedLimit: { workingDays: 3 } }))
    expect(second.version).toBe(2)
    // A draft saved since is nobody's guide until it is published.
    expect((await call(sys.app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, itemDraft({ channels: ['window', 'online'], promisedLimit: { workingDays: 1 } }))).status).toBe(200)
    expect((await guideOf(code)).version).toBe(2)
    const cases: CaseView[] = []
    for (const channel of ['window', 'online']) {
      const r = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody({ serviceItemCode: code, channel }))
      expect(r.status, JSON.stringify(r.body)).toBe(201)
      cases.push(r.body as CaseView)
    }
    expect(cases.map((c) => [c.channel, c.serviceItemCode, c.serviceItemVersion])).toEqual([['window', code, 2], ['online', code, 2]])
    expect(cases[1]!.missingMaterials).toEqual(cases[0]!.missingMaterials)
  })

  it('rule 2: a case keeps the guide version it was submitted under when a new one is published', async () => {
    const code = 'ONE-CAT-2'
    await publish(code, itemDraft({ promisedLimit: { workingDays: 10 } }))
    const submitted = async () => {
      const r = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody({ serviceItemCode: code }))
      expect(r.status, JSON.stringify(r.body)).toBe(201)
      return (r.body as CaseView).id
    }
    const early = await submitted()
    await publish(code, itemDraft({ promisedLimit: { workingDays: 2 } }))
    const late = await submitted()
    const accept = async (id: string) => {
      const r = await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      const view = r.body as CaseView
      return { version: view.serviceItemVersion, promisedDue: Date.parse(view.deadlines.find((d) => d.kind === 'promised')!.dueAt) }
    }
    const [first, second] = [await accept(early), await accept(late)]
    expect([first.version, second.version]).toEqual([1, 2])
    // Version 1's 10 working days end after version 2's 2, counted from moments later.
    expect(first.promisedDue).toBeGreaterThan(second.promisedDue)
  })

  it('rule 3: one item code gives one guide, materials and handler, whichever centre receives the case', async () => {
    const code = 'ONE-CAT-3'
    const { version } = await publish(code, itemDraft())
    const cases: CaseView[] = []
    for (const key of [dir.windowKey, keys['gz-conv']!]) {
      const r = await call(sys.app, key, 'POST', '/v1/applications', applicationBody({ serviceItemCode: code }))
      expect(r.status, JSON.stringify(r.body)).toBe(201)
      cases.push(r.body as CaseView)
    }
    expect(cases.map((c) => c.receivedBy)).toEqual(['gz-center', 'gz-conv'])
    const sameness = (c: CaseView) => [c.serviceItemCode, c.serviceItemVersion, c.handlingOrganizationId, c.missingMaterials]
    expect(sameness(cases[0]!)).toEqual([code, version, 'gz-amr', ['id-card']])
    expect(sameness(cases[1]!)).toEqual(sameness(cases[0]!))
  })

  it('rule 4: a public utility publishes a guide, and its own department key handles the cases under it', async () => {
    const code = 'ONE-CAT-4'
    const guide = await publish(code, itemDraft({ name: 'Electricity connection', departmentId: 'gz-power' }))
    expect(guide.departmentId).toBe('gz-power')
    const created = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody({ serviceItemCode: code }))
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    const id = (created.body as CaseView).id
    expect((created.body as CaseView).handlingOrganizationId).toBe('gz-power')
    const utility = await call(sys.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-power', role: 'department' })
    expect(utility.status).toBe(201)
    // Market regulation neither handles it nor sees it.
    expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })).status).toBe(404)
    const accepted = await call(sys.app, (utility.body as { key: string }).key, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200)
    expect((accepted.body as CaseView).status).toBe('accepted')
  })
})
