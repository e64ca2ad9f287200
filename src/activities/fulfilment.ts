import { Context, heartbeat } from '@temporalio/activity'
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client'
import { type EvaluatedPage, evaluateCampaignPage, pageOpenings, recordPageStarted } from '../db/campaigns.ts'
import { createCalendarSource } from '../db/calendar.ts'
import type { Database } from '../db/client.ts'
import { readLimits } from '../db/settings.ts'
import type { CalendarData } from '../domain/calendar.ts'
import type { FulfilmentLimits } from '../domain/fulfilment/terms.ts'
import type { Actor } from '../domain/roles.ts'
import type { NewFulfilment } from '../workflows/fulfilment/contract.ts'
import { CURRENT_RUN } from '../workflows/case/contract.ts'
import { startAttributes } from '../workflows/case-kinds.ts'
import { forEachLimited } from './lanes.ts'

/** Settings change rarely; a campaign opens thousands of cases a minute. */
const SETTINGS_TTL_MS = 2_000
/** Case starts in flight at once while a campaign page is started: the sliding window. */
export const START_WINDOW = 200

/**
 * What fulfilment cases and their campaigns ask of Postgres. Each is safe to retry: a page is
 * evaluated and counted once, its cases are claimed once, its starts are counted once.
 */
export function createFulfilmentActivities(deps: { database: Database }) {
  const { db, pool, personal } = deps.database
  const calendar = createCalendarSource(db)
  let settings: { limits: FulfilmentLimits; at: number } | undefined

  return {
    /** The calendar (last year to two years ahead) and the limits a new fulfilment case runs with. */
    async fulfilmentContext(): Promise<{ calendar: CalendarData; limits: FulfilmentLimits }> {
      if (!settings || Date.now() - settings.at > SETTINGS_TTL_MS) {
        settings = { limits: { supervisionRespond: (await readLimits(db))['supervision.respond'] }, at: Date.now() }
      }
      const year = new Date().getUTCFullYear()
      return { calendar: await calendar.window(year - 1, year + 2), limits: settings.limits }
    },

    evaluateCampaignPage({ campaignId, afterLine, pageSize }: { campaignId: string; afterLine: number; pageSize: number }): Promise<EvaluatedPage> {
      return evaluateCampaignPage(pool, personal, campaignId, afterLine, pageSize)
    },

    /**
     * Starts the cases claimed by lines `from + 1 … through` of a campaign, through the worker's
     * client on `taskQueue` (default: this activity's own), START_WINDOW starts in flight at a time, and
     * returns how many exist: each case's workflow id is the one its claim holds,
     * so a start repeated by a retry finds its case "already started" and counts it, once.
     * Heartbeats as it goes, so a worker that dies mid-page is noticed in seconds.
     */
    async startCampaignCases({ campaignId, from, through, actor, taskQueue }: {
      campaignId: string; from: number; through: number; actor: Actor; taskQueue?: string
    }): Promise<number> {
      const openings = await pageOpenings(pool, personal, campaignId, from, through)
      const { client, info } = Context.current()
      await forEachLimited(openings, START_WINDOW, async ({ caseId, opening }) => {
        const input: NewFulfilment = { kind: 'new', caseId, opening, actor, ...CURRENT_RUN }
        try {
          await client.workflow.start('fulfilmentWorkflow', {
            workflowId: caseId, taskQueue: taskQueue ?? info.taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE',
            typedSearchAttributes: startAttributes('fulfilment', input),
          })
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err
        }
        heartbeat()
      })
      // Each one started now or found started before: all of them exist.
      return openings.length
    },

    recordCampaignPageStarted({ campaignId, through, created }: { campaignId: string; through: number; created: number }): Promise<void> {
      return recordPageStarted(pool, campaignId, through, created)
    },
  }
}
