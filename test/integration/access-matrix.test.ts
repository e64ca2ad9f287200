import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import { ROLES, type Role } from '../../src/domain/roles.ts'
import { applicationBody, call, type Directory, ITEM_CODE, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'
import { shanghaiYear } from '../support/test-epoch.ts'

// The whole role × organisation × route matrix (issue 12): every operation /openapi.json lists,
// called by a key of every role at every organisation related to one case, and checked against
// what the contract (API.md, DESIGN.md "Access") says that key may do. A route added without a
// rule here fails the first test, so no route escapes the matrix.

let sys: TestSystem
let dir: Directory
let caseId: string

/** Organisations by their relation to the case's handling department (gz-amr, under the city gz). */
const RELATIONS = {
  same: 'gz-amr',
  child: 'gz-amr-unit',
  parent: 'gz',
  sibling: 'gz-hr',
  otherDistrict: 'mx-amr',
  serviceManagement: 'gz-sm',
  receivingCenter: 'gz-center',
} as const
type Relation = keyof typeof RELATIONS
const keys = new Map<string, string>()
const keyOf = (role: Role, relation: Relation) => keys.get(`${role}@${relation}`)!

beforeAll(async () => {
  sys = await startTestSystem({ calendarPublishedThrough: shanghaiYear(Date.now()) + 2 })
  dir = await seedDirectory(sys.app)
  for (const [id, kind, parentId] of [['gz-amr-unit', 'department', 'gz-amr'], ['mx', 'government', 'root'], ['mx-amr', 'department', 'mx']] as const) {
    expect((await call(sys.app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
  }
  for (const role of ROLES) {
    for (const [relation, organizationId] of Object.entries(RELATIONS)) {
      const created = await call(sys.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role })
      expect(created.status).toBe(201)
      keys.set(`${role}@${relation}`, (created.body as { key: string }).key)
    }
  }
  const submitted = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody({ applicant: { type: 'person', name: '李四', idNumber: '440106199001011234', phone: '13800138000' } }))
  expect(submitted.status).toBe(201)
  caseId = (submitted.body as CaseView).id
  expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${caseId}/actions`, { action: 'accept' })).status).toBe(200)
})
afterAll(async () => sys?.stop())

interface Operation { operationId: string; method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string }

async function operations(): Promise<Operation[]> {
  const spec = (await sys.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { operationId: string }>> }
  // The contract's routes and the codec the Temporal UI calls; the keyless probes (health, metrics) are not guarded.
  return Object.entries(spec.paths).filter(([path]) => path.startsWith('/v1/') || path.startsWith('/codec/')).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ operationId: op.operationId, method: method.toUpperCase() as Operation['method'], path })))
}

/** Path parameters: the case, its department, the published item, and ids that exist nowhere. */
function urlOf(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (path.startsWith('/v1/cases/')) return caseId
    if (path.startsWith('/v1/organizations/')) return RELATIONS.same
    if (path.startsWith('/v1/service-items/')) return ITEM_CODE
    if (name === 'year') return '2026'
    // A month not begun: readers find no report, producers are refused it (422); nothing is produced.
    if (name === 'month') return '2999-01'
    return 'nope-1'
  })
}

/** A body that gets past no route's validation but its own checks (access first): `{}`, or the action to take. */
function bodyOf(op: Operation): unknown {
  if (op.operationId === 'takeCaseAction') return { action: 'accept' }
  return op.method === 'GET' || op.method === 'DELETE' ? undefined : {}
}

type Expectation = (role: Role, relation: Relation) => number

/** Only `roles` pass the route's access rule, and then get `allowed` (the route's own answer to the request above). */
const only = (roles: readonly Role[], allowed: number): Expectation => (role) => (roles.includes(role) ? allowed : 403)
const anyone = (allowed: number): Expectation => () => allowed
/** Rule 38 (一窗办理): only a window of a service or convenience centre takes in cases. */
const comprehensiveWindow = (allowed: number): Expectation => (role, relation) => (role === 'window' && relation === 'receivingCenter' ? allowed : 403)

/**
 * Who sees the case (DESIGN.md "Access"): administrators and auditors everything; a department what
 * it handles; a supervisor its subtree, a service-management office its government's; a window or
 * the hotline what it received or its organisation handles.
 */
const SEES_CASE: Record<Role, readonly Relation[] | 'all'> = {
  admin: 'all', auditor: 'all', department: ['same'], supervisor: ['same', 'parent', 'serviceManagement'],
  window: ['same', 'receivingCenter'], hotline: ['same', 'receivingCenter'],
}
const seesCase = (role: Role, relation: Relation) => SEES_CASE[role] === 'all' || SEES_CASE[role].includes(relation)
/** A case read: the case, or 404 to whoever may not see it (never 403, which would say it exists). */
const caseRead: Expectation = (role, relation) => (seesCase(role, relation) ? 200 : 404)

const ADMIN = ['admin'] as const
const REVIEWERS = ['admin', 'supervisor'] as const
const SUPERVISION = ['admin', 'auditor', 'supervisor'] as const

/** Every operation's rule, as API.md states it; the request each gets is `urlOf` and `bodyOf` above. */
const RULES: Record<string, Expectation> = {
  saveOrganization: only(ADMIN, 400),
  getOrganization: anyone(200),
  listOrganizations: anyone(200),
  createApiKey: only(ADMIN, 400),
  revokeApiKey: only(ADMIN, 404),
  saveServiceItemDraft: only(ADMIN, 400),
  getServiceItem: anyone(200),
  getServiceItemDraft: only(ADMIN, 404),
  reviewServiceItem: only(REVIEWERS, 400),
  publishServiceItem: only(ADMIN, 409),
  listServiceItems: anyone(200),
  savePolicyDraft: only(ADMIN, 400),
  getPolicy: anyone(404),
  getPolicyDraft: only(ADMIN, 404),
  reviewPolicy: only(REVIEWERS, 400),
  publishPolicy: only(ADMIN, 404),
  listPolicies: anyone(200),
  submitApplication: comprehensiveWindow(400),
  fileComplaint: comprehensiveWindow(400),
  // A window files for its centre (one window); the hotline for whoever called 12345.
  fileEscalation: (role, relation) => (role === 'hotline' ? 400 : comprehensiveWindow(400)(role, relation)),
  startCampaign: only(['admin', 'department'], 422),
  getCampaign: only(['admin', 'supervisor', 'auditor', 'department'], 404),
  applyForFulfilment: comprehensiveWindow(400),
  getCase: caseRead,
  listCases: anyone(200),
  getCaseHistory: caseRead,
  getCaseAccessLog: only(['admin', 'auditor'], 200),
  // `accept` on an accepted case: 409 to the roles that accept, 403 to the others who see it, 404 to whoever does not.
  takeCaseAction: (role, relation) => (!seesCase(role, relation) ? 404 : ['window', 'department'].includes(role) ? 409 : 403),
  computeDue: anyone(400),
  getCalendarYear: anyone(200),
  publishCalendarYear: only(ADMIN, 400),
  getLimitSettings: only(REVIEWERS, 200),
  updateLimitSettings: only(ADMIN, 400),
  listSupervisions: anyone(200),
  getSupervisionSummary: only(SUPERVISION, 200),
  getPolicyLedger: only(SUPERVISION, 404),
  listPolicyPayments: only(SUPERVISION, 404),
  getMonthlyReport: only(SUPERVISION, 404),
  listMonthlyReportVersions: only(SUPERVISION, 200),
  produceMonthlyReport: only(REVIEWERS, 422),
  // Unsealing personal data is for the key holders' roles only (issue 12).
  encodePayloads: only(['admin', 'auditor'], 200),
  decodePayloads: only(['admin', 'auditor'], 200),
}

describe('every role at every related organisation, on every route', () => {
  it('has a rule for every operation /openapi.json lists, and none for one it does not', async () => {
    const listed = (await operations()).map((op) => op.operationId).sort()
    expect(listed).toEqual(Object.keys(RULES).sort())
  })

  it('answers each key as the contract says: 403 problem+json before anything is read, 404 for a case it may not see', async () => {
    const mismatches: string[] = []
    let calls = 0
    for (const op of await operations()) {
      const expectation = RULES[op.operationId]!
      for (const role of ROLES) {
        for (const relation of Object.keys(RELATIONS) as Relation[]) {
          const answer = await call(sys.app, keyOf(role, relation), op.method, urlOf(op.path), bodyOf(op))
          calls++
          const expected = expectation(role, relation)
          if (answer.status !== expected) mismatches.push(`${op.operationId} as ${role}@${relation}: ${answer.status}, expected ${expected}`)
          if (expected === 403 && answer.body?.code !== 'forbidden') mismatches.push(`${op.operationId} as ${role}@${relation}: 403 without code forbidden`)
        }
      }
    }
    expect(mismatches).toEqual([])
    expect(calls).toBe(Object.keys(RULES).length * ROLES.length * Object.keys(RELATIONS).length)
  })

  it('masks the applicant\'s identity and phone numbers for the roles that do not need them, wherever they see the case', async () => {
    for (const role of ROLES) {
      for (const relation of Object.keys(RELATIONS) as Relation[]) {
        if (!seesCase(role, relation)) continue
        const { applicant } = (await call(sys.app, keyOf(role, relation), 'GET', `/v1/cases/${caseId}`)).body as CaseView
        const clear = ['admin', 'window', 'department', 'hotline'].includes(role)
        expect({ role, relation, applicant }).toEqual({
          role, relation,
          applicant: expect.objectContaining(clear
            ? { idNumber: '440106199001011234', phone: '13800138000' }
            : { idNumber: expect.not.stringContaining('19900101'), phone: expect.not.stringContaining('0013800') }),
        })
      }
    }
  })
})
