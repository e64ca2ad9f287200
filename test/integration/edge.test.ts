import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/api/app.ts'
import { call, type Directory, ITEM_CODE, itemDraft, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal } from '../support/system.ts'

let app: App
let dir: Directory
let stop: (() => Promise<void>) | undefined

beforeAll(async () => {
  ({ app, stop } = await startAppWithoutTemporal('no Temporal at the edge'))
  dir = await seedDirectory(app)
})

afterAll(async () => stop?.())

/** A request whose body is sent as written (JSON.stringify would not let us write every shape). */
async function send(method: 'PUT' | 'POST', url: string, payload: string, key = ADMIN_KEY) {
  const r = await app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } })
  return { status: r.statusCode, type: r.headers['content-type'], body: r.json() }
}

const refusedAt = (path: string) => ({ status: 400, body: { code: 'validation_failed', errors: expect.arrayContaining([expect.objectContaining({ path })]) } })

describe('text Postgres or JSON cannot carry', () => {
  it('is refused with 400 naming its path, in path ids, query filters and admin bodies alike', async () => {
    expect(await call(app, ADMIN_KEY, 'GET', '/v1/organizations/gz%00')).toMatchObject(refusedAt('params/id'))
    expect(await call(app, ADMIN_KEY, 'GET', '/v1/cases/A1%00')).toMatchObject(refusedAt('params/id'))
    expect(await call(app, ADMIN_KEY, 'GET', '/v1/cases/A1%00/history')).toMatchObject(refusedAt('params/id'))
    expect(await call(app, ADMIN_KEY, 'GET', `/v1/service-items/${ITEM_CODE}%00`)).toMatchObject(refusedAt('params/code'))
    for (const filter of ['status', 'serviceItemCode', 'flag', 'handlingOrganizationId']) {
      expect(await call(app, ADMIN_KEY, 'GET', `/v1/cases?${filter}=a%00b`)).toMatchObject(refusedAt(`querystring/${filter}`))
    }
    expect(await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-nul', { name: 'a\u0000b', kind: 'department', parentId: 'gz' }))
      .toMatchObject(refusedAt('body/name'))
    expect(await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'gz-amr', role: 'window', name: 'desk\u0000' }))
      .toMatchObject(refusedAt('body/name'))
    expect(await call(app, ADMIN_KEY, 'PUT', '/v1/service-items/NUL-1', itemDraft({ name: 'Licence\u0000' })))
      .toMatchObject(refusedAt('body/name'))
    expect(await call(app, ADMIN_KEY, 'GET', '/v1/organizations/gz-nul')).toMatchObject({ status: 404 })
  })

  it('includes lone surrogates and property names, and the free-form bodies of case actions', async () => {
    const surrogate = await send('PUT', '/v1/organizations/gz-sur', '{"name":"x\\ud800","kind":"department","parentId":"gz"}')
    expect(surrogate).toMatchObject(refusedAt('body/name'))
    expect(surrogate.type).toContain('application/problem+json')
    expect(await send('PUT', '/v1/organizations/gz-sur', '{"name":"\\udc00x","kind":"department"}')).toMatchObject(refusedAt('body/name'))
    // A well-formed pair is text like any other.
    expect(await call(app, ADMIN_KEY, 'PUT', '/v1/organizations/gz-emoji', { name: 'Desk 😀', kind: 'department', parentId: 'gz' }))
      .toMatchObject({ status: 200, body: { name: 'Desk 😀' } })
    const rule = await call(app, ADMIN_KEY, 'PUT', '/v1/service-items/NUL-2', itemDraft({ autoApprove: { '==\u0000': [1, 1] } }))
    expect(rule).toMatchObject(refusedAt('body/autoApprove/==\u0000'))
    // Checked before the case is looked up: no case, no Temporal, still a 400 at the path.
    expect(await call(app, dir.departmentKey, 'POST', '/v1/cases/A1/actions', { action: 'transfer', toOrganizationId: 'gz\u0000', reason: 'r' }))
      .toMatchObject(refusedAt('body/toOrganizationId'))
    expect(await call(app, dir.departmentKey, 'POST', '/v1/cases/A1/actions', {
      action: 'request_opinions', organizationIds: ['gz-hr', 'gz\ud800'], within: { workingDays: 3 },
    })).toMatchObject(refusedAt('body/organizationIds/1'))
    expect(await call(app, dir.departmentKey, 'POST', '/v1/cases/A1/actions', { action: 'resume', note: 'ok\u0000' }))
      .toMatchObject(refusedAt('body/note'))
  })
})

