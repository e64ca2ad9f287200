import { proxyActivities } from '@temporalio/workflow'
import type { Activities } from '../../activities/index.ts'
import type { MonthlyReportRunInput, MonthlyReportRunResult } from './contract.ts'

const { produceDueMonthlyReport } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '10 minutes' },
})

/**
 * One daily run of the monthly report's schedule: produces the report that is due (the previous
 * month's, from the first working day of this month by the official calendar on) unless the
 * schedule produced it already. The activity decides both under a lock, so a run repeated, retried
 * or caught up after downtime adds at most the one version that was missing.
 */
export async function monthlyReportWorkflow(input: MonthlyReportRunInput = {}): Promise<MonthlyReportRunResult> {
  return produceDueMonthlyReport(input.asOf === undefined ? {} : { asOf: input.asOf })
}
