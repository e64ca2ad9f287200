import { once } from 'node:events'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp, drainAndClose } from '../../src/api/app.ts'
import { refusingGateway } from '../../src/api/case-gateway.ts'
import { ADMIN_KEY, createTestDatabase, type TestDatabase } from '../support/system.ts'

// Shutdown as a load balancer needs it (issue 14): out of rotation at once, the requests in flight answered.
let db: TestDatabase
let app: App
beforeAll(async () => {
  db = await createTestDatabase()
  // Temporal is reachable as far as readiness asks; nothing here starts a case.
  app = await buildApp({ database: db.database, gateway: { ...refusingGateway('no cases at shutdown'), ping: async () => undefined } })
})
afterAll(async () => {
  await app?.close()
  await db?.drop()
})

describe('drainAndClose', () => {
  it('turns readiness 503 at once, serves the rest through the grace, answers a request in flight, then takes no connection', async () => {
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    expect((await fetch(`${url}/readyz`)).status).toBe(200)

    // A request in flight: its head and half its body sent before shutdown begins.
    const body = JSON.stringify({ name: 'Drained office', kind: 'department', parentId: 'root' })
    const socket = connect(Number(new URL(url).port), '127.0.0.1')
    await once(socket, 'connect')
    let answer = ''
    socket.on('data', (chunk: Buffer) => { answer += chunk.toString() })
    socket.write(`PUT /v1/organizations/gz-drained HTTP/1.1\r\nHost: banjian\r\nAuthorization: Bearer ${ADMIN_KEY}\r\n`
      + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`)

    const closing = drainAndClose(app, 500)
    const ready = await fetch(`${url}/readyz`)
    expect(ready.status).toBe(503)
    expect(ready.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(await ready.json()).toMatchObject({ code: 'not_ready', detail: expect.stringMatching(/shutting down/) })
    expect((await fetch(`${url}/healthz`)).status).toBe(200)

    socket.write(body.slice(10))
    const until = Date.now() + 5_000
    while (!answer.includes('gz-drained') && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    expect(answer).toContain('"id":"gz-drained"')
    socket.destroy()
    await closing
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
    // What the request in flight wrote is there.
    const stored = await db.database.pool.query('SELECT name FROM organizations WHERE id = $1', ['gz-drained'])
    expect(stored.rows).toEqual([{ name: 'Drained office' }])
  })
})
