import { condition, getExternalWorkflowHandle, setHandler } from '@temporalio/workflow'
import { WakeTimers } from '../wake-timer.ts'
import {
  deadlineMovedSignal, deadlineReachedSignal, deadlineSettledSignal, type DeadlineWatchInput,
} from './contract.ts'

/**
 * Watches one step's deadline for its case: tells the case when the warning instant and the due
 * instant pass, unless the step is settled first.
 */
export async function deadlineWatchWorkflow(input: DeadlineWatchInput): Promise<'settled' | 'missed'> {
  let { dueAt, warnAt, warned } = input
  let settled = false
  let moved = false
  setHandler(deadlineSettledSignal, () => {
    settled = true
  })
  setHandler(deadlineMovedSignal, (next) => {
    ;({ dueAt, warnAt } = next)
    if (Date.parse(warnAt) > Date.now()) warned = false
    moved = true
  })
  const parent = getExternalWorkflowHandle(input.parentId)
  const wake = input.timers === 'kept' ? new WakeTimers() : undefined
  while (!settled) {
    moved = false
    const target = Date.parse(warned ? dueAt : warnAt)
    const interrupted = () => settled || moved
    const reached = wake ? await wake.until(target, interrupted) : !(await condition(interrupted, Math.max(1, target - Date.now())))
    if (!reached) continue
    if (!warned) {
      warned = true
      await parent.signal(deadlineReachedSignal, { key: input.key, change: 'warned' })
      continue
    }
    await parent.signal(deadlineReachedSignal, { key: input.key, change: 'missed' })
    return 'missed'
  }
  return 'settled'
}
