import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProjectionActivities } from '../../src/activities/projection.ts'
import type { CaseView, RecordedEvent } from '../../src/domain/case-view.ts'
import type { ServiceItemDraft } from '../../src/domain/service-item.ts'
import { applicationBody, call, type Directory, ITEM_CODE, itemDraft, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'

// DOMAIN rule 37: a result issued with a certificate becomes an e-licence (shared data under the
// holder's id), and pre-review attaches it to the holder's later applications (rule 19).

let sys: TestSystem
let dir: Directory
let reviewer: string

const SOURCE = 'gz-business-licence'
const HOLDER = { type: 'enterprise', name: '示例有限公司', idNumber: '91440101MA5CXXXX1X' }
const STRANGER = { type: 'enterprise', name: '另一有限公司', idNumber: '91440101MA5CYYYY2Y' }

/** Drafts, has another admin key review (where guides are reviewed), and publishes. */
async function publish(code: string, draft: ServiceItemDraft): Promise<void> {
  expect((await call(sys.app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, draft)).status).toBe(200)
  const review = await call(sys.app, reviewer, 'POST', `/v1/service-items/${code}/review`, { approved: true, note: 'fine' })
  if (review.status !== 404) expect(review.status).toBe(200)
  expect((await call(sys.app, ADMIN_KEY, 'POST', `/v1/service-items/${code}/publish`)).status).toBe(200)
}

beforeAll(async () => {
  sys = await startTestSystem()
  dir = await seedDirectory(sys.app)
  reviewer = (await call(sys.app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'root', role: 'admin', name: 'reviewer' })).body.key
  await publish('LIC-BIZ', itemDraft({
    name: 'Business licence', resultSource: SOURCE,
    materials: [{ code: 'application-form', name: 'Application form', required: true }],
  }))
  await publish('LIC-FOOD', itemDraft({
    name: 'Food business permit',
    materials: [
      { code: 'application-form', name: 'Application form', required: true },
      { code: 'business-licence', name: 'Business licence', required: true, sharedSource: SOURCE },
    ],
  }))
})
afterAll(async () => sys?.stop())

const submit = async (serviceItemCode: string, applicant: object) => {
  const r = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody({
    serviceItemCode, applicant, materials: [{ code: 'application-form', ref: 'doc://form/1' }],
  }))
  expect(r.status).toBe(201)
  return r.body as CaseView
}

async function issue(id: string, certificateNo?: string): Promise<void> {
  for (const action of [{ action: 'accept' }, { action: 'approve' }, { action: 'issue_result', ...(certificateNo ? { certificateNo } : {}) }]) {
    const r = await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${id}/actions`, action)
    expect(r.status, JSON.stringify(r.body)).toBe(200)
  }
}

const sharedRows = async (subject: string) => (await sys.db.database.pool.query(
  'SELECT source, ref, updated_at FROM shared_materials WHERE subject = $1 ORDER BY source', [sys.db.database.personal.subjectIndex(subject)])).rows as Array<{ source: string; ref: string; updated_at: Date }>

describe('e-licences', () => {
  it('rule 37: a certificate issued under an item with a result source is attached to the holder\'s later applications, never asked for again', async () => {
    const before = await submit('LIC-FOOD', HOLDER)
    expect(before.missingMaterials).toContain('business-licence')

    const licence = await submit('LIC-BIZ', HOLDER)
    await issue(licence.id, 'GZ-BL-2026-0001')
    expect(await sharedRows(HOLDER.idNumber)).toMatchObject([{ source: SOURCE, ref: 'GZ-BL-2026-0001' }])

    const later = await submit('LIC-FOOD', HOLDER)
    expect(later.materials).toContainEqual({ code: 'business-licence', ref: 'GZ-BL-2026-0001', source: 'shared' })
    expect(later.missingMaterials).not.toContain('business-licence')
    expect(later.missingMaterials).toEqual([])
    // Someone else's application still lacks it: the licence is the holder's alone.
    expect((await submit('LIC-FOOD', STRANGER)).missingMaterials).toContain('business-licence')
  })

  it('rule 37: stores the certificate exactly once however often the projection of its events is retried', async () => {
    const licence = await submit('LIC-BIZ', STRANGER)
    await issue(licence.id, 'GZ-BL-2026-0002')
    const [stored] = await sharedRows(STRANGER.idNumber)
    expect(stored).toMatchObject({ source: SOURCE, ref: 'GZ-BL-2026-0002' })

    const events = await sys.db.database.pool.query('SELECT seq, at, type, actor, data, view FROM case_events WHERE case_id = $1 ORDER BY seq', [licence.id])
    const recorded: RecordedEvent[] = events.rows.map((r) => ({
      event: { seq: r.seq, at: new Date(r.at).toISOString(), type: r.type, actor: r.actor, data: r.data }, view: r.view,
    }))
    const projection = createProjectionActivities({ database: sys.db.database })
    await Promise.all([1, 2, 3].map(() => projection.recordCaseEvents({ caseId: licence.id, recorded })))
    expect(await sharedRows(STRANGER.idNumber)).toEqual([stored])
  })

  it('rule 37: stores nothing for a result without a certificate, or from an item that names no result source', async () => {
    const holder = { type: 'person', name: '李四', idNumber: '440106198801015678' }
    await issue((await submit('LIC-BIZ', holder)).id)
    const plain = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody({ serviceItemCode: ITEM_CODE, applicant: holder }))
    await issue((plain.body as CaseView).id, 'GZ-OTHER-1')
    expect(await sharedRows(holder.idNumber)).toEqual([])
  })
})
