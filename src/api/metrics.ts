import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { CaseGauge } from '../db/case-gauges.ts'

/** The process's Prometheus metrics; one registry per app so tests do not share counters. */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'banjian_' })
  const caseGauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['kind', 'organization'] as const, registers: [registry] })
  const cases = {
    open: caseGauge('banjian_cases_open', 'Open cases by kind and handling organisation (the read side, as of the scrape)'),
    warned: caseGauge('banjian_cases_warned', 'Open cases past a warning, by kind and handling organisation'),
    overdue: caseGauge('banjian_cases_overdue', 'Open cases past a deadline, by kind and handling organisation'),
    /** 1 when the figures above were read at this scrape; 0 when the read side did not answer in time (they are then left out). */
    readSideUp: new Gauge({ name: 'banjian_read_side_up', help: 'Whether the read side answered this scrape (1) or not (0)', registers: [registry] }),
  }
  return {
    registry,
    /** Sets the case gauges to `gauges`, or leaves them out when the read side did not answer. */
    setCaseGauges(gauges: CaseGauge[] | undefined): void {
      for (const gauge of [cases.open, cases.warned, cases.overdue]) gauge.reset()
      cases.readSideUp.set(gauges ? 1 : 0)
      for (const g of gauges ?? []) {
        const labels = { kind: g.kind, organization: g.organizationId }
        cases.open.set(labels, g.open)
        cases.warned.set(labels, g.warned)
        cases.overdue.set(labels, g.overdue)
      }
    },
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
    temporalCallDuration: new Histogram({
      name: 'banjian_temporal_call_duration_seconds',
      help: 'Time the API waits for Temporal, by gateway call (startCase: Update-with-Start; act: an Update), including the workflow task that answers',
      labelNames: ['call'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
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
