import { maskIdNumber, type CaseView } from '../domain/case-view.ts'
import { seesPersonalData, type Role } from '../domain/roles.ts'

/** The case as this caller may see it: identity numbers masked for roles that do not need them. */
export function presentCase(view: CaseView, role: Role): CaseView {
  if (!view.applicant || seesPersonalData(role)) return view
  return { ...view, applicant: { ...view.applicant, idNumber: maskIdNumber(view.applicant.idNumber),
    ...(view.applicant.phone ? { phone: maskIdNumber(view.applicant.phone) } : {}) } }
}
