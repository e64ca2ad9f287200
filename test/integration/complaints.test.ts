import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import { applicationBody, call, CASE_ATTRIBUTES, type Directory, searchAttributeWrites, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'
import { shanghaiYear } from '../support/test-epoch.ts'

// 12345 work orders through HTTP (API.md "Complaints", DOMAIN rules 26–28 and 38), on the real dev
// server and Postgres.

let sys: TestSystem
let dir: Directory
/** Keys by name: `<organisation>/<role>`. */
const keys: Record<string, string> = {}
const key = (name: string) => keys[name]!

beforeAll(async () => {
  sys = await startTestSystem({ calendarPublishedThrough: shanghaiYear(Date.now()) + 2 })
  dir = await seedDirectory(sys.app)
  const orgs: Array<[string, string, string]> = [
    ['gz-12345', 'hotline', 'gz'], ['gz-tianhe', 'government', 'gz'], ['th-12345', 'hotline', 'gz-tianhe'],
    ['th-amr', 'department', 'gz-tianhe'], ['th-supervision', 'service-management', 'gz-tianhe'],
  ]
  for (const [id, kind, parentId] of orgs) {
    const r = await call(sys.app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })
    if (r.status !== 200) throw new Error(JSON.stringify(r.body))
  }
  const wanted: Array<[string, string]> = [
    ['gz-12345', 'hotline'], ['gz-12345', 'window'], ['gz-12345', 'department'], ['th-12345', 'hotline'],
    ['gz-amr', 'window'], ['gz-amr', 'hotline'], ['gz-center', 'hotline'], ['th-amr', 'department'], ['th-supervision', 'supervisor'],
  ]
  for (const [organizationId, role] of wanted) {
    const r = await call(sys.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role })
    if (r.status !== 201) throw new Error(JSON.stringify(r.body))
    keys[`${organizationId}/${role}`] = (r.body as { key: string }).key
  }
})
afterAll(async () => sys?.stop())

const complaintBody = (overrides: Record<string, unknown> = {}) => ({
  type: 'complaint', channel: 'phone', content: '小区门口占道经营',
  citizen: { name: '孙七', phone: '13712345678', idNumber: '440106198506061234' }, ...overrides,
})
const file = (body: unknown = complaintBody(), headers: Record<string, string> = {}, as = key('gz-12345/hotline')) =>
  call(sys.app, as, 'POST', '/v1/complaints', body, headers)
const act = (as: string, id: string, action: string, params: Record<string, unknown> = {}) =>
  call(sys.app, as, 'POST', `/v1/cases/${id}/actions`, { action, ...params })
