import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/api/app.ts'
import { approveDraft, call, itemDraft, publishItem } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal, type TestDatabase } from '../support/system.ts'

// The catalogue's rules as an administrator and a reviewer meet them over HTTP: what a draft may
// say (acceptance within 5 working days, the statutory default, online or a reason why not,
// deferrable materials and written commitments), and review by another key before publication.

let app: App
let db: TestDatabase
let stop: (() => Promise<void>) | undefined
const keys = { supervisor: '', otherAdmin: '', department: '', window: '', auditor: '' }
const keyIds: Record<string, string> = {}

beforeAll(async () => {
  ({ app, db, stop } = await startAppWithoutTemporal('the catalogue reaches no workflow'))
  const orgs = [['gz', 'government', 'root'], ['gz-amr', 'department', 'gz'], ['gz-center', 'service-center', 'gz']]
  for (const [id, kind, parentId] of orgs) {
    expect((await call(app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
  }
  const key = async (name: keyof typeof keys, organizationId: string, role: string) => {
    const r = await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role, name })
    expect(r.status).toBe(201)
    keys[name] = r.body.key as string
    keyIds[name] = r.body.id as string
  }
  await key('supervisor', 'gz', 'supervisor')
  await key('otherAdmin', 'root', 'admin')
  await key('department', 'gz-amr', 'department')
  await key('window', 'gz-center', 'window')
  await key('auditor', 'root', 'auditor')
})
afterAll(async () => stop?.())

const save = (code: string, draft: unknown, key = ADMIN_KEY) => call(app, key, 'PUT', `/v1/service-items/${code}`, draft)
const review = (code: string, key: string, body: Record<string, unknown> = { approved: true, note: 'complete and lawful' }, headers = {}) =>
  call(app, key, 'POST', `/v1/service-items/${code}/review`, body, headers)
const publish = (code: string) => call(app, ADMIN_KEY, 'POST', `/v1/service-items/${code}/publish`)
const guideOf = (code: string, version?: number) => call(app, keys.window, 'GET', `/v1/service-items/${code}${version ? `?version=${version}` : ''}`)
const draftOf = (code: string) => call(app, ADMIN_KEY, 'GET', `/v1/service-items/${code}/draft`)
const reviewCount = async (code: string) =>
  (await db.database.pool.query('SELECT count(*)::int AS n FROM reviews WHERE subject_kind = $1 AND subject_id = $2', ['service-item', code])).rows[0].n as number

const refusedAt = (path: string) => ({ status: 400, body: { code: 'validation_failed', errors: [expect.objectContaining({ path })] } })

describe('the acceptance limit', () => {
  it('rule 5: more than 5 working days is refused as the draft is saved, and nothing is stored', async () => {
    expect(await save('ACC-1', itemDraft({ acceptanceLimit: { workingDays: 6 } }))).toMatchObject(refusedAt('body/acceptanceLimit'))
    expect(await save('ACC-1', itemDraft({ acceptanceLimit: { duration: 'P6D' } }))).toMatchObject(refusedAt('body/acceptanceLimit'))
    expect((await draftOf('ACC-1')).status).toBe(404)
    expect((await save('ACC-1', itemDraft({ acceptanceLimit: { workingDays: 5 } }))).status).toBe(200)
    expect((await publishItem(app, 'ACC-1')).body).toMatchObject({ acceptanceLimit: { workingDays: 5 } })
  })

  it('rule 5: a stored draft over the limit (saved before the rule) is refused at publication, reviewed or not', async () => {
    expect((await save('ACC-2', itemDraft())).status).toBe(200)
    await approveDraft(app, 'ACC-2')
    await db.database.pool.query('UPDATE service_items SET draft = jsonb_set(draft, \'{acceptanceLimit}\', \'{"workingDays":30}\') WHERE code = $1', ['ACC-2'])
    expect(await publish('ACC-2')).toMatchObject({
      status: 422, body: { code: 'unprocessable', errors: [{ path: 'draft/acceptanceLimit', message: expect.stringContaining('at most 5 working days') }] },
    })
    expect((await guideOf('ACC-2')).status).toBe(404)
  })
})

describe('the statutory limit', () => {
  it('rule 10: an item that states none gets 20 working days', async () => {
    const { statutoryLimit: _, ...draft } = itemDraft()
    expect((await save('STAT-1', draft)).status).toBe(200)
    expect((await draftOf('STAT-1')).body.draft).not.toHaveProperty('statutoryLimit')
    expect((await publishItem(app, 'STAT-1')).body).toMatchObject({ statutoryLimit: { workingDays: 20 } })
    expect((await guideOf('STAT-1')).body).toMatchObject({ statutoryLimit: { workingDays: 20 } })
  })

  it('rule 13: the default still bounds the promise', async () => {
    const { statutoryLimit: _, ...draft } = itemDraft()
    expect(await save('STAT-2', { ...draft, promisedLimit: { workingDays: 21 } })).toMatchObject(refusedAt('body/promisedLimit'))
    expect(await save('STAT-2', { ...draft, promisedLimit: { duration: 'PT4H' } })).toMatchObject(refusedAt('body/promisedLimit'))
    expect((await save('STAT-2', { ...draft, promisedLimit: { workingDays: 20 } })).status).toBe(200)
  })
})

describe('the channels', () => {
  it('rule 39: an item not offered online must say why', async () => {
    expect(await save('OFF-1', itemDraft({ channels: ['window', 'kiosk'] }))).toMatchObject(refusedAt('body/offlineReason'))
    expect(await save('OFF-1', itemDraft({ channels: ['window'], offlineReason: ' \u3000 ' }))).toMatchObject(refusedAt('body/offlineReason'))
    expect(await save('OFF-1', itemDraft({ channels: ['window'], offlineReason: '' }))).toMatchObject({ status: 400, body: { code: 'validation_failed' } })
    expect((await draftOf('OFF-1')).status).toBe(404)
    const reason = 'the applicant signs the register in person (实名核验)'
    expect((await save('OFF-1', itemDraft({ channels: ['window'], offlineReason: reason }))).status).toBe(200)
    expect((await publishItem(app, 'OFF-1')).body).toMatchObject({ channels: ['window'], offlineReason: reason })
    expect((await guideOf('OFF-1')).body).toMatchObject({ offlineReason: reason })
  })

  it('rule 39: an item offered online needs no reason, and may not give one', async () => {
    expect(await save('OFF-2', itemDraft({ channels: ['online'], offlineReason: 'stale' }))).toMatchObject(refusedAt('body/offlineReason'))
    expect((await save('OFF-2', itemDraft({ channels: ['online'] }))).status).toBe(200)
    expect((await publishItem(app, 'OFF-2')).body).not.toHaveProperty('offlineReason')
  })

  it('rule 39: a stored draft without the online channel or a reason is refused at publication', async () => {
    expect((await save('OFF-3', itemDraft())).status).toBe(200)
    await approveDraft(app, 'OFF-3')
    await db.database.pool.query('UPDATE service_items SET draft = jsonb_set(draft, \'{channels}\', \'["window"]\') WHERE code = $1', ['OFF-3'])
    expect(await publish('OFF-3')).toMatchObject({ status: 422, body: { code: 'unprocessable', errors: [{ path: 'draft/offlineReason' }] } })
  })
})

describe('deferrable materials and written commitments', () => {
  it('rules 35 and 36: the guide shows which materials may come later and whether a commitment may replace proof', async () => {
    const materials = [
      { code: 'application-form', name: 'Application form', required: true },
      { code: 'lease', name: 'Lease contract', required: true, deferrable: true },
    ]
    expect((await save('DEF-1', itemDraft({ materials, commitmentAllowed: true }))).status).toBe(200)
    expect((await publishItem(app, 'DEF-1')).body).toMatchObject({ materials, commitmentAllowed: true })
    expect((await guideOf('DEF-1')).body).toMatchObject({ materials, commitmentAllowed: true })
    expect((await save('DEF-2', itemDraft())).status).toBe(200)
    expect((await publishItem(app, 'DEF-2')).body).toMatchObject({ commitmentAllowed: false })
  })

  it('rule 35: an optional material cannot be deferred', async () => {
    const materials = [{ code: 'form', name: 'Form', required: true }, { code: 'photo', name: 'Photo', required: false, deferrable: true }]
    expect(await save('DEF-3', itemDraft({ materials }))).toMatchObject(refusedAt('body/materials/1/deferrable'))
    expect(await save('DEF-3', itemDraft({ commitmentAllowed: 'yes' as never }))).toMatchObject({ status: 400, body: { code: 'validation_failed' } })
  })
})

describe('review before publication', () => {
  it('rule 2: a draft nobody reviewed is not published', async () => {
    expect((await save('REV-1', itemDraft())).status).toBe(200)
    expect(await publish('REV-1')).toMatchObject({ status: 409, body: { code: 'conflict', detail: expect.stringContaining('has not been reviewed') } })
    expect((await guideOf('REV-1')).status).toBe(404)
  })

  it('rule 40: the key that wrote the draft may not review it; nothing is recorded', async () => {
    expect((await save('REV-2', itemDraft())).status).toBe(200)
    expect(await review('REV-2', ADMIN_KEY)).toMatchObject({ status: 403, body: { code: 'forbidden' } })
    expect(await reviewCount('REV-2')).toBe(0)
    expect((await draftOf('REV-2')).body).toMatchObject({ revision: 1, review: null })
    // Another administrator's key may: whoever holds it is not the author.
    expect((await review('REV-2', keys.otherAdmin)).status).toBe(200)
    // And an administrator may review what another administrator wrote.
    expect((await save('REV-2b', itemDraft(), keys.otherAdmin)).status).toBe(200)
    expect(await review('REV-2b', keys.otherAdmin)).toMatchObject({ status: 403 })
    expect((await review('REV-2b', ADMIN_KEY)).status).toBe(200)
  })

  it('rule 40: only supervisors and administrators review, before their body is looked at', async () => {
    expect((await save('REV-3', itemDraft())).status).toBe(200)
    for (const key of [keys.department, keys.window, keys.auditor]) {
      expect(await review('REV-3', key)).toMatchObject({ status: 403, body: { code: 'forbidden' } })
      expect(await review('REV-3', key, { nonsense: true })).toMatchObject({ status: 403 })
    }
    expect(await review('REV-3', keys.supervisor, { approved: 'yes', note: 'x' })).toMatchObject({ status: 400, body: { code: 'validation_failed' } })
    expect(await review('REV-3', keys.supervisor, { approved: true })).toMatchObject({ status: 400 })
    expect(await reviewCount('REV-3')).toBe(0)
  })

  it('rules 2 and 40: an approved review of the current draft lets it be published, and the guide shows its author and reviewer', async () => {
    expect((await save('REV-4', itemDraft())).status).toBe(200)
    const r = await review('REV-4', keys.supervisor)
    expect(r).toMatchObject({
      status: 200,
      body: {
        subject: { kind: 'service-item', id: 'REV-4' }, revision: 1, approved: true, note: 'complete and lawful',
        author: { organizationId: 'root', role: 'admin', keyId: expect.any(String) },
        reviewer: { organizationId: 'gz', role: 'supervisor', keyId: keyIds.supervisor },
        reviewedAt: expect.stringMatching(/Z$/),
      },
    })
    expect(r.body.author.keyId).not.toBe(keyIds.supervisor)
    expect((await draftOf('REV-4')).body).toMatchObject({ revision: 1, author: r.body.author, review: r.body })
    const published = await publish('REV-4')
    expect(published).toMatchObject({
      status: 200, body: { version: 1, author: r.body.author, reviewer: r.body.reviewer, reviewedAt: r.body.reviewedAt },
    })
    expect((await guideOf('REV-4')).body).toEqual(published.body)
    expect((await guideOf('REV-4', 1)).body).toEqual(published.body)
    // Persisted: the review is in its table, the guide's signatures in the stored version.
    const stored = await db.database.pool.query('SELECT guide FROM service_item_versions WHERE code = $1', ['REV-4'])
    expect(stored.rows[0].guide).toMatchObject({ author: r.body.author, reviewer: r.body.reviewer })
    expect(await reviewCount('REV-4')).toBe(1)
  })

  it('rule 2: a review that did not approve holds publication until one approves', async () => {
    expect((await save('REV-5', itemDraft())).status).toBe(200)
    expect(await review('REV-5', keys.supervisor, { approved: false, note: 'the fee schedule is missing' })).toMatchObject({ status: 200, body: { approved: false } })
    expect(await publish('REV-5')).toMatchObject({ status: 409, body: { code: 'conflict', detail: expect.stringContaining('the fee schedule is missing') } })
    expect((await review('REV-5', keys.otherAdmin)).status).toBe(200)
    expect(await publish('REV-5')).toMatchObject({ status: 200, body: { version: 1, reviewer: { keyId: keyIds.otherAdmin } } })
  })

  it('rule 2: a new draft after the review needs a review of its own; the latest review of a revision counts', async () => {
    expect((await save('REV-6', itemDraft())).status).toBe(200)
    expect((await review('REV-6', keys.supervisor)).status).toBe(200)
    expect((await save('REV-6', itemDraft({ name: 'changed after review' }))).body).toMatchObject({ revision: 2, review: null })
    expect(await publish('REV-6')).toMatchObject({ status: 409, body: { code: 'conflict' } })
    // The reviewer read revision 1: approving "the draft" now would approve text they never saw.
    expect(await review('REV-6', keys.supervisor, { approved: true, note: 'ok', revision: 1 })).toMatchObject({ status: 409, body: { code: 'conflict' } })
    expect((await review('REV-6', keys.supervisor, { approved: true, note: 'ok', revision: 2 })).status).toBe(200)
    // Second thoughts on the same revision: the latest review decides.
    expect((await review('REV-6', keys.supervisor, { approved: false, note: 'on second thoughts, no' })).status).toBe(200)
    expect(await publish('REV-6')).toMatchObject({ status: 409 })
    expect((await review('REV-6', keys.supervisor)).status).toBe(200)
    expect(await publish('REV-6')).toMatchObject({ status: 200, body: { version: 1, name: 'changed after review' } })

    // After publication the next draft is revision 3, reviewed afresh for version 2.
    expect((await save('REV-6', itemDraft({ name: 'version two' }))).body).toMatchObject({ revision: 3, latestVersion: 1 })
    expect(await publish('REV-6')).toMatchObject({ status: 409 })
    await approveDraft(app, 'REV-6')
    expect(await publish('REV-6')).toMatchObject({ status: 200, body: { version: 2, name: 'version two' } })
    expect((await guideOf('REV-6', 1)).body).toMatchObject({ name: 'changed after review' })
  })

  it('answers 404 for an unknown item and 409 when there is no draft to review', async () => {
    expect(await review('NOPE-1', keys.supervisor)).toMatchObject({ status: 404, body: { code: 'not_found' } })
    expect((await save('REV-7', itemDraft())).status).toBe(200)
    expect((await publishItem(app, 'REV-7')).status).toBe(200)
    expect(await review('REV-7', keys.supervisor)).toMatchObject({ status: 409, body: { code: 'conflict', detail: expect.stringContaining('no draft') } })
  })

  it('rule 40: a draft saved before authors were recorded must be saved again before review', async () => {
    expect((await save('REV-8', itemDraft())).status).toBe(200)
    await db.database.pool.query('UPDATE service_items SET draft_author = NULL WHERE code = $1', ['REV-8'])
    expect(await review('REV-8', keys.supervisor)).toMatchObject({ status: 409, body: { code: 'conflict', detail: expect.stringContaining('saved again') } })
    expect((await save('REV-8', itemDraft())).status).toBe(200)
    expect((await review('REV-8', keys.supervisor)).status).toBe(200)
  })

  it('is described in the OpenAPI document like every route', async () => {
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    const operation = document.paths['/v1/service-items/{code}/review'].post
    expect(operation).toMatchObject({ operationId: 'reviewServiceItem', summary: expect.any(String), tags: ['catalogue'] })
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '403', '404', '409']))
    expect(operation.requestBody.content['application/json'].schema.required).toEqual(['approved', 'note'])
  })

  it('answers a review retried with its Idempotency-Key with the first answer, recording it once', async () => {
    expect((await save('REV-9', itemDraft())).status).toBe(200)
    const headers = { 'idempotency-key': 'review-rev-9' }
    const answers = await Promise.all(Array.from({ length: 5 }, () => review('REV-9', keys.supervisor, undefined, headers)))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200])
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1)
    expect(await reviewCount('REV-9')).toBe(1)
    expect(await review('REV-9', keys.supervisor, { approved: false, note: 'other' }, headers)).toMatchObject({ status: 409, body: { code: 'idempotency_conflict' } })
  })
})
