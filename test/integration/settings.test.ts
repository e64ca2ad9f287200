import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/api/app.ts'
import { readLimits } from '../../src/db/settings.ts'
import { call, type Directory, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal, type TestDatabase } from '../support/system.ts'

let db: TestDatabase
let app: App
let dir: Directory
let stop: (() => Promise<void>) | undefined

beforeAll(async () => {
  ({ db, app, stop } = await startAppWithoutTemporal('no Temporal in settings tests'))
  dir = await seedDirectory(app)
})
afterAll(async () => stop?.())

const DEFAULTS = {
  'escalation.accept': { workingDays: 1 },
  'escalation.handle': { workingDays: 5 },
  'escalation.feedback': { workingDays: 10 },
  'complaint.consultation': { workingDays: 2 },
  'complaint.help': { workingDays: 10 },
  'complaint.suggestion': { workingDays: 10 },
  'complaint.complaint': { workingDays: 15 },
  'complaint.report': { workingDays: 15 },
  'complaint.urgent': { duration: 'PT24H' },
  'complaint.sign': { workingDays: 1 },
  'supervision.respond': { workingDays: 3 },
  'rating.default': { duration: 'P7D' },
  'rating.rectification': { workingDays: 15 },
  'application.deferred': { workingDays: 5 },
}

describe('limit settings', () => {
  it('start at the defaults of the domain rules, readable by administrators and supervisors', async () => {
    const asAdmin = await call(app, ADMIN_KEY, 'GET', '/v1/settings/limits')
    expect(asAdmin.status).toBe(200)
    expect(asAdmin.body).toEqual(DEFAULTS)
    const asSupervisor = await call(app, dir.supervisorKey, 'GET', '/v1/settings/limits')
    expect(asSupervisor.status).toBe(200)
    expect(asSupervisor.body).toEqual(DEFAULTS)
    expect(await readLimits(db.database.db)).toEqual(DEFAULTS)
  })

  it('are hidden from other roles and from callers without a key', async () => {
    for (const key of [dir.windowKey, dir.departmentKey, dir.auditorKey]) {
      const r = await call(app, key, 'GET', '/v1/settings/limits')
      expect(r.status).toBe(403)
      expect(r.body).toMatchObject({ code: 'forbidden' })
    }
    const anonymous = await app.inject({ method: 'GET', url: '/v1/settings/limits' })
    expect(anonymous.statusCode).toBe(401)
    const supervisorWrites = await call(app, dir.supervisorKey, 'PUT', '/v1/settings/limits', { 'escalation.accept': { workingDays: 2 } })
    expect(supervisorWrites.status).toBe(403)
  })

  it('change only the names given, and new cases read the new values', async () => {
    const r = await call(app, ADMIN_KEY, 'PUT', '/v1/settings/limits', {
      'complaint.consultation': { duration: 'PT4H' },
      'escalation.handle': { workingDays: 3 },
    })
    expect(r.status).toBe(200)
    const expected = { ...DEFAULTS, 'complaint.consultation': { duration: 'PT4H' }, 'escalation.handle': { workingDays: 3 } }
    expect(r.body).toEqual(expected)
    expect((await call(app, dir.supervisorKey, 'GET', '/v1/settings/limits')).body).toEqual(expected)
    expect(await readLimits(db.database.db)).toEqual(expected)

    const again = await call(app, ADMIN_KEY, 'PUT', '/v1/settings/limits', { 'escalation.handle': { workingDays: 4 } })
    expect(again.body).toEqual({ ...expected, 'escalation.handle': { workingDays: 4 } })
  })

  it('refuse unknown names, bad limits and an empty change with 400 naming each problem, changing nothing', async () => {
    const before = (await call(app, ADMIN_KEY, 'GET', '/v1/settings/limits')).body

    const unknown = await call(app, ADMIN_KEY, 'PUT', '/v1/settings/limits', {
      'escalation.accept': { workingDays: 2 }, 'escalation.lunch': { workingDays: 1 }, speed: { duration: 'PT1H' },
    })
    expect(unknown.status).toBe(400)
    expect(unknown.headers['content-type']).toContain('application/problem+json')
    expect(unknown.body).toMatchObject({
      code: 'validation_failed',
      errors: [expect.objectContaining({ path: 'body/escalation.lunch' }), expect.objectContaining({ path: 'body/speed' })],
    })
    expect((unknown.body as { errors: Array<{ message: string }> }).errors[0]!.message).toContain('complaint.consultation')

    const bad: Array<[unknown, string]> = [
      [{ 'rating.default': { workingDays: -1 } }, 'body/rating.default'],
      [{ 'rating.default': { workingDays: 1.5 } }, 'body/rating.default'],
      [{ 'rating.default': { duration: 'P1M' } }, 'body/rating.default'],
      [{ 'rating.default': { duration: 'P1.5DT2H' } }, 'body/rating.default/duration'],
      [{ 'rating.default': { workingDays: 1, duration: 'P1D' } }, 'body/rating.default'],
      [{ 'rating.default': 7 }, 'body/rating.default'],
    ]
    for (const [body, path] of bad) {
      const r = await call(app, ADMIN_KEY, 'PUT', '/v1/settings/limits', body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body, JSON.stringify(body)).toMatchObject({ code: 'validation_failed' })
      const paths = (r.body as { errors: Array<{ path: string }> }).errors.map((e) => e.path)
      expect(paths.some((p) => p.startsWith(path)), `${JSON.stringify(body)}: ${paths.join(', ')}`).toBe(true)
    }
    const empty = await call(app, ADMIN_KEY, 'PUT', '/v1/settings/limits', {})
    expect(empty.status).toBe(400)

    expect((await call(app, ADMIN_KEY, 'GET', '/v1/settings/limits')).body).toEqual(before)
  })
})
