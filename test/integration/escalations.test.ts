import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import { applicationBody, call, CASE_ATTRIBUTES, type Directory, itemDraft, searchAttributeWrites, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'
import { shanghaiYear } from '../support/test-epoch.ts'

// Escalations (办不成事, DOMAIN rules 21 and 22; API.md "Escalations") end to end: HTTP on the real
// dev server and Postgres.

let sys: TestSystem
let dir: Directory
/** A window of another service centre, a window key of the assignee's own organisation, a department of another district. */
let keys: { otherCentreWindow: string; amrWindow: string; districtDepartment: string; hotline: string }

beforeAll(async () => {
  sys = await startTestSystem({ calendarPublishedThrough: shanghaiYear(Date.now()) + 2 })
  // A promise of two seconds: an accepted application is overdue almost at once.
  dir = await seedDirectory(sys.app, itemDraft({ promisedLimit: { duration: 'PT2S' }, statutoryLimit: { duration: 'P1D' } }))
  for (const [id, kind, parentId] of [['gz-center-2', 'service-center', 'gz'], ['gz-tianhe', 'government', 'gz'],
    ['gz-tianhe-amr', 'department', 'gz-tianhe'], ['gz-12345', 'hotline', 'gz']]) {
    const r = await call(sys.app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })
    if (r.status !== 200) throw new Error(`seeding ${id}: ${JSON.stringify(r.body)}`)
  }
  const key = async (organizationId: string, role: string) =>
    ((await call(sys.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role })).body as { key: string }).key
  keys = {
    otherCentreWindow: await key('gz-center-2', 'window'), amrWindow: await key('gz-amr', 'window'),
    districtDepartment: await key('gz-tianhe-amr', 'department'), hotline: await key('gz-12345', 'hotline'),
  }
})
afterAll(async () => sys?.stop())

const complainant = { name: '王五', phone: '13800000000', idNumber: '440106198805052345' }
const escalationBody = (overrides: Record<string, unknown> = {}) => ({
  category: 'overdue', complainant, description: 'my licence is late', ...overrides,
})
const file = (body: unknown, key = dir.windowKey, headers: Record<string, string> = {}) =>
  call(sys.app, key, 'POST', '/v1/escalations', body, headers)
async function filed(body: Record<string, unknown> = escalationBody(), key = dir.windowKey): Promise<CaseView> {
  const r = await file(body, key)
  if (r.status !== 201) throw new Error(`filing: ${JSON.stringify(r.body)}`)
  return r.body as CaseView
}
const act = (id: string, key: string, action: string, params: Record<string, unknown> = {}) =>
  call(sys.app, key, 'POST', `/v1/cases/${id}/actions`, { action, ...params })
async function done(id: string, key: string, action: string, params: Record<string, unknown> = {}): Promise<CaseView> {
  const r = await act(id, key, action, params)
  if (r.status !== 200) throw new Error(`${action}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body as CaseView
}
const get = (id: string, key = dir.windowKey) => call(sys.app, key, 'GET', `/v1/cases/${id}`)
const historyOf = async (id: string) =>
  ((await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${id}/history`)).body as { events: Array<{ type: string; data: unknown }> }).events

async function submittedApplication(): Promise<CaseView> {
  const r = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())
  if (r.status !== 201) throw new Error(`submission: ${JSON.stringify(r.body)}`)
  return r.body as CaseView
}

