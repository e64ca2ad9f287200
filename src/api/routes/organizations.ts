import { asc, eq, gt, sql } from 'drizzle-orm'
import { Type } from 'typebox'
import { createApiKey, revokeApiKey, UnknownOrganization } from '../../db/api-keys.ts'
import { organizations } from '../../db/schema.ts'
import { OrganizationKind, Role } from '../../domain/roles.ts'
import type { App } from '../app.ts'
import { allow, ANY_ROLE, principalOf } from '../auth.ts'
import { createOnce } from '../idempotency.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { Id, IdempotencyHeaders, Instant, ListQuery, Page } from '../schemas/common.ts'

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

const columns = {
  id: organizations.id, name: organizations.name, kind: organizations.kind, parentId: organizations.parentId,
  createdAt: organizations.createdAt, updatedAt: organizations.updatedAt,
}

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
    const { id } = request.params
    const { name, kind, parentId } = request.body
    return db.transaction(async (tx) => {
      // Serialise tree changes so two concurrent moves cannot build a cycle.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('organizations'))`)
      let path = `/${id}/`
      if (parentId !== undefined) {
        const [parent] = await tx.select({ path: organizations.path }).from(organizations).where(eq(organizations.id, parentId))
        if (!parent) throw problem('unprocessable', `parent organisation ${parentId} does not exist`)
        if (parent.path.includes(`/${id}/`)) throw problem('unprocessable', `${parentId} lies under ${id}: that would make a cycle`)
        path = `${parent.path}${id}/`
      }
      const [before] = await tx.select({ path: organizations.path }).from(organizations).where(eq(organizations.id, id))
      const [row] = await tx.insert(organizations).values({ id, name, kind, parentId: parentId ?? null, path })
        .onConflictDoUpdate({ target: organizations.id, set: { name, kind, parentId: parentId ?? null, path, updatedAt: sql`now()` } })
        .returning(columns)
      if (before && before.path !== path) {
        // A plain prefix test: with LIKE, an `_` or `%` in an id would match other organisations' paths.
        await tx.execute(sql`UPDATE organizations SET path = ${path} || substr(path, ${before.path.length + 1})
          WHERE starts_with(path, ${before.path}) AND id <> ${id}`)
      }
      return row!
    })
  })

  app.get('/organizations/:id', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['organisations'], operationId: 'getOrganization', summary: 'Read an organisation',
      params: Type.Object({ id: Id }), response: { 200: Organization, ...commonErrorResponses, 404: ProblemDetails },
    },
  }, async (request) => {
    const [row] = await db.select(columns).from(organizations).where(eq(organizations.id, request.params.id))
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
    const { limit, cursor } = request.query
    const after = cursors.open(cursor)?.[0]
    const rows = await db.select(columns).from(organizations)
      .where(after === undefined ? undefined : gt(organizations.id, after))
      .orderBy(asc(organizations.id)).limit(limit + 1)
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
