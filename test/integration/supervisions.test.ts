import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProjectionActivities } from '../../src/activities/projection.ts'
import { createOrganizationReads } from '../../src/db/organizations.ts'
import { ApplicationCase, caseLimits } from '../../src/domain/application/application-case.ts'
import type { RecordedEvent } from '../../src/domain/case-view.ts'
import type { Actor } from '../../src/domain/roles.ts'
import { call } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal } from '../support/system.ts'
import { calendarWith, testGuide } from '../support/time-skipping.ts'

// GET /v1/supervisions (API.md "Supervision and reporting") over the supervisions projection,
// fed by real application cases whose records climb the tree (the kernel, through the projection
// activity), on real Postgres. The workflow side is in test/workflow/supervision-levels.test.ts.

let env: Awaited<ReturnType<typeof startAppWithoutTemporal>>
const keys: Record<string, string> = {}
const WINDOW: Actor = { organizationId: 'gz-center', role: 'window' }
const YX_AMR: Actor = { organizationId: 'gz-yx-amr', role: 'department' }
const CITY: Actor = { organizationId: 'gz', role: 'supervisor' }

// root ⊃ gz (city) ⊃ gz-yx, gz-hp (districts) ⊃ gz-yx-amr, gz-hp-amr (their departments); gz-center under gz.
const TREE: Array<[string, string, string?]> = [
  ['root', 'government'], ['gz', 'government', 'root'], ['gz-center', 'service-center', 'gz'],
  ['gz-yx', 'government', 'gz'], ['gz-yx-amr', 'department', 'gz-yx'], ['gz-hp', 'government', 'gz'], ['gz-hp-amr', 'department', 'gz-hp'],
]

beforeAll(async () => {
  env = await startAppWithoutTemporal('supervision lists read the projection only')
  for (const [id, kind, parentId] of TREE) {
    const r = await call(env.app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, ...(parentId ? { parentId } : {}) })
    expect(r.status).toBe(200)
  }
  for (const [name, organizationId, role] of [
    ['admin', 'root', 'admin'], ['auditor', 'root', 'auditor'], ['yx', 'gz-yx', 'supervisor'], ['hp', 'gz-hp', 'supervisor'],
    ['yxAmr', 'gz-yx-amr', 'department'], ['hpAmr', 'gz-hp-amr', 'department'],
  ] as const) {
    const r = await call(env.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role })
    keys[name] = (r.body as { key: string }).key
  }
  await seedCases()
})
afterAll(async () => env?.stop())

/** Case A (in gz-yx): level 1 on gz-yx-amr answered late, level 2 on gz-yx unanswered. Case B (in gz-hp): an order due next year. */
async function seedCases(): Promise<void> {
  const { recordCaseEvents } = createProjectionActivities({ database: env.db.database })
  const parents = createOrganizationReads(env.db.database.db)
  const project = (caseId: string, recorded: RecordedEvent[]) => recordCaseEvents({ caseId, recorded })

  const a = ApplicationCase.submit({
    id: 'A-LEVELS', guide: testGuide({ departmentId: 'gz-yx-amr' }), actor: WINDOW, calendar: calendarWith(), at: '2026-03-02T02:00:00.000Z',
    limits: caseLimits(), submission: {
      applicant: { type: 'person', name: '李四', idNumber: '440106198805052345' }, channel: 'window',
      priority: { greenChannel: false, urgent: false }, materials: [{ code: 'form', ref: 'doc://form', source: 'applicant' }],
    },
  })
  await project('A-LEVELS', a.recorded)
  const kase = a.application
  await project('A-LEVELS', kase.apply({ action: 'accept', actor: YX_AMR, params: {} }, '2026-03-02T03:00:00.000Z'))
  // What the runner does before a step falls due: the tree, from the database.
  kase.place(await parents.parentsOf(kase.unplacedBy(Number.POSITIVE_INFINITY)))
  await project('A-LEVELS', kase.advance(kase.book.get('promised')!.dueAt))
  kase.place(await parents.parentsOf(kase.unplacedBy(Number.POSITIVE_INFINITY)))
  await project('A-LEVELS', kase.advance(kase.book.get('supervision:S1')!.dueAt))
  await project('A-LEVELS', kase.apply({ action: 'respond_supervision', actor: YX_AMR, params: { note: 'short of staff' } }, '2026-03-20T02:00:00.000Z'))

  const now = new Date().toISOString()
  const b = ApplicationCase.submit({
    id: 'B-ORDER', guide: testGuide({ departmentId: 'gz-hp-amr' }), actor: WINDOW, calendar: calendarWith(), at: now, limits: caseLimits(),
    submission: {
      applicant: { type: 'person', name: '王五', idNumber: '440106198805050000' }, channel: 'window',
      priority: { greenChannel: false, urgent: false }, materials: [{ code: 'form', ref: 'doc://form', source: 'applicant' }],
    },
  })
  await project('B-ORDER', b.recorded)
  await project('B-ORDER', b.application.apply({ action: 'supervise', actor: CITY, params: { note: 'why so slow?', respondWithin: { duration: 'P300D' } } }, now))
}

const list = async (key: string, query = '') => {
  const r = await call(env.app, key, 'GET', `/v1/supervisions${query}`)
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body as { items: Array<Record<string, unknown>>; nextCursor: string | null }
}
const ids = (page: { items: Array<Record<string, unknown>> }) => page.items.map((s) => `${s.caseId}/${s.id}`)

