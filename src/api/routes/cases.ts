import type { SwaggerTransform } from '@fastify/swagger'
import { Type } from 'typebox'
import { APPLICATION_ACTIONS, isApplicationAction, parseActionParams } from '../../domain/application/actions.ts'
import { CaseEvent, CaseKindSchema, CaseView } from '../../domain/case-view.ts'
import { Refusal } from '../../domain/refusal.ts'
import { Actor } from '../../domain/roles.ts'
import type { App } from '../app.ts'
import { allow, ANY_ROLE, principalOf, requireRole } from '../auth.ts'
import { presentCase } from '../present.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { Id, Instant, Page } from '../schemas/common.ts'

const CaseId = Type.String({ minLength: 1, maxLength: 100 })

const CaseListQuery = Type.Object({
  kind: Type.Optional(CaseKindSchema),
  status: Type.Optional(Type.String({ maxLength: 50 })),
  handlingOrganizationId: Type.Optional(Id),
  serviceItemCode: Type.Optional(Type.String({ maxLength: 100 })),
  overdue: Type.Optional(Type.Boolean()),
  warned: Type.Optional(Type.Boolean()),
  dueBefore: Type.Optional(Instant),
  flag: Type.Optional(Type.String({ maxLength: 100 })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
}, { additionalProperties: false })

const HistoryEvent = Type.Object({
  ...CaseEvent.properties,
  actor: Actor,
  hash: Type.String(),
  prevHash: Type.String(),
})

/** The action body: `{ action, ...parameters }`, one shape per action (documented as oneOf). */
const ActionBody = Type.Union(Object.entries(APPLICATION_ACTIONS).map(([name, spec]) =>
  Type.Object({ action: Type.Literal(name), ...spec.params.properties }, { additionalProperties: false })))

/**
 * OpenAPI shows the action body as one component per action, told apart by `action`, so that
 * generated clients get a tagged union. Documentation only: the route checks the body itself,
 * so that an unknown action is answered with the actions there are.
 */
const documentActionBody: SwaggerTransform = ({ schema, url, ...document }) => {
  if (!('openapiObject' in document)) return { schema, url }
  const components = (document.openapiObject.components ??= {}).schemas ??= {}
  const mapping: Record<string, string> = {}
  for (const variant of ActionBody.anyOf) {
    const action = variant.properties.action.const
    const name = `Application${action.split('_').map((word) => word[0]!.toUpperCase() + word.slice(1)).join('')}Action`
    components[name] = JSON.parse(JSON.stringify(variant))
    mapping[action] = `#/components/schemas/${name}`
  }
  const body = { oneOf: Object.values(mapping).map(($ref) => ({ $ref })), discriminator: { propertyName: 'action', mapping } }
  return { schema: { ...schema, body }, url }
}

/** Queue order's keyset (CaseCursor): priority rank (a smallint), earliest due ('infinity' when none runs), id. */
const CaseCursorKey = Type.Tuple([
  Type.Integer({ minimum: -32768, maximum: 32767 }), Type.Union([Instant, Type.Literal('infinity')]), CaseId,
])

export async function caseRoutes(app: App): Promise<void> {
  const cursors = app.cursors.of('cases', CaseCursorKey)
  app.get('/cases/:id', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['cases'], operationId: 'getCase', summary: 'Read a case, now or as it was at an instant',
      params: Type.Object({ id: CaseId }),
      querystring: Type.Object({ at: Type.Optional(Instant) }, { additionalProperties: false }),
      response: { 200: CaseView, ...commonErrorResponses, 404: ProblemDetails },
    },
  }, async (request) => {
    const principal = principalOf(request)
    const { id } = request.params
    const visible = await app.cases.find(id, principal)
    const view = visible && request.query.at ? await app.cases.findAt(id, new Date(request.query.at).toISOString()) : visible
    if (!view) {
      const when = request.query.at ? ` at ${request.query.at}` : ''
      throw problem('not_found', `case ${id} does not exist${when}`)
    }
    return presentCase(view, principal.role)
  })

  app.get('/cases', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['cases'], operationId: 'listCases', summary: 'List the cases the caller may see, filtered, a page at a time',
      querystring: CaseListQuery, response: { 200: Page(CaseView), ...commonErrorResponses },
    },
  }, async (request) => {
    const principal = principalOf(request)
    const { limit, cursor, ...filter } = request.query
    const after = cursors.open(cursor)
    const page = await app.cases.list(principal, {
      ...filter, dueBefore: filter.dueBefore ? new Date(filter.dueBefore).toISOString() : undefined,
    }, limit, after)
    return { items: page.items.map((v) => presentCase(v, principal.role)), nextCursor: page.next ? cursors.seal(page.next) : null }
  })

  app.get('/cases/:id/history', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['cases'], operationId: 'getCaseHistory', summary: 'Read the hash-chained event record of a case',
      params: Type.Object({ id: CaseId }),
      response: { 200: Type.Object({ events: Type.Array(HistoryEvent) }), ...commonErrorResponses, 404: ProblemDetails },
    },
  }, async (request) => {
    const principal = principalOf(request)
    if (!(await app.cases.find(request.params.id, principal))) throw problem('not_found', `case ${request.params.id} does not exist`)
    return { events: await app.cases.history(request.params.id) }
  })

  app.post('/cases/:id/actions', {
    preValidation: allow(ANY_ROLE),
    config: { swaggerTransform: documentActionBody },
    schema: {
      tags: ['cases'], operationId: 'takeCaseAction', summary: 'Take an action on a case',
      params: Type.Object({ id: CaseId }),
      body: Type.Object({ action: Type.String({ minLength: 1, maxLength: 50 }) }, { additionalProperties: true }),
      response: { 200: CaseView, ...commonErrorResponses, 404: ProblemDetails, 409: ProblemDetails },
    },
  }, async (request) => {
    const principal = principalOf(request)
    const { action, ...params } = request.body as { action: string } & Record<string, unknown>
    if (!isApplicationAction(action)) {
      throw problem('validation_failed', `unknown action ${action}; one of ${Object.keys(APPLICATION_ACTIONS).join(', ')}`,
        [{ path: 'body/action', message: `must be one of ${Object.keys(APPLICATION_ACTIONS).join(', ')}` }])
    }
    const spec = APPLICATION_ACTIONS[action]
    // The very parser the case's Update validator runs: what passes here cannot fail in the workflow.
    try {
      parseActionParams(action, params)
    } catch (err) {
      if (!(err instanceof Refusal)) throw err
      throw problem(err.code, err.message, err.details.map((d) => ({ path: `body${d.path}`, message: d.message })))
    }
    requireRole(request, spec.roles)
    const existing = await app.cases.find(request.params.id, principal)
    if (!existing) throw problem('not_found', `case ${request.params.id} does not exist`)
    const { toOrganizationId, organizationIds } = params as { toOrganizationId?: string; organizationIds?: string[] }
    const named = [...(toOrganizationId ? [toOrganizationId] : []), ...(organizationIds ?? [])]
    const unknown = await app.organizations.missing(named)
    if (unknown.length > 0) throw problem('unprocessable', `unknown organisations: ${unknown.join(', ')}`)
    const unfit = await app.organizations.handlingNoCases(named)
    if (unfit.length > 0) {
      throw problem('unprocessable', `organisations that handle no cases: ${unfit.map((o) => `${o.id} (${o.kind})`).join(', ')}; `
        + 'only a department, an authorized organisation or a public utility takes a case or gives an opinion')
    }
    try {
      const view = await app.deps.gateway.act(request.params.id, {
        action, params, actor: { organizationId: principal.organizationId, role: principal.role, keyId: principal.keyId },
      })
      app.metrics.actionsTaken.inc({ action, outcome: 'done' })
      return presentCase(view, principal.role)
    } catch (err) {
      app.metrics.actionsTaken.inc({ action, outcome: 'refused' })
      throw err
    }
  })
}

export const actionBodySchema = ActionBody
