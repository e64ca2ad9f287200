import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'

/** The process's Prometheus metrics; one registry per app so tests do not share counters. */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'banjian_' })
  return {
    registry,
    httpDuration: new Histogram({
      name: 'banjian_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    casesSubmitted: new Counter({
      name: 'banjian_cases_submitted_total',
      help: 'Cases created through the API, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    actionsTaken: new Counter({
      name: 'banjian_case_actions_total',
      help: 'Case actions by name and outcome',
      labelNames: ['action', 'outcome'] as const,
      registers: [registry],
    }),
  }
}
export type Metrics = ReturnType<typeof createMetrics>
