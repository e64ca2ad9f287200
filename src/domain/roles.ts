import { Type, type Static } from 'typebox'

export const ROLES = ['admin', 'window', 'department', 'supervisor', 'auditor', 'hotline'] as const
export const Role = Type.Enum(ROLES)
export type Role = (typeof ROLES)[number]

export const ORGANIZATION_KINDS = [
  'government', 'service-management', 'service-center', 'convenience-center', 'department',
  'authorized-org', 'public-utility', 'hotline',
] as const
export const OrganizationKind = Type.Enum(ORGANIZATION_KINDS)
export type OrganizationKind = (typeof ORGANIZATION_KINDS)[number]

/**
 * DOMAIN rule 38 (一窗办理): the comprehensive windows, at service centres and convenience
 * centres, are the only ones that receive applications and hand out results.
 */
export const COMPREHENSIVE_WINDOW_KINDS: readonly OrganizationKind[] = ['service-center', 'convenience-center']

/** Who did something: recorded on every event. */
export const Actor = Type.Object({
  organizationId: Type.String(),
  role: Role,
  keyId: Type.Optional(Type.String()),
})
export type Actor = Static<typeof Actor>

/**
 * Roles that work with applicants' and citizens' identity numbers and phones; everyone else sees
 * them masked. The hotline takes the citizen's call and calls back (rule 28).
 */
export function seesPersonalData(role: Role): boolean {
  return role === 'window' || role === 'department' || role === 'admin' || role === 'hotline'
}
