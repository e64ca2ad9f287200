/**
 * Whether `err` (or what it wraps: drizzle wraps the driver's error) says the database cannot do
 * the work now, rather than that the request or the code is wrong: it cannot be reached, is
 * shutting down or out of resources, is read-only, or this process's role may no longer write (a
 * full disk, an operator's emergency, a failover in progress). A caller may try again later.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let cause = err, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code
    if (typeof code === 'string' && UNAVAILABLE.test(code)) return true
    if (cause.message === 'Connection terminated unexpectedly' || cause.message.startsWith('timeout exceeded when trying to connect')) return true
  }
  return false
}

/**
 * SQLSTATE classes 08 (connection exception), 53 (insufficient resources: disk full, out of
 * memory, too many connections) and 57P (shut down, starting up); 25006 (read-only transaction,
 * a standby); 42501 (insufficient privilege: the role may no longer write); and the driver's
 * socket errors when the server is gone.
 */
const UNAVAILABLE = /^(08...|53...|57P0[1-4]|25006|42501|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT)$/
