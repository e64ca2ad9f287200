import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common'
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

/** A case's four search attributes, as a start passes them and the runner compares and upserts them. */
export function caseAttributes(values: { kind: CaseKind; status: string; handlingOrganizationId: string; provisional: boolean }) {
  return [
    { key: caseKindKey, value: values.kind },
    { key: statusKey, value: values.status },
    { key: handlingOrgKey, value: values.handlingOrganizationId },
    { key: provisionalKey, value: values.provisional },
  ] as const
}