describe('numbers in query strings and paths', () => {
  it('are integers only when written as integers', async () => {
    for (const limit of ['1.5', '0x10', '1e1', '', ' 5']) {
      expect(await call(app, ADMIN_KEY, 'GET', `/v1/cases?limit=${encodeURIComponent(limit)}`)).toMatchObject(refusedAt('querystring/limit'))
    }
    expect(await call(app, ADMIN_KEY, 'GET', '/v1/cases?limit=5')).toMatchObject({ status: 200 })
    expect(await call(app, ADMIN_KEY, 'GET', '/v1/calendar/2026.5')).toMatchObject(refusedAt('params/year'))
    expect(await call(app, ADMIN_KEY, 'GET', '/v1/cases?overdue=1')).toMatchObject(refusedAt('querystring/overdue'))
    expect(await call(app, ADMIN_KEY, 'GET', '/v1/cases?overdue=true')).toMatchObject({ status: 200 })
  })

  it('answer ?version beyond a Postgres integer, or not an integer, with 400, not an overflow', async () => {
    for (const version of ['2147483648', '2063629280729', '1.5', '99999999999999999999']) {
      expect(await call(app, ADMIN_KEY, 'GET', `/v1/service-items/${ITEM_CODE}?version=${version}`)).toMatchObject(refusedAt('querystring/version'))
    }
    expect(await call(app, ADMIN_KEY, 'GET', `/v1/service-items/${ITEM_CODE}?version=2147483647`)).toMatchObject({ status: 404 })
    expect(await call(app, ADMIN_KEY, 'GET', `/v1/service-items/${ITEM_CODE}?version=1`)).toMatchObject({ status: 200, body: { version: 1 } })
  })
})

describe('instants', () => {
  it('refuses a leap second, year 0000 and years Postgres or Date cannot hold, on ?at and ?dueBefore', async () => {
    const bad = ['2026-12-02T23:59:60Z', '0000-01-01T00:00:00Z', '1899-12-31T23:59:59Z', '9999-12-31T23:00:00-05:00',
      '2026-02-29T00:00:00Z', '2026-12-02T24:00:00Z', '2026-12-02T10:00:00', '+012026-12-02T10:00:00Z']
    for (const at of bad) {
      const q = encodeURIComponent(at)
      expect(await call(app, ADMIN_KEY, 'GET', `/v1/cases/A1?at=${q}`), at).toMatchObject(refusedAt('querystring/at'))
      expect(await call(app, ADMIN_KEY, 'GET', `/v1/cases?dueBefore=${q}`), at).toMatchObject(refusedAt('querystring/dueBefore'))
    }
    const good = ['2026-12-02T23:59:59Z', '2024-02-29T00:00:00.123456Z', '1900-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z',
      '2026-12-02T10:00:00+08:00']
    for (const at of good) {
      const q = encodeURIComponent(at)
      expect((await call(app, ADMIN_KEY, 'GET', `/v1/cases/A1?at=${q}`)).status, at).toBe(404)
      expect((await call(app, ADMIN_KEY, 'GET', `/v1/cases?dueBefore=${q}`)).status, at).toBe(200)
    }
  })
})

