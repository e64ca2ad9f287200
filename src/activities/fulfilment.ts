import { type EvaluatedPage, evaluateCampaignPage, type PageOpening, pageOpenings, recordPageStarted } from '../db/campaigns.ts'
import { createCalendarSource } from '../db/calendar.ts'
import type { Database } from '../db/client.ts'
import { readLimits } from '../db/settings.ts'
import type { CalendarData } from '../domain/calendar.ts'
import type { FulfilmentLimits } from '../domain/fulfilment/terms.ts'

/** Settings change rarely; a campaign opens thousands of cases a minute. */
const SETTINGS_TTL_MS = 2_000

/**
 * What fulfilment cases and their campaigns ask of Postgres. Each is safe to retry: a page is
 * evaluated and counted once, its cases are claimed once, its starts are counted once.
 */
export function createFulfilmentActivities(deps: { database: Database }) {
  const { db, pool } = deps.database
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
      return evaluateCampaignPage(pool, campaignId, afterLine, pageSize)
    },

    campaignPageOpenings({ campaignId, from, through }: { campaignId: string; from: number; through: number }): Promise<PageOpening[]> {
      return pageOpenings(pool, campaignId, from, through)
    },

    recordCampaignPageStarted({ campaignId, through, created }: { campaignId: string; through: number; created: number }): Promise<void> {
      return recordPageStarted(pool, campaignId, through, created)
    },
  }
}
