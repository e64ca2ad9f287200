import { describe, expect, it } from 'vitest'
import { tally } from '../../scripts/test-tally.ts'

const run = (passed: number, failed: number, pending = 0, todo = 0) => ({
  numPassedTests: passed,
  numFailedTests: failed,
  numPendingTests: pending,
  numTodoTests: todo,
})

describe('CI test tally', () => {
  it('adds passed, failed and skipped over every run', () => {
    expect(tally([run(456, 0, 1), run(326, 2), run(0, 0, 0, 3)])).toEqual({ passed: 782, failed: 2, skipped: 4 })
  })
  it('is all zeros for no runs', () => {
    expect(tally([])).toEqual({ passed: 0, failed: 0, skipped: 0 })
  })
})
