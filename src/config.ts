import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { parseDataKeys } from './infra/data-keys.ts'

/**
 * Every setting banjian reads, in one schema. Parsed once at start; nothing else reads
 * `process.env`. Temporal's own standard variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE) are read by @temporalio/envconfig from the
 * same snapshot of the environment, so they are listed here only to decide embedded vs external.
 */
export const ConfigSchema = Type.Object({
  BANJIAN_HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  BANJIAN_PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  BANJIAN_DATA_DIR: Type.String({ default: '.data', minLength: 1 }),
  BANJIAN_ADMIN_KEY: Type.Optional(Type.String({ minLength: 16 })),
  /**
   * Keys that encrypt applicants' identity and phone numbers in Temporal's payloads: `id:base64`
   * (32 random bytes) separated by commas, the current key first and retired ones after it, kept
   * as long as anything sealed with them is. Unset: the embedded default's key file
   * `<data dir>/data-keys`; required with an external Temporal cluster.
   */
  BANJIAN_DATA_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * Browser origins (comma-separated) allowed to call the codec endpoints: the Temporal UI's.
   * Default: the embedded dev server's UI.
   */
  BANJIAN_CODEC_CORS_ORIGINS: Type.Optional(Type.String({ minLength: 1 })),
  BANJIAN_TASK_QUEUE_PREFIX: Type.String({ default: 'banjian', minLength: 1 }),
  BANJIAN_TEMPORAL_CLI: Type.Optional(Type.String({ minLength: 1 })),
  BANJIAN_TEMPORAL_TEST_SERVER: Type.Optional(Type.String({ minLength: 1 })),
  /** Port for the embedded dev server's gRPC frontend. */
  BANJIAN_TEMPORAL_PORT: Type.Integer({ default: 7233, minimum: 1, maximum: 65535 }),
  /** Port for the embedded dev server's web UI; 0 runs it headless. */
  BANJIAN_TEMPORAL_UI_PORT: Type.Integer({ default: 8233, minimum: 0, maximum: 65535 }),
  BANJIAN_EMBEDDED_PG_PORT: Type.Integer({ default: 5488, minimum: 1, maximum: 65535 }),
  /** Namespace retention for the embedded dev server, in days (audit needs long histories). */
  BANJIAN_RETENTION_DAYS: Type.Integer({ default: 3650, minimum: 1 }),
  /** How often a worker archives the histories of closed runs into Postgres, in seconds. */
  BANJIAN_ARCHIVE_INTERVAL_SECONDS: Type.Integer({ default: 60, minimum: 1 }),
  /**
   * Workflows a worker process keeps in memory between their tasks, shared out among its task
   * queues: more replays less, fewer bounds the process's memory whatever the number of open cases.
   */
  BANJIAN_WORKFLOW_CACHE: Type.Integer({ default: 2000, minimum: 10 }),
  /** A treasury to pay fulfilments through (src/payments/http-treasury.ts); unset: banjian's own ledger. */
  BANJIAN_TREASURY_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  BANJIAN_TREASURY_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * Where the Temporal worker's own metrics are served for Prometheus (`host:port`, at `/metrics`):
   * task slots, poll and schedule-to-start latencies, sticky cache hits. Unset: not served. Its own
   * port, since the SDK's exporter runs in the worker's native core, not in the API's HTTP server.
   */
  BANJIAN_WORKER_METRICS_ADDRESS: Type.Optional(Type.String({ pattern: '^[^\\s:]+:[0-9]{1,5}$' })),
  /**
   * Requests a minute each API key may make under /v1, per API process (429 `rate_limited` past
   * it, with Retry-After); 0 turns the limit off.
   */
  BANJIAN_RATE_LIMIT_PER_MINUTE: Type.Integer({ default: 6000, minimum: 0 }),
  /**
   * At shutdown (SIGTERM), how long `/readyz` answers 503 while the API still serves, so that a load
   * balancer's probe takes the process out of rotation before it stops accepting connections.
   */
  BANJIAN_SHUTDOWN_GRACE_SECONDS: Type.Integer({ default: 5, minimum: 0, maximum: 300 }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  TEMPORAL_ADDRESS: Type.Optional(Type.String({ minLength: 1 })),
  TEMPORAL_NAMESPACE: Type.Optional(Type.String({ minLength: 1 })),
  TEMPORAL_PROFILE: Type.Optional(Type.String({ minLength: 1 })),
  TEMPORAL_CONFIG_FILE: Type.Optional(Type.String({ minLength: 1 })),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
})
export type Config = Static<typeof ConfigSchema> & {
  /** The raw environment snapshot handed to @temporalio/envconfig. */
  readonly temporalEnv: Record<string, string>
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = Object.keys(ConfigSchema.properties)
  const picked: Record<string, string> = {}
  for (const key of known) {
    const value = env[key]
    if (value !== undefined && value !== '') picked[key] = value
  }
  const converted = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, { ...picked }))
  if (!Value.Check(ConfigSchema, converted)) {
    const seen = new Set<string>()
    const problems: string[] = []
    for (const error of Value.Errors(ConfigSchema, converted)) {
      const name = error.instancePath.replace(/^\//, '') || '(root)'
      if (seen.has(name)) continue
      seen.add(name)
      problems.push(`${name}=${JSON.stringify(picked[name] ?? null)}: ${error.message}`)
    }
    throw new ConfigError(problems)
  }
  const dataKeys = (converted as Static<typeof ConfigSchema>).BANJIAN_DATA_KEYS
  if (dataKeys !== undefined) {
    try {
      parseDataKeys(dataKeys)
    } catch (err) {
      // Never the value itself: it is the secret.
      throw new ConfigError([`BANJIAN_DATA_KEYS: ${err instanceof Error ? err.message : String(err)}`])
    }
  }
  const temporalEnv: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('TEMPORAL_') && value !== undefined) temporalEnv[key] = value
  }
  return { ...(converted as Static<typeof ConfigSchema>), temporalEnv }
}

/** The origins allowed to call the codec endpoints from a browser (the Temporal UI). */
export function codecCorsOrigins(config: Config): string[] {
  const configured = config.BANJIAN_CODEC_CORS_ORIGINS
  if (configured !== undefined) return configured.split(',').map((origin) => origin.trim()).filter(Boolean)
  const port = config.BANJIAN_TEMPORAL_UI_PORT
  return port === 0 ? [] : [`http://localhost:${port}`, `http://127.0.0.1:${port}`]
}

/** True when the operator pointed banjian at a Temporal cluster rather than the embedded one. */
export function usesExternalTemporal(config: Config): boolean {
  return Boolean(config.TEMPORAL_ADDRESS ?? config.TEMPORAL_PROFILE ?? config.TEMPORAL_CONFIG_FILE)
}