const countCases = async () => Number((await sys.db.database.pool.query('SELECT count(*) AS n FROM cases')).rows[0].n)
const history = async (id: string) => ((await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${id}/history`)).body as { events: Array<{ type: string }> }).events

/** A fresh order, filed by the hotline, and dispatched to the market regulator. */
async function dispatchedOrder(): Promise<string> {
  const id = ((await file()).body as CaseView).id
  expect((await act(key('gz-12345/hotline'), id, 'dispatch', { toOrganizationId: 'gz-amr' })).status).toBe(200)
  return id
}

/** A fresh order, answered by the market regulator and replied to by the owner. */
async function repliedOrder(): Promise<string> {
  const id = await dispatchedOrder()
  expect((await act(dir.departmentKey, id, 'respond', { answer: '已清理' })).status).toBe(200)
  expect((await act(key('gz-12345/window'), id, 'reply', { message: '已回复' })).status).toBe(200)
  return id
}

describe('POST /v1/complaints', () => {
  it('rule 27: files a work order (201) owned and received by the caller\'s organisation, with its reply deadline', async () => {
    const r = await file()
    expect(r.status).toBe(201)
    const view = r.body as CaseView
    expect(view.id).toMatch(/^C\d{8}-[0-9A-Z]{10}$/)
    expect(view).toMatchObject({
      kind: 'complaint', status: 'received', version: 1, type: 'complaint', channel: 'phone', content: '小区门口占道经营',
      ownerOrganizationId: 'gz-12345', receivedBy: 'gz-12345', handlingOrganizationId: 'gz-12345', urgent: false,
      priority: { greenChannel: false, urgent: false }, dispatches: [], callbacks: [],
      citizen: { name: '孙七', phone: '13712345678', idNumber: '440106198506061234' },
    })
    expect(view.deadlines).toEqual([expect.objectContaining({ kind: 'reply', key: 'reply', state: 'running', provisional: false, workingDaysLeft: 15 })])
    const described = await sys.client.workflow.getHandle(view.id).describe()
    expect(described.taskQueue).toBe(sys.queues.complaints)
    // Started with its search attributes (received, by the receiver): its first event upserts none.
    expect(searchAttributeWrites((await sys.client.workflow.getHandle(view.id).fetchHistory()).events ?? []))
      .toEqual({ started: CASE_ATTRIBUTES, upserts: [] })
    expect((await call(sys.app, key('gz-12345/window'), 'GET', `/v1/cases/${view.id}`)).body).toMatchObject({ id: view.id, version: 1 })
  })

  it('rule 38: a comprehensive window files too, and owns what it files', async () => {
    const r = await file(complaintBody({ channel: 'window', type: 'consultation' }), {}, dir.windowKey)
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ ownerOrganizationId: 'gz-center', receivedBy: 'gz-center', channel: 'window', type: 'consultation' })
  })

  it('yields one case for a retried Idempotency-Key, and 409 for the key with another body', async () => {
    const headers = { 'idempotency-key': 'hotline-call-0001' }
    const answers = await Promise.all(Array.from({ length: 5 }, () => file(complaintBody(), headers)))
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill(201))
    const ids = new Set(answers.map((a) => (a.body as CaseView).id))
    expect(ids.size).toBe(1)
    const [id] = [...ids]
    expect(await history(id!)).toHaveLength(1)
    const before = await countCases()
    const other = await file(complaintBody({ content: '另一件事' }), headers)
    expect(other).toMatchObject({ status: 409, body: { code: 'idempotency_conflict' } })
    // The same key from another organisation is another request.
    expect((await file(complaintBody(), headers, key('th-12345/hotline'))).status).toBe(201)
    expect(await countCases()).toBe(before + 1)
  })

  it('rule 26: takes the type\'s limit from the settings when the order is received, urgent ones in hours', async () => {
    const put = await call(sys.app, ADMIN_KEY, 'PUT', '/v1/settings/limits', { 'complaint.suggestion': { duration: 'PT5H' } })
    expect(put.status).toBe(200)
    const suggestion = (await file(complaintBody({ type: 'suggestion' }))).body as CaseView
    expect(Date.parse(suggestion.deadlines[0]!.dueAt) - Date.parse(suggestion.createdAt)).toBe(5 * 3_600_000)
    const urgent = (await file(complaintBody({ type: 'suggestion', urgent: true }))).body as CaseView
    expect(urgent.priority).toEqual({ greenChannel: false, urgent: true })
    expect(Date.parse(urgent.deadlines[0]!.dueAt) - Date.parse(urgent.createdAt)).toBe(24 * 3_600_000)
    const [first] = (await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${suggestion.id}/history`)).body.events
    expect(first.data.limits.reply).toEqual({ duration: 'PT5H' })
  })

  it('refuses a bad body with 400 validation_failed and writes nothing', async () => {
    const before = await countCases()
    const bodies = [
      complaintBody({ type: 'praise' }), complaintBody({ channel: 'fax' }), complaintBody({ content: '   ' }),
      complaintBody({ citizen: { phone: '1' } }), complaintBody({ extra: true }), complaintBody({ urgent: 'yes' }),
      complaintBody({ content: 'a\u0000b' }), { type: 'help' },
    ]
    for (const body of bodies) {
      const r = await file(body, { 'idempotency-key': `bad-${JSON.stringify(body).length}` })
      expect({ body, status: r.status, code: r.body.code }).toEqual({ body, status: 400, code: 'validation_failed' })
      expect(r.headers['content-type']).toContain('application/problem+json')
    }
    expect(await countCases()).toBe(before)
  })

  it('rule 38: refuses with 403 keys that do not receive work orders, before reading the body', async () => {
    const before = await countCases()
    for (const refused of [dir.departmentKey, dir.supervisorKey, dir.auditorKey, ADMIN_KEY, key('gz-amr/window'), key('gz-center/hotline')]) {
      for (const body of [complaintBody(), { nonsense: 1 }]) {
        const r = await file(body, {}, refused)
        expect({ status: r.status, code: r.body.code }).toEqual({ status: 403, code: 'forbidden' })
      }
    }
    expect(await countCases()).toBe(before)
  })
})

