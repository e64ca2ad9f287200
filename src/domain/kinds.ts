import { APPLICATION_ACTIONS } from './application/actions.ts'
import { ENDED_STATUSES as APPLICATION_ENDED, isOpenApplication } from './application/application-case.ts'
import type { ActionTable } from './case/action.ts'
import { COMPLAINT_ACTIONS } from './complaint/actions.ts'
import { complaintParticipants, isOpenComplaint } from './complaint/complaint-case.ts'
import type { CaseKind, CaseView } from './case-view.ts'
import { ESCALATION_ACTIONS } from './escalation/actions.ts'
import { FULFILMENT_ACTIONS } from './fulfilment/actions.ts'
import { isOpenFulfilment } from './fulfilment/fulfilment-case.ts'
import { ENDED_STATUSES as FULFILMENT_ENDED } from './fulfilment/terms.ts'
import { escalationParticipants, isOpenEscalation } from './escalation/escalation-case.ts'

/**
 * What the edges need to know of a case kind: its actions (for the HTTP edge's parser and the
 * OpenAPI document), what "open" means and who takes part (for the read side). A new kind is a
 * folder of its own rules plus one entry here (README "Adding a case kind").
 */
export interface CaseKindDefinition {
  kind: CaseKind
  // The kind's own case class is known only inside its folder; the edges parse, never apply.
  actions: ActionTable<never>
  /** Whether a case in this state still has something to wait for; closed cases leave the queues. */
  isOpen(view: CaseView): boolean
  /** Organisations that take part in the case and so see it in their lists. */
  participants(view: CaseView): string[]
  /**
   * Whether the case's service has ended (办结), whatever still follows (a rating, a call-back):
   * the supervision summary counts its completion from the event that first showed it.
   */
  hasEnded(view: CaseView): boolean
}

const endedIn = (statuses: readonly string[]) => (view: CaseView) => statuses.includes(view.status)

export const CASE_KIND_DEFINITIONS: Readonly<Partial<Record<CaseKind, CaseKindDefinition>>> = {
  application: {
    kind: 'application',
    actions: APPLICATION_ACTIONS,
    isOpen: isOpenApplication,
    participants: (view) => [view.handlingOrganizationId, ...(view.opinions ?? []).map((o) => o.organizationId)],
    hasEnded: endedIn(APPLICATION_ENDED),
  },
  complaint: {
    kind: 'complaint',
    actions: COMPLAINT_ACTIONS,
    isOpen: isOpenComplaint,
    participants: complaintParticipants,
    hasEnded: endedIn(['closed']),
  },
  escalation: {
    kind: 'escalation',
    actions: ESCALATION_ACTIONS,
    isOpen: isOpenEscalation,
    participants: escalationParticipants,
    // Closed, or refused at acceptance; a reopening takes it back to handling.
    hasEnded: endedIn(['closed', 'rejected']),
  },
  fulfilment: {
    kind: 'fulfilment',
    actions: FULFILMENT_ACTIONS,
    isOpen: isOpenFulfilment,
    // The policy's department handles it; the window that took an application keeps seeing it.
    participants: (view) => [view.handlingOrganizationId, view.receivedBy],
    hasEnded: endedIn(FULFILMENT_ENDED),
  },
}

export function kindDefinition(kind: string): CaseKindDefinition | undefined {
  return Object.hasOwn(CASE_KIND_DEFINITIONS, kind) ? CASE_KIND_DEFINITIONS[kind as CaseKind] : undefined
}

/** Every action any kind takes: a name in none of them is refused before any case is read. */
export const ACTION_NAMES: readonly string[] = [...new Set(Object.values(CASE_KIND_DEFINITIONS).flatMap((d) => Object.keys(d.actions)))]

/** The kinds that take an action of this name. */
export function kindsTaking(action: string): CaseKindDefinition[] {
  return Object.values(CASE_KIND_DEFINITIONS).filter((d) => Object.hasOwn(d.actions, action))
}
