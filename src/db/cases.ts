import { and, asc, desc, eq, inArray, lte, or, sql, type SQL } from 'drizzle-orm'
import { unionAll } from 'drizzle-orm/pg-core'
import type { CaseKind, CaseView } from '../domain/case-view.ts'
import { COMPREHENSIVE_WINDOW_KINDS, type OrganizationKind, type Role } from '../domain/roles.ts'
import type { Db } from './client.ts'
import type { PersonalData } from './personal-data.ts'
import { caseEvents, cases } from './schema.ts'
import { supervisedOrganizations } from './scope.ts'

export interface Viewer {
  organizationId: string
  role: Role
  /** The organisation's kind when the caller knows it (a supervisor's scope depends on it: scope.ts). */
  organizationKind?: OrganizationKind | undefined
}

/** A window of a service or convenience centre (rule 38): it takes anyone's business, a beneficiary's too. */
function servesBeneficiaries(viewer: Viewer): boolean {
  return viewer.role === 'window' && viewer.organizationKind !== undefined && COMPREHENSIVE_WINDOW_KINDS.includes(viewer.organizationKind)
}

export interface CaseFilter {
  kind?: string | undefined
  status?: string | undefined
  handlingOrganizationId?: string | undefined
  serviceItemCode?: string | undefined
  overdue?: boolean | undefined
  warned?: boolean | undefined
  dueBefore?: string | undefined
  flag?: string | undefined
  /** The identity number of the person the case is for (applicant, complainant or citizen), found by its blind index. */
  applicantIdNumber?: string | undefined
}

/** Keyset position in queue order: priority, earliest due, id. */
export type CaseCursor = [number, string, string]

/**
 * The read side of cases: what each caller may see, as of now or any instant. Views and events come
 * back with their personal fields opened; masking them for the caller's role is presentCase's.
 */
