import { condition, sleep } from '@temporalio/workflow'

/**
 * Waits for an instant with timers that are never cancelled. `condition(fn, timeout)` cancels its
 * timer whenever `fn` turns true first, so a case waiting for its next deadline started and
 * cancelled a timer on every command: two commands more in each command's workflow task. And the
 * time-skipping test server refuses a CancelTimer for a timer that fired while the task was in
 * flight, then never hands the run another task (temporalio/sdk-java#3088 and #2606): a case hung
 * that way held the test server's clock for every case after it.
 *
 * Here a timer, once started, runs until it fires. A wait for an instant that a running timer
 * reaches no later starts none: when that earlier timer fires, the wait starts the timer it needs.
 * A timer for an instant nobody waits for any more fires into a wait that ignores it.
 */
export class WakeTimers {
  /** The instants of the timers started and not yet fired. */
  private readonly running = new Set<number>()
  /** The latest instant a timer has fired for. */
  private reached = Number.NEGATIVE_INFINITY
  /** How many timers have fired: a wait wakes on each to see whether it must start its own. */
  private fired = 0

  /**
   * Resolves false as soon as `interrupted()` is true, else true once a timer has fired for `at`
   * or later; `at` undefined waits for `interrupted()` alone. An interruption wins over an instant
   * reached in the same activation: a watch settled as its deadline passes reports nothing.
   */
  async until(at: number | undefined, interrupted: () => boolean): Promise<boolean> {
    if (at === undefined) {
      await condition(interrupted)
      return false
    }
    for (;;) {
      if (interrupted()) return false
      if (this.reached >= at) return true
      if (![...this.running].some((instant) => instant <= at)) this.start(at)
      const fired = this.fired
      await condition(() => interrupted() || this.fired !== fired)
    }
  }

  private start(at: number): void {
    this.running.add(at)
    const onFired = () => {
      this.running.delete(at)
      this.reached = Math.max(this.reached, at)
      this.fired += 1
    }
    // Cancelled only with the whole workflow, whose own waits then throw: nothing to do here.
    sleep(Math.max(1, at - Date.now())).then(onFired, () => undefined)
  }
}