describe('the closed loop through the actions endpoint (rule 28)', () => {
  it('dispatch, sign, respond, reply, a dissatisfied callback that reopens it, and GET ?kind=complaint&flag=reopened finds it', async () => {
    const id = ((await file()).body as CaseView).id
    const hotline = key('gz-12345/hotline')
    const steps: Array<[string, string, Record<string, unknown>, string]> = [
      [hotline, 'dispatch', { toOrganizationId: 'gz-amr', within: { workingDays: 5 } }, 'dispatched'],
      [dir.departmentKey, 'sign', {}, 'dispatched'],
      [dir.departmentKey, 'respond', { answer: '已依法查处' }, 'responded'],
      [hotline, 'reply', { message: '已将处理结果告知市民' }, 'replied'],
      [hotline, 'callback', { satisfied: false, note: '仍有占道' }, 'dispatched'],
    ]
    for (const [as, action, params, status] of steps) {
      const r = await act(as, id, action, params)
      expect({ action, status: r.status, after: r.body.status }).toEqual({ action, status: 200, after: status })
    }
    const reopened = (await call(sys.app, hotline, 'GET', `/v1/cases/${id}`)).body as CaseView
    expect(reopened).toMatchObject({ flags: ['reopened'], handlingOrganizationId: 'gz-amr', ownerOrganizationId: 'gz-12345' })
    expect(reopened.deadlines.map((d) => [d.key, d.state])).toEqual([
      ['reply', 'met'], ['sign:1', 'met'], ['handle:1', 'met'], ['reply:2', 'running'], ['sign:2', 'running'],
    ])
    const notReopened = await dispatchedOrder()
    const found = await call(sys.app, hotline, 'GET', '/v1/cases?kind=complaint&flag=reopened')
    expect(found.status).toBe(200)
    const ids = (found.body.items as CaseView[]).map((c) => c.id)
    expect(ids).toContain(id)
    expect(ids).not.toContain(notReopened)
    expect((found.body.items as CaseView[]).every((c) => c.kind === 'complaint' && c.flags.includes('reopened'))).toBe(true)
    // The unit it went back to finds it in its own list too.
    expect(((await call(sys.app, dir.departmentKey, 'GET', '/v1/cases?kind=complaint&flag=reopened')).body.items as CaseView[]).map((c) => c.id)).toContain(id)
    expect((await act(dir.departmentKey, id, 'respond', { answer: '已彻底清理' })).status).toBe(200)
    expect((await act(hotline, id, 'reply', { message: '已再次回复' })).status).toBe(200)
    const closed = await act(hotline, id, 'callback', { satisfied: true })
    expect(closed.body).toMatchObject({ status: 'closed', closure: { via: 'callback', by: 'gz-12345' } })
    // Warnings depend on the hour the test runs (run at night or at a weekend, a step's warning is
    // already due when it starts): the steps are what this test checks.
    expect((await history(id)).map((e) => e.type).filter((type) => type !== 'deadline_warned')).toEqual([
      'received', 'dispatched', 'signed', 'responded', 'replied', 'called_back', 'reopened', 'responded', 'replied', 'called_back', 'closed',
    ])
    // Closed: the workflow has ended; the order stays readable.
    expect((await act(hotline, id, 'close', { note: 'x' })).body.code).toBe('invalid_transition')
    expect((await call(sys.app, dir.departmentKey, 'GET', `/v1/cases/${id}`)).body.status).toBe('closed')
  })

  it('refuses a dispatch to an unknown organisation or one that handles no cases (422), and a step out of order (409)', async () => {
    const id = ((await file()).body as CaseView).id
    const hotline = key('gz-12345/hotline')
    expect((await act(hotline, id, 'dispatch', { toOrganizationId: 'no-such-org' })).body.code).toBe('unprocessable')
    expect((await act(hotline, id, 'dispatch', { toOrganizationId: 'th-12345' })).body.code).toBe('unprocessable')
    expect(await act(hotline, id, 'reply', { message: 'm' })).toMatchObject({ status: 409, body: { code: 'invalid_transition' } })
    expect(await act(hotline, id, 'dispatch', { toOrganizationId: 'gz-amr', within: { duration: 'P1M' } }))
      .toMatchObject({ status: 400, body: { code: 'validation_failed' } })
    expect((await history(id)).map((e) => e.type)).toEqual(['received'])
  })
})

