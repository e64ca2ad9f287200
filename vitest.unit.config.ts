import { defineConfig } from 'vitest/config'

// The unit tests alone, without the global setup that starts Temporal and Postgres: pure code
// needs neither, so this runs in seconds. Stryker (npm run test:mutation) runs these tests for
// every mutant. With no global setup, tests that ask for BANJIAN_TEST_EPOCH get the real clock.
// BANJIAN_UNIT_TESTS (comma-separated globs) narrows them, so that a mutation run over one file
// need not import every test file for each mutant (docs/mutation.md).
const narrowed = process.env.BANJIAN_UNIT_TESTS?.split(',').map((glob) => glob.trim()).filter((glob) => glob !== '')

export default defineConfig({
  test: {
    include: narrowed?.length ? narrowed : ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
})
