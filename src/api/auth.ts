import { and, eq, isNull } from 'drizzle-orm'
import type { FastifyRequest } from 'fastify'
import type { Database } from '../db/client.ts'
import { announcedCache, KEY_REVOKED_CHANNEL } from '../db/announcements.ts'
import { hashKey } from '../db/api-keys.ts'
import { apiKeys, organizations } from '../db/schema.ts'
import type { CaseKind } from '../domain/case-view.ts'
import { COMPREHENSIVE_WINDOW_KINDS, type OrganizationKind, ROLES, type Role } from '../domain/roles.ts'
import { problem } from './problem.ts'

export interface Principal {
  keyId: string
  organizationId: string
  role: Role
  /**
   * The organisation's kind, read with the key: what the one-window rule asks (rule 38). A change
   * of kind is announced like a revocation, so a cached answer never outlives it.
   */
  organizationKind?: OrganizationKind
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal
  }
  interface FastifyContextConfig {
    /**
     * The route answers without looking at the caller's key (health, readiness, metrics): probes
     * must get an answer while Postgres, where keys are looked up, is down.
     */
    keyless?: boolean
  }
}

/**
 * Looks keys up by hash. Answers are cached briefly so a busy window system does not cost a
 * query per request. A revocation anywhere (this process, another, the CLI) is announced through
 * Postgres NOTIFY and clears the cache at once; while the listening connection is down nothing is
 * cached, since a revocation made then would go unheard. `ttlMs` only bounds how long a key
 * revoked without the announcement (by hand, in SQL) keeps working.
 */
export function createKeyLookup(database: Pick<Database, 'db' | 'pool'>, ttlMs = 5_000) {
  const cache = announcedCache(database.pool, { name: 'banjian key revocations', channel: KEY_REVOKED_CHANNEL }, ttlMs)
  return {
    find(secret: string): Promise<Principal | undefined> {
      const hash = hashKey(secret)
      return cache.get(hash, async () => {
        const [row] = await database.db.select({
          id: apiKeys.id, organizationId: apiKeys.organizationId, role: apiKeys.role, organizationKind: organizations.kind,
        }).from(apiKeys).innerJoin(organizations, eq(organizations.id, apiKeys.organizationId))
          .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)))
        return row
          ? { keyId: row.id, organizationId: row.organizationId, role: row.role as Role, organizationKind: row.organizationKind }
          : undefined
      })
    },
    forget: cache.forget,
    /** Whether revocations are heard (and so keys cached). */
    listening: cache.listening,
    close: cache.close,
  }
}
export type KeyLookup = ReturnType<typeof createKeyLookup>

/** The caller, who must hold one of `roles`. */
export function requireRole(request: FastifyRequest, roles: readonly Role[]): Principal {
  const principal = request.principal
  if (!principal) throw problem('unauthenticated', 'an API key is required: Authorization: Bearer <key>')
  if (!roles.includes(principal.role)) {
    throw problem('forbidden', `role ${principal.role} may not do this (needs ${roles.join(' or ')})`)
  }
  return principal
}

/**
 * A route's access rule, checked before its body is validated: a key that may not call the route
 * hears 403, never what a valid request would look like.
 */
export function allow(roles: readonly Role[]) {
  return async (request: FastifyRequest): Promise<void> => {
    requireRole(request, roles)
  }
}

/** The caller of a route whose `allow` rule has already passed. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw problem('unauthenticated', 'an API key is required: Authorization: Bearer <key>')
  return request.principal
}

export const ANY_ROLE: readonly Role[] = ROLES

/** What the one-window rule asks about the caller's organisation. */
export interface OrganizationKinds {
  kindOf(id: string): Promise<OrganizationKind | undefined>
}

/** The actions by which a window hands out a result: under rule 38 only comprehensive windows take them. */
export const RESULT_HANDOUTS: Partial<Record<CaseKind, readonly string[]>> = { application: ['deliver'] }

/**
 * DOMAIN rule 38 (一窗办理): a window key acts as a comprehensive window only for an organisation
 * that is a service centre or a convenience centre; any other one hears 403. Other roles pass (their
 * own rules apply). The kind comes with the key (a changed kind clears every cached key at once),
 * else from the organisation.
 */
export async function requireComprehensiveWindow(principal: Principal, organizations: OrganizationKinds, what: string): Promise<void> {
  if (principal.role !== 'window') return
  const kind = principal.organizationKind ?? await organizations.kindOf(principal.organizationId)
  if (kind && COMPREHENSIVE_WINDOW_KINDS.includes(kind)) return
  throw problem('forbidden', `only a window of a ${COMPREHENSIVE_WINDOW_KINDS.join(' or ')} may ${what} (one window); `
    + `organisation ${principal.organizationId} is ${kind ? `a ${kind}` : 'unknown'}`)
}

/** A route only comprehensive windows call (submitting applications), checked before its body is validated. */
export function allowComprehensiveWindow(organizations: OrganizationKinds, what: string) {
  return async (request: FastifyRequest): Promise<void> => {
    await requireComprehensiveWindow(requireRole(request, ['window']), organizations, what)
  }
}

/**
 * DOMAIN rule 38 for 12345 work orders: the hotline receives its own (a hotline key of a `hotline`
 * organisation), and so does a comprehensive window; any other key hears 403 before its body is read.
 */
export function allowWorkOrderReceivers(organizations: OrganizationKinds) {
  return async (request: FastifyRequest): Promise<void> => {
    const principal = requireRole(request, ['hotline', 'window'])
    if (principal.role === 'window') return requireComprehensiveWindow(principal, organizations, 'receive work orders')
    const kind = principal.organizationKind ?? await organizations.kindOf(principal.organizationId)
    if (kind !== 'hotline') {
      throw problem('forbidden', `only the hotline receives work orders by hotline key (one window); organisation ${principal.organizationId} is `
        + `${kind ? `a ${kind}` : 'unknown'}`)
    }
  }
}
