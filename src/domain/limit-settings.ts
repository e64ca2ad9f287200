// Limits that belong to no service item (API.md "Settings"): configuration with these defaults,
// never hard-coded where cases use them. Pure: workflows receive the values as input.
import type { Limit } from './limit.ts'

export const LIMIT_SETTING_NAMES = [
  'escalation.accept', 'escalation.handle', 'escalation.feedback',
  'complaint.consultation', 'complaint.help', 'complaint.suggestion', 'complaint.complaint', 'complaint.report',
  'complaint.urgent', 'complaint.sign', 'supervision.respond', 'rating.default', 'rating.rectification', 'application.deferred',
] as const
export type LimitSettingName = (typeof LIMIT_SETTING_NAMES)[number]
export type LimitSettings = Record<LimitSettingName, Limit>

export const DEFAULT_LIMIT_SETTINGS: Readonly<LimitSettings> = Object.freeze({
  // Rule 22: accept within 1, handle within 5, feedback within 10 working days.
  'escalation.accept': { workingDays: 1 },
  'escalation.handle': { workingDays: 5 },
  'escalation.feedback': { workingDays: 10 },
  // Rule 26 (Guangdong 12345 measures): from receipt.
  'complaint.consultation': { workingDays: 2 },
  'complaint.help': { workingDays: 10 },
  'complaint.suggestion': { workingDays: 10 },
  'complaint.complaint': { workingDays: 15 },
  'complaint.report': { workingDays: 15 },
  // Rule 14: urgent matters are limited in hours. 24 hours is the Guangdong 12345 practice for
  // urgent work orders (紧急工单); a default of ours where the seed gives no figure.
  'complaint.urgent': { duration: 'PT24H' },
  // Rule 28: the unit a work order is dispatched to signs for it within 1 working day.
  'complaint.sign': { workingDays: 1 },
  // Rules 22 and 32: a supervision record must be answered, or the next level up takes it. The
  // sources give no figure: a default of ours, 3 working days.
  'supervision.respond': { workingDays: 3 },
  // Rule 29: no rating within 7 days counts as "basically satisfied"; rule 30: rectification.
  'rating.default': { duration: 'P7D' },
  'rating.rectification': { workingDays: 15 },
  // Rule 35 (容缺受理): to hand in the materials deferred at acceptance. No figure in the sources:
  // a default of our own, the same 5 working days as the one-time notice (rule 5).
  'application.deferred': { workingDays: 5 },
})

export function isLimitSettingName(name: string): name is LimitSettingName {
  return (LIMIT_SETTING_NAMES as readonly string[]).includes(name)
}