describe('request bodies', () => {
  it('are limited to 1 MiB: 413 payload_too_large', async () => {
    const big = await send('PUT', '/v1/organizations/gz-big', JSON.stringify({ name: 'x'.repeat(1024 * 1024), kind: 'department' }))
    expect(big).toMatchObject({ status: 413, body: { code: 'payload_too_large' } })
    expect(big.type).toContain('application/problem+json')
    // Just under the limit it is read, and then judged by its schema.
    const under = await send('PUT', '/v1/organizations/gz-big', JSON.stringify({ name: 'x'.repeat(1000 * 1024), kind: 'department' }))
    expect(under).toMatchObject(refusedAt('body/name'))
  })

  it('nest at most 64 deep: a 10,000-deep JSONLogic rule is a 400, not a 500', async () => {
    const tooDeep = { status: 400, body: { code: 'validation_failed', errors: [{ path: 'body', message: 'must not nest more than 64 deep' }] } }
    const deepRule = `${'{"!":['.repeat(10_000)}true${']}'.repeat(10_000)}`
    const draft = JSON.stringify(itemDraft()).replace(/}$/, `,"autoApprove":${deepRule}}`)
    expect(await send('PUT', '/v1/service-items/DEEP-1', draft)).toMatchObject(tooDeep)
    const nested = (depth: number) => `{"name":"n","kind":"department","parentId":"gz","x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`
    expect(await send('PUT', '/v1/organizations/gz-deep', nested(65))).toMatchObject(tooDeep)
    // 64 deep parses, and then the schema refuses the unknown field.
    const parsed = await send('PUT', '/v1/organizations/gz-deep', nested(64))
    expect(parsed).toMatchObject(refusedAt('body'))
    expect(parsed.body.errors).not.toContainEqual(tooDeep.body.errors[0])
    // Brackets inside strings are text, not depth.
    const text = await send('PUT', '/v1/organizations/gz-deep', JSON.stringify({ name: `[{"\\${'['.repeat(100)}`, kind: 'department', parentId: 'gz' }))
    expect(text.status).toBe(200)
  })
})

describe("Fastify's own refusals", () => {
  it('answer a URL that is not valid percent-encoding, and an overlong path parameter, as problem+json', async () => {
    for (const url of ['/v1/organizations/%E0%A4%A', `/v1/organizations/${'a'.repeat(150)}`]) {
      const r = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      expect({ url, status: r.statusCode, code: r.json().code }).toEqual({ url, status: 400, code: 'validation_failed' })
      expect(r.headers['content-type']).toContain('application/problem+json')
    }
  })

  it("answer what Node's HTTP parser refuses (headers over 16 KiB, a request line too long, bytes that are not HTTP) as problem+json", async () => {
    await app.listen({ port: 0, host: '127.0.0.1' })
    const address = app.server.address()
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
    const raw = (request: string) => new Promise<string>((resolve, reject) => {
      let answer = ''
      const socket = connect(address.port, '127.0.0.1', () => socket.write(request))
      socket.setEncoding('utf8')
      socket.on('data', (chunk) => { answer += chunk })
      socket.on('close', () => resolve(answer))
      socket.on('error', reject)
    })
    const parse = (answer: string) => {
      const [head, body] = answer.split('\r\n\r\n')
      return { status: Number(head!.split(' ')[1]), type: /content-type: ([^\r\n]+)/i.exec(head!)?.[1], code: JSON.parse(body!).code }
    }
    expect(parse(await raw(`GET /v1/cases HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)))
      .toEqual({ status: 431, type: 'application/problem+json', code: 'headers_too_large' })
    expect(parse(await raw(`GET /v1/cases?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)))
      .toEqual({ status: 431, type: 'application/problem+json', code: 'headers_too_large' })
    expect(parse(await raw('NOT HTTP AT ALL\r\n\r\n')))
      .toEqual({ status: 400, type: 'application/problem+json', code: 'validation_failed' })
  })
})
