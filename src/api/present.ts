import { maskIdNumber, type CaseView } from '../domain/case-view.ts'
import { seesPersonalData, type Role } from '../domain/roles.ts'

/** The case as this caller may see it: identity numbers and phones masked for roles that do not need them. */
export function presentCase(view: CaseView, role: Role): CaseView {
  if (seesPersonalData(role)) return view
  const masked = { ...view }
  if (view.applicant) {
    masked.applicant = { ...view.applicant, idNumber: maskIdNumber(view.applicant.idNumber),
      ...(view.applicant.phone ? { phone: maskIdNumber(view.applicant.phone) } : {}) }
  }
  if (view.citizen) masked.citizen = maskContact(view.citizen)
  return masked
}

/** A citizen's (12345) identity number and phone, masked as an applicant's are. */
function maskContact<T extends { idNumber?: string | undefined; phone?: string | undefined }>(person: T): T {
  return { ...person, ...(person.idNumber ? { idNumber: maskIdNumber(person.idNumber) } : {}),
    ...(person.phone ? { phone: maskIdNumber(person.phone) } : {}) }
}
