import { setTimeout as sleep } from 'node:timers/promises'
import { readCaseGauges } from '../../db/case-gauges.ts'
import type { App } from '../app.ts'
import { problem } from '../problem.ts'

/** How long readiness waits for each dependency: a probe's own timeout is usually one second. */
const DEPENDENCY_TIMEOUT_MS = 700

type Reachability = 'ok' | 'unreachable'

/** What `work` gives within the dependency timeout; undefined when it fails or hangs. */
async function withinTimeout<T>(work: () => Promise<T>): Promise<T | undefined> {
  const timer = new AbortController()
  try {
    return await Promise.race([
      work().catch(() => undefined),
      sleep(DEPENDENCY_TIMEOUT_MS, undefined, { signal: timer.signal }),
    ])
  } finally {
    timer.abort()
  }
}

/** Whether `check` succeeds within the dependency timeout; a hung dependency is an unreachable one. */
async function reachable(check: () => Promise<unknown>): Promise<Reachability> {
  return (await withinTimeout(async () => {
    await check()
    return 'ok' as const
  })) ?? 'unreachable'
}

export async function healthRoutes(app: App): Promise<void> {
  const keyless = { keyless: true }

  app.get('/healthz', { config: keyless, schema: { tags: ['operations'], operationId: 'checkLiveness', summary: 'Whether the process is up', security: [] } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { config: keyless, schema: { tags: ['operations'], operationId: 'checkReadiness', summary: 'Whether Postgres and Temporal are reachable', security: [] } }, async () => {
    // Shutdown has begun: out of rotation now, though this process still answers what it gets.
    if (app.draining) throw problem('not_ready', 'shutting down: this process takes no new work')
    const [postgres, temporal] = await Promise.all([
      reachable(() => app.deps.database.pool.query('SELECT 1')),
      reachable(() => app.deps.gateway.ping()),
    ])
    if (postgres !== 'ok' || temporal !== 'ok') {
      throw problem('not_ready', `postgres: ${postgres}, temporal: ${temporal}`)
    }
    return { status: 'ready', postgres, temporal }
  })

  app.get('/metrics', { config: keyless, schema: { tags: ['operations'], operationId: 'getMetrics', summary: 'Prometheus metrics', security: [] } }, async (_request, reply) => {
    // The case gauges from the read side; a Postgres that does not answer in time leaves them out
    // (banjian_read_side_up 0) rather than failing the scrape of everything else.
    app.metrics.setCaseGauges(await withinTimeout(() => readCaseGauges(app.deps.database.db)))
    void reply.type(app.metrics.registry.contentType)
    return app.metrics.registry.metrics()
  })
}
