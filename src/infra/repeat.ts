/** A background job that runs in rounds until stopped. */
export interface Repeating {
  /** Stops scheduling, aborts the round in flight (through its signal) and waits for it to end. */
  stop(): Promise<void>
}

/**
 * Runs `round` every `intervalMs`, one round at a time: the next is scheduled only when the last
 * has ended, so a slow round never overlaps the next. `round` handles its own failures.
 */
export function repeatEvery(intervalMs: number, round: (signal: AbortSignal) => Promise<void>,
  options: { startNow?: boolean } = {}): Repeating {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let current: Promise<void> = Promise.resolve()
  const next = () => {
    if (controller.signal.aborted) return
    timer = setTimeout(() => {
      current = round(controller.signal).finally(next)
    }, intervalMs)
    timer.unref()
  }
  if (options.startNow) current = round(controller.signal).finally(next)
  else next()
  return {
    async stop() {
      controller.abort()
      clearTimeout(timer)
      await current
    },
  }
}
