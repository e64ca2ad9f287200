import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/api/app.ts'
import { MAX_RULE_DEPTH } from '../../src/domain/rules.ts'
import { call, itemDraft, publishItem } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal, type TestDatabase } from '../support/system.ts'

// What would freeze a case later is refused when it is written: a rule json-logic-js cannot
// evaluate (at save, and again at publish), an action's parameters the case could not apply.

let app: App
let db: TestDatabase
let stop: (() => Promise<void>) | undefined

beforeAll(async () => {
  ({ app, db, stop } = await startAppWithoutTemporal('saving rules and reading parameters reach no workflow'))
  for (const [id, kind, parentId] of [['gz', 'government', 'root'], ['gz-amr', 'department', 'gz']]) {
    expect((await call(app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })).status).toBe(200)
  }
})
afterAll(async () => stop?.())

const save = (code: string, autoApprove: unknown) =>
  call(app, ADMIN_KEY, 'PUT', `/v1/service-items/${code}`, { ...itemDraft(), autoApprove })
const nested = (depth: number): unknown => {
  let rule: unknown = { '==': [1, 1] }
  for (let i = 0; i < depth; i++) rule = { and: [rule] }
  return rule
}

describe('saving an auto-approval rule', () => {
  it('refuses an operator json-logic-js does not know, with its path', async () => {
    const r = await save('RULE-1', { and: [{ '==': [{ var: 'applicant.type' }, 'person'] }, { no_such_op: [1] }] })
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({ code: 'validation_failed', errors: [{ path: 'body/autoApprove/and/1/no_such_op' }] })
    expect((await save('RULE-1', { no_such_op: [1] })).body).toMatchObject({ errors: [{ path: 'body/autoApprove/no_such_op' }] })
    // Refused before it is stored: no draft exists, and a good draft is not replaced by a bad one.
    expect((await call(app, ADMIN_KEY, 'GET', '/v1/service-items/RULE-1/draft')).status).toBe(404)
    const good = { '==': [{ var: 'applicant.type' }, 'person'] }
    expect((await save('RULE-1', good)).status).toBe(200)
    expect((await save('RULE-1', { no_such_op: [1] })).status).toBe(400)
    expect((await call(app, ADMIN_KEY, 'GET', '/v1/service-items/RULE-1/draft')).body).toMatchObject({ draft: { autoApprove: good } })
  })

  it(`refuses a rule nested deeper than ${MAX_RULE_DEPTH} levels`, async () => {
    // Each level is an operation and its argument list: 20 levels are 40 deep, short of the body's own bound.
    const r = await save('RULE-2', nested(20))
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({ code: 'validation_failed', errors: [{ message: expect.stringMatching(/deeper than 32/) }] })
    expect((await save('RULE-2', nested(MAX_RULE_DEPTH / 2 - 1))).status).toBe(200)
  })

  it('refuses a rule that fails on the complete applications the item could receive', async () => {
    // `missing_some` over a fact that does not exist throws inside json-logic-js.
    const r = await save('RULE-3', { missing_some: [1, { var: 'no.such.fact' }] })
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({ code: 'validation_failed', errors: [{ path: 'body/autoApprove', message: expect.stringMatching(/cannot be evaluated/) }] })
  })

  it('saves and publishes a rule that evaluates', async () => {
    expect((await save('RULE-4', { in: ['lease', { var: 'materials' }] })).status).toBe(200)
    const published = await publishItem(app, 'RULE-4')
    expect(published.status).toBe(200)
    expect(published.body).toMatchObject({ autoApprove: { in: ['lease', { var: 'materials' }] } })
  })

  it('checks the rule again at publication: a draft saved unchecked is not published', async () => {
    expect((await save('RULE-5', { '==': [1, 1] })).status).toBe(200)
    // As a draft written before rules were checked would be.
    await db.database.pool.query('UPDATE service_items SET draft = jsonb_set(draft, \'{autoApprove}\', $1::jsonb) WHERE code = $2',
      [JSON.stringify({ no_such_op: [1] }), 'RULE-5'])
    const r = await call(app, ADMIN_KEY, 'POST', '/v1/service-items/RULE-5/publish')
    expect(r.status).toBe(422)
    expect(r.body).toMatchObject({ code: 'unprocessable', errors: [{ path: 'draft/autoApprove/no_such_op' }] })
    expect((await call(app, ADMIN_KEY, 'GET', '/v1/service-items/RULE-5')).status).toBe(404)
  })
})

describe('an action\'s parameters at the HTTP edge', () => {
  const act = (body: Record<string, unknown>) => call(app, ADMIN_KEY, 'POST', '/v1/cases/A-NONE/actions', body)

  it('are read by the case\'s own parser: P1.5W2D is refused with its path, before anything else', async () => {
    const r = await act({ action: 'request_opinions', organizationIds: ['gz-hr'], within: { duration: 'P1.5W2D' } })
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: 'body/within/duration', message: expect.stringMatching(/only the last component may have a fraction/) }],
    })
  })

  it('refuse a limit longer than the calendar can count', async () => {
    const r = await act({ action: 'supervise', note: 'hurry', respondWithin: { duration: 'P9999999W' } })
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({ errors: [{ path: 'body/respondWithin/duration', message: expect.stringMatching(/longer than 3650 days/) }] })
  })

  it('let well-formed parameters through to the next check (here: an administrator does not request opinions)', async () => {
    const r = await act({ action: 'request_opinions', organizationIds: ['gz-hr'], within: { duration: 'P1W2.5D' } })
    expect(r.status).toBe(403)
  })
})
