import { defineSearchAttributeKey, type SearchAttributePair, SearchAttributeType } from '@temporalio/common'
import type { CaseOpening } from '../domain/case/core.ts'
import type { CaseKind } from '../domain/case-view.ts'

/**
 * Custom search attributes the case workflows keep up to date. No personal data here: search
 * attributes are stored unencrypted.
 */
export const SEARCH_ATTRIBUTES = {
  BanjianCaseKind: 'Keyword',
  BanjianStatus: 'Keyword',
  BanjianHandlingOrg: 'Keyword',
  BanjianProvisional: 'Bool',
} as const

export const caseKindKey = defineSearchAttributeKey('BanjianCaseKind', SearchAttributeType.KEYWORD)
export const statusKey = defineSearchAttributeKey('BanjianStatus', SearchAttributeType.KEYWORD)
export const handlingOrgKey = defineSearchAttributeKey('BanjianHandlingOrg', SearchAttributeType.KEYWORD)
export const provisionalKey = defineSearchAttributeKey('BanjianProvisional', SearchAttributeType.BOOL)

/**
 * A new case's search attributes, given by its start: the case's first event then upserts none
 * of them unless it moved on at once (an instant item decided on the spot, a provisional deadline),
 * and then only those (the runner compares with what the run holds). No deadline runs yet, so
 * none is provisional.
 */
export function attributesAtStart(kind: CaseKind, opening: CaseOpening): SearchAttributePair[] {
  return [
    { key: caseKindKey, value: kind },
    { key: statusKey, value: opening.status },
    { key: handlingOrgKey, value: opening.handlingOrganizationId },
    { key: provisionalKey, value: false },
  ]
}
