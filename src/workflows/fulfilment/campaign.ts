import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common'
import { continueAsNew, ParentClosePolicy, proxyActivities, startChild } from '@temporalio/workflow'
import type { Activities } from '../../activities/index.ts'
import type { Actor } from '../../domain/roles.ts'
import { fulfilmentWorkflow } from './workflow.ts'

const { evaluateCampaignPage, campaignPageOpenings, recordCampaignPageStarted } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
})

/** Lines evaluated per page (one activity, one transaction) and so per run of the workflow. */
export const CAMPAIGN_PAGE_SIZE = 1000
/** Child starts in flight at once: the sliding window. */
export const START_WINDOW = 200

export interface CampaignInput {
  campaignId: string
  /** Who uploaded it: the actor of every case it opens. */
  actor: Actor
  /** Lines up to this one are done (evaluated and their cases started). */
  afterLine: number
  pageSize?: number
}

/**
 * A campaign (免申即享 at city scale): evaluates its uploaded beneficiaries a page at a time, in an
 * activity that claims a case for each eligible one in the same transaction that counts the page,
 * then starts those cases as child workflows, a sliding window of starts in flight, and continues
 * as new after every page so that its history stays small however long the campaign. A crash
 * anywhere repeats at most the page in hand, and a repeat changes nothing: the page is counted
 * once, and each case's workflow id is derived from the policy and the beneficiary.
 */
export async function campaignWorkflow(input: CampaignInput): Promise<void> {
  const { campaignId, actor, afterLine } = input
  const pageSize = input.pageSize ?? CAMPAIGN_PAGE_SIZE
  const page = await evaluateCampaignPage({ campaignId, afterLine, pageSize })
  const openings = await campaignPageOpenings({ campaignId, from: afterLine, through: page.through })
  let created = 0
  let next = 0
  const startNext = async (): Promise<void> => {
    while (next < openings.length) {
      const { caseId, opening } = openings[next++]!
      try {
        await startChild(fulfilmentWorkflow, {
          workflowId: caseId,
          args: [{ kind: 'new', caseId, opening, actor }],
          // A case lives on its own: weeks of confirmation and payment, long after this run.
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        })
      } catch (err) {
        // Started before (an earlier attempt of this page): the case exists, once.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err
      }
      created++
    }
  }
  await Promise.all(Array.from({ length: Math.min(START_WINDOW, openings.length) }, startNext))
  await recordCampaignPageStarted({ campaignId, through: page.through, created })
  if (page.done) return
  await continueAsNew<typeof campaignWorkflow>({ ...input, afterLine: page.through })
}
