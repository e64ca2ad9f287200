import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import { applicationBody, call, type Directory, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'
import { shanghaiYear } from '../support/test-epoch.ts'

// The access log (issue 12, PIPL): every answer that shows a case's personal numbers in clear is
// recorded before it leaves, and auditors read it at GET /v1/cases/{id}/access-log.
let sys: TestSystem
let dir: Directory

beforeAll(async () => {
  sys = await startTestSystem({ calendarPublishedThrough: shanghaiYear(Date.now()) + 2 })
  dir = await seedDirectory(sys.app)
})
afterAll(async () => sys?.stop())

const keyIdOf = async (key: string) => {
  const { rows } = await sys.db.database.pool.query<{ id: string }>(
    'SELECT id FROM api_keys WHERE key_hash = encode(sha256(convert_to($1, \'UTF8\')), \'hex\')', [key])
  return rows[0]?.id
}
const logOf = async (id: string, key = dir.auditorKey) => call(sys.app, key, 'GET', `/v1/cases/${id}/access-log`)

describe('GET /v1/cases/{id}/access-log', () => {
  it('records who was shown the numbers in clear, by which operation, and not those shown them masked', async () => {
    const body = applicationBody({ applicant: { type: 'person', name: '王五', idNumber: '440106199202021234', phone: '13900139000' } })
    const id = ((await call(sys.app, dir.windowKey, 'POST', '/v1/applications', body)).body as CaseView).id
    expect((await call(sys.app, dir.departmentKey, 'GET', `/v1/cases/${id}`)).status).toBe(200)
    // A supervisor and an auditor see the numbers masked: nothing to record.
    expect((await call(sys.app, dir.supervisorKey, 'GET', `/v1/cases/${id}`)).body.applicant.idNumber).toBe('4401**********1234')
    expect((await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${id}`)).status).toBe(200)
    const listed = (await call(sys.app, dir.departmentKey, 'GET', '/v1/cases?limit=200')).body.items as CaseView[]
    expect(listed.map((c) => c.id)).toContain(id)
    expect((await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, { action: 'accept' })).status).toBe(200)

    const log = await logOf(id)
    expect(log.status).toBe(200)
    const fields = ['applicant.idNumber', 'applicant.phone']
    const [window, department] = [await keyIdOf(dir.windowKey), await keyIdOf(dir.departmentKey)]
    expect(log.body.items.map(({ keyId, organizationId, role, operation, what, fields: shown }: Record<string, unknown>) =>
      ({ keyId, organizationId, role, operation, what, fields: shown }))).toEqual([
      { keyId: window, organizationId: 'gz-center', role: 'window', operation: 'submitApplication', what: `submitApplication: ${fields.join(', ')}`, fields },
      { keyId: department, organizationId: 'gz-amr', role: 'department', operation: 'getCase', what: `getCase: ${fields.join(', ')}`, fields },
      { keyId: department, organizationId: 'gz-amr', role: 'department', operation: 'listCases', what: `listCases: ${fields.join(', ')}`, fields },
      { keyId: department, organizationId: 'gz-amr', role: 'department', operation: 'takeCaseAction', what: `takeCaseAction: ${fields.join(', ')}`, fields },
    ])
    for (const entry of log.body.items) expect(Date.parse(entry.at)).toBeGreaterThan(Date.now() - 120_000)
    expect(log.body.nextCursor).toBeNull()
  })

  it('pages with a signed cursor, is for auditors and administrators only, and cannot be changed', async () => {
    const id = ((await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())).body as CaseView).id
    for (let i = 0; i < 3; i++) await call(sys.app, dir.departmentKey, 'GET', `/v1/cases/${id}`)
    const first = (await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${id}/access-log?limit=2`)).body
    expect(first.items).toHaveLength(2)
    const second = (await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${id}/access-log?limit=2&cursor=${first.nextCursor}`)).body
    expect(second.items.map((e: { operation: string }) => e.operation)).toEqual(['getCase', 'getCase'])
    expect(second.nextCursor).toBeNull()
    for (const key of [dir.windowKey, dir.departmentKey, dir.supervisorKey]) {
      expect((await logOf(id, key)).body).toMatchObject({ status: 403, code: 'forbidden' })
    }
    expect((await logOf('A20000101-NOSUCHCASE')).body).toMatchObject({ status: 404, code: 'not_found' })
    await expect(sys.db.database.pool.query('UPDATE personal_data_access SET key_id = \'someone-else\' WHERE case_id = $1', [id]))
      .rejects.toThrow(/append-only/)
    await expect(sys.db.database.pool.query('DELETE FROM personal_data_access WHERE case_id = $1', [id])).rejects.toThrow(/append-only/)
  })
})
