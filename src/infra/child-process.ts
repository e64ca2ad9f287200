import type { ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'

/** Whether a process of that pid (or, negative, that process group) still exists; a zombie not yet reaped still does. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export interface StopSignals {
  /** What asks the server to shut down cleanly. */
  signal: NodeJS.Signals
  /** Sent if it has not exited after `graceMs`. */
  force: NodeJS.Signals
  graceMs: number
}

/**
 * Stops a server this process started (the embedded Postgres, the Temporal dev server): `signal`,
 * then `force` if it outlasts the grace; resolves once it has exited. The grace's timer keeps no
 * process alive.
 */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, how: StopSignals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill(how.signal)
  const timedOut = sleep(how.graceMs, 'timeout' as const, { ref: false })
  if ((await Promise.race([exited, timedOut])) === 'timeout') {
    child.kill(how.force)
    await exited
  }
}
