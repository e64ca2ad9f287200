import type { FastifyBaseLogger } from 'fastify'
import { Type } from 'typebox'
import type { Tx } from '../../db/client.ts'
import {
  casesWaitingForBudget, findPolicy, findPublishedPolicy, listLatestPolicies, lockPolicy, recordPolicyPublication,
  savePolicyDraft, setLedgerBudget,
} from '../../db/policies.ts'
import { Policy, PolicyDraft, policyDraftProblems, publishPolicy } from '../../domain/policy.ts'
import { Review, ReviewDecision, REVIEWER_ROLES } from '../../domain/review.ts'
import type { App } from '../app.ts'
import { allow, ANY_ROLE, principalOf } from '../auth.ts'
import { createOnce } from '../idempotency.ts'
import {
  approvedDraft, CatalogueCode, checkDraftToSave, DraftAnswer, readDraft, reviewDraft, type ReviewedKind, signerOf,
} from '../reviewed-drafts.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { DEFAULT_PAGE_SIZE, IdempotencyHeaders, INT4_MAX, ListQuery, Page } from '../schemas/common.ts'

// The policy catalogue (API.md "Policy fulfilment", rules 23 and 25): written, reviewed by another
// key and published in versions exactly as service guides are; publishing also sets the budget.

const Draft = DraftAnswer(PolicyDraft, 'policy')
const Code = CatalogueCode

// Its reviews' own Idempotency-Key scope: a service item may have the same code.
const policyKind: ReviewedKind<PolicyDraft> = {
  subject: 'policy', name: 'policy', reviewScope: 'policy-review',
  find: findPolicy, lock: lockPolicy, problems: policyDraftProblems,
}

/** Whether cases waiting for money may now get it: a limited budget grew or became unlimited. */
const budgetRaised = (previous: number | null | undefined, next: number | null) =>
  previous !== undefined && previous !== null && (next === null || next > previous)

export async function policyRoutes(app: App): Promise<void> {
  const { db } = app.deps.database
  const cursors = app.cursors.of('policies', Type.Tuple([Code]))

  /**
   * Tells the policy's cases waiting for money that the budget was raised. The publication has
   * committed, so nothing here fails it: a case not told retries on its own.
   */
  async function nudgeCasesWaitingForBudget(code: string, log: FastifyBaseLogger): Promise<void> {
    try {
      const ids = await casesWaitingForBudget(db, code)
      if (ids.length === 0) return
      const untold = await app.deps.gateway.nudge(ids)
      if (untold > 0) log.warn({ policyCode: code, untold, waiting: ids.length }, 'could not tell every case waiting for money that the budget was raised')
    } catch (err) {
      log.warn({ err, policyCode: code }, 'could not tell the cases waiting for money that the budget was raised')
    }
  }

  app.put('/policies/:code', {
    preValidation: allow(['admin']),
    schema: {
      tags: ['policies'], operationId: 'savePolicyDraft', summary: 'Create or replace the draft of a policy',
      params: Type.Object({ code: Code }), body: PolicyDraft,
      response: { 200: Draft, ...commonErrorResponses, 422: ProblemDetails },
    },
  }, async (request) => {
    await checkDraftToSave(policyKind, request.body, app.organizations)
    return { ...await savePolicyDraft(db, request.params.code, request.body, signerOf(principalOf(request))), review: null }
  })

  app.get('/policies/:code/draft', {
    preValidation: allow(['admin']),
    schema: {
      tags: ['policies'], operationId: 'getPolicyDraft', summary: 'Read the unpublished draft of a policy',
      params: Type.Object({ code: Code }), response: { 200: Draft, ...commonErrorResponses, 404: ProblemDetails },
    },
  }, (request) => readDraft(db, policyKind, request.params.code))

  app.post('/policies/:code/review', {
    preValidation: allow(REVIEWER_ROLES),
    schema: {
      tags: ['policies'], operationId: 'reviewPolicy',
      summary: 'Approve or send back the current draft of a policy; another key than its author must',
      params: Type.Object({ code: Code }), headers: IdempotencyHeaders, body: ReviewDecision,
      response: { 200: Review, ...commonErrorResponses, 404: ProblemDetails, 409: ProblemDetails },
    },
  }, (request) => reviewDraft(db, policyKind,
    { principal: principalOf(request), code: request.params.code, key: request.headers['idempotency-key'] }, request.body))

  app.post('/policies/:code/publish', {
    preValidation: allow(['admin']),
    schema: {
      tags: ['policies'], operationId: 'publishPolicy',
      summary: 'Publish the reviewed draft as the next version of the policy, and give its ledger the new budget',
      params: Type.Object({ code: Code }), headers: IdempotencyHeaders,
      response: { 200: Policy, ...commonErrorResponses, 404: ProblemDetails, 409: ProblemDetails, 422: ProblemDetails },
    },
  }, async (request) => {
    const principal = principalOf(request)
    const { code } = request.params
    const key = request.headers['idempotency-key']
    // Set only by the request that publishes: a retry answered from its Idempotency-Key nudges nothing.
    let raised = false
    const publishDraft = async (tx: Tx): Promise<Policy> => {
      const { draft, version, publishedAt, signatures } = await approvedDraft(tx, policyKind, code)
      const policy = publishPolicy(code, version, draft, publishedAt, signatures)
      // Rule 25: in the same transaction, so a version is never published with a budget its ledger lacks.
      const change = await setLedgerBudget(tx, code, policy.budget)
      if (!change.set) throw problem('conflict', `budget ${policy.budget} fen is below the ${change.committed} fen already reserved or paid`)
      await recordPolicyPublication(tx, policy)
      raised = budgetRaised(change.previous, policy.budget)
      return policy
    }
    let policy: Policy
    if (!key) {
      policy = await db.transaction(publishDraft)
    } else {
      // Retries, concurrent ones too, wait for the first and hear its answer: the version it made.
      const first = await createOnce(db, {
        organizationId: principal.organizationId, scope: `policy-publish:${code}`, key, body: { code },
        create: async (tx) => {
          const published = await publishDraft(tx)
          return { id: String(published.version), policy: published }
        },
      })
      policy = first.policy
    }
    if (raised) await nudgeCasesWaitingForBudget(code, request.log)
    return policy
  })

  app.get('/policies/:code', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['policies'], operationId: 'getPolicy', summary: 'Read a published policy, the latest or a given version',
      params: Type.Object({ code: Code }),
      querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1, maximum: INT4_MAX })) }, { additionalProperties: false }),
      response: { 200: Policy, ...commonErrorResponses, 404: ProblemDetails },
    },
  }, async (request) => {
    const policy = await findPublishedPolicy(db, request.params.code, request.query.version)
    if (!policy) {
      const which = request.query.version ? ` version ${request.query.version}` : ''
      throw problem('not_found', `policy ${request.params.code}${which} is not published`)
    }
    return policy
  })

  app.get('/policies', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['policies'], operationId: 'listPolicies', summary: 'List the latest published policies, a page at a time',
      querystring: ListQuery, response: { 200: Page(Policy), ...commonErrorResponses },
    },
  }, async (request) => {
    const { limit = DEFAULT_PAGE_SIZE, cursor } = request.query
    const after = cursors.open(cursor)?.[0]
    const rows = await listLatestPolicies(db, after, limit + 1)
    const items = rows.slice(0, limit)
    return { items, nextCursor: rows.length > limit ? cursors.seal([items[items.length - 1]!.code]) : null }
  })
}
