import { defineSignal } from '@temporalio/workflow'
import type { TimerMode } from '../case/contract.ts'

/** A deadline with a life of its own (an opinion, a rectification): a child of its case. */
export interface DeadlineWatchInput {
  parentId: string
  key: string
  dueAt: string
  warnAt: string
  warned: boolean
  /** As its case's: `'kept'`, the watch never cancels a timer (WakeTimers); absent, it replays as recorded. */
  timers?: TimerMode
}

/** Child → case: the deadline warned or fell due. */
export const deadlineReachedSignal = defineSignal<[{ key: string; change: 'warned' | 'missed' }]>('deadlineReached')
/** Case → child: the step was done (or the case ended); stop watching. */
export const deadlineSettledSignal = defineSignal('deadlineSettled')
/** Case → child: the deadline moved (calendar change). */
export const deadlineMovedSignal = defineSignal<[{ dueAt: string; warnAt: string }]>('deadlineMoved')

export const watchWorkflowId = (parentId: string, key: string) => `${parentId}~${key}`
