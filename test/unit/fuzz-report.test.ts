import { describe, expect, it } from 'vitest'
import { countCases, relabelRule } from '../fuzz/report.ts'

describe('the fuzz run\'s report', () => {
  it('prints schemathesis\'s pytest-style rules as plain dashes, and every other line as it is', () => {
    expect(relabelRule('============================= 2 warnings in 45.80s =============================')).toBe('--- 2 warnings in 45.80s ---')
    expect(relabelRule('=================================== SUMMARY ====================================')).toBe('--- SUMMARY ---')
    expect(relabelRule('  3186 generated, 3186 passed')).toBe('  3186 generated, 3186 passed')
    expect(relabelRule('=== as window ===')).toBe('--- as window ---')
    expect(relabelRule('==')).toBe('==')
  })

  it('counts passed cases, and failing and errored ones as failed', () => {
    let tally = countCases('  3186 generated, 3186 passed', { passed: 0, failed: 0 })
    expect(tally).toEqual({ passed: 3186, failed: 0 })
    tally = countCases('  365 generated, 12 found 3 unique failures, 2 errored, 4 skipped', tally)
    expect(tally).toEqual({ passed: 3186, failed: 14 })
    tally = countCases('  40 generated, 1 found 1 unique failure', tally)
    expect(tally).toEqual({ passed: 3186, failed: 15 })
    expect(countCases('  No test cases were generated', tally)).toEqual(tally)
  })
})
