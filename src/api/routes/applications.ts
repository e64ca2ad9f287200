import { randomBytes } from 'node:crypto'
import { Type, type Static } from 'typebox'
import { caseLimits, CURRENT_RULES } from '../../domain/application/application-case.ts'
import { Applicant, CaseView } from '../../domain/case-view.ts'
import { Channel, sharedMaterialsWanted } from '../../domain/service-item.ts'
import { preReview } from '../../db/shared-data.ts'
import type { App } from '../app.ts'
import { allowComprehensiveWindow, principalOf } from '../auth.ts'
import { claimIdempotencyKey } from '../idempotency.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { IdempotencyHeaders } from '../schemas/common.ts'

const ApplicationBody = Type.Object({
  serviceItemCode: Type.String({ minLength: 1, maxLength: 100 }),
  applicant: Applicant,
  channel: Channel,
  priority: Type.Optional(Type.Object({
    greenChannel: Type.Optional(Type.Boolean()),
    urgent: Type.Optional(Type.Boolean()),
  }, { additionalProperties: false })),
  materials: Type.Array(Type.Object({
    code: Type.String({ minLength: 1, maxLength: 100 }),
    ref: Type.String({ minLength: 1, maxLength: 1000 }),
  }, { additionalProperties: false }), { maxItems: 200 }),
  submittedOnBehalfBy: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
}, { additionalProperties: false })
export type ApplicationBody = Static<typeof ApplicationBody>

/** Case ids say what and when: `A20261128-7K3M9Q2XPD`. */
export function newCaseId(prefix: string, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '')
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
  const suffix = [...randomBytes(10)].map((b) => alphabet[b % 32]).join('')
  return `${prefix}${day}-${suffix}`
}

export async function applicationRoutes(app: App): Promise<void> {
  const { db } = app.deps.database

  app.post('/applications', {
    config: { command: { name: 'submit', kind: 'application' } },
    preValidation: allowComprehensiveWindow(app.organizations, 'submit applications'),
    schema: {
      tags: ['applications'], operationId: 'submitApplication', summary: 'Submit an application, starting its case',
      headers: IdempotencyHeaders, body: ApplicationBody,
      response: { 201: CaseView, ...commonErrorResponses, 409: ProblemDetails, 422: ProblemDetails },
    },
  }, async (request, reply) => {
    const principal = principalOf(request)
    const body = request.body
    const guide = await app.published.guide(body.serviceItemCode)
    if (!guide) throw problem('unprocessable', `service item ${body.serviceItemCode} is not published`)
    if (!guide.channels.includes(body.channel)) {
      throw problem('unprocessable', `service item ${guide.code} is not offered on channel ${body.channel}`)
    }
    const known = new Set(guide.materials.map((m) => m.code))
    const unknown = body.materials.filter((m) => !known.has(m.code)).map((m) => m.code)
    if (unknown.length > 0) throw problem('unprocessable', `materials not in the guide of ${guide.code}: ${unknown.join(', ')}`)

    const key = request.headers['idempotency-key']
    const caseId = key
      ? await claimIdempotencyKey(db, { organizationId: principal.organizationId, scope: 'applications', key, body, candidateId: newCaseId('A') })
      : newCaseId('A')
    const year = new Date().getUTCFullYear()
    const materials = body.materials.map((m) => ({ ...m, source: 'applicant' as const }))
    // Pre-review (rule 19) here rather than in the case: its first workflow task then runs no
    // activity before the projection's, one activity and one round into the sandbox fewer (issue 13).
    const [calendar, limits, preReviewed] = await Promise.all([
      app.calendar.window(year - 1, year + 2), app.published.limits(),
      preReview(app.sharedData, { subject: body.applicant.idNumber, wanted: sharedMaterialsWanted(guide, materials) }),
    ])
    const result = await app.deps.gateway.startCase('application', {
      kind: 'new',
      caseId,
      guide,
      calendar,
      limits: caseLimits(limits),
      rulesVersion: CURRENT_RULES,
      preReviewed,
      actor: { organizationId: principal.organizationId, role: principal.role, keyId: principal.keyId },
      submission: {
        applicant: body.applicant,
        channel: body.channel,
        priority: { greenChannel: body.priority?.greenChannel ?? false, urgent: body.priority?.urgent ?? false },
        materials,
        ...(body.submittedOnBehalfBy ? { submittedOnBehalfBy: body.submittedOnBehalfBy } : {}),
      },
    })
    // The case already ran to its end: answer from the read side, as the first call did.
    const view = result === 'closed' ? await app.cases.find(caseId) : result
    if (!view) throw new Error(`case ${caseId} is closed but has no projection`)
    app.metrics.casesSubmitted.inc({ kind: 'application' })
    return reply.status(201).send(await app.show.case(request, view))
  })
}
