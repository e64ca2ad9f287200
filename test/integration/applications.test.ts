import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import { applicationBody, call, type Directory, ITEM_CODE, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'
import { shanghaiYear } from '../support/test-epoch.ts'

let sys: TestSystem
let dir: Directory

beforeAll(async () => {
  // Cases here start at the real now: every year their deadlines reach is published, so they are
  // final (not provisional) whichever years the official data covers.
  sys = await startTestSystem({ calendarPublishedThrough: shanghaiYear(Date.now()) + 2 })
  dir = await seedDirectory(sys.app)
})
afterAll(async () => sys?.stop())

const submit = (body: unknown = applicationBody(), headers: Record<string, string> = {}) =>
  call(sys.app, dir.windowKey, 'POST', '/v1/applications', body, headers)

describe('POST /v1/applications', () => {
  it('creates a case that runs as a workflow and is readable at once', async () => {
    const created = await submit()
    expect(created.status).toBe(201)
    const view = created.body as CaseView
    expect(view).toMatchObject({
      kind: 'application', status: 'submitted', version: 1, serviceItemCode: ITEM_CODE, serviceItemVersion: 1,
      handlingOrganizationId: 'gz-amr', receivedBy: 'gz-center', channel: 'window',
      priority: { greenChannel: false, urgent: false },
    })
    expect(view.deadlines).toEqual([expect.objectContaining({ kind: 'acceptance', state: 'running', provisional: false })])
    // Identity cards come from shared data in a later step; here only what was handed in counts.
    expect(view.missingMaterials).toEqual(['id-card'])
    const read = await call(sys.app, dir.departmentKey, 'GET', `/v1/cases/${view.id}`)
    expect(read.status).toBe(200)
    expect(read.body).toMatchObject({ id: view.id, version: 1, status: 'submitted' })
    const described = await sys.client.workflow.getHandle(view.id).describe()
    expect(described.status.name).toBe('RUNNING')
    expect(described.taskQueue).toBe(sys.queues.applications)
  })

  it('rule 18: records who submitted on the applicant\'s behalf, in the case and the first event of its history', async () => {
    const created = await submit(applicationBody({ submittedOnBehalfBy: 'helper-07 (帮办代办)' }))
    expect(created.status).toBe(201)
    const { id, submittedOnBehalfBy } = created.body as CaseView
    expect(submittedOnBehalfBy).toBe('helper-07 (帮办代办)')
    expect((await call(sys.app, dir.departmentKey, 'GET', `/v1/cases/${id}`)).body).toMatchObject({ submittedOnBehalfBy: 'helper-07 (帮办代办)' })
    const history = (await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${id}/history`)).body as { events: Array<{ type: string; data: Record<string, unknown> }> }
    expect(history.events[0]).toMatchObject({ type: 'submitted', data: { submittedOnBehalfBy: 'helper-07 (帮办代办)' } })
    expect((await submit()).body).not.toHaveProperty('submittedOnBehalfBy')
  })

  it('yields one case for the same Idempotency-Key sent 20 times at once', async () => {
    const headers = { 'idempotency-key': 'window-req-20x' }
    const answers = await Promise.all(Array.from({ length: 20 }, () => submit(applicationBody(), headers)))
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201))
    const ids = new Set(answers.map((a) => (a.body as CaseView).id))
    expect(ids.size).toBe(1)
    const [id] = [...ids]
    const history = await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${id}/history`)
    expect((history.body as { events: unknown[] }).events).toHaveLength(1)
    // Instants leave the database as ISO 8601 in UTC, not in Postgres's text form.
    expect((history.body as { events: Array<{ at: string }> }).events[0]!.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    const count = await sys.db.database.pool.query('SELECT count(*)::int AS n FROM cases WHERE id = $1', [id])
    expect(count.rows[0].n).toBe(1)
  })

  it('refuses the same Idempotency-Key with a different body (409 idempotency_conflict)', async () => {
    const headers = { 'idempotency-key': 'window-req-conflict' }
    expect((await submit(applicationBody(), headers)).status).toBe(201)
    const before = await sys.db.database.pool.query('SELECT count(*)::int AS n FROM cases')
    const other = await submit(applicationBody({ channel: 'online' }), headers)
    expect(other.status).toBe(409)
    expect(other.headers['content-type']).toContain('application/problem+json')
    expect(other.body).toMatchObject({ code: 'idempotency_conflict', status: 409 })
    const after = await sys.db.database.pool.query('SELECT count(*)::int AS n FROM cases')
    expect(after.rows[0].n).toBe(before.rows[0].n)
  })

  it('answers malformed JSON, unknown fields, wrong types and missing auth with problem+json codes', async () => {
    const before = await sys.db.database.pool.query('SELECT count(*)::int AS n FROM cases')
    const malformed = await sys.app.inject({
      method: 'POST', url: '/v1/applications', payload: '{"serviceItemCode": ',
      headers: { authorization: `Bearer ${dir.windowKey}`, 'content-type': 'application/json' },
    })
    expect(malformed.statusCode).toBe(400)
    expect(malformed.headers['content-type']).toContain('application/problem+json')
    expect(malformed.json()).toMatchObject({ code: 'validation_failed', status: 400 })

    const unknownField = await submit({ ...applicationBody(), favouriteColour: 'red' })
    expect(unknownField.status).toBe(400)
    expect(unknownField.body).toMatchObject({ code: 'validation_failed' })

    const wrongType = await submit({ ...applicationBody(), materials: 'none' })
    expect(wrongType.status).toBe(400)
    expect(wrongType.body).toMatchObject({ code: 'validation_failed', errors: expect.arrayContaining([expect.objectContaining({ path: 'body/materials' })]) })

    const numberAsString = await submit(applicationBody({ priority: { urgent: 'yes' } }))
    expect(numberAsString.status).toBe(400)

    const noAuth = await sys.app.inject({ method: 'POST', url: '/v1/applications', payload: applicationBody() })
    expect(noAuth.statusCode).toBe(401)
    expect(noAuth.json()).toMatchObject({ code: 'unauthenticated' })

    const badKey = await call(sys.app, 'not-a-key', 'POST', '/v1/applications', applicationBody())
    expect(badKey.status).toBe(401)

    const wrongRole = await call(sys.app, dir.departmentKey, 'POST', '/v1/applications', applicationBody())
    expect(wrongRole.status).toBe(403)
    expect(wrongRole.body).toMatchObject({ code: 'forbidden' })

    const unpublished = await submit(applicationBody({ serviceItemCode: 'no-such-item' }))
    expect(unpublished.status).toBe(422)
    expect(unpublished.body).toMatchObject({ code: 'unprocessable' })

    const after = await sys.db.database.pool.query('SELECT count(*)::int AS n FROM cases')
    expect(after.rows[0].n).toBe(before.rows[0].n)
  })
})

describe('POST /v1/cases/{id}/actions accept', () => {
  it('accepts through a workflow update and answers with the projected effect', async () => {
    const { body } = await submit()
    const id = (body as CaseView).id
    const accepted = await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })
    expect(accepted.status).toBe(200)
    const view = accepted.body as CaseView
    expect(view).toMatchObject({ status: 'accepted', version: 2 })
    expect(view.deadlines.map((d) => [d.kind, d.state])).toEqual([['acceptance', 'met'], ['promised', 'running'], ['statutory', 'running']])
    // Read-your-writes: the next read already shows it.
    const read = await call(sys.app, dir.windowKey, 'GET', `/v1/cases/${id}`)
    expect(read.body).toMatchObject({ status: 'accepted', version: 2 })
    const history = await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${id}/history`)
    const events = (history.body as { events: Array<{ seq: number; type: string; actor: unknown; hash: string; prevHash: string }> }).events
    expect(events.map((e) => [e.seq, e.type])).toEqual([[1, 'submitted'], [2, 'accepted']])
    expect(events[1]!.actor).toMatchObject({ organizationId: 'gz-amr', role: 'department' })
    expect(events[1]!.prevHash).toBe(events[0]!.hash)
  })

  it('refuses accept in the wrong state with 409 invalid_transition and records nothing', async () => {
    const { body } = await submit()
    const id = (body as CaseView).id
    expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })).status).toBe(200)
    const again = await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ code: 'invalid_transition' })
    const history = await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${id}/history`)
    expect((history.body as { events: unknown[] }).events).toHaveLength(2)
  })

  it('lets only the handling department accept, and refuses unknown actions and parameters', async () => {
    const { body } = await submit()
    const id = (body as CaseView).id
    const stranger = await call(sys.app, dir.otherDepartmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })
    expect(stranger.status).toBe(404)
    const supervisor = await call(sys.app, dir.supervisorKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })
    expect(supervisor.status).toBe(403)
    const unknown = await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'teleport' })
    expect(unknown.status).toBe(400)
    expect(unknown.body).toMatchObject({ code: 'validation_failed' })
    const extra = await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept', speed: 'fast' })
    expect(extra.status).toBe(400)
    const missing = await call(sys.app, dir.departmentKey, 'POST', '/v1/cases/A-nope/actions', { action: 'accept' })
    expect(missing.status).toBe(404)
  })
})

