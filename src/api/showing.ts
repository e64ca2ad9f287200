import type { FastifyRequest } from 'fastify'
import type { Db } from '../db/client.ts'
import { recordPersonalDataAccess } from '../db/access-log.ts'
import { type CaseView, maskIdNumber } from '../domain/case-view.ts'
import { seesPersonalData } from '../domain/roles.ts'
import { principalOf } from './auth.ts'
import { presentCase, unmaskedFields } from './present.ts'

/**
 * How every route hands out cases: masked for roles that do not need the numbers (present.ts), and
 * each answer that shows them in clear recorded in the access log first (src/db/access-log.ts), so
 * that no such answer leaves unrecorded: if the record cannot be written, the request fails.
 */
export function createShowing(db: Db) {
  /** Records, before the answer leaves, which cases' numbers it shows this caller in clear. */
  async function record(request: FastifyRequest, shown: ReadonlyArray<{ caseId: string; fields: string[] }>): Promise<void> {
    const principal = principalOf(request)
    const operation = (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId ?? request.routeOptions.url ?? 'unknown'
    await recordPersonalDataAccess(db, shown.filter(({ fields }) => fields.length > 0).map(({ caseId, fields }) => ({
      caseId, keyId: principal.keyId, organizationId: principal.organizationId, role: principal.role, operation, fields,
    })))
  }

  async function show(request: FastifyRequest, views: readonly CaseView[]): Promise<CaseView[]> {
    const { role } = principalOf(request)
    await record(request, views.map((view) => ({ caseId: view.id, fields: unmaskedFields(view, role) })))
    return views.map((view) => presentCase(view, role))
  }
  return {
    async case(request: FastifyRequest, view: CaseView): Promise<CaseView> {
      return (await show(request, [view]))[0]!
    },
    cases: show,
    /**
     * One identity number per case shown outside a case view (a payment's beneficiary, `field`):
     * in clear, recorded first, for a role that works with the numbers; masked for the others.
     */
    async numbers<T extends { caseId: string }>(request: FastifyRequest, items: readonly T[], field: string, numberOf: (item: T) => string)
      : Promise<string[]> {
      if (!seesPersonalData(principalOf(request).role)) return items.map((item) => maskIdNumber(numberOf(item)))
      await record(request, items.map((item) => ({ caseId: item.caseId, fields: [field] })))
      return items.map(numberOf)
    },
  }
}
export type Showing = ReturnType<typeof createShowing>
