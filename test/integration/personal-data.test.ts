import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTableSharedData } from '../../src/db/shared-data.ts'
import { runAuditVerify } from '../../src/cli/audit-verify.ts'
import { createCaseReads } from '../../src/db/cases.ts'
import { claimForApplication } from '../../src/db/claims.ts'
import { listPayments } from '../../src/db/payments.ts'
import type { Database } from '../../src/db/client.ts'
import { PersonalData } from '../../src/db/personal-data.ts'
import { rotateDataKeys } from '../../src/db/rotate-data.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { Keyring } from '../../src/infra/data-keys.ts'
import { applicationBody, call, type Directory, itemDraft, publishPolicy, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'
import { shanghaiYear } from '../support/test-epoch.ts'

// DESIGN "Access" (issue 12 item 4): identity and phone numbers are encrypted at rest in Postgres,
// masked for roles that do not need them, and re-encrypted under a new data key by rotate-data
// without breaking the hash chains or losing shared materials.

let sys: TestSystem
let dir: Directory
let hotlineKey: string

const ID_NUMBER = '440106197702023456'
const PHONE = '13911112222'
const CITIZEN_ID = '440106198808084567'
const CITIZEN_PHONE = '13755556666'
const LICENCE_SOURCE = 'gz-personal-licence'
/** A beneficiary found by a campaign, paid into a bank account; and one who applies. */
const BENEFICIARY_ID = '440106196505056789'
const ACCOUNT = '6222020200112233445'
const APPLYING_ID = '440106197107073456'
/** A claim made before claims were sealed: its beneficiary's id in clear, until rotation. */
const LEGACY_CLAIMANT = '440106195503031234'
const PERSONAL_NUMBERS = [ID_NUMBER, PHONE, CITIZEN_ID, CITIZEN_PHONE, BENEFICIARY_ID, ACCOUNT, APPLYING_ID]

beforeAll(async () => {
  sys = await startTestSystem({ calendarPublishedThrough: shanghaiYear(Date.now()) + 2 })
  dir = await seedDirectory(sys.app)
  expect((await call(sys.app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-12345', { name: '12345', kind: 'hotline', parentId: 'gz' })).status).toBe(200)
  hotlineKey = (await call(sys.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-12345', role: 'hotline' })).body.key
  const reviewer = (await call(sys.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'root', role: 'admin', name: 'reviewer' })).body.key
  const draft = itemDraft({ name: 'Personal licence', resultSource: LICENCE_SOURCE, materials: [{ code: 'application-form', name: 'Form', required: true }] })
  expect((await call(sys.app, ADMIN_KEY, 'PUT', '/v1/service-items/LIC-P', draft)).status).toBe(200)
  const review = await call(sys.app, reviewer, 'POST', '/v1/service-items/LIC-P/review', { approved: true, note: 'fine' })
  if (review.status !== 404) expect(review.status).toBe(200)
  expect((await call(sys.app, ADMIN_KEY, 'POST', '/v1/service-items/LIC-P/publish')).status).toBe(200)
})
afterAll(async () => sys?.stop())

const applicant = { type: 'person', name: '赵六', idNumber: ID_NUMBER, phone: PHONE }

/** Submitted (with an Idempotency-Key), accepted, approved and issued with a certificate: an e-licence in shared data. */
async function issuedApplication(): Promise<string> {
  const created = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody({
    serviceItemCode: 'LIC-P', applicant, materials: [{ code: 'application-form', ref: 'doc://form/1' }],
  }), { 'idempotency-key': `personal-${Date.now()}` })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  const id = (created.body as CaseView).id
  for (const action of [{ action: 'accept' }, { action: 'approve' }, { action: 'issue_result', certificateNo: 'GZ-P-0001' }]) {
    const r = await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, action)
    expect(r.status, JSON.stringify(r.body)).toBe(200)
  }
  return id
}

async function filedComplaint(): Promise<string> {
  const r = await call(sys.app, hotlineKey, 'POST', '/v1/complaints', {
    type: 'complaint', channel: 'phone', content: '小区门口占道经营', citizen: { name: '孙七', phone: CITIZEN_PHONE, idNumber: CITIZEN_ID },
  })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return (r.body as CaseView).id
}

/** Every row of every table of the test's schema, as text, by table. */
async function everyRow(): Promise<Map<string, string>> {
  const { pool } = sys.db.database
  const { rows: tables } = await pool.query<{ name: string }>(
    'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = \'BASE TABLE\'')
  const text = new Map<string, string>()
  for (const { name } of tables) {
    const { rows } = await pool.query<{ text: string | null }>(`SELECT string_agg(t::text, E'\\n') AS text FROM "${name}" t`)
    text.set(name, rows[0]?.text ?? '')
  }
  return text
}

/** A campaign finds the beneficiary (with the account to pay into) and the grant is paid. */
async function paidGrant(): Promise<string> {
  await publishPolicy(sys.app, 'SEALED-GRANT', {
    name: '高龄补贴', departmentId: 'gz-hr', mode: 'no_application', autoVerify: true,
    eligibility: { '>=': [{ var: 'age' }, 80] }, amount: 30000, payWithin: { workingDays: 10 },
  })
  const line = { id: BENEFICIARY_ID, type: 'person', name: '钱八', attributes: { age: 85 }, account: ACCOUNT }
  const upload = await sys.app.inject({
    method: 'POST', url: '/v1/policies/SEALED-GRANT/campaigns', payload: `${JSON.stringify(line)}\n`,
    headers: { authorization: `Bearer ${dir.otherDepartmentKey}`, 'content-type': 'application/x-ndjson' },
  })
  expect(upload.statusCode, upload.body).toBe(202)
  const opened = async () => (await sys.db.database.pool.query<{ id: string }>(
    "SELECT id FROM cases WHERE view->>'policyCode' = 'SEALED-GRANT'")).rows[0]?.id
  await expect.poll(opened, { timeout: 30_000 }).toBeDefined()
  const caseId = (await opened())!
  await expect.poll(async () => (await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${caseId}`)).body.status, { timeout: 30_000 }).toBe('completed')
  return caseId
}

/** An application under an application-mode policy, with an Idempotency-Key. */
async function appliedGrant(): Promise<string> {
  await publishPolicy(sys.app, 'SEALED-APPLY', {
    name: '住房补贴', departmentId: 'gz-hr', mode: 'application', eligibility: { '>=': [{ var: 'age' }, 18] }, amount: 1000, payWithin: { workingDays: 10 },
  })
  const applied = await call(sys.app, dir.windowKey, 'POST', '/v1/fulfilments', {
    policyCode: 'SEALED-APPLY', beneficiary: { id: APPLYING_ID, type: 'person', name: '李九', attributes: { age: 40 } },
  }, { 'idempotency-key': `sealed-apply-${Date.now()}` })
  expect(applied.status, JSON.stringify(applied.body)).toBe(201)
  return (applied.body as CaseView).id
}

let applicationId: string
let complaintId: string
let grantId: string
let appliedId: string

describe('personal data at rest in Postgres', () => {
  it('keeps no identity or phone number in clear in any table, and still answers with them to a department', async () => {
    applicationId = await issuedApplication()
    complaintId = await filedComplaint()
    grantId = await paidGrant()
    appliedId = await appliedGrant()
    const tables = await everyRow()
    for (const table of ['cases', 'case_events', 'shared_materials', 'idempotency_keys', 'notification_outbox',
      'campaign_lines', 'fulfilment_claims', 'payments']) {
      expect(tables.get(table), `${table} has rows`).not.toBe('')
    }
    for (const [table, text] of tables) {
      for (const number of PERSONAL_NUMBERS) expect(text.includes(number), `${table} holds ${number} in clear`).toBe(false)
    }
    expect(tables.get('cases')).toMatch(/enc:[A-Za-z0-9_-]+\./)

    const department = await call(sys.app, dir.departmentKey, 'GET', `/v1/cases/${applicationId}`)
    expect(department.body).toMatchObject({ applicant })
    const supervisor = await call(sys.app, dir.supervisorKey, 'GET', `/v1/cases/${applicationId}`)
    expect(supervisor.status).toBe(200)
    expect(JSON.stringify(supervisor.body)).not.toContain(ID_NUMBER)
    expect(JSON.stringify(supervisor.body)).not.toContain(PHONE)
    // As it stood after its first event: the view recorded with that event, opened.
    const submittedAt = (await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${applicationId}/history`)).body.events[0].at as string
    const then = await call(sys.app, dir.departmentKey, 'GET', `/v1/cases/${applicationId}?at=${encodeURIComponent(submittedAt)}`)
    expect(then.body).toMatchObject({ status: 'submitted', applicant })
    const complaint = await call(sys.app, ADMIN_KEY, 'GET', `/v1/cases/${complaintId}`)
    expect(complaint.body).toMatchObject({ citizen: { phone: CITIZEN_PHONE, idNumber: CITIZEN_ID } })
    expect((await call(sys.app, dir.otherDepartmentKey, 'GET', `/v1/cases/${appliedId}`)).body).toMatchObject({ applicant: { idNumber: APPLYING_ID } })
  })

  it('lists one person\'s cases by their identity number, found by its blind index, within what the caller may see', async () => {
    const ids = async (key: string, idNumber: string) => {
      const r = await call(sys.app, key, 'GET', `/v1/cases?applicantIdNumber=${idNumber}`)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      return (r.body.items as CaseView[]).map((c) => c.id)
    }
    expect(await ids(dir.departmentKey, ID_NUMBER)).toEqual([applicationId])
    expect(await ids(ADMIN_KEY, CITIZEN_ID)).toEqual([complaintId])
    expect(await ids(ADMIN_KEY, BENEFICIARY_ID)).toEqual([grantId])
    expect(await ids(dir.otherDepartmentKey, APPLYING_ID)).toEqual([appliedId])
    // Another department does not see that person's case; nobody has cases under an unknown number.
    expect(await ids(dir.departmentKey, APPLYING_ID)).toEqual([])
    expect(await ids(ADMIN_KEY, '440106190001010000')).toEqual([])
    const { rows } = await sys.db.database.pool.query<{ person_index: string }>('SELECT person_index FROM cases WHERE id = $1', [applicationId])
    expect(rows[0]!.person_index).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
    expect(await call(sys.app, ADMIN_KEY, 'GET', '/v1/cases?applicantIdNumber=44%200106')).toMatchObject({ status: 400, body: { code: 'validation_failed' } })
  })

  it('shows a payment\'s beneficiary in clear to an administrator, recorded in the access log, and masked to an auditor', async () => {
    const admin = await call(sys.app, ADMIN_KEY, 'GET', '/v1/policies/SEALED-GRANT/payments')
    expect(admin.body.items).toEqual([expect.objectContaining({ caseId: grantId, beneficiaryId: BENEFICIARY_ID, amount: 30000 })])
    const log = await call(sys.app, dir.auditorKey, 'GET', `/v1/cases/${grantId}/access-log`)
    expect(log.body.items).toContainEqual(expect.objectContaining({ role: 'admin', operation: 'listPolicyPayments', fields: ['payment.beneficiaryId'] }))
    const auditor = await call(sys.app, dir.auditorKey, 'GET', '/v1/policies/SEALED-GRANT/payments')
    expect(auditor.body.items).toEqual([expect.objectContaining({ caseId: grantId, beneficiaryId: '4401**********6789' })])
  })

  it('rotate-data re-seals everything under the new key, seals rows left in clear, and the chains, reads and shared data hold', async () => {
    const { database } = sys.db
    // A row from before encryption: the case's view in clear, and a shared material under the plain number.
    const [clearView] = (await database.pool.query('SELECT view FROM cases WHERE id = $1', [complaintId])).rows
    await database.pool.query('UPDATE cases SET view = $1 WHERE id = $2', [JSON.stringify(database.personal.open(clearView.view)), complaintId])
    await database.pool.query('INSERT INTO shared_materials (source, subject, ref) VALUES ($1, $2, $3)', ['gz-residence', CITIZEN_ID, 'doc://residence/1'])
    await database.pool.query(
      'INSERT INTO fulfilment_claims (policy_code, beneficiary_id, case_id, amount) VALUES ($1, $2, $3, $4)', ['SEALED-APPLY', LEGACY_CLAIMANT, 'F-legacy', 1000])
    // A case projected before cases were indexed by person.
    await database.pool.query('UPDATE cases SET person_index = NULL WHERE id = $1', [appliedId])
    // …which a new application finds before rotation, as it will after.
    expect(await claimForApplication(database.pool, database.personal, { policyCode: 'SEALED-APPLY', beneficiaryId: LEGACY_CLAIMANT, amount: 1000 }))
      .toEqual({ outcome: 'duplicate', caseId: 'F-legacy' })

    const newKey = Keyring.generate('rotated')
    const rotated: Database = { ...database, personal: new PersonalData(new Keyring([newKey.current, database.personal.keyring.current])) }
    const steps = new Set<string>()
    const report = await rotateDataKeys(rotated, { batchSize: 2, onProgress: (p) => steps.add(p.step) })
    expect(report.unindexed).toBe(0)
    expect(report.rewritten['case_events']).toBeGreaterThan(2)
    expect([...steps]).toEqual([
      'cases', 'case_events', 'notification_outbox', 'campaign_lines', 'payments', 'cases.person_index', 'fulfilment_claims', 'shared_materials',
    ])
    expect(report.rewritten).toMatchObject({ campaign_lines: 1, payments: 1, fulfilment_claims: 3, 'cases.person_index': 4 })

    // The old key retired: a keyring of the new key alone reads everything.
    const retired: Database = { ...database, personal: new PersonalData(newKey) }
    const tables = await everyRow()
    for (const [table, text] of tables) {
      for (const number of [...PERSONAL_NUMBERS, LEGACY_CLAIMANT]) expect(text.includes(number), `${table} holds ${number} in clear`).toBe(false)
      for (const sealed of text.match(/enc:[A-Za-z0-9_-]+\./g) ?? []) expect(sealed, table).toBe('enc:rotated.')
    }
    const claims = (await database.pool.query<{ beneficiary_id: string }>('SELECT beneficiary_id FROM fulfilment_claims')).rows
    expect(claims).toHaveLength(3)
    for (const { beneficiary_id } of claims) expect(beneficiary_id).toMatch(/^rotated\./)
    // One beneficiary, one policy, one case, still: claims made under the old key, or in clear, are found under the new one.
    for (const [beneficiaryId, caseId] of [[APPLYING_ID, appliedId], [LEGACY_CLAIMANT, 'F-legacy']] as const) {
      expect(await claimForApplication(database.pool, retired.personal, { policyCode: 'SEALED-APPLY', beneficiaryId, amount: 1000 }))
        .toEqual({ outcome: 'duplicate', caseId })
    }
    expect((await listPayments(retired, 'SEALED-GRANT', undefined, 10)).map((p) => p.beneficiaryId)).toEqual([BENEFICIARY_ID])
    const subjects = (await database.pool.query<{ subject: string }>('SELECT subject FROM shared_materials')).rows.map((r) => r.subject)
    expect(subjects.length).toBeGreaterThanOrEqual(2)
    for (const subject of subjects) expect(subject).toMatch(/^rotated\./)

    const reads = createCaseReads(retired.db, retired.personal)
    expect(await reads.find(applicationId)).toMatchObject({ applicant })
    expect(await reads.find(complaintId)).toMatchObject({ citizen: { phone: CITIZEN_PHONE, idNumber: CITIZEN_ID } })
    expect(await reads.findAt(applicationId, new Date().toISOString())).toMatchObject({ applicant })
    expect(await reads.history(applicationId)).toHaveLength(4)
    // Each person's cases, under the new key alone, the one indexed by rotation included.
    const everyone = { role: 'admin', organizationId: 'root' } as const
    for (const [idNumber, caseId] of [[ID_NUMBER, applicationId], [CITIZEN_ID, complaintId], [APPLYING_ID, appliedId]] as const) {
      expect((await reads.list(everyone, { applicantIdNumber: idNumber }, 10)).items.map((c) => c.id)).toEqual([caseId])
    }

    const sharedData = createTableSharedData(retired)
    expect(await sharedData.lookup(ID_NUMBER, [LICENCE_SOURCE])).toEqual(new Map([[LICENCE_SOURCE, 'GZ-P-0001']]))
    expect(await sharedData.lookup(CITIZEN_ID, ['gz-residence'])).toEqual(new Map([['gz-residence', 'doc://residence/1']]))

    const out: string[] = []
    const code = await runAuditVerify({ database: retired, workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: sys.dataConverter },
      (line) => out.push(line))
    expect(out.join('\n')).toMatch(/0 problems/)
    expect(code, out.join('\n')).toBe(0)

    // The append-only triggers it lifted per batch are back.
    await expect(database.pool.query('UPDATE case_events SET type = type')).rejects.toThrow(/append-only/)
    // Nothing left to do: a second run rewrites nothing.
    const again = await rotateDataKeys(rotated)
    expect(Object.values(again.rewritten).every((n) => n === 0), JSON.stringify(again)).toBe(true)
  })
})
