import { continueAsNew, proxyActivities } from '@temporalio/workflow'
import type { Activities } from '../../activities/index.ts'
import type { Actor } from '../../domain/roles.ts'

const { evaluateCampaignPage, recordCampaignPageStarted } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
})
// A page's thousand starts take seconds, or minutes on a busy server; a worker that dies with the
// page in hand is noticed by the missing heartbeat, and the page's starts are repeated elsewhere.
const { startCampaignCases } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
})

/**
 * Lines evaluated per page (one activity, one transaction) and so per run of the workflow. Each
 * page costs a few workflow tasks and ends with its window of starts draining: at 1,000 lines that
 * was a fifth of a page's time (bench:campaign, 10,000 beneficiaries: 166 cases created/s, 208/s
 * at 5,000). The price: progress counts a page's cases at once, and a crash repeats up to a page.
 */
export const CAMPAIGN_PAGE_SIZE = 5000

export interface CampaignInput {
  campaignId: string
  /** Who uploaded it: the actor of every case it opens. */
  actor: Actor
  /** Lines up to this one are done (evaluated and their cases started). */
  afterLine: number
  pageSize?: number
  /**
   * The task queue its cases run on. Absent from runs started when campaigns ran on the cases'
   * queue (before CAMPAIGN_QUEUE): those start their cases on their own queue, as they did.
   */
  casesQueue?: string
}

/**
 * A campaign (免申即享 at city scale): evaluates its uploaded beneficiaries a page at a time, in an
 * activity that claims a case for each eligible one in the same transaction that counts the page;
 * starts the page's cases in a second activity, a sliding window of starts in flight through the
 * worker's client; and continues as new after every page, so that its history stays a handful of
 * events per page however long the campaign. A crash anywhere repeats at most the page in hand,
 * and a repeat changes nothing: the page is counted once, and each case's workflow id is derived
 * from the policy and the beneficiary.
 */
export async function campaignWorkflow(input: CampaignInput): Promise<void> {
  const { campaignId, actor, afterLine, casesQueue } = input
  const pageSize = input.pageSize ?? CAMPAIGN_PAGE_SIZE
  const page = await evaluateCampaignPage({ campaignId, afterLine, pageSize })
  const created = await startCampaignCases({ campaignId, from: afterLine, through: page.through, actor, ...(casesQueue ? { taskQueue: casesQueue } : {}) })
  await recordCampaignPageStarted({ campaignId, through: page.through, created })
  if (page.done) return
  await continueAsNew<typeof campaignWorkflow>({ ...input, afterLine: page.through })
}
