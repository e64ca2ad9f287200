// What the read-side benchmarks (bench/list-latency.ts, bench/summary.ts) share: their command
// line, keys written straight into the seeded schema, the API on that schema over two transports
// (inject and a loopback socket), and one request's latency measured many times in a row.
import cliProgress from 'cli-progress'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { buildApp, type App } from '../src/api/app.ts'
import { refusingGateway } from '../src/api/case-gateway.ts'
import { hashKey } from '../src/db/api-keys.ts'
import type { Database } from '../src/db/client.ts'
import { apiKeys } from '../src/db/schema.ts'
import type { Role } from '../src/domain/roles.ts'
import { DEFAULT_SEED_SCHEMA } from '../scripts/seed-cases.ts'
import { percentile } from './support.ts'

/** `[--count 1000000] [--requests 2000] [--schema bench_cases] [--drop]`, checked. */
export function readSideArgs() {
  const { values: args } = parseArgs({
    options: {
      count: { type: 'string', default: '1000000' },
      requests: { type: 'string', default: '2000' },
      schema: { type: 'string', default: DEFAULT_SEED_SCHEMA },
      drop: { type: 'boolean', default: false },
    },
    strict: true,
  })
  const count = Number(args.count)
  const requests = Number(args.requests)
  if (!Number.isSafeInteger(count) || count <= 0) throw new Error(`--count must be a positive integer, got ${args.count}`)
  if (!Number.isSafeInteger(requests) || requests <= 0) throw new Error(`--requests must be a positive integer, got ${args.requests}`)
  return { count, requests, warmUp: Math.min(200, requests), schema: args.schema, drop: args.drop }
}

/** An API key written straight into the schema; returns its secret. */
export async function createBenchKey(database: Database, organizationId: string, role: Role, name: string): Promise<string> {
  const secret = `bench-${role}-${randomBytes(12).toString('hex')}`
  await database.db.insert(apiKeys).values({
    id: `key_bench-${role}-${randomBytes(6).toString('hex')}`, organizationId, role, name, keyHash: hashKey(secret),
  })
  return secret
}

/** One GET as a transport sends it. */
export type Send = (url: string, key: string | undefined) => Promise<{ status: number; body: string }>

/** The API on `database`, never reaching Temporal (`why` says so if it tries), listening on loopback. */
export async function startReadApp(database: Database, why: string): Promise<{ app: App; inject: Send; http: Send }> {
  const app = await buildApp({ database, gateway: refusingGateway(why) })
  await app.ready()
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const headers = (key: string | undefined): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {})
  return {
    app,
    inject: async (url, key) => {
      const response = await app.inject({ method: 'GET', url, headers: headers(key) })
      return { status: response.statusCode, body: response.body }
    },
    http: async (url, key) => {
      const response = await fetch(`${base}${url}`, { headers: headers(key) })
      return { status: response.status, body: await response.text() }
    },
  }
}

export interface Timed { p50: number; p95: number; p99: number }

/**
 * Sends `url` `requests` times, one at a time, after `warmUp` unmeasured; every answer must be
 * 200. `label` names the row on the progress bar and in a failure. Returns the percentiles and
 * the first answer's body.
 */
export async function timeRequests(label: string, send: Send, url: string, key: string | undefined,
  { requests, warmUp }: { requests: number; warmUp: number }): Promise<Timed & { first: string }> {
  const answer = async () => {
    const { status, body } = await send(url, key)
    if (status !== 200) throw new Error(`${label}: ${status} ${body}`)
    return body
  }
  const first = await answer()
  for (let i = 0; i < warmUp; i++) await answer()
  const bar = new cliProgress.SingleBar({
    format: `${label.padEnd(50)} [{bar}] {value}/{total}`, stream: process.stderr, hideCursor: true, noTTYOutput: true, notTTYSchedule: 10_000,
  }, cliProgress.Presets.shades_classic)
  bar.start(requests, 0)
  const latencies: number[] = []
  try {
    for (let i = 0; i < requests; i++) {
      const began = performance.now()
      await answer()
      latencies.push(performance.now() - began)
      bar.increment()
    }
  } finally {
    bar.stop()
  }
  latencies.sort((a, b) => a - b)
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), first }
}
