import { CaseView } from '../../domain/case-view.ts'
import { EscalationFiling, escalationLimits, FILING_ROLES } from '../../domain/escalation/escalation-case.ts'
import type { App } from '../app.ts'
import { principalOf, requireComprehensiveWindow, requireRole } from '../auth.ts'
import { claimIdempotencyKey } from '../idempotency.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { IdempotencyHeaders } from '../schemas/common.ts'
import { newCaseId } from './applications.ts'

export async function escalationRoutes(app: App): Promise<void> {
  const { db } = app.deps.database

  app.post('/escalations', {
    // Rule 38: a window takes cases in only at a comprehensive window; the hotline takes its own.
    config: { command: { name: 'submit', kind: 'escalation' } },
    preValidation: async (request) => {
      await requireComprehensiveWindow(requireRole(request, FILING_ROLES), app.organizations, 'take escalations in')
    },
    schema: {
      tags: ['escalations'], operationId: 'fileEscalation', summary: 'File an escalation ("can\'t get it done"), starting its case',
      headers: IdempotencyHeaders, body: EscalationFiling,
      response: { 201: CaseView, ...commonErrorResponses, 409: ProblemDetails, 422: ProblemDetails },
    },
  }, async (request, reply) => {
    const principal = principalOf(request)
    const body = request.body
    if (body.relatedCaseId !== undefined && !(await app.cases.kindOf(body.relatedCaseId))) {
      throw problem('unprocessable', `case ${body.relatedCaseId} does not exist`)
    }
    const key = request.headers['idempotency-key']
    const caseId = key
      ? await claimIdempotencyKey(db, { organizationId: principal.organizationId, scope: 'escalations', key, body, candidateId: newCaseId('E') })
      : newCaseId('E')
    const year = new Date().getUTCFullYear()
    const [calendar, limits] = await Promise.all([app.calendar.window(year - 1, year + 2), app.published.limits()])
    const result = await app.deps.gateway.startCase('escalation', {
      kind: 'new',
      caseId,
      calendar,
      limits: escalationLimits(limits),
      actor: { organizationId: principal.organizationId, role: principal.role, keyId: principal.keyId },
      filing: {
        category: body.category,
        complainant: body.complainant,
        description: body.description,
        ...(body.relatedCaseId !== undefined ? { relatedCaseId: body.relatedCaseId } : {}),
      },
    })
    // The case already ran to its end: answer from the read side, as the first call did.
    const view = result === 'closed' ? await app.cases.find(caseId) : result
    if (!view) throw new Error(`case ${caseId} is closed but has no projection`)
    app.metrics.casesSubmitted.inc({ kind: 'escalation' })
    return reply.status(201).send(await app.show.case(request, view))
  })
}