describe('who may do what to a work order (rules 27, 28)', () => {
  it('rule 27: only the owner closes: a hotline or window elsewhere that sees the order hears 403, one that does not 404', async () => {
    const id = await repliedOrder()
    const before = await history(id)
    // The department it was dispatched to sees it; its window and hotline keys are still not the owner.
    for (const stranger of [key('gz-amr/window'), key('gz-amr/hotline')]) {
      for (const [action, params] of [['close', { note: 'n' }], ['callback', { satisfied: true }]] as const) {
        const r = await act(stranger, id, action, params)
        expect({ action, status: r.status, code: r.body.code }).toEqual({ action, status: 403, code: 'forbidden' })
      }
    }
    // Another hotline is not told the order exists.
    expect(await act(key('th-12345/hotline'), id, 'close', { note: 'n' })).toMatchObject({ status: 404, body: { code: 'not_found' } })
    expect(await act(dir.windowKey, id, 'close', { note: 'n' })).toMatchObject({ status: 404, body: { code: 'not_found' } })
    // The owner's department key is the wrong role.
    expect((await act(key('gz-12345/department'), id, 'close', { note: 'n' })).status).toBe(403)
    expect(await history(id)).toEqual(before)
    const closed = await act(key('gz-12345/window'), id, 'close', { note: '市民电话无法接通' })
    expect(closed.body).toMatchObject({ status: 'closed', closure: { via: 'close', note: '市民电话无法接通' } })
  })

  it('rule 28: only the department handling it signs and returns; a unit it was taken from hears 403', async () => {
    const id = await dispatchedOrder()
    const hotline = key('gz-12345/hotline')
    expect((await act(hotline, id, 'dispatch', { toOrganizationId: 'gz-hr' })).status).toBe(200)
    for (const [action, params] of [['sign', {}], ['return', { reason: 'r' }], ['respond', { answer: 'a' }]] as const) {
      const r = await act(dir.departmentKey, id, action, params)
      expect({ action, status: r.status, code: r.body.code }).toEqual({ action, status: 403, code: 'forbidden' })
    }
    expect((await act(hotline, id, 'sign')).status).toBe(403)
    expect((await act(dir.otherDepartmentKey, id, 'sign')).status).toBe(200)
    const returned = await act(dir.otherDepartmentKey, id, 'return', { reason: '不属本单位职责' })
    expect(returned.body).toMatchObject({ status: 'received', handlingOrganizationId: 'gz-12345' })
    expect(returned.body.dispatches.at(-1)).toMatchObject({ organizationId: 'gz-hr', returnReason: '不属本单位职责' })
    // Both units keep seeing it (rule 27: they took part).
    for (const as of [dir.departmentKey, dir.otherDepartmentKey]) expect((await call(sys.app, as, 'GET', `/v1/cases/${id}`)).status).toBe(200)
  })

  it('a department or supervisor of another district cannot read it (404); the owner\'s supervisors can', async () => {
    const id = await dispatchedOrder()
    for (const as of [key('th-amr/department'), key('th-supervision/supervisor')]) {
      expect(await call(sys.app, as, 'GET', `/v1/cases/${id}`)).toMatchObject({ status: 404, body: { code: 'not_found' } })
      expect((await call(sys.app, as, 'GET', `/v1/cases/${id}/history`)).status).toBe(404)
      expect(((await call(sys.app, as, 'GET', '/v1/cases?kind=complaint')).body.items as CaseView[]).map((c) => c.id)).not.toContain(id)
    }
    expect((await call(sys.app, dir.supervisorKey, 'GET', `/v1/cases/${id}`)).status).toBe(200)
  })

  it('masks the citizen\'s identity number and phone for supervisors and auditors, not for the hotline, window or department', async () => {
    const id = await dispatchedOrder()
    const citizenAs = async (as: string) => ((await call(sys.app, as, 'GET', `/v1/cases/${id}`)).body as CaseView).citizen
    for (const as of [dir.supervisorKey, dir.auditorKey]) {
      expect(await citizenAs(as)).toEqual({ name: '孙七', phone: '1371***5678', idNumber: '4401**********1234' })
      const listed = ((await call(sys.app, as, 'GET', '/v1/cases?kind=complaint')).body.items as CaseView[]).find((c) => c.id === id)
      expect(listed?.citizen?.idNumber).toBe('4401**********1234')
    }
    for (const as of [key('gz-12345/hotline'), key('gz-12345/window'), dir.departmentKey, ADMIN_KEY]) {
      expect(await citizenAs(as)).toEqual({ name: '孙七', phone: '13712345678', idNumber: '440106198506061234' })
    }
    // A citizen who gave no identity number has none to mask.
    const anonymous = ((await file(complaintBody({ citizen: { name: '匿名' } }))).body as CaseView).id
    expect(((await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${anonymous}`)).body as CaseView).citizen).toEqual({ name: '匿名' })
    // An application's applicant is masked as before.
    const application = (await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())).body as CaseView
    expect(((await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${application.id}`)).body as CaseView).applicant?.idNumber).toBe('4401**********1234')
  })
})
