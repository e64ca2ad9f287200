import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/api/app.ts'
import { ADMIN_KEY, startAppWithoutTemporal } from '../support/system.ts'

// Per-key rate limits (issue 14, API.md's `rate_limited`): a small limit, so that a test reaches it.
const PER_MINUTE = 4

let app: App
let stop: (() => Promise<void>) | undefined
beforeAll(async () => {
  ({ app, stop } = await startAppWithoutTemporal('rate limits need no Temporal', { rateLimitPerMinute: PER_MINUTE }))
})
afterAll(async () => stop?.())

const get = (url: string, key?: string) => app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} })

describe('per-key rate limits', () => {
  it('answer 429 rate_limited with Retry-After past the limit, for that key alone, and never limit health checks or metrics', async () => {
    const created = await app.inject({
      method: 'POST', url: '/v1/api-keys', headers: { authorization: `Bearer ${ADMIN_KEY}` },
      payload: { organizationId: 'root', role: 'auditor', name: 'rate limit test' },
    })
    expect(created.statusCode).toBe(201)
    const other = created.json<{ key: string }>().key
    // Each answer says how many requests the key has left in the minute.
    for (let i = 1; i < PER_MINUTE; i++) {
      const answer = await get('/v1/organizations', ADMIN_KEY)
      expect(answer.statusCode).toBe(200)
      expect(answer.headers).toMatchObject({ 'x-ratelimit-limit': String(PER_MINUTE), 'x-ratelimit-remaining': String(PER_MINUTE - 1 - i) })
    }
    const refused = await get('/v1/organizations', ADMIN_KEY)
    expect(refused.statusCode).toBe(429)
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(refused.json()).toMatchObject({ status: 429, code: 'rate_limited', title: 'Too many requests' })
    const retryAfter = Number(refused.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // Another key has a count of its own.
    expect((await get('/v1/organizations', other)).statusCode).toBe(200)
    // A request without a key is refused by authentication, as before, not counted against a key.
    expect((await get('/v1/organizations')).statusCode).toBe(401)
    for (let i = 0; i < PER_MINUTE + 2; i++) {
      expect((await get('/healthz')).statusCode).toBe(200)
      expect((await get('/metrics')).statusCode).toBe(200)
    }
    expect((await get('/v1/organizations', ADMIN_KEY)).statusCode).toBe(429)
  })

  it('is in the contract: every /v1 operation documents its 429 as problem+json', async () => {
    const document = (await get('/openapi.json')).json<{ paths: Record<string, Record<string, { responses: Record<string, { content?: object }> }>> }>()
    const operations = Object.entries(document.paths).filter(([path]) => path.startsWith('/v1/')).flatMap(([, item]) => Object.values(item))
    expect(operations.length).toBeGreaterThan(30)
    for (const operation of operations) expect(operation.responses['429']?.content).toHaveProperty(['application/problem+json'])
  })
})
