import type { App } from '../app.ts'
import { problem } from '../problem.ts'

export async function healthRoutes(app: App): Promise<void> {
  app.get('/healthz', { schema: { tags: ['operations'], operationId: 'checkLiveness', summary: 'Whether the process is up', security: [] } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { schema: { tags: ['operations'], operationId: 'checkReadiness', summary: 'Whether Postgres and Temporal are reachable', security: [] } }, async () => {
    const checks = await Promise.allSettled([
      app.deps.database.pool.query('SELECT 1'),
      app.deps.gateway.ping(),
    ])
    const [postgres, temporal] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'unreachable'))
    if (postgres !== 'ok' || temporal !== 'ok') {
      throw problem('not_ready', `postgres: ${postgres}, temporal: ${temporal}`)
    }
    return { status: 'ready', postgres, temporal }
  })

  app.get('/metrics', { schema: { tags: ['operations'], operationId: 'getMetrics', summary: 'Prometheus metrics', security: [] } }, async (_request, reply) => {
    void reply.type(app.metrics.registry.contentType)
    return app.metrics.registry.metrics()
  })
}