export function createCaseReads(db: Db, personal: PersonalData) {
  /**
   * Cases an organisation handles, handled or gave an opinion on. `organizations` always holds the
   * handling organisation; naming it also lets the planner use the handling-organisation indexes.
   */
  function involves(organizationId: string): SQL | undefined {
    return or(eq(cases.handlingOrganizationId, organizationId), sql`${cases.organizations} @> ARRAY[${organizationId}]::text[]`)
  }

  /**
   * A department sees what it handles or handled; a supervisor the subtree it oversees (scope.ts);
   * auditors everything; a window or the hotline what it received or took part in. A comprehensive
   * window also acts on any beneficiary's behalf (API.md: `confirm`, `decline` of a fulfilment
   * case): it sees a fulfilment case when the beneficiary brings it to the counter, that is when
   * asked for that case, or for the cases of the person whose identity number it names (`forPerson`),
   * never in a list of everyone's.
   */
  function visibility(viewer: Viewer, reach: 'one' | 'forPerson' | 'list'): SQL | undefined {
    switch (viewer.role) {
      case 'admin':
      case 'auditor':
        return undefined
      case 'department':
        return involves(viewer.organizationId)
      case 'window':
      case 'hotline': {
        const own = or(eq(cases.receivedBy, viewer.organizationId), involves(viewer.organizationId))
        return reach !== 'list' && servesBeneficiaries(viewer) ? or(own, eq(cases.kind, 'fulfilment')) : own
      }
      case 'supervisor':
        return sql`${cases.handlingOrganizationId} IN (${supervisedOrganizations(viewer)})`
    }
  }

  return {
    async find(id: string, viewer?: Viewer): Promise<CaseView | undefined> {
      const [row] = await db.select({ view: cases.view }).from(cases)
        .where(and(eq(cases.id, id), viewer ? visibility(viewer, 'one') : undefined))
      return row && personal.open(row.view as CaseView)
    },

    /**
     * The case's kind, when it exists and `viewer` may see it: what a check before a command or a
     * read of its records needs, without opening the sealed view.
     */
    async kindOf(id: string, viewer?: Viewer): Promise<CaseKind | undefined> {
      const [row] = await db.select({ kind: cases.kind }).from(cases)
        .where(and(eq(cases.id, id), viewer ? visibility(viewer, 'one') : undefined))
      return row?.kind as CaseKind | undefined
    },

    /** The case as it stood at `at`: the view recorded with the last event at or before it. */
    async findAt(id: string, at: string): Promise<CaseView | undefined> {
      const [row] = await db.select({ view: caseEvents.view }).from(caseEvents)
        .where(and(eq(caseEvents.caseId, id), lte(caseEvents.at, at)))
        .orderBy(desc(caseEvents.seq)).limit(1)
      return row && personal.open(row.view as CaseView)
    },

    async history(id: string) {
      const events = await db.select({
        seq: caseEvents.seq, at: caseEvents.at, type: caseEvents.type, actor: caseEvents.actor, data: caseEvents.data,
        hash: caseEvents.hash, prevHash: caseEvents.prevHash,
      }).from(caseEvents).where(eq(caseEvents.caseId, id)).orderBy(asc(caseEvents.seq))
      return events.map((event) => ({ ...event, data: personal.open(event.data) }))
    },

    async list(viewer: Viewer, filter: CaseFilter, limit: number, after?: CaseCursor) {
      // A department or window filtering on its own handling organisation sees every such case, so
      // the visibility test is left out: it would only hide the handling index from the planner.
      const ownQueue = filter.handlingOrganizationId === viewer.organizationId
        && ['department', 'window', 'hotline'].includes(viewer.role)
      const conditions = [
        filter.kind ? eq(cases.kind, filter.kind) : undefined,
        filter.status ? eq(cases.status, filter.status) : undefined,
        filter.handlingOrganizationId ? eq(cases.handlingOrganizationId, filter.handlingOrganizationId) : undefined,
        filter.serviceItemCode ? eq(cases.serviceItemCode, filter.serviceItemCode) : undefined,
        filter.overdue !== undefined ? eq(cases.overdue, filter.overdue) : undefined,
        filter.warned !== undefined ? eq(cases.warned, filter.warned) : undefined,
        filter.dueBefore ? sql`${cases.nextDueAt} < ${filter.dueBefore}` : undefined,
        filter.flag ? sql`${cases.flags} @> ARRAY[${filter.flag}]::text[]` : undefined,
        filter.applicantIdNumber !== undefined ? inArray(cases.personIndex, personal.personIndexes(filter.applicantIdNumber)) : undefined,
        after ? sql`(${cases.priorityRank}, ${cases.nextDueAt}, ${cases.id}) > (${after[0]}, ${after[1]}::timestamptz, ${after[2]})` : undefined,
      ]
      const queue = (scope: SQL | undefined) => db.select({ view: cases.view, rank: cases.priorityRank, due: cases.nextDueAt, id: cases.id })
        .from(cases).where(and(scope, ...conditions))
        .orderBy(asc(cases.priorityRank), asc(cases.nextDueAt), asc(cases.id)).limit(limit + 1)
      const own = viewer.organizationId
      const rows = viewer.role === 'department' && filter.handlingOrganizationId === undefined && (filter.overdue || filter.warned)
        // A department's overdue (warned) cases: its own queue in index order, merged with the few
        // it only took part in (cases_participants_*_idx). One OR over both made Postgres walk the
        // whole queue order filtering: 9 ms for a busy department on a million cases, now 0.5 ms.
        ? await unionAll(
          queue(eq(cases.handlingOrganizationId, own)),
          queue(sql`array_remove(${cases.organizations}, ${cases.handlingOrganizationId}) @> ARRAY[${own}]::text[]`),
        ).orderBy(sql`priority_rank`, sql`next_due_at`, sql`id`).limit(limit + 1)
        : await queue(ownQueue ? undefined : visibility(viewer, filter.applicantIdNumber === undefined ? 'list' : 'forPerson'))
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      const next: CaseCursor | undefined = rows.length > limit && last ? [last.rank, last.due, last.id] : undefined
      return { items: page.map((r) => personal.open(r.view as CaseView)), next }
    },
  }
}
export type CaseReads = ReturnType<typeof createCaseReads>

