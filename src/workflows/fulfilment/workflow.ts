import { ActivityFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow'
import type { Activities } from '../../activities/index.ts'
import { FulfilmentCase, type FulfilmentState } from '../../domain/fulfilment/fulfilment-case.ts'
import { runCase, type RunnableKind } from '../case/runner.ts'
import type { FulfilmentWorkflowInput, NewFulfilment } from './contract.ts'

/** How long one payment attempt may take before it counts as lost (a worker that died mid-payment). */
export const PAY_ATTEMPT_LIMIT = '30 seconds'

const { reservePayment, releasePayment } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
})
// Local activities: a new case reads its calendar and settings in its first workflow task, and
// (started with activities 'local-reservation') reserves its payment in the task that needs it,
// with no round trip through the server, which a campaign's hundred thousand cases would each pay.
const { fulfilmentContext, reservePayment: reservePaymentLocally } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
})
// The treasury may be down for a while: the payment is retried until it goes through, with the
// same idempotency key, so it is made once (the pay deadline and its supervision say it is late).
// An attempt is one Postgres look-up, one call the treasury adapter gives up on after 10 s, and one
// write: an attempt lost with a killed worker is tried again after PAY_ATTEMPT_LIMIT, not minutes.
const { payOut } = proxyActivities<Activities>({
  startToCloseTimeout: PAY_ATTEMPT_LIMIT,
  retry: { initialInterval: '1 second', maximumInterval: '5 minutes' },
})

/** A case waiting for money tries again this often, besides when a raised budget nudges it. */
export const BUDGET_RETRY_MS = 60 * 60 * 1000

const now = () => new Date(Date.now()).toISOString()

/** The fulfilment as the runner sees it: opened with the calendar it reads itself, and paying on its own. */
const fulfilment: RunnableKind<FulfilmentCase, FulfilmentState, NewFulfilment> = {
  kind: 'fulfilment',
  checkNew: (input) => FulfilmentCase.checkOpening({ opening: input.opening }),
  async create(input, clock) {
    const context = await fulfilmentContext()
    const calendar = input.calendar ?? context.calendar
    const { fulfilment: kase, recorded } = FulfilmentCase.open({
      id: input.caseId, opening: input.opening, actor: input.actor, limits: context.limits, calendar, at: clock(),
    })
    return { kase, recorded, calendar }
  },
  resume: (state, calendar) => FulfilmentCase.resume(state, calendar),
  async work(kase, tools) {
    const todo = kase.work
    if (!todo) return undefined
    const { state } = kase
    const order = { caseId: state.id, policyCode: state.policy.code, beneficiaryId: state.payee.id, amount: state.amount }
    // Rule 25: reserved against the budget before anything is paid; a retry finds it reserved.
    const reserve = tools.activities === 'local-reservation' ? reservePaymentLocally : reservePayment
    if (await reserve(order) === 'exhausted') {
      if (todo === 'pay') {
        await tools.place([state.policy.departmentId])
        await tools.project(kase.budgetExhausted(now()))
      }
      return Date.now() + BUDGET_RETRY_MS
    }
    if (todo === 'await_budget') await tools.project(kase.budgetAvailable(now()))
    let receipt
    try {
      receipt = await payOut({ ...order, ...(state.payee.account ? { account: state.payee.account } : {}) })
    } catch (err) {
      // payOut retries without end what may yet pay; what reaches here is a final no (a 4xx).
      if (!(err instanceof ActivityFailure)) throw err
      await releasePayment({ caseId: state.id })
      await tools.place([state.policy.departmentId])
      await tools.project(kase.paymentRefused(err.cause?.message ?? err.message, now()))
      return undefined
    }
    await tools.project(kase.paid(receipt, now()))
    return undefined
  },
}

/** One beneficiary's entitlement under one policy, from notification until paid, declined or rejected. Workflow id = case id. */
export async function fulfilmentWorkflow(input: FulfilmentWorkflowInput): Promise<void> {
  await runCase(fulfilment, input)
}
