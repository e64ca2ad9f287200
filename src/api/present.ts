import { CASE_PEOPLE, maskIdNumber, type CaseView } from '../domain/case-view.ts'
import { seesPersonalData, type Role } from '../domain/roles.ts'

/** A person's identity number and phone as a caller may see them: masked for roles that do not need them. */
function masked<P extends { idNumber?: string; phone?: string }>(person: P): P {
  return {
    ...person,
    ...(person.idNumber !== undefined ? { idNumber: maskIdNumber(person.idNumber) } : {}),
    ...(person.phone !== undefined ? { phone: maskIdNumber(person.phone) } : {}),
  }
}

/**
 * The case as this caller may see it: the personal data of an applicant, a complainant
 * (escalations) or a citizen (12345 work orders) masked for roles that do not need it.
 */
export function presentCase(view: CaseView, role: Role): CaseView {
  if (seesPersonalData(role) || (!view.applicant && !view.complainant && !view.citizen)) return view
  return {
    ...view,
    ...(view.applicant ? { applicant: masked(view.applicant) } : {}),
    ...(view.complainant ? { complainant: masked(view.complainant) } : {}),
    ...(view.citizen ? { citizen: masked(view.citizen) } : {}),
  }
}

/**
 * The personal numbers `presentCase` shows this role in clear (`applicant.idNumber`, …): what the
 * access log records (src/db/access-log.ts). None for a role that sees them masked.
 */
export function unmaskedFields(view: CaseView, role: Role): string[] {
  if (!seesPersonalData(role)) return []
  return CASE_PEOPLE.flatMap((who) => {
    const person = view[who] as { idNumber?: string; phone?: string } | undefined
    if (!person) return []
    return (['idNumber', 'phone'] as const).filter((field) => typeof person[field] === 'string' && person[field] !== '').map((field) => `${who}.${field}`)
  })
}
