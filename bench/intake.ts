// Intake throughput: applications submitted through the HTTP API (idempotency claim, guide and
// calendar look-ups, Update-with-Start, pre-review and projection) against bare Temporal workflows
// started and completed on the same dev server in the same run.
// Usage: node --import tsx bench/intake.ts [N] [concurrency]   (defaults 300 and 16)
// Needs Postgres in DATABASE_URL or TEST_DATABASE_URL; works in a fresh schema it drops at the end.
import { measure, report, runSize, summarize, withBenchSystem } from './support.ts'

const size = runSize({ n: 300, concurrency: 16, warmUp: 20 })

await withBenchSystem(async (system) => {
  const submit = (tag: string) => async (i: number) => {
    await system.submit(tag, i)
  }
  const bare = (tag: string) => (i: number) => system.runBare(tag, i)

  await measure('warm-up', size.warmUp, size.concurrency, async (i) => {
    await submit('warm')(i)
    await bare('warm')(i)
  })
  const api = summarize(await measure('API submissions', size.n, size.concurrency, submit('run')))
  const raw = summarize(await measure('bare workflows', size.n, size.concurrency, bare('run')))

  report('intake', size, [
    ['API submissions', 'POST /v1/applications, 201', api],
    ['bare workflows', 'client start + result', raw],
  ])
})
