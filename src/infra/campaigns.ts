import type pg from 'pg'
import { unfinishedCampaigns } from '../db/campaigns.ts'
import type { Actor } from '../domain/roles.ts'

/**
 * Starts the workflow of every campaign not yet through its last page, from where its cases
 * were last counted as started, or finds it running. An upload is durable before its 202, but the
 * API may stop (or Temporal be down) between storing it and starting its workflow, and a
 * campaign's workflow may fail or be terminated: without this its progress would say `running`
 * for ever. Run when an API process starts; each start is idempotent, so several API processes
 * may all run it. Returns the campaigns' ids.
 */
export async function resumeUnfinishedCampaigns(pool: pg.Pool, gateway: {
  startCampaign(campaignId: string, actor: Actor, afterLine?: number): Promise<void>
}): Promise<string[]> {
  const campaigns = await unfinishedCampaigns(pool)
  for (const { id, actor, startedThrough } of campaigns) await gateway.startCampaign(id, actor, startedThrough)
  return campaigns.map((c) => c.id)
}
