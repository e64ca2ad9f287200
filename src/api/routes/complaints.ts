import { CaseView } from '../../domain/case-view.ts'
import { complaintLimits, ComplaintFiling } from '../../domain/complaint/terms.ts'
import type { App } from '../app.ts'
import { allowWorkOrderReceivers, principalOf } from '../auth.ts'
import { claimIdempotencyKey } from '../idempotency.ts'
import { commonErrorResponses, ProblemDetails } from '../problem.ts'
import { IdempotencyHeaders } from '../schemas/common.ts'
import { newCaseId } from './applications.ts'

export async function complaintRoutes(app: App): Promise<void> {
  const { db } = app.deps.database

  app.post('/complaints', {
    config: { command: { name: 'submit', kind: 'complaint' } },
    preValidation: allowWorkOrderReceivers(app.organizations),
    schema: {
      tags: ['complaints'], operationId: 'fileComplaint', summary: 'Receive a 12345 work order, starting its case',
      headers: IdempotencyHeaders, body: ComplaintFiling,
      response: { 201: CaseView, ...commonErrorResponses, 409: ProblemDetails, 422: ProblemDetails },
    },
  }, async (request, reply) => {
    const principal = principalOf(request)
    const filing = request.body
    const key = request.headers['idempotency-key']
    const caseId = key
      ? await claimIdempotencyKey(db, { organizationId: principal.organizationId, scope: 'complaints', key, body: filing, candidateId: newCaseId('C') })
      : newCaseId('C')
    const year = new Date().getUTCFullYear()
    // A running work order keeps the limits it was received with: they travel in its input.
    const [calendar, settings] = await Promise.all([app.calendar.window(year - 1, year + 2), app.published.limits()])
    const result = await app.deps.gateway.startCase('complaint', {
      kind: 'new',
      caseId,
      filing,
      calendar,
      limits: complaintLimits(filing, settings),
      actor: { organizationId: principal.organizationId, role: principal.role, keyId: principal.keyId },
    })
    // The case already ran to its end: answer from the read side, as the first call did.
    const view = result === 'closed' ? await app.cases.find(caseId) : result
    if (!view) throw new Error(`case ${caseId} is closed but has no projection`)
    app.metrics.casesSubmitted.inc({ kind: 'complaint' })
    return reply.status(201).send(await app.show.case(request, view))
  })
}
