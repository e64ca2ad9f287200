import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/api/app.ts'
import { approveDraft, call, type Directory, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal, type TestDatabase } from '../support/system.ts'

let db: TestDatabase
let app: App
let dir: Directory
let stop: (() => Promise<void>) | undefined

beforeAll(async () => {
  ({ db, app, stop } = await startAppWithoutTemporal('no Temporal in access tests'))
  dir = await seedDirectory(app)
})

afterAll(async () => stop?.())

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** Every `/v1` operation the OpenAPI document lists, with its path parameters filled in. */
async function operations(): Promise<Array<{ method: string; url: string }>> {
  const spec = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> }
  return Object.entries(spec.paths).filter(([path]) => path.startsWith('/v1/')).flatMap(([path, methods]) =>
    Object.keys(methods).filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m)).map((method) => ({
      method: method.toUpperCase(),
      url: path.replace(/\{[^}]+\}/g, (name) => (name === '{year}' ? '2026' : 'x-1')),
    })))
}

describe('authentication on every route', () => {
  it('answers 401 unauthenticated as problem+json on every /v1 operation without a key, a bad scheme or an unknown key', async () => {
    const ops = await operations()
    // The contract's routes are all there: organisations, keys, items, applications, cases, calendar, settings.
    expect(ops.length).toBeGreaterThanOrEqual(20)
    for (const { method, url } of ops) {
      for (const authorization of [undefined, `Basic ${Buffer.from('a:b').toString('base64')}`, 'Bearer bj_unknown']) {
        const r = await app.inject({ method: method as 'GET', url, headers: authorization ? { authorization } : {} })
        expect({ method, url, authorization, status: r.statusCode, code: r.json().code }).toEqual({ method, url, authorization, status: 401, code: 'unauthenticated' })
        expect(r.headers['content-type']).toContain('application/problem+json')
      }
    }
  })

  it('answers 403 forbidden to every role but admin on the administrative writes, before looking at the body', async () => {
    const writes: Array<[string, string, unknown]> = [
      ['PUT', '/v1/organizations/gz-x', { name: 'X', kind: 'department', parentId: 'gz' }],
      ['PUT', '/v1/organizations/gz-x', { nonsense: true }],
      ['POST', '/v1/api-keys', { organizationId: 'gz-amr', role: 'admin' }],
      ['POST', '/v1/api-keys', { role: 42 }],
      ['DELETE', '/v1/api-keys/key_nope', undefined],
      ['PUT', '/v1/service-items/X-1', { name: 'x' }],
      ['POST', '/v1/service-items/X-1/publish', undefined],
      ['PUT', '/v1/settings/limits', { nonsense: 1 }],
      ['PUT', '/v1/calendar/2027', { days: 'none' }],
    ]
    for (const key of [dir.windowKey, dir.departmentKey, dir.supervisorKey, dir.auditorKey]) {
      for (const [method, url, body] of writes) {
        const r = await call(app, key, method as 'PUT', url, body)
        expect({ method, url, body, status: r.status, code: r.body?.code }).toEqual({ method, url, body, status: 403, code: 'forbidden' })
      }
    }
    // Only the window submits; a department's invalid submission is refused for who it is, not what it says.
    const submission = await call(app, dir.departmentKey, 'POST', '/v1/applications', { serviceItemCode: 7 })
    expect(submission).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    expect((await call(app, ADMIN_KEY, 'GET', '/v1/organizations/gz-x')).status).toBe(404)
  })
})

