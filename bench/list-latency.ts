// List latency on a large read side: GET /v1/cases filtered by organisation and overdue/warned,
// through the real API (inject and a loopback socket), against GET /healthz on the same transport
// in the same run, plus the query plans Postgres chose for the busiest department.
// Usage: node --import tsx bench/list-latency.ts [--count 1000000] [--requests 2000] [--schema bench_cases] [--drop]
// Needs Postgres in DATABASE_URL or TEST_DATABASE_URL. Seeds the schema (scripts/seed-cases.ts)
// unless it already holds --count rows, and keeps it for the next run unless --drop is given.
import { quoteIdent, type Database } from '../src/db/client.ts'
import { databaseUrlFromEnvironment, formatBytes, openSeedDatabase, seedCases } from '../scripts/seed-cases.ts'
import { createBenchKey, readSideArgs, type Send, startReadApp, timeRequests } from './read-side.ts'

const { count: COUNT, requests: REQUESTS, warmUp: WARM_UP, ...args } = readSideArgs()
const LIMIT = 50

interface Scenario {
  name: string
  url: string
  key?: string
  /** What every item of the first page must satisfy. */
  check?: (item: { overdue: boolean; warned: boolean; handlingOrganizationId: string }) => boolean
}

interface Department { id: string; total: number; overdue: number; warned: number }

/**
 * Times the scenario's request on one transport; its first page must be non-empty and hold only
 * what the filter lets through.
 */
async function measure(transport: string, scenario: Scenario, send: Send) {
  const timed = await timeRequests(`${transport} ${scenario.name}`, send, scenario.url, scenario.key, { requests: REQUESTS, warmUp: WARM_UP })
  const items = (JSON.parse(timed.first) as { items?: Array<Parameters<NonNullable<Scenario['check']>>[0]> }).items
  if (scenario.check && (!items?.length || !items.every(scenario.check))) {
    throw new Error(`${scenario.name}: the first page is empty or holds cases the filter excludes`)
  }
  return { p50: timed.p50, p95: timed.p95, p99: timed.p99, items: items?.length ?? 0 }
}

/** Departments by overdue load: the busiest, the median and the quietest that has any. */
async function pickDepartments(database: Database): Promise<Department[]> {
  const { rows } = await database.pool.query<{ id: string; total: string; overdue: string; warned: string }>(`
    SELECT handling_organization_id AS id, count(*) AS total, count(*) FILTER (WHERE overdue) AS overdue,
      count(*) FILTER (WHERE warned) AS warned
    FROM cases WHERE handling_organization_id IS NOT NULL GROUP BY 1 ORDER BY 3 DESC, 1`)
  const all = rows.map((r) => ({ id: r.id, total: Number(r.total), overdue: Number(r.overdue), warned: Number(r.warned) }))
    .filter((d) => d.overdue > 0)
  if (all.length === 0) throw new Error('no department has overdue cases')
  return [all[0]!, all[Math.floor(all.length / 2)]!, all[all.length - 1]!]
}

/**
 * Records the SQL and parameters of each list query the app sends, by wrapping the pool's query
 * method (drizzle calls it with a query config), so the plans shown are of the exact statements.
 */
function captureListQueries(database: Database) {
  const captured = new Map<string, { text: string; values: unknown[] }>()
  const pool = database.pool as unknown as { query: (...a: unknown[]) => unknown }
  const original = pool.query.bind(pool)
  let current = ''
  pool.query = (...a: unknown[]) => {
    const [config, values] = a
    const text = typeof config === 'string' ? config : (config as { text?: string } | undefined)?.text
    if (current && text?.includes('from "cases"') && !captured.has(current)) {
      captured.set(current, { text, values: Array.isArray(values) ? values : [] })
    }
    return original(...a)
  }
  return { captured, label: (name: string) => { current = name } }
}

async function explain(database: Database, text: string, values: unknown[]): Promise<string> {
  const { rows } = await database.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values)
  return rows.map((r) => r['QUERY PLAN']).join('\n')
}

/** One line on how a plan reads the list: which index, and whether it sorts afterwards. */
function planVerdict(plan: string): string {
  const ordered = [...plan.matchAll(/Index (?:Only )?Scan using (\S+)/g)].map((m) => m[1])
  const bitmaps = [...plan.matchAll(/Bitmap Index Scan on (\S+)/g)].map((m) => m[1])
  const sorted = /\bSort\b/.test(plan)
  const scanned = /Bitmap Heap Scan[^\n]*actual time=[\d.]+\.\.[\d.]+ rows=(\d+)/.exec(plan)?.[1]
  if (/Seq Scan/.test(plan)) return 'SEQUENTIAL SCAN of cases: no index serves this query'
  if (ordered.length && !sorted) return `index scan on ${ordered.join(', ')} in list order, stops after the page (no sort)`
  if (bitmaps.length) return `bitmap scans on ${bitmaps.join(' + ')}, then sorts all ${scanned ?? 'matching'} rows to return one page`
  return `${ordered.join(', ')}${sorted ? ' then a sort' : ''}`
}

