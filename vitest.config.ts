import { join } from 'node:path'
import { defineConfig } from 'vitest/config'

// BANJIAN_TEST_REPORTS=<folder>: each run also writes vitest's JSON report into that folder, under
// a name of its own. CI (.ci/run) sums them with scripts/test-tally.ts into one plain
// "N passed, N failed" line, since it runs the suite several times (dates, Node 24).
const reports = process.env.BANJIAN_TEST_REPORTS
const report = reports ? join(reports, `vitest-${Date.now()}-${process.pid}.json`) : undefined

export default defineConfig({
  test: {
    reporters: report ? ['default', ['json', { outputFile: report }]] : ['default'],
    globalSetup: ['./test/support/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more parallel files only make Temporal's timers and bundling slower.
    maxWorkers: 2,
  },
})
