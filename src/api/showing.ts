import type { FastifyRequest } from 'fastify'
import type { Db } from '../db/client.ts'
import { recordPersonalDataAccess } from '../db/access-log.ts'
import type { CaseView } from '../domain/case-view.ts'
import { principalOf } from './auth.ts'
import { presentCase, unmaskedFields } from './present.ts'

/**
 * How every route hands out cases: masked for roles that do not need the numbers (present.ts), and
 * each answer that shows them in clear recorded in the access log first (src/db/access-log.ts), so
 * that no such answer leaves unrecorded: if the record cannot be written, the request fails.
 */
export function createShowing(db: Db) {
  async function show(request: FastifyRequest, views: readonly CaseView[]): Promise<CaseView[]> {
    const principal = principalOf(request)
    const operation = (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId ?? request.routeOptions.url ?? 'unknown'
    await recordPersonalDataAccess(db, views.flatMap((view) => {
      const fields = unmaskedFields(view, principal.role)
      return fields.length === 0 ? [] : [{
        caseId: view.id, keyId: principal.keyId, organizationId: principal.organizationId, role: principal.role, operation, fields,
      }]
    }))
    return views.map((view) => presentCase(view, principal.role))
  }
  return {
    async case(request: FastifyRequest, view: CaseView): Promise<CaseView> {
      return (await show(request, [view]))[0]!
    },
    cases: show,
  }
}
export type Showing = ReturnType<typeof createShowing>