describe('organisations', () => {
  it('creates and updates an organisation, with ISO 8601 instants', async () => {
    const created = await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-wa', { name: 'Water Affairs', kind: 'department', parentId: 'gz' })
    expect(created).toMatchObject({ status: 200, body: { id: 'gz-wa', name: 'Water Affairs', kind: 'department', parentId: 'gz' } })
    expect(created.body.createdAt).toMatch(ISO_INSTANT)
    expect(created.body.updatedAt).toMatch(ISO_INSTANT)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const renamed = await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-wa', { name: 'Water Affairs Bureau', kind: 'department', parentId: 'gz' })
    expect(renamed.body).toMatchObject({ name: 'Water Affairs Bureau', createdAt: created.body.createdAt })
    expect(Date.parse(renamed.body.updatedAt)).toBeGreaterThan(Date.parse(created.body.updatedAt))
    const read = await call(app, dir.auditorKey, 'GET', '/v1/organizations/gz-wa')
    expect(read.body).toEqual(renamed.body)
    expect((await call(app, dir.auditorKey, 'GET', '/v1/organizations/nowhere')).body).toMatchObject({ code: 'not_found' })
  })

  it('refuses an unknown parent and a move that would make a cycle, and changes nothing', async () => {
    const orphan = await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-orphan', { name: 'O', kind: 'department', parentId: 'nowhere' })
    expect(orphan).toMatchObject({ status: 422, body: { code: 'unprocessable' } })
    expect((await call(app, ADMIN_KEY, 'GET', '/v1/organizations/gz-orphan')).status).toBe(404)
    await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-d1', { name: 'District 1', kind: 'government', parentId: 'gz' })
    await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-d1-amr', { name: 'District 1 AMR', kind: 'department', parentId: 'gz-d1' })
    const cycle = await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-d1', { name: 'District 1', kind: 'government', parentId: 'gz-d1-amr' })
    expect(cycle).toMatchObject({ status: 422, body: { code: 'unprocessable' } })
    expect((await call(app, ADMIN_KEY, 'GET', '/v1/organizations/gz-d1')).body).toMatchObject({ parentId: 'gz' })
  })

  it('moves a subtree with its descendants, so supervision follows the new tree', async () => {
    await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-d2', { name: 'District 2', kind: 'government', parentId: 'gz' })
    await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-d2-sub', { name: 'Sub-district', kind: 'government', parentId: 'gz-d2' })
    await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-d2-sub-hr', { name: 'HR', kind: 'department', parentId: 'gz-d2-sub' })
    await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-d3', { name: 'District 3', kind: 'government', parentId: 'gz' })
    expect((await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-d2-sub', { name: 'Sub-district', kind: 'government', parentId: 'gz-d3' })).status).toBe(200)
    const paths = await db.database.pool.query('SELECT id, path FROM organizations WHERE id LIKE \'gz-d2-sub%\' ORDER BY id')
    expect(paths.rows).toEqual([
      { id: 'gz-d2-sub', path: '/root/gz/gz-d3/gz-d2-sub/' },
      { id: 'gz-d2-sub-hr', path: '/root/gz/gz-d3/gz-d2-sub/gz-d2-sub-hr/' },
    ])
  })

  it('lists organisations in keyset pages without gaps or repeats', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } =
        await call(app, dir.auditorKey, 'GET', `/v1/organizations?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      expect(page.body.items.length).toBeLessThanOrEqual(3)
      seen.push(...page.body.items.map((o) => o.id))
      cursor = page.body.nextCursor
    } while (cursor)
    const all = await db.database.pool.query('SELECT id FROM organizations ORDER BY id')
    expect(seen).toEqual(all.rows.map((r) => r.id))
  })
})

describe('API keys', () => {
  it('stores only a hash, binds the key to its organisation and role, and stops it working once revoked', async () => {
    const created = await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-hr', role: 'supervisor', name: 'HR supervision desk' })
    expect(created).toMatchObject({ status: 201, body: { organizationId: 'gz-hr', role: 'supervisor', name: 'HR supervision desk' } })
    const { id, key } = created.body as { id: string; key: string }
    expect(key).toMatch(/^bj_[A-Za-z0-9_-]{32}$/)
    const stored = await db.database.pool.query('SELECT * FROM api_keys WHERE id = $1', [id])
    expect(JSON.stringify(stored.rows)).not.toContain(key)
    expect(stored.rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/)

    // Bound to its role: a supervisor may read settings but not publish an item.
    expect((await call(app, key, 'GET', '/v1/settings/limits')).status).toBe(200)
    expect((await call(app, key, 'POST', '/v1/service-items/X-1/publish')).status).toBe(403)

    const revoked = await app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    expect(revoked.statusCode).toBe(204)
    const after = await call(app, key, 'GET', '/v1/settings/limits')
    expect(after).toMatchObject({ status: 401, body: { code: 'unauthenticated' } })
    expect((await call(app, ADMIN_KEY, 'DELETE', `/v1/api-keys/${id}x`)).body).toMatchObject({ code: 'not_found' })
  })

  it('creates one key for one Idempotency-Key sent 20 times at once, answering each with it, and keeps no secret readable', async () => {
    const before = (await db.database.pool.query('SELECT count(*)::int AS n FROM api_keys')).rows[0].n
    const body = { organizationId: 'gz-amr', role: 'department', name: 'case system' }
    const headers = { 'idempotency-key': 'amr-case-system-2026-11' }
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(app, ADMIN_KEY, 'POST', '/v1/api-keys', body, headers)))
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201))
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1)
    const { id, key } = answers[0]!.body as { id: string; key: string }
    expect((await db.database.pool.query('SELECT count(*)::int AS n FROM api_keys')).rows[0].n).toBe(before + 1)
    expect((await call(app, key, 'GET', '/v1/cases')).status).toBe(200)
    // Neither the secret nor the Idempotency-Key that unseals it is in the database.
    const stored = JSON.stringify((await db.database.pool.query('SELECT * FROM idempotency_keys WHERE resource_id = $1', [id])).rows)
    expect(stored).toContain(id)
    expect(stored).not.toContain(key)
    expect(stored).not.toContain(headers['idempotency-key'])

    const other = await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { ...body, role: 'window' }, headers)
    expect(other).toMatchObject({ status: 409, body: { code: 'idempotency_conflict' } })
    const fresh = await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', body, { 'idempotency-key': 'another' })
    expect((fresh.body as { id: string }).id).not.toBe(id)
  })

  it('refuses a key for an organisation that does not exist, and writes none', async () => {
    const before = await db.database.pool.query('SELECT count(*)::int AS n FROM api_keys')
    const r = await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'nowhere', role: 'window' })
    expect(r).toMatchObject({ status: 422, body: { code: 'unprocessable' } })
    const bad = await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-hr', role: 'emperor' })
    expect(bad).toMatchObject({ status: 400, body: { code: 'validation_failed' } })
    const after = await db.database.pool.query('SELECT count(*)::int AS n FROM api_keys')
    expect(after.rows[0].n).toBe(before.rows[0].n)
  })

  it('takes a bodiless POST sent with content-type application/json as no body', async () => {
    const draft = await call(app, ADMIN_KEY, 'PUT', '/v1/service-items/EMPTY-1', {
      name: 'Empty body', departmentId: 'gz-amr', processing: 'promised', promisedLimit: { workingDays: 1 },
      statutoryLimit: { workingDays: 1 }, materials: [], channels: ['window', 'online'],
    })
    expect(draft.status).toBe(200)
    await approveDraft(app, 'EMPTY-1')
    const published = await app.inject({
      method: 'POST', url: '/v1/service-items/EMPTY-1/publish',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    })
    expect(published.statusCode).toBe(200)
    const malformed = await app.inject({
      method: 'PUT', url: '/v1/organizations/gz-m', payload: '{"name":',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    })
    expect(malformed.json()).toMatchObject({ status: 400, code: 'validation_failed' })
    const empty = await app.inject({
      method: 'PUT', url: '/v1/organizations/gz-m', payload: '',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    })
    expect(empty.json()).toMatchObject({ status: 400, code: 'validation_failed' })
  })
})

describe('organisation ids with characters LIKE would take for wildcards', () => {
  const put = (id: string, kind: string, parentId: string) => call(app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })
  const pathsOf = async (ids: string[]) => Object.fromEntries((await db.database.pool.query<{ id: string; path: string }>(
    'SELECT id, path FROM organizations WHERE id = ANY($1)', [ids])).rows.map((r) => [r.id, r.path]))

  it('moving an organisation whose id has `_` rewrites its own subtree and no one else\'s', async () => {
    for (const [id, kind, parentId] of [['mv', 'government', 'root'], ['mv_1', 'government', 'root'], ['mv_1-a', 'department', 'mv_1'],
      ['mv-1', 'government', 'root'], ['mv-1-b', 'department', 'mv-1'], ['mvx1', 'government', 'root']] as const) {
      expect((await put(id, kind, parentId)).status).toBe(200)
    }
    expect((await put('mv_1', 'government', 'mv')).status).toBe(200)
    expect(await pathsOf(['mv_1', 'mv_1-a', 'mv-1', 'mv-1-b', 'mvx1'])).toEqual({
      'mv_1': '/root/mv/mv_1/',
      'mv_1-a': '/root/mv/mv_1/mv_1-a/',
      'mv-1': '/root/mv-1/',
      'mv-1-b': '/root/mv-1/mv-1-b/',
      'mvx1': '/root/mvx1/',
    })
  })

  it('a supervisor of `zz_a` cannot read a case handled under its sibling `zz-a`; one of their parent can', async () => {
    for (const [id, kind, parentId] of [['zz', 'government', 'root'], ['zz_a', 'government', 'zz'], ['zz-a', 'department', 'zz']] as const) {
      expect((await put(id, kind, parentId)).status).toBe(200)
    }
    const at = '2026-12-01T02:00:00.000Z'
    const view = {
      id: 'A20261201-ZZSIBLING', kind: 'application', status: 'pending_acceptance', version: 1, channel: 'window', receivedBy: 'gz-center',
      handlingOrganizationId: 'zz-a', priority: { greenChannel: false, urgent: false }, deadlines: [], overdue: false, warned: false,
      flags: [], createdAt: at, updatedAt: at,
    }
    await db.database.pool.query(`INSERT INTO cases (id, kind, status, last_seq, last_hash, handling_organization_id, received_by,
      priority_rank, next_due_at, organizations, view, created_at, updated_at)
      VALUES ($1, 'application', 'pending_acceptance', 1, '', 'zz-a', 'gz-center', 2, 'infinity', ARRAY['zz-a'], $2, $3, $3)`,
    [view.id, view, at])
    const supervisorOf = async (organizationId: string) =>
      ((await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role: 'supervisor' })).body as { key: string }).key
    const sibling = await supervisorOf('zz_a')
    expect(await call(app, sibling, 'GET', `/v1/cases/${view.id}`)).toMatchObject({ status: 404, body: { code: 'not_found' } })
    expect((await call(app, sibling, 'GET', '/v1/cases')).body.items).toEqual([])
    const parent = await supervisorOf('zz')
    expect(await call(app, parent, 'GET', `/v1/cases/${view.id}`)).toMatchObject({ status: 200, body: { id: view.id } })
    expect((await call(app, parent, 'GET', '/v1/cases')).body.items.map((c: { id: string }) => c.id)).toEqual([view.id])
  })

  it('are limited to letters, digits, ".", "_" and "-", starting with a letter or digit', async () => {
    for (const id of ['a%25b', 'a%2Fb', '-a', '.a', 'a%20b', 'a*', '%E5%8A%9E']) {
      const r = await call(app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: 'x', kind: 'department', parentId: 'gz' })
      expect({ id, status: r.status, path: r.body.errors?.[0]?.path }).toEqual({ id, status: 400, path: 'params/id' })
    }
    expect((await call(app, ADMIN_KEY, 'GET', '/v1/cases?handlingOrganizationId=a%25')).status).toBe(400)
  })
})

describe('a supervisor at a service-management organisation (政务服务管理部门)', () => {
  const put = (id: string, kind: string, parentId: string) => call(app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })
  const supervisorOf = async (organizationId: string) =>
    ((await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role: 'supervisor' })).body as { key: string }).key
  const at = '2026-12-01T02:00:00.000Z'

  /** A case handled by `organizationId`, with one open supervision record on it, straight into the read side. */
  async function caseHandledBy(organizationId: string, parentId: string): Promise<string> {
    const id = `A20261201-SM${organizationId.toUpperCase().replace(/[^A-Z0-9]/g, '')}`
    const view = {
      id, kind: 'application', status: 'pending_acceptance', version: 1, channel: 'window', receivedBy: 'gz-center',
      handlingOrganizationId: organizationId, priority: { greenChannel: false, urgent: false }, deadlines: [], overdue: false, warned: false,
      flags: [], createdAt: at, updatedAt: at,
    }
    await db.database.pool.query(`INSERT INTO cases (id, kind, status, last_seq, last_hash, handling_organization_id, received_by,
      priority_rank, next_due_at, organizations, view, created_at, updated_at)
      VALUES ($1, 'application', 'pending_acceptance', 1, '', $2, 'gz-center', 2, 'infinity', ARRAY[$2], $3, $4, $4)`,
    [id, organizationId, view, at])
    await db.database.pool.query(`INSERT INTO supervisions (case_id, id, case_kind, kind, level, organization_id, supervisor_organization_id,
      reason, opened_at, due_at) VALUES ($1, 'S1', 'application', 'automatic', 1, $2, $3, 'accept overdue', $4, NULL)`, [id, organizationId, parentId, at])
    return id
  }
  const visibleTo = async (key: string) => ({
    cases: ((await call(app, key, 'GET', '/v1/cases?limit=200')).body.items as Array<{ id: string }>).map((c) => c.id).filter((id) => id.includes('-SM')).sort(),
    supervisions: ((await call(app, key, 'GET', '/v1/supervisions?limit=200')).body.items as Array<{ caseId: string }>)
      .map((s) => s.caseId).filter((id) => id.includes('-SM')).sort(),
  })

  it('oversees the whole subtree of the nearest government above it, and nothing outside it (DESIGN.md "Access")', async () => {
    // A city with its own service-management office and a district, which has one too; another city beside it.
    for (const [id, kind, parentId] of [
      ['smc', 'government', 'root'], ['smc-gsdm', 'service-management', 'smc'], ['smc-hr', 'department', 'smc'],
      ['smc-d', 'government', 'smc'], ['smc-d-gsdm', 'service-management', 'smc-d'], ['smc-d-hr', 'department', 'smc-d'],
      ['smn', 'government', 'root'], ['smn-hr', 'department', 'smn'],
    ] as const) expect((await put(id, kind, parentId)).status).toBe(200)
    const cityCase = await caseHandledBy('smc-hr', 'smc')
    const districtCase = await caseHandledBy('smc-d-hr', 'smc-d')
    const otherCity = await caseHandledBy('smn-hr', 'smn')

    const city = await supervisorOf('smc-gsdm')
    expect(await visibleTo(city)).toEqual({ cases: [cityCase, districtCase].sort(), supervisions: [cityCase, districtCase].sort() })
    expect(await call(app, city, 'GET', `/v1/cases/${districtCase}`)).toMatchObject({ status: 200, body: { id: districtCase } })
    expect(await call(app, city, 'GET', `/v1/cases/${otherCity}`)).toMatchObject({ status: 404, body: { code: 'not_found' } })
    // The district's office oversees its own government, not the city above it.
    const district = await supervisorOf('smc-d-gsdm')
    expect(await visibleTo(district)).toEqual({ cases: [districtCase], supervisions: [districtCase] })
    expect(await call(app, district, 'GET', `/v1/cases/${cityCase}`)).toMatchObject({ status: 404, body: { code: 'not_found' } })
  })

  it('gains that scope the moment its organisation becomes a service-management one, and loses it when it stops being one', async () => {
    for (const [id, kind, parentId] of [['smk', 'government', 'root'], ['smk-office', 'service-center', 'smk'], ['smk-hr', 'department', 'smk']] as const) {
      expect((await put(id, kind, parentId)).status).toBe(200)
    }
    const handled = await caseHandledBy('smk-hr', 'smk')
    const office = await supervisorOf('smk-office')
    expect(await visibleTo(office)).toEqual({ cases: [], supervisions: [] })
    expect((await put('smk-office', 'service-management', 'smk')).status).toBe(200)
    expect(await visibleTo(office)).toEqual({ cases: [handled], supervisions: [handled] })
    expect((await put('smk-office', 'service-center', 'smk')).status).toBe(200)
    expect(await visibleTo(office)).toEqual({ cases: [], supervisions: [] })
  })
})
