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
    commandDuration: new Histogram({
      name: 'banjian_command_duration_seconds',
      help: 'Time a caller waits for a command (a submission or a case action), as it saw it: from the request to the answer',
      labelNames: ['command', 'kind', 'outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
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

/** The command a request carries, named by its handler, for `banjian_command_duration_seconds`. */
export interface Command {
  name: string
  /** The case kind, once known (an action learns it when it reads the case). */
  kind?: string
}

/** done (2xx), refused (4xx: the caller's or the case's no) or failed (5xx). */
export function commandOutcome(status: number): 'done' | 'refused' | 'failed' {
  return status < 400 ? 'done' : status < 500 ? 'refused' : 'failed'
}
