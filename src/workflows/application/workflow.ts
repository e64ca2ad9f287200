import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow'
import type { Activities } from '../../activities/index.ts'
import { ApplicationCase, type ApplicationState } from '../../domain/application/application-case.ts'
import { sharedMaterialsWanted } from '../../domain/service-item.ts'
import { runCase, type RunnableKind } from '../case/runner.ts'
import type { ApplicationWorkflowInput, NewApplication } from './contract.ts'

const sharedDataOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
} as const
const { attachSharedMaterials } = proxyActivities<Activities>(sharedDataOptions)
// Pre-review in the submission's first workflow task (a case started with local activities and
// without `preReviewed`).
const { attachSharedMaterials: attachSharedMaterialsLocally } = proxyLocalActivities<Activities>(sharedDataOptions)

/** The application (办件) as the runner sees it: created after pre-review, resumed from its state. */
const application: RunnableKind<ApplicationCase, ApplicationState, NewApplication> = {
  kind: 'application',
  checkNew: (input) => ApplicationCase.checkSubmission(input),
  async create(input, now) {
    // A case keeps the rules it was started under. The API names them in the start input, so a new
    // case records no patch marker: patched() also upserts TemporalChangeVersion, one more
    // visibility write per submission. Inputs without them are older: histories recorded before the
    // rules of issue 9 (rating after any ending, a second rectification, joint handling's 45 days,
    // Art. 45's pauses, the one-time notice's checks) replay under rules 1, those recorded after it
    // with the marker under rules 2.
    const rulesVersion = input.rulesVersion ?? (patched('application-rules-2') ? 2 : 1)
    const submitted = await submit(input, now, rulesVersion)
    return { kase: submitted.application, recorded: submitted.recorded }
  },
  resume: (state, calendar) => ApplicationCase.resume(state, calendar),
}

/** One application (办件), from submission until it is closed. Workflow id = case id. */
export async function applicationWorkflow(input: ApplicationWorkflowInput): Promise<void> {
  await runCase(application, input)
}

/** Pre-review (shared data attached) and the submission itself. */
async function submit(input: NewApplication, now: () => string, rulesVersion: number) {
  const shared = input.preReviewed ?? await lookUp(input)
  return ApplicationCase.submit({
    id: input.caseId, guide: input.guide, actor: input.actor, calendar: input.calendar, at: now(),
    submission: { ...input.submission, materials: [...input.submission.materials, ...shared] },
    ...(input.limits ? { limits: input.limits } : {}), rulesVersion,
  })
}

/** Pre-review by activity, for an input from before the API looked shared data up (`preReviewed`). */
async function lookUp(input: NewApplication) {
  const wanted = sharedMaterialsWanted(input.guide, input.submission.materials)
  if (wanted.length === 0) return []
  const attach = input.activities !== undefined ? attachSharedMaterialsLocally : attachSharedMaterials
  return attach({ subject: input.submission.applicant.idNumber, wanted })
}
