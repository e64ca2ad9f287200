import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common'

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
