import type { SwaggerTransform } from '@fastify/swagger'
import { Type } from 'typebox'
import { type ActionSpec, parseActionParams } from '../../domain/case/action.ts'
import { CaseEvent, CaseKindSchema, CaseView } from '../../domain/case-view.ts'
import { ACTION_NAMES, CASE_KIND_DEFINITIONS, kindDefinition, kindsTaking } from '../../domain/kinds.ts'
import { Refusal } from '../../domain/refusal.ts'
import { Actor } from '../../domain/roles.ts'
import { readAccessLog } from '../../db/access-log.ts'
import type { App } from '../app.ts'
import { allow, ANY_ROLE, principalOf, requireComprehensiveWindow, requireRole, RESULT_HANDOUTS } from '../auth.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { DEFAULT_PAGE_SIZE, Id, Instant, Page, PageSize } from '../schemas/common.ts'

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
  applicantIdNumber: Type.Optional(Type.String({
    minLength: 4, maxLength: 64, pattern: '^\\S+$',
    description: 'the identity number of the person the cases are for: an applicant, a complainant, a citizen, a beneficiary',
  })),
  limit: PageSize,
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
}, { additionalProperties: false })

const HistoryEvent = Type.Object({
  ...CaseEvent.properties,
  actor: Actor,
  hash: Type.String(),
  prevHash: Type.String(),
})

const pascal = (name: string) => name.split(/[_-]/).map((word) => word[0]!.toUpperCase() + word.slice(1)).join('')

/** The action body: `{ action, ...parameters }`, one shape per action of each kind (documented as oneOf). */
const ACTION_BODIES = Object.values(CASE_KIND_DEFINITIONS).flatMap((definition) => Object.entries(definition.actions).map(([name, spec]) => ({
  action: name,
  component: `${pascal(definition.kind)}${pascal(name)}Action`,
  schema: Type.Object({ action: Type.Literal(name), ...spec.params.properties }, { additionalProperties: false }),
})))

/**
 * OpenAPI shows the action body as one component per action, told apart by `action`, so that
 * generated clients get a tagged union. Documentation only: the route checks the body itself,
 * so that an unknown action is answered with the actions there are.
 */
const documentActionBody: SwaggerTransform = ({ schema, url, ...document }) => {
  if (!('openapiObject' in document)) return { schema, url }
  const components = (document.openapiObject.components ??= {}).schemas ??= {}
  const mapping: Record<string, string> = {}
  for (const { action, component, schema: variant } of ACTION_BODIES) {
    components[component] = JSON.parse(JSON.stringify(variant))
    // Kinds that share an action's name share its shape (supervise, rate): one mapping entry.
    mapping[action] ??= `#/components/schemas/${component}`
  }
  const oneOf = ACTION_BODIES.map(({ component }) => ({ $ref: `#/components/schemas/${component}` }))
  const body = { oneOf, discriminator: { propertyName: 'action', mapping } }
  return { schema: { ...schema, body }, url }
}

/** Queue order's keyset (CaseCursor): priority rank (a smallint), earliest due ('infinity' when none runs), id. */
const CaseCursorKey = Type.Tuple([
  Type.Integer({ minimum: -32768, maximum: 32767 }), Type.Union([Instant, Type.Literal('infinity')]), CaseId,
])

