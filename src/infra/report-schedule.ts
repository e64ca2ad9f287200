import { type Client, ScheduleAlreadyRunning } from '@temporalio/client'
import { monthlyReportScheduleId } from '../workflows/monthly-report/contract.ts'
import type { monthlyReportWorkflow } from '../workflows/monthly-report/workflow.ts'

/**
 * The Temporal Schedule of the monthly report, created when an API process starts; one that
 * exists is left as it is, so every start (of every API process) may call this. It runs each day at
 * 09:00 in Shanghai: a cron cannot know the official calendar, so each run asks whether today is on
 * or after the first working day of the month and the report still missing
 * (src/workflows/monthly-report/workflow.ts). Runs missed while Temporal was down are caught up
 * within a week; overlapping runs are skipped.
 */
export async function ensureMonthlyReportSchedule(client: Client, taskQueue: string): Promise<'created' | 'exists'> {
  const scheduleId = monthlyReportScheduleId(taskQueue)
  try {
    await client.schedule.create<typeof monthlyReportWorkflow>({
      scheduleId,
      spec: { calendars: [{ hour: 9, minute: 0, comment: 'daily; the workflow decides whether the month\'s report is due' }], timezone: 'Asia/Shanghai' },
      action: { type: 'startWorkflow', workflowType: 'monthlyReportWorkflow', taskQueue, args: [{}], workflowId: `${scheduleId}:run` },
      policies: { overlap: 'SKIP', catchupWindow: '7 days' },
    })
    return 'created'
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists'
    throw err
  }
}
