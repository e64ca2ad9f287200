// Fixed terms of the application's rules, shared by the case and its actions (no cycle between them).

/**
 * Rule 10, joint handling (行政许可法 Art. 42): the decision within 45 working days, one extension
 * of up to 15. An item whose own limits are longer keeps them.
 */
export const JOINT_HANDLING = { statutoryWorkingDays: 45, maxExtensionWorkingDays: 15 } as const

/** Art. 45's closed list: only these special procedures stop the statutory clock (rule 12). */
export const STATUTORY_PAUSES = ['hearing', 'tender', 'auction', 'inspection', 'testing', 'quarantine', 'appraisal', 'expert_review'] as const

/** Statuses in which the service has ended (rule 29: each is rated). */
export const ENDED_STATUSES = ['completed', 'rejected', 'withdrawn', 'revoked'] as const