describe('reading cases', () => {
  it('lists visible cases in priority then due order with keyset pages', async () => {
    const urgent = await submit(applicationBody({ priority: { greenChannel: true, urgent: true } }))
    const page1 = await call(sys.app, dir.departmentKey, 'GET', '/v1/cases?limit=2')
    expect(page1.status).toBe(200)
    const first = page1.body as { items: CaseView[]; nextCursor: string | null }
    expect(first.items[0]!.id).toBe((urgent.body as CaseView).id)
    expect(first.nextCursor).not.toBeNull()
    const seen = new Set(first.items.map((c) => c.id))
    let cursor = first.nextCursor
    while (cursor) {
      const next = await call(sys.app, dir.departmentKey, 'GET', `/v1/cases?limit=2&cursor=${cursor}`)
      const page = next.body as { items: CaseView[]; nextCursor: string | null }
      for (const c of page.items) {
        expect(seen.has(c.id)).toBe(false)
        seen.add(c.id)
      }
      cursor = page.nextCursor
    }
    const total = await sys.db.database.pool.query('SELECT count(*)::int AS n FROM cases WHERE \'gz-amr\' = ANY(organizations)')
    expect(seen.size).toBe(total.rows[0].n)
    const stranger = await call(sys.app, dir.otherDepartmentKey, 'GET', '/v1/cases')
    expect((stranger.body as { items: unknown[] }).items).toHaveLength(0)
  })

  it('masks identity numbers for roles that do not need them', async () => {
    const { body } = await submit()
    const id = (body as CaseView).id
    const asAuditor = await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${id}`)
    expect((asAuditor.body as CaseView).applicant?.idNumber).toBe('4401**********1234')
    const asDepartment = await call(sys.app, dir.departmentKey, 'GET', `/v1/cases/${id}`)
    expect((asDepartment.body as CaseView).applicant?.idNumber).toBe('440106199001011234')
  })

  it('reconstructs a case as it was at an instant', async () => {
    const { body } = await submit()
    const id = (body as CaseView).id
    const between = new Date().toISOString()
    await new Promise((r) => setTimeout(r, 20))
    await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })
    const then = await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${id}?at=${encodeURIComponent(between)}`)
    expect(then.body).toMatchObject({ status: 'submitted', version: 1 })
    const now = await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${id}`)
    expect(now.body).toMatchObject({ status: 'accepted', version: 2 })
    const before = await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${id}?at=2000-01-01T00:00:00Z`)
    expect(before.status).toBe(404)
  })

  it('keeps the audit record append-only in the database itself', async () => {
    const { body } = await submit()
    const id = (body as CaseView).id
    await expect(sys.db.database.pool.query('UPDATE case_events SET type = \'forged\' WHERE case_id = $1', [id])).rejects.toThrow(/append-only/)
    await expect(sys.db.database.pool.query('DELETE FROM case_events WHERE case_id = $1', [id])).rejects.toThrow(/append-only/)
  })
})