/** One answer that showed the case's personal numbers in clear (src/db/access-log.ts). */
const AccessLogEntry = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  at: Instant,
  keyId: Type.String({ description: 'the API key that was answered' }),
  organizationId: Type.String(),
  role: Type.String(),
  what: Type.String({ description: 'the operation and what it showed in clear, for people: `getCase: applicant.idNumber, applicant.phone`' }),
  operation: Type.String({ description: 'the operation that answered: getCase, listCases, submitApplication, takeCaseAction, …' }),
  fields: Type.Array(Type.String(), { description: 'what it showed in clear: applicant.idNumber, citizen.phone, …' }),
})

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
    return app.show.case(request, view)
  })

  app.get('/cases', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['cases'], operationId: 'listCases', summary: 'List the cases the caller may see, filtered, a page at a time',
      querystring: CaseListQuery, response: { 200: Page(CaseView), ...commonErrorResponses },
    },
  }, async (request) => {
    const principal = principalOf(request)
    const { limit = DEFAULT_PAGE_SIZE, cursor, ...filter } = request.query
    const after = cursors.open(cursor)
    const page = await app.cases.list(principal, {
      ...filter, dueBefore: filter.dueBefore ? new Date(filter.dueBefore).toISOString() : undefined,
    }, limit, after)
    return { items: await app.show.cases(request, page.items), nextCursor: page.next ? cursors.seal(page.next) : null }
  })

  const accessCursors = app.cursors.of('access-log', Type.Tuple([Type.Integer({ minimum: 0 })]))
  app.get('/cases/:id/access-log', {
    preValidation: allow(['auditor', 'admin']),
    schema: {
      tags: ['cases'], operationId: 'getCaseAccessLog',
      summary: 'Who was shown the case\'s personal numbers in clear, when, with which key and through which operation (PIPL)',
      params: Type.Object({ id: CaseId }),
      querystring: Type.Object({ limit: PageSize, cursor: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
      response: { 200: Page(AccessLogEntry), ...commonErrorResponses, 404: ProblemDetails },
    },
  }, async (request) => {
    const { id } = request.params
    if (!(await app.cases.kindOf(id))) throw problem('not_found', `case ${id} does not exist`)
    const after = accessCursors.open(request.query.cursor)
    const page = await readAccessLog(app.deps.database.db, id, request.query.limit ?? DEFAULT_PAGE_SIZE, after?.[0])
    return {
      items: page.items.map((entry) => ({ ...entry, what: `${entry.operation}: ${entry.fields.join(', ')}` })),
      nextCursor: page.next === undefined ? null : accessCursors.seal([page.next]),
    }
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
    if (!(await app.cases.kindOf(request.params.id, principal))) throw problem('not_found', `case ${request.params.id} does not exist`)
    return { events: await app.cases.history(request.params.id) }
  })

  app.post('/cases/:id/actions', {
    preValidation: allow(ANY_ROLE),
    config: { swaggerTransform: documentActionBody, command: { name: 'action' } },
    schema: {
      tags: ['cases'], operationId: 'takeCaseAction', summary: 'Take an action on a case',
      params: Type.Object({ id: CaseId }),
      body: Type.Object({ action: Type.String({ minLength: 1, maxLength: 50 }) }, { additionalProperties: true }),
      response: { 200: CaseView, ...commonErrorResponses, 404: ProblemDetails, 409: ProblemDetails },
    },
  }, async (request) => {
    const principal = principalOf(request)
    const { action, ...params } = request.body as { action: string } & Record<string, unknown>
    // An unknown name is one label value, not as many as callers care to send.
    request.command = { name: ACTION_NAMES.includes(action) ? action : 'action' }
    // A name no kind knows is refused before any case is read, with the names there are.
    if (!ACTION_NAMES.includes(action)) {
      throw problem('validation_failed', `unknown action ${action}; one of ${ACTION_NAMES.join(', ')}`,
        [{ path: 'body/action', message: `must be one of ${ACTION_NAMES.join(', ')}` }])
    }
    /** The very parser the case's Update validator runs, then the roles: what passes cannot fail in the workflow. */
    const checkAgainst = (spec: ActionSpec<never>) => {
      try {
        parseActionParams(action, spec.params, params)
      } catch (err) {
        if (!(err instanceof Refusal)) throw err
        throw problem(err.code, err.message, err.details.map((d) => ({ path: `body${d.path}`, message: d.message })))
      }
      requireRole(request, spec.roles)
    }
    // Checked before the case is read, as cheaply as can be: what no kind taking the action would
    // accept (its parameters, then the caller's role) is refused at once, with the first kind's word.
    const takers = kindsTaking(action)
    const refusals = takers.map((definition) => refusalOf(() => checkAgainst(definition.actions[action]!)))
    if (refusals.every((refusal) => refusal !== undefined)) throw refusals[0]
    // Rule 38: handing out a result is for comprehensive windows, whichever case it is.
    if (takers.some((definition) => RESULT_HANDOUTS[definition.kind]?.includes(action))) {
      await requireComprehensiveWindow(principal, app.organizations, `${action} results`)
    }
    const kind = await app.cases.kindOf(request.params.id, principal)
    if (!kind) throw problem('not_found', `case ${request.params.id} does not exist`)
    request.command.kind = kind
    // Otherwise the case's kind says which actions it takes, and with which parameters.
    const actions = kindDefinition(kind)?.actions ?? {}
    const spec = actions[action]
    if (!spec) {
      throw problem('validation_failed', `a case of kind ${kind} does not ${action}; one of ${Object.keys(actions).join(', ')}`,
        [{ path: 'body/action', message: `must be one of ${Object.keys(actions).join(', ')}` }])
    }
    if (takers.length > 1) checkAgainst(spec)
    const { toOrganizationId, organizationIds } = params as { toOrganizationId?: string; organizationIds?: string[] }
    const named = [...(toOrganizationId ? [toOrganizationId] : []), ...(organizationIds ?? [])]
    const unknown = await app.organizations.missing(named)
    if (unknown.length > 0) throw problem('unprocessable', `unknown organisations: ${unknown.join(', ')}`)
    const unfit = await app.organizations.handlingNoCases(named)
    if (unfit.length > 0) {
      throw problem('unprocessable', `organisations that handle no cases: ${unfit.map((o) => `${o.id} (${o.kind})`).join(', ')}; `
        + 'only a department, an authorized organisation or a public utility takes a case or gives an opinion')
    }
    let view: CaseView
    try {
      view = await app.deps.gateway.act(request.params.id, {
        action, params, actor: { organizationId: principal.organizationId, role: principal.role, keyId: principal.keyId },
      })
    } catch (err) {
      app.metrics.actionsTaken.inc({ action, outcome: 'refused' })
      throw err
    }
    app.metrics.actionsTaken.inc({ action, outcome: 'done' })
    return app.show.case(request, view)
  })
}

/** What `check` throws, or undefined when it passes. */
function refusalOf(check: () => void): unknown {
  try {
    check()
    return undefined
  } catch (err) {
    return err
  }
}