describe('the organisation tree, as a case climbs it', () => {
  it('gives each organisation\'s parent and its ancestors\', null at the root and for unknown ids', async () => {
    const parents = await createOrganizationReads(env.db.database.db).parentsOf(['gz-yx-amr', 'nowhere'])
    expect(parents).toEqual({ 'gz-yx-amr': 'gz-yx', 'gz-yx': 'gz', gz: 'root', root: null, nowhere: null })
    expect(await createOrganizationReads(env.db.database.db).parentsOf([])).toEqual({})
  })
})

describe('GET /v1/supervisions', () => {
  it('lists every record of every case with its level, both organisations, due date and state, in the order opened', async () => {
    const all = await list(keys.admin!)
    expect(ids(all)).toEqual(['A-LEVELS/S1', 'A-LEVELS/S2', 'B-ORDER/S1'])
    expect(all.items[0]).toEqual({
      caseId: 'A-LEVELS', caseKind: 'application', id: 'S1', kind: 'automatic', level: 1, organizationId: 'gz-yx-amr',
      supervisorOrganizationId: 'gz-yx', reason: 'promised deadline missed', openedAt: '2026-03-09T16:00:00.000Z',
      dueAt: '2026-03-13T16:00:00.000Z', respondedAt: '2026-03-20T02:00:00.000Z', response: 'short of staff', state: 'answered',
    })
    expect(all.items[1]).toMatchObject({
      level: 2, organizationId: 'gz-yx', supervisorOrganizationId: 'gz', reason: 'level 1 supervision unanswered by gz-yx-amr',
      respondedAt: null, response: null, state: 'overdue',
    })
    expect(all.items[2]).toMatchObject({ kind: 'order', level: null, organizationId: 'gz-hp-amr', supervisorOrganizationId: null, state: 'open' })
    expect(Date.parse(all.items[2]!.dueAt as string)).toBeGreaterThan(Date.now())
    expect(ids(await list(keys.auditor!))).toEqual(ids(all))
  })

  it('filters by state: open, answered, overdue', async () => {
    expect(ids(await list(keys.admin!, '?state=answered'))).toEqual(['A-LEVELS/S1'])
    expect(ids(await list(keys.admin!, '?state=overdue'))).toEqual(['A-LEVELS/S2'])
    expect(ids(await list(keys.admin!, '?state=open'))).toEqual(['B-ORDER/S1'])
  })

  it('matches an organisation when it owes or watches a record, or lies above either', async () => {
    expect(ids(await list(keys.admin!, '?organizationId=gz-yx-amr'))).toEqual(['A-LEVELS/S1'])
    expect(ids(await list(keys.admin!, '?organizationId=gz-yx'))).toEqual(['A-LEVELS/S1', 'A-LEVELS/S2'])
    expect(ids(await list(keys.admin!, '?organizationId=gz-hp'))).toEqual(['B-ORDER/S1'])
    // The city is above everything, and watches level 2.
    expect(ids(await list(keys.admin!, '?organizationId=gz'))).toHaveLength(3)
    expect(ids(await list(keys.admin!, '?organizationId=gz-center'))).toEqual([])
    expect(ids(await list(keys.admin!, '?organizationId=gz-yx&state=overdue'))).toEqual(['A-LEVELS/S2'])
  })

  it('shows a supervisor its own subtree, and a department what it owes or watches', async () => {
    expect(ids(await list(keys.yx!))).toEqual(['A-LEVELS/S1', 'A-LEVELS/S2'])
    expect(ids(await list(keys.hp!))).toEqual(['B-ORDER/S1'])
    // Another district's filter does not widen what a supervisor sees.
    expect(ids(await list(keys.hp!, '?organizationId=gz-yx'))).toEqual([])
    expect(ids(await list(keys.yxAmr!))).toEqual(['A-LEVELS/S1'])
    expect(ids(await list(keys.hpAmr!))).toEqual(['B-ORDER/S1'])
  })

  it('pages with a signed cursor', async () => {
    const first = await list(keys.admin!, '?limit=2')
    expect(ids(first)).toEqual(['A-LEVELS/S1', 'A-LEVELS/S2'])
    const second = await list(keys.admin!, `?limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`)
    expect(ids(second)).toEqual(['B-ORDER/S1'])
    expect(second.nextCursor).toBeNull()
    const forged = await call(env.app, keys.admin!, 'GET', `/v1/supervisions?cursor=${encodeURIComponent(`${first.nextCursor!}x`)}`)
    expect(forged.status).toBe(400)
  })

  it('refuses an unknown state or organisation id shape with a problem, and callers without a key', async () => {
    const bad = await call(env.app, keys.admin!, 'GET', '/v1/supervisions?state=late')
    expect(bad.status).toBe(400)
    expect(bad.headers['content-type']).toContain('application/problem+json')
    expect((bad.body as { code: string }).code).toBe('validation_failed')
    expect((await call(env.app, keys.admin!, 'GET', '/v1/supervisions?organizationId=%25')).status).toBe(400)
    expect((await env.app.inject({ method: 'GET', url: '/v1/supervisions' })).statusCode).toBe(401)
  })
})
