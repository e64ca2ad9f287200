import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildApp, type App } from '../../src/api/app.ts'
import { refusingGateway, type CaseGateway } from '../../src/api/case-gateway.ts'
import { openDatabase, type Database } from '../../src/db/client.ts'
import { freePort } from '../../src/infra/ports.ts'
import { ADMIN_KEY, createTestDatabase, type TestDatabase } from '../support/system.ts'

// What an orchestrator's probes see once a dependency goes away under a running API: liveness
// never depends on the database, and readiness answers 503 well within a probe's usual second.

/** Temporal that takes the call and never answers (a hung frontend, a black-holed route). */
const hungTemporal: CaseGateway = { ...refusingGateway('not in health tests'), ping: () => new Promise(() => undefined) }
const healthyTemporal: CaseGateway = { ...refusingGateway('not in health tests'), ping: async () => undefined }

/** The test Postgres behind a proxy that can go down (its port closed) or hang (accept, never answer). */
async function postgresProxy(databaseUrl: string) {
  const target = new URL(databaseUrl)
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    return socket
  }
  let hung = false
  const server: Server = createServer((client) => {
    track(client)
    if (hung) return
    const upstream = track(connect(Number(target.port || 5432), target.hostname))
    client.pipe(upstream).pipe(client)
  })
  const port = await freePort()
  await new Promise<void>((resolveListen) => server.listen(port, '127.0.0.1', resolveListen))
  const dropAll = () => {
    for (const socket of sockets) socket.destroy()
  }
  const url = new URL(databaseUrl)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return {
    url: url.toString(),
    down: async () => {
      dropAll()
      if (server.listening) await new Promise((resolveClose) => server.close(resolveClose))
    },
    hang: () => {
      hung = true
      dropAll()
    },
  }
}

async function probe(app: App, path: string, key = ADMIN_KEY) {
  const started = performance.now()
  const answer = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${key}` } })
  return { status: answer.statusCode, type: answer.headers['content-type'], body: answer.body, ms: performance.now() - started }
}

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => db?.drop())

/** The API on the test schema through a proxy; `work` runs, then everything is closed. */
function behindProxy(gateway: CaseGateway) {
  const ctx = {} as { app: App; database: Database; proxy: Awaited<ReturnType<typeof postgresProxy>> }
  beforeAll(async () => {
    ctx.proxy = await postgresProxy(inject('databaseUrl'))
    ctx.database = openDatabase({ url: ctx.proxy.url, schemaName: db.schemaName, max: 4, keyring: db.database.personal.keyring })
    ctx.app = await buildApp({ database: ctx.database, gateway })
    await ctx.app.ready()
  })
  afterAll(async () => {
    await ctx.app?.close()
    await ctx.proxy?.down()
    await ctx.database?.close()
  })
  return ctx
}

describe('with Postgres gone (its port closed) and Temporal hung', () => {
  const ctx = behindProxy(hungTemporal)

  it('answers /healthz and /metrics 200 to callers that send a key, and /readyz 503 not_ready within a second', async () => {
    await ctx.proxy.down()
    for (const key of [ADMIN_KEY, 'bj_a-key-nobody-has-looked-up-yet']) {
      expect(await probe(ctx.app, '/healthz', key)).toMatchObject({ status: 200, body: JSON.stringify({ status: 'ok' }) })
      expect((await probe(ctx.app, '/metrics', key)).status).toBe(200)
    }
    const ready = await probe(ctx.app, '/readyz')
    expect(ready.ms).toBeLessThan(1000)
    expect(ready).toMatchObject({ status: 503, type: expect.stringContaining('application/problem+json') })
    expect(JSON.parse(ready.body)).toMatchObject({ code: 'not_ready', detail: 'postgres: unreachable, temporal: unreachable' })
  })
})

describe('with Postgres hung (it accepts connections and never answers)', () => {
  const ctx = behindProxy(healthyTemporal)

  it('answers /readyz 200 while it is up, then 503 within a second naming only Postgres', async () => {
    expect(await probe(ctx.app, '/readyz')).toMatchObject({ status: 200 })
    ctx.proxy.hang()
    expect(await probe(ctx.app, '/healthz', 'bj_another-unseen-key')).toMatchObject({ status: 200 })
    const ready = await probe(ctx.app, '/readyz')
    expect(ready.ms).toBeLessThan(1000)
    expect(ready.status).toBe(503)
    expect(JSON.parse(ready.body)).toMatchObject({ code: 'not_ready', detail: 'postgres: unreachable, temporal: ok' })
  })

  it('answers /metrics within a second with the read side marked down, rather than hanging on its case gauges', async () => {
    const metrics = await probe(ctx.app, '/metrics')
    expect(metrics.status).toBe(200)
    expect(metrics.ms).toBeLessThan(1000)
    expect(metrics.body).toMatch(/^banjian_read_side_up 0$/m)
    expect(metrics.body).not.toMatch(/^banjian_cases_open\{/m)
  })
})
