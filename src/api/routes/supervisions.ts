import { Type } from 'typebox'
import { createSupervisionReads, SUPERVISION_STATES } from '../../db/supervisions.ts'
import { CaseKindSchema } from '../../domain/case-view.ts'
import type { App } from '../app.ts'
import { allow, ANY_ROLE, principalOf } from '../auth.ts'
import { commonErrorResponses } from '../problem.ts'
import { DEFAULT_PAGE_SIZE, Id, Instant, Page, PageSize } from '../schemas/common.ts'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])

/** One supervision record, of any case kind (API.md "Supervision and reporting"). */
const SupervisionRecord = Type.Object({
  caseId: Type.String(),
  caseKind: CaseKindSchema,
  id: Type.String({ description: 'the record within its case: S1, S2, …' }),
  kind: Type.Enum(['automatic', 'order']),
  level: Nullable(Type.Integer({ minimum: 1, description: '1 on whoever owed the step, 2 on its parent, …; null for orders' })),
  organizationId: Type.String({ description: 'owes the answer' }),
  supervisorOrganizationId: Nullable(Type.String({ description: 'watches it: the parent of organizationId' })),
  reason: Type.String(),
  openedAt: Instant,
  dueAt: Nullable(Instant),
  respondedAt: Nullable(Instant),
  response: Nullable(Type.String()),
  state: Type.Enum(SUPERVISION_STATES),
})

const SupervisionQuery = Type.Object({
  organizationId: Type.Optional(Id),
  state: Type.Optional(Type.Enum(SUPERVISION_STATES)),
  caseId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  limit: PageSize,
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
}, { additionalProperties: false })

const SupervisionCursorKey = Type.Tuple([Instant, Type.String({ maxLength: 100 }), Type.String({ maxLength: 20 })])

export async function supervisionRoutes(app: App): Promise<void> {
  const reads = createSupervisionReads(app.deps.database.db)
  const cursors = app.cursors.of('supervisions', SupervisionCursorKey)
  app.get('/supervisions', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['supervision'], operationId: 'listSupervisions',
      summary: 'List supervision records of every case kind, by organisation (and its subtree) and state',
      querystring: SupervisionQuery, response: { 200: Page(SupervisionRecord), ...commonErrorResponses },
    },
  }, async (request) => {
    const principal = principalOf(request)
    const { limit = DEFAULT_PAGE_SIZE, cursor, ...filter } = request.query
    const page = await reads.list(principal, filter, limit, cursors.open(cursor))
    return { items: page.items, nextCursor: page.next ? cursors.seal(page.next) : null }
  })
}
