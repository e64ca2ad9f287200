import { Type } from 'typebox'
import type { Tx } from '../../db/client.ts'
import { findGuide } from '../../db/guides.ts'
import {
  findServiceItem, listLatestGuides, lockServiceItem, recordPublication, saveServiceItemDraft,
} from '../../db/service-items.ts'
import { Review, ReviewDecision, REVIEWER_ROLES } from '../../domain/review.ts'
import { draftProblems, Guide, publishGuide, ServiceItemDraft } from '../../domain/service-item.ts'
import type { App } from '../app.ts'
import { allow, ANY_ROLE, principalOf } from '../auth.ts'
import { createOnce } from '../idempotency.ts'
import {
  approvedDraft, CatalogueCode, checkDraftToSave, DraftAnswer, readDraft, reviewDraft, type ReviewedKind, signerOf,
} from '../reviewed-drafts.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { DEFAULT_PAGE_SIZE, IdempotencyHeaders, INT4_MAX, ListQuery, Page } from '../schemas/common.ts'

const Draft = DraftAnswer(ServiceItemDraft, 'service item')
const Code = CatalogueCode

const serviceItemKind: ReviewedKind<ServiceItemDraft> = {
  subject: 'service-item', name: 'service item', reviewScope: 'review',
  find: findServiceItem, lock: lockServiceItem, problems: draftProblems,
}

export async function serviceItemRoutes(app: App): Promise<void> {
  const { db } = app.deps.database
  const cursors = app.cursors.of('service-items', Type.Tuple([Code]))

  app.put('/service-items/:code', {
    preValidation: allow(['admin']),
    schema: {
      tags: ['catalogue'], operationId: 'saveServiceItemDraft', summary: 'Create or replace the draft of a service item',
      params: Type.Object({ code: Code }), body: ServiceItemDraft,
      response: { 200: Draft, ...commonErrorResponses, 422: ProblemDetails },
    },
  }, async (request) => {
    await checkDraftToSave(serviceItemKind, request.body, app.organizations)
    return { ...await saveServiceItemDraft(db, request.params.code, request.body, signerOf(principalOf(request))), review: null }
  })

  app.get('/service-items/:code/draft', {
    preValidation: allow(['admin']),
    schema: {
      tags: ['catalogue'], operationId: 'getServiceItemDraft', summary: 'Read the unpublished draft of a service item',
      params: Type.Object({ code: Code }), response: { 200: Draft, ...commonErrorResponses, 404: ProblemDetails },
    },
  }, (request) => readDraft(db, serviceItemKind, request.params.code))

  app.post('/service-items/:code/review', {
    preValidation: allow(REVIEWER_ROLES),
    schema: {
      tags: ['catalogue'], operationId: 'reviewServiceItem',
      summary: 'Approve or send back the current draft of a service item; another key than its author must',
      params: Type.Object({ code: Code }), headers: IdempotencyHeaders, body: ReviewDecision,
      response: { 200: Review, ...commonErrorResponses, 404: ProblemDetails, 409: ProblemDetails },
    },
  }, (request) => reviewDraft(db, serviceItemKind,
    { principal: principalOf(request), code: request.params.code, key: request.headers['idempotency-key'] }, request.body))

  app.post('/service-items/:code/publish', {
    preValidation: allow(['admin']),
    schema: {
      tags: ['catalogue'], operationId: 'publishServiceItem', summary: 'Publish the reviewed draft as the next version of the service guide',
      params: Type.Object({ code: Code }), headers: IdempotencyHeaders,
      response: { 200: Guide, ...commonErrorResponses, 404: ProblemDetails, 409: ProblemDetails, 422: ProblemDetails },
    },
  }, async (request) => {
    const principal = principalOf(request)
    const { code } = request.params
    const key = request.headers['idempotency-key']
    const publishDraft = async (tx: Tx): Promise<Guide> => {
      const { draft, version, publishedAt, signatures } = await approvedDraft(tx, serviceItemKind, code)
      const guide = publishGuide(code, version, draft, publishedAt, signatures)
      await recordPublication(tx, guide)
      return guide
    }
    // Announced to every process when it commits; this one forgets before it answers, so that the
    // caller's next submission is under the new version.
    const published = (guide: Guide): Guide => {
      app.published.forget()
      return guide
    }
    if (!key) return published(await db.transaction(publishDraft))
    // Retries, concurrent ones too, wait for the first and hear its answer: the version it made.
    const first = await createOnce(db, {
      organizationId: principal.organizationId, scope: `publish:${code}`, key, body: { code },
      create: async (tx) => {
        const guide = await publishDraft(tx)
        return { id: String(guide.version), guide }
      },
    })
    return published(first.guide)
  })

  app.get('/service-items/:code', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['catalogue'], operationId: 'getServiceItem', summary: 'Read the published guide of a service item, the latest or a given version',
      params: Type.Object({ code: Code }),
      querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1, maximum: INT4_MAX })) }, { additionalProperties: false }),
      response: { 200: Guide, ...commonErrorResponses, 404: ProblemDetails },
    },
  }, async (request) => {
    const guide = await findGuide(db, request.params.code, request.query.version)
    if (!guide) {
      const which = request.query.version ? ` version ${request.query.version}` : ''
      throw problem('not_found', `service item ${request.params.code}${which} is not published`)
    }
    return guide
  })

  app.get('/service-items', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['catalogue'], operationId: 'listServiceItems', summary: 'List the latest published guides, a page at a time',
      querystring: ListQuery, response: { 200: Page(Guide), ...commonErrorResponses },
    },
  }, async (request) => {
    const { limit = DEFAULT_PAGE_SIZE, cursor } = request.query
    const after = cursors.open(cursor)?.[0]
    const rows = await listLatestGuides(db, after, limit + 1)
    const items = rows.slice(0, limit)
    return { items, nextCursor: rows.length > limit ? cursors.seal([items[items.length - 1]!.code]) : null }
  })
}