describe('rules 21 and 22: an overdue application escalated, handled and closed', () => {
  it('makes the overdue application eligible, files the escalation about it, and both histories tell the story', async () => {
    const application = await submittedApplication()
    expect(application.escalationEligible).toBe(false)
    await done(application.id, dir.departmentKey, 'accept')
    await expect.poll(async () => ((await get(application.id)).body as CaseView).escalationEligible, { timeout: 20_000, interval: 250 }).toBe(true)
    expect(((await get(application.id)).body as CaseView).overdue).toBe(true)

    const escalation = await filed(escalationBody({ relatedCaseId: application.id }))
    expect(escalation.id).toMatch(/^E\d{8}-[0-9A-Z]{10}$/)
    expect(escalation).toMatchObject({
      kind: 'escalation', status: 'received', receivedBy: 'gz-center', ownerOrganizationId: 'gz-center', handlingOrganizationId: 'gz-center',
      channel: 'window', category: 'overdue', relatedCaseId: application.id, complainant, assignments: [],
    })
    expect(escalation.deadlines.map((d) => [d.kind, d.state])).toEqual([['accept', 'running'], ['feedback', 'running']])
    // Started with its search attributes (received, by the window's centre): its first event upserts none.
    expect(searchAttributeWrites((await sys.client.workflow.getHandle(escalation.id).fetchHistory()).events ?? []))
      .toEqual({ started: CASE_ATTRIBUTES, upserts: [] })

    expect((await done(escalation.id, dir.windowKey, 'accept')).status).toBe('accepted')
    const assigned = await done(escalation.id, dir.windowKey, 'assign', { toOrganizationId: 'gz-amr' })
    expect(assigned).toMatchObject({ status: 'assigned', handlingOrganizationId: 'gz-amr' })
    expect(assigned.deadlines.find((d) => d.kind === 'handle')).toMatchObject({ key: 'handle:1', state: 'running', organizationId: 'gz-amr' })
    // The assignee sees it in its queue.
    const queue = await call(sys.app, dir.departmentKey, 'GET', '/v1/cases?kind=escalation')
    expect((queue.body as { items: CaseView[] }).items.map((c) => c.id)).toContain(escalation.id)
    await done(escalation.id, dir.departmentKey, 'respond', { resolution: 'decided today', resolved: true })
    await done(escalation.id, dir.windowKey, 'feedback', { message: 'your case was decided' })
    const closed = await done(escalation.id, dir.windowKey, 'close', { satisfied: true, comment: 'thank you' })
    expect(closed).toMatchObject({ status: 'closed', closure: { satisfied: true, comment: 'thank you' } })
    expect(closed.deadlines.every((d) => d.state === 'met')).toBe(true)

    expect((await historyOf(escalation.id)).map((e) => e.type))
      .toEqual(['received', 'accepted', 'assigned', 'responded', 'feedback_given', 'closed'])
    // The assignee keeps seeing it once it is closed.
    expect((await get(escalation.id, dir.departmentKey)).status).toBe(200)
    const story = await historyOf(application.id)
    expect(story.map((e) => e.type)).toEqual(expect.arrayContaining(['submitted', 'accepted', 'deadline_missed', 'supervision_opened', 'escalation_filed']))
    expect(story.filter((e) => e.type === 'escalation_filed')).toEqual([expect.objectContaining({ data: { escalationId: escalation.id } })])
    expect(((await get(application.id)).body as CaseView).escalations).toEqual([escalation.id])
  })
})

describe('rule 27: who may do what with an escalation', () => {
  it('only the assignee responds, only the owner closes, another district cannot read it, and reopening is once', async () => {
    const { id } = await filed()
    // Another centre's window does not even see it.
    expect((await act(id, keys.otherCentreWindow, 'accept')).status).toBe(404)
    await done(id, dir.supervisorKey, 'accept')
    // Assigned first to gz-hr, then to gz-amr: gz-hr took part and keeps seeing it, but no longer answers.
    await done(id, dir.windowKey, 'assign', { toOrganizationId: 'gz-hr' })
    await done(id, dir.windowKey, 'assign', { toOrganizationId: 'gz-amr' })
    expect((await get(id, dir.otherDepartmentKey)).status).toBe(200)
    const stranger = await act(id, dir.otherDepartmentKey, 'respond', { resolution: 'not mine', resolved: false })
    expect(stranger).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    expect((await get(id, keys.districtDepartment)).status).toBe(404)
    expect((await call(sys.app, keys.districtDepartment, 'GET', `/v1/cases/${id}/history`)).status).toBe(404)
    await done(id, dir.departmentKey, 'respond', { resolution: 'not yet', resolved: false })
    await done(id, dir.windowKey, 'feedback', { message: 'not yet' })
    // A window of another organisation that sees the case (the assignee's) may not close it.
    expect(await act(id, keys.amrWindow, 'close', { satisfied: true })).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    await done(id, dir.windowKey, 'close', { satisfied: false })
    const reopened = await done(id, dir.windowKey, 'reopen', { reason: 'nothing happened' })
    expect(reopened).toMatchObject({ status: 'assigned', handlingOrganizationId: 'gz-amr' })
    await done(id, dir.departmentKey, 'respond', { resolution: 'done now', resolved: true })
    await done(id, dir.windowKey, 'feedback', { message: 'done now' })
    await done(id, dir.windowKey, 'close', { satisfied: false })
    expect(await act(id, dir.windowKey, 'reopen', { reason: 'again' })).toMatchObject({ status: 409, body: { code: 'invalid_transition' } })
  })

  it('masks the complainant\'s identity number and phone for supervisors and auditors, not for the window or the assignee', async () => {
    const { id } = await filed()
    await done(id, dir.windowKey, 'accept')
    await done(id, dir.windowKey, 'assign', { toOrganizationId: 'gz-amr' })
    for (const key of [dir.supervisorKey, dir.auditorKey]) {
      const r = await get(id, key)
      expect(r.body.complainant).toEqual({ name: '王五', phone: '1380***0000', idNumber: '4401**********2345' })
    }
    const listed = await call(sys.app, dir.auditorKey, 'GET', '/v1/cases?kind=escalation')
    expect((listed.body as { items: CaseView[] }).items.every((c) => !c.complainant?.idNumber || c.complainant.idNumber.includes('*'))).toBe(true)
    for (const key of [dir.windowKey, dir.departmentKey]) expect((await get(id, key)).body.complainant).toEqual(complainant)
  })

  it('is filed by a window of a comprehensive window or by the hotline, no one else', async () => {
    const byHotline = await filed(escalationBody(), keys.hotline)
    expect(byHotline).toMatchObject({ channel: 'hotline', ownerOrganizationId: 'gz-12345' })
    for (const key of [dir.departmentKey, dir.supervisorKey, dir.auditorKey, ADMIN_KEY, keys.amrWindow]) {
      expect(await file(escalationBody(), key)).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    }
  })
})

