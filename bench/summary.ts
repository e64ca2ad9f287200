// Supervision summary latency on a large read side: GET /v1/supervision/summary (read from the
// counters the projection keeps) for the busiest department's supervisor and for the root, next to
// GET /healthz and a case list for the same viewer, in the same run and on the same transports.
// Usage: node --import tsx bench/summary.ts [--count 1000000] [--requests 2000] [--schema bench_cases] [--drop]
// Needs Postgres in DATABASE_URL or TEST_DATABASE_URL. Seeds the schema (scripts/seed-cases.ts,
// which rebuilds the counters) unless it already holds --count rows; a reused schema whose counters
// are empty (seeded before they existed) has them rebuilt first.
import { quoteIdent } from '../src/db/client.ts'
import { produceMonthlyReport } from '../src/db/reports.ts'
import { rebuildSummaryCounters, summaryCountersMissing } from '../src/db/summary.ts'
import { databaseUrlFromEnvironment, formatBytes, openSeedDatabase, seedCases } from '../scripts/seed-cases.ts'
import { createBenchKey, readSideArgs, type Timed, startReadApp, timeRequests } from './read-side.ts'
import { percentile } from './support.ts'

const { count: COUNT, requests: REQUESTS, warmUp: WARM_UP, ...args } = readSideArgs()

interface Scenario { name: string; url: string; key?: string }

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
        `(table ${formatBytes(seeded.tableBytes)}, with indexes ${formatBytes(seeded.totalBytes)}; counters rebuilt)`)
    } else {
      console.log(`reusing ${schemaName}: ${counted?.n} cases`)
      if (await summaryCountersMissing(database.db)) {
        const began = performance.now()
        await rebuildSummaryCounters(database.db)
        await database.pool.query('ANALYZE summary_current; ANALYZE summary_flow')
        console.log(`the counters were empty: rebuilt from cases in ${((performance.now() - began) / 1000).toFixed(1)} s`)
      }
    }
    const { rows: [sizes] } = await database.pool.query<{ current: string; days: string; months: string; flow_bytes: string }>(`
      SELECT (SELECT count(*) FROM summary_current) AS current, (SELECT count(*) FROM summary_flow WHERE span = 'day') AS days,
        (SELECT count(*) FROM summary_flow WHERE span = 'month') AS months, pg_total_relation_size('summary_flow') AS flow_bytes`)
    console.log(`counters: ${sizes?.current} current rows; flow: ${sizes?.days} day rows, ${sizes?.months} month rows (${formatBytes(Number(sizes?.flow_bytes))})`)

    const { rows: [busiest] } = await database.pool.query<{ id: string; total: string }>(`
      SELECT handling_organization_id AS id, count(*) AS total FROM cases WHERE handling_organization_id IS NOT NULL
      GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`)
    if (!busiest) throw new Error('no cases')
    console.log(`busiest department ${busiest.id}: ${busiest.total} cases`)
    const supervisorKey = await createBenchKey(database, busiest.id, 'supervisor', 'summary benchmark')
    const adminKey = await createBenchKey(database, 'root', 'admin', 'summary benchmark')

    const started = await startReadApp(database, 'the summary benchmark never writes')
    app = started.app
    const { inject, http } = started

    // Seeded completions spread over the last year up to now: this month, and the last twelve.
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10)
    const yearAgo = new Date(Date.now() + 8 * 3_600_000 - 365 * 86_400_000).toISOString().slice(0, 10)
    const month = `from=${today.slice(0, 8)}01&to=${today}`
    const year = `from=${yearAgo}&to=${today}`
    const scenarios: Scenario[] = [
      { name: 'GET /healthz (baseline)', url: '/healthz' },
      { name: 'list, supervisor of busiest', url: '/v1/cases?limit=50', key: supervisorKey },
      { name: 'summary, supervisor of busiest, month', url: `/v1/supervision/summary?${month}`, key: supervisorKey },
      { name: 'summary, supervisor of busiest, year', url: `/v1/supervision/summary?${year}`, key: supervisorKey },
      { name: 'list, root admin', url: '/v1/cases?limit=50', key: adminKey },
      { name: 'summary, root admin, month', url: `/v1/supervision/summary?${month}`, key: adminKey },
      { name: 'summary, root admin, year', url: `/v1/supervision/summary?${year}`, key: adminKey },
      { name: 'summary, root admin, month, applications', url: `/v1/supervision/summary?${month}&kind=application`, key: adminKey },
    ]
    const sample = JSON.parse((await inject(scenarios[6]!.url, adminKey)).body) as { organizations: unknown[] }
    console.log(`root's summary for the year: ${sample.organizations.length} organisations`)

    const results: Array<{ transport: string; scenario: Scenario } & Timed> = []
    for (const [transport, send] of [['inject', inject], ['socket', http]] as const) {
      for (const scenario of scenarios) {
        const timed = await timeRequests(`${transport} ${scenario.name}`, send, scenario.url, scenario.key, { requests: REQUESTS, warmUp: WARM_UP })
        results.push({ transport, scenario, p50: timed.p50, p95: timed.p95, p99: timed.p99 })
      }
    }

    const ms = (v: number) => v.toFixed(2).padStart(7)
    console.log(`\nlatency, ${REQUESTS} sequential requests per row after ${WARM_UP} warm-up; Δp95 = p95 − the same viewer's list p95`)
    console.log(`${'transport'.padEnd(10)}${'request'.padEnd(42)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'Δp95 ms'.padStart(10)}`)
    for (const r of results) {
      const listName = r.scenario.name.includes('root') ? 'list, root admin' : 'list, supervisor of busiest'
      const list = results.find((b) => b.transport === r.transport && b.scenario.name === listName)!
      const delta = r.scenario.name.startsWith('summary') ? (r.p95 - list.p95).toFixed(2).padStart(8) : ''.padStart(8)
      console.log(`${r.transport.padEnd(10)}${r.scenario.name.padEnd(42)}${ms(r.p50)}  ${ms(r.p95)}  ${ms(r.p99)}  ${delta}`)
    }

    // The monthly report of the month with the most completions: produced from the counters, so
    // its cost follows the organisations and items, not the cases. Each run is a new version.
    // The month's completions over every organisation ('*': all kinds of each one, counted once).
    const busiestMonth = (await database.pool.query<{ month: string; completed: number }>(`SELECT to_char(starts, 'YYYY-MM') AS month,
      sum(completed)::int AS completed FROM summary_flow WHERE span = 'month' AND kind = '*' GROUP BY starts ORDER BY 2 DESC LIMIT 1`)).rows[0]
    if (busiestMonth) {
      const timings: number[] = []
      let version = 0
      for (let i = 0; i < 5; i++) {
        const began = performance.now()
        version = (await produceMonthlyReport(database.db, busiestMonth.month, 'bench')).version
        timings.push(performance.now() - began)
      }
      const rootList = results.find((r) => r.transport === 'inject' && r.scenario.name === 'list, root admin')!
      const median = percentile([...timings].sort((a, b) => a - b), 50)
      console.log(`\nmonthly report ${busiestMonth.month} (${busiestMonth.completed} cases completed that month), produced and stored 5 times `
        + `(now version ${version}): median ${median.toFixed(1)} ms, ${(median / rootList.p50).toFixed(1)}× the root admin's list p50`)
    }
  } finally {
    await app?.close()
    if (args.drop) await database.pool.query(`DROP SCHEMA ${quoteIdent(schemaName)} CASCADE`)
    await database.close()
  }
}

await main()
