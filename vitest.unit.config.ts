import { defineConfig } from 'vitest/config'

// The unit tests alone, without the global setup that starts Temporal and Postgres: pure code
// needs neither, so this runs in seconds. Stryker (npm run test:mutation) runs these tests for
// every mutant. With no global setup, tests that ask for BANJIAN_TEST_EPOCH get the real clock.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
})
