import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { OrganizationKind } from '../domain/roles.ts'
import { organizations } from './schema.ts'

/** Whose organisation a supervisor's reads are scoped by; the kind, when the caller knows it, spares a lookup. */
export interface Supervising {
  organizationId: string
  organizationKind?: OrganizationKind | undefined
}

/**
 * The organisation whose subtree a supervisor oversees (DESIGN.md "Access"): its own, except that a
 * `service-management` organisation (政务服务管理部门) supervises the departments of the government it
 * belongs to, the nearest `government` above it, and so oversees that government's whole subtree.
 * One with no government above it keeps its own subtree.
 *
 * Returned as SQL: a constant when the kind is known to be another, else an uncorrelated scalar
 * subquery, which Postgres evaluates once per statement (an InitPlan), not once per row.
 */
export function supervisedRoot(viewer: Supervising): SQL {
  if (viewer.organizationKind !== undefined && viewer.organizationKind !== 'service-management') return sql`${viewer.organizationId}::text`
  return sql`COALESCE((SELECT g.id FROM ${organizations} v JOIN ${organizations} g
      ON g.kind = 'government' AND g.id <> v.id AND strpos(v.path, '/' || g.id || '/') > 0
    WHERE v.id = ${viewer.organizationId} AND v.kind = 'service-management'
    ORDER BY length(g.path) DESC LIMIT 1), ${viewer.organizationId}::text)`
}

/**
 * Organisation `id` (a column or an expression) lies in the subtree the supervisor oversees. The
 * root is a whole path segment (`/gz/`), never a LIKE pattern, where `_` and `%` in an id would be
 * wildcards.
 */
export function supervises(viewer: Supervising, id: SQLWrapper): SQL {
  return sql`EXISTS (SELECT 1 FROM ${organizations} WHERE ${organizations.id} = ${id}
    AND strpos(${organizations.path}, '/' || ${supervisedRoot(viewer)} || '/') > 0)`
}

/** The ids of every organisation in the supervisor's subtree, as a subquery for `IN (…)`. */
export function supervisedOrganizations(viewer: Supervising): SQL {
  return organizationsUnder(supervisedRoot(viewer))
}

/** The ids of organisation `root` (an SQL text value) and everything under it, by whole path segment. */
export function organizationsUnder(root: SQL): SQL {
  return sql`SELECT ${organizations.id} FROM ${organizations} WHERE strpos(${organizations.path}, '/' || ${root} || '/') > 0`
}