async function main(): Promise<void> {
  const schemaName = args.schema
  quoteIdent(schemaName)
  const database = await openSeedDatabase(databaseUrlFromEnvironment(), schemaName)
  let app: { close(): Promise<unknown> } | undefined
  try {
    const { rows: [counted] } = await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM cases')
    if (Number(counted?.n ?? 0) < COUNT) {
      const seeded = await seedCases(database, { count: COUNT, progress: true })
      console.log(`seeded ${seeded.inserted} cases into ${schemaName} in ${seeded.seconds.toFixed(1)} s ` +
        `(table ${formatBytes(seeded.tableBytes)}, with indexes ${formatBytes(seeded.totalBytes)})`)
    } else {
      const { rows: [size] } = await database.pool.query<{ table: string; total: string }>(
        "SELECT pg_table_size('cases') AS table, pg_total_relation_size('cases') AS total")
      console.log(`reusing ${schemaName}: ${counted?.n} cases (table ${formatBytes(Number(size?.table))}, with indexes ${formatBytes(Number(size?.total))})`)
    }

    const [busy, median, quiet] = await pickDepartments(database)
    if (!busy || !median || !quiet) throw new Error('not enough departments')
    for (const [role, d] of [['busiest', busy], ['median', median], ['quietest', quiet]] as const) {
      console.log(`${role.padEnd(9)} department ${d.id}: ${d.total} cases, ${d.overdue} overdue, ${d.warned} warned`)
    }
    const auditorKey = await createBenchKey(database, 'root', 'auditor', 'list-latency benchmark')
    const departmentKey = await createBenchKey(database, busy.id, 'department', 'list-latency benchmark')

    const queries = captureListQueries(database)
    const started = await startReadApp(database, 'the list benchmark never writes')
    app = started.app
    const { inject, http } = started

    const list = (filter: string, org: string) => `/v1/cases?${filter}=true&handlingOrganizationId=${org}&limit=${LIMIT}`
    const overdueOf = (org: string) => (c: { overdue: boolean; handlingOrganizationId: string }) => c.overdue && c.handlingOrganizationId === org
    const firstPage = JSON.parse((await inject(list('overdue', busy.id), auditorKey)).body) as { nextCursor: string | null }
    if (!firstPage.nextCursor) throw new Error(`${busy.id} has a single page of overdue cases`)
    const scenarios: Scenario[] = [
      { name: 'GET /healthz (baseline)', url: '/healthz' },
      { name: 'auditor overdue, busiest', url: list('overdue', busy.id), key: auditorKey, check: overdueOf(busy.id) },
      { name: 'auditor overdue, busiest, page 2', url: `${list('overdue', busy.id)}&cursor=${firstPage.nextCursor}`, key: auditorKey, check: overdueOf(busy.id) },
      { name: 'auditor overdue, median', url: list('overdue', median.id), key: auditorKey, check: overdueOf(median.id) },
      { name: 'auditor overdue, quietest', url: list('overdue', quiet.id), key: auditorKey, check: overdueOf(quiet.id) },
      { name: 'department overdue, own (busiest)', url: list('overdue', busy.id), key: departmentKey, check: overdueOf(busy.id) },
      { name: 'auditor warned, busiest', url: list('warned', busy.id), key: auditorKey, check: (c) => c.warned && c.handlingOrganizationId === busy.id },
      // A department's whole worklist and its overdue cases, without naming itself in the query.
      { name: 'department worklist, busiest', url: `/v1/cases?limit=${LIMIT}`, key: departmentKey },
      { name: 'department overdue, no org filter', url: `/v1/cases?overdue=true&limit=${LIMIT}`, key: departmentKey, check: (c) => c.overdue },
    ]

    const results: Array<{ transport: string; scenario: Scenario; p50: number; p95: number; p99: number; items: number }> = []
    for (const [transport, send] of [['inject', inject], ['socket', http]] as const) {
      for (const scenario of scenarios) {
        queries.label(scenario.name)
        results.push({ transport, scenario, ...(await measure(transport, scenario, send)) })
      }
    }

    const ms = (v: number) => v.toFixed(2).padStart(7)
    console.log(`\nlatency, ${REQUESTS} sequential requests per row after ${WARM_UP} warm-up (limit=${LIMIT}); ratio = p50 / healthz p50 on the same transport`)
    console.log(`${'transport'.padEnd(10)}${'request'.padEnd(36)}${'items'.padStart(5)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'ratio'.padStart(8)}`)
    for (const r of results) {
      const baseline = results.find((b) => b.transport === r.transport && b.scenario === scenarios[0])!
      console.log(`${r.transport.padEnd(10)}${r.scenario.name.padEnd(36)}${String(r.items).padStart(5)}` +
        `${ms(r.p50)}  ${ms(r.p95)}  ${ms(r.p99)}${(r.p50 / baseline.p50).toFixed(1).padStart(7)}x`)
    }

    console.log(`\nquery plans for the busiest department (${busy.id}), as the API sends them:`)
    for (const scenario of scenarios) {
      const query = queries.captured.get(scenario.name)
      if (!query || !scenario.name.includes('busiest')) continue
      const plan = await explain(database, query.text, query.values)
      console.log(`\n--- ${scenario.name}: ${planVerdict(plan)}\n${query.text}\n-- parameters: ${JSON.stringify(query.values)}\n${plan}`)
    }
  } finally {
    await app?.close()
    if (args.drop) await database.pool.query(`DROP SCHEMA ${quoteIdent(schemaName)} CASCADE`)
    await database.close()
  }
}

await main()
