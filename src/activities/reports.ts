import { ApplicationFailure } from '@temporalio/activity'
import type { Database } from '../db/client.ts'
import { produceDueMonthlyReport } from '../db/reports.ts'
import type { MonthlyReportRunInput, MonthlyReportRunResult } from '../workflows/monthly-report/contract.ts'

export function createReportActivities(deps: { database: Database }) {
  return {
    /** The schedule's daily step (src/workflows/monthly-report/workflow.ts). */
    async produceDueMonthlyReport({ asOf }: MonthlyReportRunInput): Promise<MonthlyReportRunResult> {
      const atMs = asOf === undefined ? Date.now() : Date.parse(asOf)
      if (Number.isNaN(atMs)) throw ApplicationFailure.nonRetryable(`asOf is not an instant: ${asOf}`, 'validation_failed')
      const { month, version, produced } = await produceDueMonthlyReport(deps.database.db, atMs)
      return { month, version, produced }
    },
  }
}
