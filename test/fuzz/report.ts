// What `npm run test:fuzz` prints of schemathesis's report.
//
// Schemathesis frames its sections and its last line like pytest (`=== 2 warnings in 45.80s ===`).
// Whoever reads the CI log by its closing lines takes that for pytest closing on no test run: CI
// judged whole runs "ran no test" on it. So the rules are printed as `--- … ---`, and the fuzz run
// closes on one plain `fuzz: N passed, N failed` line of its own, counted from schemathesis's
// "Test cases:" lines.

/** A pytest-style section rule as `--- title ---`; any other line as it is. */
export function relabelRule(line: string): string {
  const rule = /^=+ (.+?) =+$/.exec(line)
  return rule ? `--- ${rule[1]} ---` : line
}

export interface CaseTally {
  passed: number
  failed: number
}

/**
 * Adds the line under schemathesis's "Test cases:": "N generated, N passed", or "N generated, N found
 * N unique failures", either followed by ", N errored" and ", N skipped". Errored cases count as failed.
 */
export function countCases(line: string, tally: CaseTally): CaseTally {
  const count = (pattern: RegExp) => Number(pattern.exec(line)?.[1] ?? 0)
  return {
    passed: tally.passed + count(/(\d+) passed/),
    failed: tally.failed + count(/(\d+) found \d+ unique failures?/) + count(/(\d+) errored/),
  }
}