describe('filing: what the edge refuses', () => {
  it('422 for a related case that does not exist, nothing created', async () => {
    const r = await file(escalationBody({ relatedCaseId: 'A20260101-NOSUCHCASE' }), dir.windowKey, { 'idempotency-key': 'unknown-related' })
    expect(r).toMatchObject({ status: 422, body: { code: 'unprocessable' } })
    // The key was never bound: the same key with a good body makes a case.
    const good = await file(escalationBody(), dir.windowKey, { 'idempotency-key': 'unknown-related' })
    expect(good.status).toBe(201)
  })

  it.each([
    ['no complainant', { category: 'other', description: 'x' }],
    ['an unknown category', escalationBody({ category: 'angry' })],
    ['a description of blanks', escalationBody({ description: '   ' })],
    ['an unknown field', escalationBody({ urgent: true })],
    ['a complainant without a name', escalationBody({ complainant: { name: '' } })],
    ['a NUL in the description', escalationBody({ description: 'a\u0000b' })],
    ['a lone surrogate in the name', escalationBody({ complainant: { name: 'x\ud800' } })],
  ])('400 for %s', async (_what, body) => {
    expect(await file(body)).toMatchObject({ status: 400, body: { code: 'validation_failed' } })
  })

  it('a retried POST with the same Idempotency-Key returns the same case; another body with it is a conflict', async () => {
    const headers = { 'idempotency-key': 'escalation-retry-1' }
    const first = await file(escalationBody(), dir.windowKey, headers)
    const again = await file(escalationBody(), dir.windowKey, headers)
    expect(first.status).toBe(201)
    expect(again.status).toBe(201)
    expect(again.body.id).toBe(first.body.id)
    expect(again.body.version).toBe(1)
    const other = await file(escalationBody({ description: 'something else' }), dir.windowKey, headers)
    expect(other).toMatchObject({ status: 409, body: { code: 'idempotency_conflict' } })
  })

  it('takes its limits from the settings when filed, and a missed accept is overdue and supervised on the owner', async () => {
    const set = await call(sys.app, ADMIN_KEY, 'PUT', '/v1/settings/limits', { 'escalation.accept': { duration: 'PT2S' } })
    expect(set.status).toBe(200)
    try {
      const { id } = await filed()
      const [received] = await historyOf(id)
      expect(received!.data).toMatchObject({ limits: { accept: { duration: 'PT2S' }, handle: { workingDays: 5 }, feedback: { workingDays: 10 } } })
      await expect.poll(async () => ((await get(id)).body as CaseView).overdue, { timeout: 20_000, interval: 250 }).toBe(true)
      const late = (await get(id)).body as CaseView
      expect(late.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', organizationId: 'gz-center', deadlineKey: 'accept' })])
    } finally {
      await call(sys.app, ADMIN_KEY, 'PUT', '/v1/settings/limits', { 'escalation.accept': { workingDays: 1 } })
    }
  })
})
