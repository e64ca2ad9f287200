import { Type } from 'typebox'
import { createApiKey, revokeApiKey, UnknownOrganization } from '../../db/api-keys.ts'
import { findOrganization, listOrganizations, saveOrganization, TreeChangeRefused } from '../../db/organizations.ts'
import { OrganizationKind, Role } from '../../domain/roles.ts'
import type { App } from '../app.ts'
import { allow, ANY_ROLE, principalOf } from '../auth.ts'
import { createOnce } from '../idempotency.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { DEFAULT_PAGE_SIZE, Id, IdempotencyHeaders, Instant, ListQuery, Page } from '../schemas/common.ts'

const Organization = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: OrganizationKind,
  parentId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Instant,
  updatedAt: Instant,
})
const OrganizationBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  kind: OrganizationKind,
  parentId: Type.Optional(Id),
}, { additionalProperties: false })
const ApiKeyBody = Type.Object({
  organizationId: Id,
  role: Role,
  name: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false })
const CreatedKey = Type.Object({
  id: Type.String(), key: Type.String(), organizationId: Type.String(), role: Role, name: Type.Optional(Type.String()),
})

export async function organizationRoutes(app: App): Promise<void> {
  const { db } = app.deps.database
  const cursors = app.cursors.of('organizations', Type.Tuple([Type.String({ minLength: 1, maxLength: 100 })]))

  app.put('/organizations/:id', {
    preValidation: allow(['admin']),
    schema: {
      tags: ['organisations'], operationId: 'saveOrganization', summary: 'Create or update an organisation, moving its subtree with it',
      params: Type.Object({ id: Id }),
      body: OrganizationBody,
      response: { 200: Organization, ...commonErrorResponses, 422: ProblemDetails },
    },
  }, async (request) => {
    try {
      const saved = await saveOrganization(db, { id: request.params.id, ...request.body })
      // Cached keys carry their organisation's kind: this process forgets them now; the others
      // hear the change announced (saveOrganization).
      app.keys.forget()
      return saved
    } catch (err) {
      if (err instanceof TreeChangeRefused) throw problem('unprocessable', err.message)
      throw err
    }
  })

  app.get('/organizations/:id', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['organisations'], operationId: 'getOrganization', summary: 'Read an organisation',
      params: Type.Object({ id: Id }), response: { 200: Organization, ...commonErrorResponses, 404: ProblemDetails },
    },
  }, async (request) => {
    const row = await findOrganization(db, request.params.id)
    if (!row) throw problem('not_found', `organisation ${request.params.id} does not exist`)
    return row
  })

  app.get('/organizations', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['organisations'], operationId: 'listOrganizations', summary: 'List organisations, a page at a time',
      querystring: ListQuery, response: { 200: Page(Organization), ...commonErrorResponses },
    },
  }, async (request) => {
    const { limit = DEFAULT_PAGE_SIZE, cursor } = request.query
    const after = cursors.open(cursor)?.[0]
    const rows = await listOrganizations(db, after, limit + 1)
    const items = rows.slice(0, limit)
    return { items, nextCursor: rows.length > limit ? cursors.seal([items[items.length - 1]!.id]) : null }
  })

  app.post('/api-keys', {
    preValidation: allow(['admin']),
    schema: {
      tags: ['organisations'], operationId: 'createApiKey', summary: 'Issue an API key bound to an organisation and a role',
      headers: IdempotencyHeaders, body: ApiKeyBody,
      response: { 201: CreatedKey, ...commonErrorResponses, 409: ProblemDetails, 422: ProblemDetails },
    },
  }, async (request, reply) => {
    const principal = principalOf(request)
    const key = request.headers['idempotency-key']
    try {
      // A retried request gets the same key back (sealed under its Idempotency-Key), never a second one.
      const created = key
        ? await createOnce(db, { organizationId: principal.organizationId, scope: 'api-keys', key, body: request.body, create: (tx) => createApiKey(tx, request.body) })
        : await createApiKey(db, request.body)
      return reply.status(201).send(created)
    } catch (err) {
      if (err instanceof UnknownOrganization) throw problem('unprocessable', err.message)
      throw err
    }
  })

  app.delete('/api-keys/:id', {
    preValidation: allow(['admin']),
    schema: {
      tags: ['organisations'], operationId: 'revokeApiKey', summary: 'Revoke an API key',
      params: Type.Object({ id: Type.String({ maxLength: 100 }) }), response: { 204: Type.Null(), ...commonErrorResponses, 404: ProblemDetails },
    },
  }, async (request, reply) => {
    if (!(await revokeApiKey(db, request.params.id))) throw problem('not_found', `API key ${request.params.id} does not exist`)
    app.keys.forget()
    return reply.status(204).send(null)
  })
}
