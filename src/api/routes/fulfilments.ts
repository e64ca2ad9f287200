import { Type } from 'typebox'
import { latestPolicy } from '../../db/campaigns.ts'
import { claimForApplication } from '../../db/claims.ts'
import { CaseView } from '../../domain/case-view.ts'
import { policyTerms } from '../../domain/fulfilment/terms.ts'
import { Beneficiary, entitlementOf, readBeneficiary } from '../../domain/policy.ts'
import type { App } from '../app.ts'
import { allowComprehensiveWindow, principalOf } from '../auth.ts'
import { requestHash } from '../idempotency.ts'
import { CatalogueCode } from '../reviewed-drafts.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { IdempotencyHeaders } from '../schemas/common.ts'

const FulfilmentApplication = Type.Object({
  policyCode: CatalogueCode,
  beneficiary: Beneficiary,
}, { additionalProperties: false })

/** `POST /v1/fulfilments`: an application under an `application`-mode policy, taken at a comprehensive window. */
export async function fulfilmentRoutes(app: App): Promise<void> {
  const { pool, personal } = app.deps.database

  app.post('/fulfilments', {
    config: { command: { name: 'submit', kind: 'fulfilment' } },
    preValidation: allowComprehensiveWindow(app.organizations, 'take policy applications'),
    schema: {
      tags: ['policies'], operationId: 'applyForFulfilment', summary: 'Apply for an application-mode policy on a beneficiary\'s behalf',
      headers: IdempotencyHeaders, body: FulfilmentApplication,
      response: { 201: CaseView, ...commonErrorResponses, 409: ProblemDetails, 422: ProblemDetails },
    },
  }, async (request, reply) => {
    const principal = principalOf(request)
    const { policyCode } = request.body
    const read = readBeneficiary(request.body.beneficiary)
    if ('error' in read) throw problem('validation_failed', `the beneficiary is not valid: ${read.error}`, [{ path: 'body/beneficiary', message: read.error }])
    const { beneficiary } = read
    const policy = await latestPolicy(pool, policyCode)
    if (!policy) throw problem('unprocessable', `policy ${policyCode} is not published`)
    if (policy.mode !== 'application') {
      throw problem('unprocessable', `policy ${policyCode} is ${policy.mode}: its beneficiaries are found by campaigns, not by applications`)
    }
    const entitlement = entitlementOf(policy, beneficiary)
    if (!entitlement.eligible) throw problem('unprocessable', `the beneficiary is not eligible under policy ${policyCode}: ${entitlement.reason}`)
    const key = request.headers['idempotency-key']
    const claim = await claimForApplication(pool, personal, {
      policyCode, beneficiaryId: beneficiary.id, amount: entitlement.amount,
      ...(key ? { idempotency: { organizationId: principal.organizationId, key, requestHash: requestHash(request.body) } } : {}),
    })
    if (claim.outcome === 'key_conflict') throw problem('idempotency_conflict', `Idempotency-Key ${key} was used before with a different request`)
    const { caseId } = claim
    // One beneficiary, one policy, one case, ever (rule 25). A claim whose case never started (its
    // request failed after claiming) is finished by this one, under the id it was claimed with.
    if (claim.outcome === 'duplicate' && await app.cases.kindOf(caseId)) {
      throw problem('conflict', `the beneficiary already has case ${caseId} under policy ${policyCode}`)
    }
    const { attributes: _attributes, ...payee } = beneficiary
    const result = await app.deps.gateway.startCase('fulfilment', {
      kind: 'new', caseId, opening: { policy: policyTerms(policy), beneficiary: payee, amount: entitlement.amount },
      actor: { organizationId: principal.organizationId, role: principal.role, keyId: principal.keyId },
    })
    const view = result === 'closed' ? await app.cases.find(caseId) : result
    if (!view) throw new Error(`case ${caseId} is closed but has no projection`)
    app.metrics.casesSubmitted.inc({ kind: 'fulfilment' })
    return reply.status(201).send(await app.show.case(request, view))
  })
}
