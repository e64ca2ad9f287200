import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APPLICATION_ACTIONS, type ApplicationAction } from '../../src/domain/application/actions.ts'
import { type CaseView, isPending } from '../../src/domain/case-view.ts'
import { sharedMaterials } from '../../src/db/schema.ts'
import { applicationBody, call, CASE_ATTRIBUTES, type Directory, localActivityTypes, searchAttributeWrites, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'
import { caseKindKey, handlingOrgKey, provisionalKey, statusKey } from '../../src/workflows/search-attributes.ts'

let sys: TestSystem
let dir: Directory

beforeAll(async () => {
  sys = await startTestSystem()
  dir = await seedDirectory(sys.app)
  await call(sys.app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-tax', { name: 'Tax Bureau', kind: 'department', parentId: 'gz' })
})
afterAll(async () => sys?.stop())

/** Valid parameters for every action, so a refusal can only come from the case's state. */
const PARAMS: Record<ApplicationAction, Record<string, unknown>> = {
  accept: {},
  revoke: { reason: 'deferred lease never came' },
  check_commitment: { holds: true, note: 'licence checked' },
  reject: { reason: 'not competent' },
  request_supplement: { missing: ['lease'], note: 'lease unsigned' },
  supplement: { materials: [{ code: 'lease', ref: 'doc://lease/2' }] },
  transfer: { toOrganizationId: 'gz-hr', reason: 'competent department' },
  request_opinions: { organizationIds: ['gz-tax'], within: { workingDays: 3 } },
  give_opinion: { opinion: 'agree', agree: true },
  suspend: { reason: 'inspection', note: 'site visit' },
  resume: {},
  extend: { workingDays: 5, approvedBy: 'Director Chen', reason: 'complex' },
  approve: { note: 'ok' },
  deny: { reason: 'conditions not met' },
  issue_result: { certificateNo: 'GZ-1' },
  deliver: { method: 'mail' },
  withdraw: { reason: 'changed mind' },
  rate: { score: 5 },
  rectify: { note: 'fixed' },
  call_back: { satisfied: true },
  supervise: { note: 'hurry up', respondWithin: { workingDays: 2 } },
  respond_supervision: { note: 'done' },
}

const keyFor = (action: ApplicationAction) =>
  (APPLICATION_ACTIONS[action].roles as readonly string[]).includes('department') ? dir.departmentKey
    : (APPLICATION_ACTIONS[action].roles as readonly string[]).includes('window') ? dir.windowKey : dir.supervisorKey

const act = (id: string, action: ApplicationAction, key = keyFor(action), params = PARAMS[action]) =>
  call(sys.app, key, 'POST', `/v1/cases/${id}/actions`, { action, ...params })

const history = async (id: string) =>
  ((await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${id}/history`)).body as { events: Array<{ type: string; at: string; seq: number }> }).events

async function caseIn(path: ApplicationAction[]): Promise<string> {
  const created = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())
  const id = (created.body as CaseView).id
  for (const action of path) {
    const r = await act(id, action)
    if (r.status !== 200) throw new Error(`${action}: ${JSON.stringify(r.body)}`)
  }
  return id
}

describe('every action in the wrong state', () => {
  const states: Array<[string, ApplicationAction[], ApplicationAction[]]> = [
    // state, how to get there, the actions it allows
    ['submitted', [], ['accept', 'reject', 'request_supplement', 'transfer', 'withdraw', 'supervise']],
    ['accepted', ['accept'], ['transfer', 'request_opinions', 'suspend', 'extend', 'approve', 'deny', 'withdraw', 'supervise']],
    ['completed', ['accept', 'approve', 'issue_result', 'deliver'], ['rate']],
  ]
  for (const [state, path, allowed] of states) {
    it(`answers 409 invalid_transition in ${state} and records nothing`, async () => {
      const id = await caseIn(path)
      const before = await history(id)
      const refused = (Object.keys(APPLICATION_ACTIONS) as ApplicationAction[]).filter((a) => !allowed.includes(a))
      for (const action of refused) {
        const answer = await act(id, action)
        expect({ action, status: answer.status, code: (answer.body as { code: string }).code })
          .toEqual({ action, status: 409, code: 'invalid_transition' })
      }
      expect(await history(id)).toEqual(before)
    })
  }

  it('answers 409 on a closed case too', async () => {
    const id = await caseIn(['withdraw'])
    const closed = await act(id, 'accept')
    expect(closed.status).toBe(409)
    expect(closed.body).toMatchObject({ code: 'invalid_transition' })
  })
})

describe('the application lifecycle through the API', () => {
  it('rule 19: attaches materials held in shared data and never lists them as missing', async () => {
    await sys.db.database.db.insert(sharedMaterials).values({ source: 'resident-id', subject: sys.db.database.personal.subjectIndex('440106199001011234'), ref: 'elicence://id/440106199001011234' })
    const created = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())
    const view = created.body as CaseView
    expect(view.missingMaterials).toEqual([])
    expect(view.materials).toContainEqual({ code: 'id-card', ref: 'elicence://id/440106199001011234', source: 'shared' })
    const someoneElse = await call(sys.app, dir.windowKey, 'POST', '/v1/applications',
      applicationBody({ applicant: { type: 'person', name: '王五', idNumber: '440106197001019999' } }))
    expect((someoneElse.body as CaseView).missingMaterials).toEqual(['id-card'])
  })

  it('rule 16: puts green-channel and urgent cases first in the overdue and warned queues', async () => {
    // Per queue three cases, the ordinary one first (so due first), whose opinion deadline warns
    // and falls due soon: missed after 1 s for the overdue queue; for the warned queue, warned
    // after 36 s (four fifths of 45 s) and still running for 9 s more.
    const caseWithOpinionDue = async (priority: Record<string, boolean>, within: string) => {
      const created = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody({ priority }))
      const id = (created.body as CaseView).id
      expect((await act(id, 'accept')).status).toBe(200)
      expect((await act(id, 'request_opinions', dir.departmentKey, { organizationIds: ['gz-tax'], within: { duration: within } })).status).toBe(200)
      return id
    }
    const queues = { warned: 'PT45S', overdue: 'PT1S' } as const
    const cases: Record<string, { ordinary: string; green: string; urgent: string }> = {}
    for (const [flag, within] of Object.entries(queues)) {
      const ordinary = await caseWithOpinionDue({}, within)
      const green = await caseWithOpinionDue({ greenChannel: true }, within)
      cases[flag] = { ordinary, green, urgent: await caseWithOpinionDue({ urgent: true }, within) }
    }
    const queue = async (flag: string) =>
      ((await call(sys.app, dir.departmentKey, 'GET', `/v1/cases?kind=application&${flag}=true&limit=200`)).body as { items: CaseView[] })
        .items.map((c) => c.id)
    for (const flag of ['overdue', 'warned']) {
      const { ordinary, green, urgent } = cases[flag]!
      let ids: string[] = []
      await expect.poll(async () => {
        ids = await queue(flag)
        return [green, urgent, ordinary].every((id) => ids.includes(id))
      }, { timeout: 60_000, interval: 250 }).toBe(true)
      expect(ids.indexOf(green), flag).toBeLessThan(ids.indexOf(ordinary))
      expect(ids.indexOf(urgent), flag).toBeLessThan(ids.indexOf(ordinary))
    }
  }, 120_000)

  it('lets a supervisor order, and the department respond to, a supervision', async () => {
    const id = await caseIn(['accept'])
    const ordered = await act(id, 'supervise', dir.supervisorKey)
    expect(ordered.status).toBe(200)
    expect((ordered.body as CaseView).supervisions).toEqual([expect.objectContaining({ kind: 'order', organizationId: 'gz-amr', orderedBy: 'gz' })])
    expect((ordered.body as CaseView).deadlines.map((d) => d.kind)).toContain('supervision')
    const answered = await act(id, 'respond_supervision')
    expect((answered.body as CaseView).supervisions?.[0]).toMatchObject({ response: 'done' })
    expect((await act(id, 'respond_supervision')).status).toBe(409)
  })

  it('lets an opinion organisation see and answer the case, and refuses unknown organisations', async () => {
    const id = await caseIn(['accept'])
    const unknown = await act(id, 'request_opinions', dir.departmentKey, { organizationIds: ['nowhere'], within: { workingDays: 2 } })
    expect(unknown.status).toBe(422)
    expect((await act(id, 'request_opinions', dir.departmentKey, { organizationIds: ['gz-hr'], within: { workingDays: 2 } })).status).toBe(200)
    const seen = await call(sys.app, dir.otherDepartmentKey, 'GET', `/v1/cases/${id}`)
    expect(seen.status).toBe(200)
    const given = await act(id, 'give_opinion', dir.otherDepartmentKey)
    expect((given.body as CaseView).opinions).toEqual([expect.objectContaining({ organizationId: 'gz-hr', agree: true })])
    // In lists too: among gz-amr's cases gz-hr sees this one and none it had no part in; its own
    // queue (handled by gz-hr) holds none of them.
    const other = await caseIn(['accept'])
    const listed = async (query: string) => ((await call(sys.app, dir.otherDepartmentKey, 'GET', `/v1/cases?${query}`)).body as { items: CaseView[] })
      .items.map((c) => c.id)
    const amrCases = await listed('handlingOrganizationId=gz-amr&limit=200')
    expect(amrCases).toContain(id)
    expect(amrCases).not.toContain(other)
    expect(await listed('handlingOrganizationId=gz-hr&limit=200')).toEqual([])
    // Its worklist (no filter) holds the case it gave an opinion on, and never one it had no part in.
    const worklist = await listed('limit=200')
    expect(worklist).toContain(id)
    expect(worklist).not.toContain(other)
    expect((await listed('handlingOrganizationId=gz-amr&limit=200')).length)
      .toBeLessThan(((await call(sys.app, dir.departmentKey, 'GET', '/v1/cases?handlingOrganizationId=gz-amr&limit=200')).body as { items: unknown[] }).items.length)
  })

  it('starts an application under the current rules named in its input, with no patch marker in its history, and projects it by local activity', async () => {
    const created = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())
    const id = (created.body as CaseView).id
    const events = (await sys.client.workflow.getHandle(id).fetchHistory()).events ?? []
    // A patch marker would also upsert TemporalChangeVersion: one more visibility write per submission.
    const markers = events.map((e) => e.markerRecordedEventAttributes?.markerName).filter((name) => name !== undefined)
    expect(markers).not.toContain('core_patch')
    // The first event went to the read side by a local activity, with no activity task (issue 13);
    // pre-review (the item has a material in shared data) ran in the API, so that is all it ran.
    expect(new Set(markers)).toEqual(new Set(['core_local_activity']))
    expect(localActivityTypes(events)).toEqual(['recordCaseEvents'])
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'recordCaseEvents')).toEqual([])
    expect(searchAttributeWrites(events).upserts.flat()).not.toContain('TemporalChangeVersion')
    // The case follows the second rules (rule 29): withdrawn, it waits for its rating.
    expect((await act(id, 'withdraw', dir.windowKey)).status).toBe(200)
    const view = (await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${id}`)).body as CaseView
    expect(view.deadlines.some((d) => d.kind === 'rating' && d.state === 'running')).toBe(true)
  })

  it('starts a case with its search attributes, then upserts only those that changed, and none when a command changes none', async () => {
    const created = (await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())).body as CaseView
    const id = created.id
    const handle = sys.client.workflow.getHandle(id)
    const writes = async () => searchAttributeWrites((await handle.fetchHistory()).events ?? [])
    // The start sets all four, so the first event upserts none of them; only whether a deadline is
    // provisional may differ (it depends on the calendar years published today).
    const provisionalAtFirst = created.deadlines.some((d) => d.provisional && isPending(d))
    const firstUpserts = provisionalAtFirst ? [['BanjianProvisional']] : []
    expect(await writes()).toEqual({ started: CASE_ATTRIBUTES, upserts: firstUpserts })
    // Acceptance changes the status, and kind and organisation not.
    expect((await act(id, 'accept')).status).toBe(200)
    const [accepted, ...more] = (await writes()).upserts.slice(firstUpserts.length)
    expect(accepted).toContain('BanjianStatus')
    expect(accepted).not.toContain('BanjianCaseKind')
    expect(accepted).not.toContain('BanjianHandlingOrg')
    expect(more).toEqual([])
    // A supervisor's order and its answer leave kind, status, organisation and deadlines as they were.
    expect((await act(id, 'supervise', dir.supervisorKey)).status).toBe(200)
    const answered = (await act(id, 'respond_supervision')).body as CaseView
    expect((await writes()).upserts).toHaveLength(firstUpserts.length + 1)
    const held = (await handle.describe()).typedSearchAttributes
    const provisional = answered.deadlines.some((d) => d.provisional && isPending(d))
    expect([held.get(caseKindKey), held.get(statusKey), held.get(handlingOrgKey), held.get(provisionalKey)])
      .toEqual(['application', 'accepted', 'gz-amr', provisional])
  })

  it('runs a case from submission to delivery and rating, and replays it at any instant', async () => {
    const created = (await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())).body as CaseView
    const id = created.id
    const steps: Array<[ApplicationAction, string]> = [
      ['accept', dir.departmentKey], ['approve', dir.departmentKey], ['issue_result', dir.departmentKey],
      ['deliver', dir.windowKey], ['rate', dir.windowKey],
    ]
    const instants: Record<string, string> = {}
    for (const [action, key] of steps) {
      const r = await act(id, action, key)
      expect(r.status).toBe(200)
      instants[action] = new Date().toISOString()
      await new Promise((resolve) => setTimeout(resolve, 15))
    }
    const final = (await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${id}`)).body as CaseView
    expect(final).toMatchObject({ status: 'completed', result: { certificateNo: 'GZ-1', method: 'mail' }, rating: { score: 5, level: 'very_satisfied' } })
    const events = await history(id)
    expect(events.map((e) => e.type)).toEqual(['submitted', 'accepted', 'approved', 'result_issued', 'delivered', 'rated'])
    for (const [action, status] of [['accept', 'accepted'], ['issue_result', 'result_issued'], ['deliver', 'completed']] as const) {
      const then = await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${id}?at=${encodeURIComponent(instants[action]!)}`)
      expect(then.body).toMatchObject({ status })
    }
  })

  it('carries a long case through continue-as-new without losing its state or numbering', async () => {
    const id = await caseIn(['accept'])
    const firstRun = (await sys.client.workflow.getHandle(id).describe()).runId
    // The test dev server suggests continue-as-new at 400 history events; each order and answer adds
    // half a dozen (the update, its workflow task, the projection's marker).
    const pairs = 40
    for (let i = 0; i < pairs; i++) {
      expect((await act(id, 'supervise', dir.supervisorKey)).status).toBe(200)
      expect((await act(id, 'respond_supervision')).status).toBe(200)
    }
    // The run continues as new in a workflow task of its own, just after the last answer went out.
    await expect.poll(async () => (await sys.client.workflow.getHandle(id).describe()).runId, { timeout: 10_000 })
      .not.toBe(firstRun)
    // …and that task answers no update: one answered with it may be applied again on the new run
    // (temporalio/temporal#6375).
    const events = (await sys.client.workflow.getHandle(id, firstRun).fetchHistory()).events ?? []
    const closing = events.findLastIndex((e) => e.workflowTaskCompletedEventAttributes)
    expect(events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy()
    expect(events.slice(closing).filter((e) => e.workflowExecutionUpdateCompletedEventAttributes)).toEqual([])
    // The new run holds the search attributes the old one left, before it upserts any of its own.
    expect((await sys.client.workflow.getHandle(id).describe()).typedSearchAttributes.get(statusKey)).toBe('accepted')
    const approved = await act(id, 'approve')
    expect(approved.status).toBe(200)
    expect(approved.body).toMatchObject({ status: 'approved', version: 2 + 2 * pairs + 1 })
    expect((approved.body as CaseView).supervisions).toHaveLength(pairs)
    const seqs = (await history(id)).map((e) => e.seq)
    expect(seqs).toEqual(Array.from({ length: 2 + 2 * pairs + 1 }, (_, i) => i + 1))
    // The run carried on keeps its search attributes up to date.
    expect((await sys.client.workflow.getHandle(id).describe()).typedSearchAttributes.get(statusKey)).toBe('approved')
    // The run carried on keeps projecting by local activity.
    const continued = (await sys.client.workflow.getHandle(id).fetchHistory()).events ?? []
    expect(continued.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).not.toEqual([])
    expect(continued.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'recordCaseEvents')).toEqual([])
  })
})
