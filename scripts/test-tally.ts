// Sums the vitest JSON reports in a folder (written where BANJIAN_TEST_REPORTS points) into one
// closing line:
//   tests: <passed> passed, <failed> failed, <skipped> skipped
// CI prints it last, so that a reader of the run sees how many tests ran, not only vitest's
// per-run summaries. Exits 1 when a report is missing or unreadable, or when any test failed.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface VitestJsonReport {
  numPassedTests: number
  numFailedTests: number
  numPendingTests: number
  numTodoTests: number
}

export function tally(reports: readonly VitestJsonReport[]): { passed: number; failed: number; skipped: number } {
  let passed = 0
  let failed = 0
  let skipped = 0
  for (const report of reports) {
    passed += report.numPassedTests
    failed += report.numFailedTests
    skipped += report.numPendingTests + report.numTodoTests
  }
  return { passed, failed, skipped }
}

function readReport(path: string): VitestJsonReport {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<VitestJsonReport>
  for (const field of ['numPassedTests', 'numFailedTests', 'numPendingTests', 'numTodoTests'] as const) {
    if (typeof parsed[field] !== 'number') throw new Error(`${path}: not a vitest JSON report (no ${field})`)
  }
  return parsed as VitestJsonReport
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const folder = process.argv[2]
  if (folder === undefined) {
    console.error('usage: test-tally <folder of vitest JSON reports>')
    process.exit(2)
  }
  const paths = readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .map((name) => join(folder, name))
  const { passed, failed, skipped } = tally(paths.map(readReport))
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
  process.exit(failed > 0 || passed === 0 ? 1 : 0)
}
