/** The daily run of the monthly report's schedule (src/infra/report-schedule.ts). */
export interface MonthlyReportRunInput {
  /** The instant to judge what is due by (tests pin it); default: the activity's clock. */
  asOf?: string
}

export interface MonthlyReportRunResult {
  month: string
  version: number
  /** False when the schedule had produced that month's report already. */
  produced: boolean
}

/** The schedule's id under a task-queue prefix: one schedule per deployment (and per test). */
export const monthlyReportScheduleId = (taskQueue: string) => `${taskQueue}:monthly-report`
