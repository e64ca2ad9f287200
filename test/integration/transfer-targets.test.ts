import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import { applicationBody, call, type Directory, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'

// Only an organisation that handles cases can be handed one (transfer) or asked for an opinion:
// a case sent to a government or a service centre is stranded, nobody there acts on cases.

let sys: TestSystem
let dir: Directory

beforeAll(async () => {
  sys = await startTestSystem()
  dir = await seedDirectory(sys.app)
  for (const [id, kind] of [['gz-water', 'public-utility'], ['gz-notary', 'authorized-org'], ['gz-hotline', 'hotline']]) {
    expect((await call(sys.app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId: 'gz' })).status).toBe(200)
  }
})
afterAll(async () => sys?.stop())

const act = (id: string, key: string, body: Record<string, unknown>) => call(sys.app, key, 'POST', `/v1/cases/${id}/actions`, body)
const history = async (id: string) => (await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${id}/history`)).body

async function acceptedCase(): Promise<string> {
  const id = ((await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())).body as CaseView).id
  expect((await act(id, dir.departmentKey, { action: 'accept' })).status).toBe(200)
  return id
}

describe('targets of transfer and request_opinions', () => {
  it('refuses the root, a government, a service centre or a hotline with 422, and records nothing', async () => {
    const id = await acceptedCase()
    const before = await history(id)
    for (const target of ['root', 'gz', 'gz-sm', 'gz-center', 'gz-hotline']) {
      const moved = await act(id, dir.departmentKey, { action: 'transfer', toOrganizationId: target, reason: 'elsewhere' })
      expect({ target, status: moved.status, code: (moved.body as { code: string }).code }).toEqual({ target, status: 422, code: 'unprocessable' })
      expect((moved.body as { detail: string }).detail).toContain(target)
    }
    const asked = await act(id, dir.departmentKey, { action: 'request_opinions', organizationIds: ['gz-hr', 'gz-center'], within: { workingDays: 2 } })
    expect(asked.status).toBe(422)
    expect(asked.body).toMatchObject({ code: 'unprocessable', detail: expect.stringContaining('gz-center (service-center)') })
    expect(await history(id)).toEqual(before)
    expect((await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${id}`)).body).toMatchObject({ handlingOrganizationId: 'gz-amr' })
  })

  it('lets a department, an authorized organisation or a public utility take a case or give an opinion', async () => {
    const id = await acceptedCase()
    const asked = await act(id, dir.departmentKey, { action: 'request_opinions', organizationIds: ['gz-water', 'gz-notary'], within: { workingDays: 2 } })
    expect(asked.status).toBe(200)
    const moved = await act(id, dir.departmentKey, { action: 'transfer', toOrganizationId: 'gz-hr', reason: 'competent department' })
    expect(moved.status).toBe(200)
    expect(moved.body).toMatchObject({ handlingOrganizationId: 'gz-hr' })
    const again = await act(id, dir.otherDepartmentKey, { action: 'transfer', toOrganizationId: 'gz-water', reason: 'utility connection' })
    expect(again.status, JSON.stringify(again.body)).toBe(200)
  })
})
