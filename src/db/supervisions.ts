import { and, asc, eq, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm'
import type { CaseKind, CaseView, Supervision } from '../domain/case-view.ts'
import type { Db, Tx } from './client.ts'
import type { Viewer } from './cases.ts'
import { organizations, supervisions } from './schema.ts'
import { supervises } from './scope.ts'

export const SUPERVISION_STATES = ['open', 'answered', 'overdue'] as const
export type SupervisionState = (typeof SUPERVISION_STATES)[number]

/** A supervision record as lists show it (API.md "Supervision and reporting"). */
export interface SupervisionRow {
  caseId: string
  caseKind: CaseKind
  id: string
  kind: Supervision['kind']
  level: number | null
  organizationId: string
  supervisorOrganizationId: string | null
  reason: string
  openedAt: string
  dueAt: string | null
  respondedAt: string | null
  response: string | null
  state: SupervisionState
}

/** Keyset position in list order: opened, case, record. */
export type SupervisionCursor = [string, string, string]

/**
 * The upsert of the supervision records of a case's last view, for the projection's transaction,
 * built and not yet sent (src/db/together.ts). Cases without records write nothing (undefined), so
 * intake pays nothing for this.
 */
export function supervisionsWrite(tx: Tx, caseId: string, view: CaseView): SQL | undefined {
  const records = view.supervisions ?? []
  if (records.length === 0) return undefined
  const rows = records.map((s) => ({
    caseId, id: s.id, caseKind: view.kind, kind: s.kind, level: s.level ?? null, organizationId: s.organizationId,
    supervisorOrganizationId: s.supervisorOrganizationId ?? null, reason: s.reason, openedAt: s.openedAt, dueAt: s.dueAt ?? null,
    respondedAt: s.respondedAt ?? null, response: s.response ?? null,
  }))
  const changing = ['level', 'organizationId', 'supervisorOrganizationId', 'reason', 'dueAt', 'respondedAt', 'response'] as const
  return tx.insert(supervisions).values(rows).onConflictDoUpdate({
    target: [supervisions.caseId, supervisions.id],
    set: Object.fromEntries(changing.map((name) => [name, sql.raw(`excluded.${JSON.stringify(supervisions[name].name)}`)])),
  }).getSQL()
}

/** Whether organisation `id` is `ancestor` or lies under it, by tree path. */
const within = (id: SQL | typeof supervisions.organizationId, ancestor: string) => sql`EXISTS (SELECT 1 FROM ${organizations}
  WHERE ${organizations.id} = ${id} AND strpos(${organizations.path}, ${`/${ancestor}/`}) > 0)`

/** Either organisation of the record is `organizationId` or lies under it. */
function involving(organizationId: string): SQL {
  return or(
    within(supervisions.organizationId, organizationId),
    within(sql`${supervisions.supervisorOrganizationId}`, organizationId),
  )!
}

export function createSupervisionReads(db: Db) {
  const state = sql<SupervisionState>`CASE WHEN ${supervisions.respondedAt} IS NOT NULL THEN 'answered'
    WHEN ${supervisions.dueAt} <= now() THEN 'overdue' ELSE 'open' END`

  const inState: Record<SupervisionState, SQL | undefined> = {
    answered: isNotNull(supervisions.respondedAt),
    overdue: and(isNull(supervisions.respondedAt), sql`${supervisions.dueAt} <= now()`),
    open: and(isNull(supervisions.respondedAt), or(isNull(supervisions.dueAt), sql`${supervisions.dueAt} > now()`)),
  }

  /**
   * Administrators and auditors see every record; a supervisor those whose organisation or
   * supervisor lies in the subtree it oversees (scope.ts); anyone else those it owes or watches.
   */
  function visibility(viewer: Viewer): SQL | undefined {
    switch (viewer.role) {
      case 'admin':
      case 'auditor':
        return undefined
      case 'supervisor':
        return or(supervises(viewer, supervisions.organizationId), supervises(viewer, sql`${supervisions.supervisorOrganizationId}`))
      default:
        return or(eq(supervisions.organizationId, viewer.organizationId), eq(supervisions.supervisorOrganizationId, viewer.organizationId))
    }
  }

  return {
    /**
     * Records in the order they were opened. `organizationId` matches a record when either of its
     * organisations is that one or lies under it: a district sees what its departments owe.
     */
    async list(viewer: Viewer, filter: { organizationId?: string | undefined; state?: SupervisionState | undefined; caseId?: string | undefined },
      limit: number, after?: SupervisionCursor): Promise<{ items: SupervisionRow[]; next: SupervisionCursor | undefined }> {
      const rows = await db.select({
        caseId: supervisions.caseId, caseKind: supervisions.caseKind, id: supervisions.id, kind: supervisions.kind, level: supervisions.level,
        organizationId: supervisions.organizationId, supervisorOrganizationId: supervisions.supervisorOrganizationId,
        reason: supervisions.reason, openedAt: supervisions.openedAt, dueAt: supervisions.dueAt, respondedAt: supervisions.respondedAt,
        response: supervisions.response, state,
      }).from(supervisions)
        .where(and(
          visibility(viewer),
          filter.organizationId ? involving(filter.organizationId) : undefined,
          filter.state ? inState[filter.state] : undefined,
          filter.caseId ? eq(supervisions.caseId, filter.caseId) : undefined,
          after ? sql`(${supervisions.openedAt}, ${supervisions.caseId}, ${supervisions.id}) > (${after[0]}::timestamptz, ${after[1]}, ${after[2]})` : undefined,
        ))
        .orderBy(asc(supervisions.openedAt), asc(supervisions.caseId), asc(supervisions.id))
        .limit(limit + 1)
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      return { items: page, next: rows.length > limit && last ? [last.openedAt, last.caseId, last.id] : undefined }
    },
  }
}
export type SupervisionReads = ReturnType<typeof createSupervisionReads>
