import { condition, defineUpdate, proxyLocalActivities, setHandler } from '@temporalio/workflow'

// The raw baselines for bench/intake.ts and bench/lifecycle.ts, so that what is measured is
// Temporal's own cost of the same round trips the API makes.

/** A workflow that does nothing: starting it and seeing it complete. */
export async function bareWorkflow(): Promise<void> {}

/** Each Update a bare case takes; answers how many it has taken. */
export const bareStepUpdate = defineUpdate<number>('step')

/**
 * A workflow that takes `steps` Updates with empty handlers, each answered, and completes after
 * the last: the fair baseline for a full case through the API (a start that answers, as
 * Update-with-Start does for a submission, then one Update per action).
 */
export async function bareUpdatesWorkflow(steps: number): Promise<void> {
  let taken = 0
  setHandler(bareStepUpdate, () => ++taken)
  await condition(() => taken >= steps)
}

/** The floor's one activity: a command's event written durably before its Update answers (bench/floor.ts). */
export interface FloorActivities {
  recordFloorEvent(caseId: string, seq: number): Promise<void>
}

const { recordFloorEvent } = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '30 seconds' })

/**
 * The guarantees' floor (bench/floor.ts): a bare case whose every Update, the first included,
 * writes its event to Postgres in a local activity before it answers, in order and once — what
 * read-your-writes, idempotency and "nothing lost" cost with nothing else of the product.
 */
export async function floorUpdatesWorkflow(caseId: string, steps: number): Promise<void> {
  let taken = 0
  setHandler(bareStepUpdate, async () => {
    await recordFloorEvent(caseId, taken + 1)
    return ++taken
  })
  await condition(() => taken >= steps)
}
