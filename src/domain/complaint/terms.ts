import { Type, type Static } from 'typebox'
import { Text } from '../case/action.ts'
import { Citizen } from '../case-view.ts'
import type { Limit } from '../limit.ts'
import { DEFAULT_LIMIT_SETTINGS, type LimitSettings } from '../limit-settings.ts'

// The 12345 work order's fixed terms (API.md "Complaints", DOMAIN rules 26–28), shared by the
// case, its actions and the start route (no cycle between them).

export const COMPLAINT_STATUSES = ['received', 'dispatched', 'responded', 'replied', 'closed'] as const
export type ComplaintStatus = (typeof COMPLAINT_STATUSES)[number]
/** Every status but `closed`: the order is still the owner's to finish (rule 27). */
export const OPEN_STATUSES = ['received', 'dispatched', 'responded', 'replied'] as const

/** Rule 26: what the public may bring to 12345, each with its own default limit. */
export const COMPLAINT_TYPES = ['consultation', 'help', 'suggestion', 'complaint', 'report'] as const
export type ComplaintType = (typeof COMPLAINT_TYPES)[number]
/** Rule 26: phone, WeChat, web, the app, or in person at a window. */
export const COMPLAINT_CHANNELS = ['phone', 'wechat', 'web', 'app', 'window'] as const

/** The work order as received: the start route's body and the workflow's check, one schema. */
export const ComplaintFiling = Type.Object({
  type: Type.Enum(COMPLAINT_TYPES),
  channel: Type.Enum(COMPLAINT_CHANNELS),
  citizen: Citizen,
  content: Text(10_000),
  urgent: Type.Optional(Type.Boolean()),
}, { additionalProperties: false })
export type ComplaintFiling = Static<typeof ComplaintFiling>

/** The limits a work order gets when it is received, from the settings then (a running one keeps them). */
export interface ComplaintLimits {
  /** To reply to the citizen, from receipt and again from each reopening. */
  reply: Limit
  /** For the unit dispatched to to sign for the order, from each dispatch. */
  sign: Limit
  /** For a supervision record to be answered (the kernel's levelled supervision). */
  supervisionRespond: Limit
}

/** Rule 26: the type's limit, or `complaint.urgent` (hours, rule 14) when it is urgent; rule 28's sign limit. */
export function complaintLimits(filing: Pick<ComplaintFiling, 'type' | 'urgent'>,
  settings: LimitSettings = DEFAULT_LIMIT_SETTINGS): ComplaintLimits {
  return {
    reply: filing.urgent === true ? settings['complaint.urgent'] : settings[`complaint.${filing.type}`],
    sign: settings['complaint.sign'],
    supervisionRespond: settings['supervision.respond'],
  }
}

/** The reply deadline of each round: the first keeps the plain key, a reopening adds `reply:2`, … */
export const replyKey = (round: number): string => (round === 1 ? 'reply' : `reply:${round}`)
/** The sign and handle deadlines of the n-th dispatch (1-based). */
export const signKey = (dispatch: number): string => `sign:${dispatch}`
export const handleKey = (dispatch: number): string => `handle:${dispatch}`
/** Which dispatch a `sign:n` or `handle:n` key belongs to (1-based). */
export const dispatchOfKey = (key: string): number => Number(key.slice(key.indexOf(':') + 1))
