// Intake throughput: applications submitted through the HTTP API (idempotency claim, guide and
// calendar look-ups, Update-with-Start, pre-review and projection) against bare Temporal workflows
// started and completed on the same dev server in the same run, and against the guarantees' floor
// (bench/floor.ts): one command over HTTP whose Update-with-Start writes its event to Postgres
// before it answers, then the workflow's result.
// Usage: node --import tsx bench/intake.ts [N] [concurrency] [--apis 1,2] [--workers 1,2] [--knee]
//   (defaults 300 and 16, in this process). `--apis`/`--workers`: one run per pairing, as that many
//   `banjian start --role api`/`--role worker` processes on one dev server and one database, then a
//   table of rate by process count. `--knee`: in each run, also the concurrency at which p95 passes 1 s.
// Needs Postgres in DATABASE_URL or TEST_DATABASE_URL; works in a fresh schema (or database) it drops at the end.
import {
  benchArgs, findKnee, layoutName, measure, printKnee, printScaleTable, report, type ScaleRow, summarize, withBenchSystem,
} from './support.ts'

const args = benchArgs({ n: 300, concurrency: 16, warmUp: 20 })
const rows: ScaleRow[] = []

for (const layout of args.layouts) {
  await withBenchSystem(async (system) => {
    const submit = (tag: string) => async (i: number) => {
      await system.submit(tag, i)
    }
    const bare = (tag: string) => (i: number) => system.runBare(tag, i)
    const floor = (tag: string) => (i: number) => system.runFloor(tag, i, 0)

    await measure('warm-up', args.warmUp, args.concurrency, async (i) => {
      await submit('warm')(i)
      await bare('warm')(i)
      await floor('warm')(i)
    })
    const api = summarize(await measure('API submissions', args.n, args.concurrency, submit('run')))
    const raw = summarize(await measure('bare workflows', args.n, args.concurrency, bare('run')))
    const floored = summarize(await measure('floor submissions', args.n, args.concurrency, floor('run')))
    await system.expectFloorWritten(args.warmUp + args.n)

    report(`intake (${layoutName(layout)})`, args, [
      ['API submissions', 'POST /v1/applications, 201', api],
      ['bare workflows', 'client start + result', raw],
    ])
    report(`intake (${layoutName(layout)}, against the guarantees' floor)`, args, [
      ['API submissions', 'POST /v1/applications, 201', api],
      ['floor submissions', 'one command over HTTP, an Update-with-Start writing its event to Postgres first, then the result', floored],
    ])
    console.log(`  ratio floor submissions/bare workflows: ${(floored.rate / raw.rate).toFixed(3)}`)
    const row: ScaleRow = { layout, api, bare: raw, kneeMeasured: args.knee }
    if (args.knee) {
      const knee = await findKnee(args.n, async (concurrency, count) =>
        summarize(await measure(`submissions at ${concurrency}`, count, concurrency, submit(`knee-${concurrency}`))))
      printKnee('API submissions', knee)
      row.knee = knee.knee
    }
    rows.push(row)
  }, layout)
}
if (rows.length > 1 || args.knee) printScaleTable(`intake, N=${args.n} concurrency=${args.concurrency}`, rows)