describe('GET /metrics', () => {
  /** `banjian_command_duration_seconds_count` by `command/kind/outcome`. */
  async function commandCounts(): Promise<Record<string, number>> {
    const text = (await sys.app.inject({ method: 'GET', url: '/metrics' })).body
    const counts: Record<string, number> = {}
    for (const m of text.matchAll(/^banjian_command_duration_seconds_count\{command="([^"]*)",kind="([^"]*)",outcome="([^"]*)"\} (\d+)$/gm)) {
      counts[`${m[1]}/${m[2]}/${m[3]}`] = Number(m[4])
    }
    return counts
  }

  it('times each command by name, case kind and outcome, refusals before the handler included', async () => {
    const before = await commandCounts()
    const id = ((await submit()).body as CaseView).id
    expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })).status).toBe(200)
    expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })).status).toBe(409)
    expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'no-such-action' })).status).toBe(400)
    // A department may not submit: refused by the route's access rule, before the handler runs.
    expect((await call(sys.app, dir.departmentKey, 'POST', '/v1/applications', applicationBody())).status).toBe(403)
    const after = await commandCounts()
    const added = Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n - (before[k] ?? 0)]).filter(([, n]) => n !== 0))
    expect(added).toEqual({
      'submit/application/done': 1, 'submit/application/refused': 1,
      'accept/application/done': 1, 'accept/application/refused': 1, 'action/unknown/refused': 1,
    })
  })

  it('times each call to Temporal apart, so that a command\'s time splits into Temporal\'s and the API\'s own', async () => {
    const calls = async () => {
      const text = (await sys.app.inject({ method: 'GET', url: '/metrics' })).body
      const count = (call: string) => Number(new RegExp(`^banjian_temporal_call_duration_seconds_count\\{call="${call}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
      return { startCase: count('startCase'), act: count('act') }
    }
    const before = await calls()
    const id = ((await submit()).body as CaseView).id
    expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })).status).toBe(200)
    // Refused by the workflow's validator: Temporal was asked, and the call is timed all the same.
    expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })).status).toBe(409)
    // Refused at the edge: Temporal is never asked.
    expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'no-such-action' })).status).toBe(400)
    expect(await calls()).toEqual({ startCase: before.startCase + 1, act: before.act + 2 })
  })

  it('gauges open, warned and overdue cases by kind and handling organisation from the read side', async () => {
    const gauge = async (name: string) => Number(new RegExp(`^${name}\\{kind="application",organization="gz-amr"\\} (\\d+)$`, 'm')
      .exec((await sys.app.inject({ method: 'GET', url: '/metrics' })).body)?.[1] ?? 0)
    const before = await gauge('banjian_cases_open')
    await submit()
    expect(await gauge('banjian_cases_open')).toBe(before + 1)
    const open = await sys.db.database.pool.query('SELECT count(*)::int AS n FROM cases WHERE kind = \'application\' AND handling_organization_id = \'gz-amr\' AND open')
    expect(await gauge('banjian_cases_open')).toBe(open.rows[0].n)
    expect((await sys.app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^banjian_read_side_up 1$/m)
  })
})
