import { Type, type Static } from 'typebox'
import { autoApproveProblems } from './application/auto-approval.ts'
import { parseDurationMs, type Limit } from './limit.ts'
import { LimitSchema } from './limit-schema.ts'
import { Signer } from './review.ts'
import { isSafeText } from './safe-text.ts'

export const CHANNELS = ['window', 'online', 'app', 'kiosk'] as const
export const Channel = Type.Enum(CHANNELS)
export type Channel = (typeof CHANNELS)[number]

export const Material = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 100 }),
  name: Type.String({ minLength: 1, maxLength: 500 }),
  required: Type.Boolean(),
  /** Where the government already holds it (shared data, e-licence): never asked for again. */
  sharedSource: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  /**
   * Rule 35 (容缺受理): a required but non-core material the case may be accepted without, to be
   * handed in by a deadline. Only a required material can be deferred.
   */
  deferrable: Type.Optional(Type.Boolean()),
}, { additionalProperties: false })
export type Material = Static<typeof Material>

/** What an administrator writes: the draft of a service item's guide. */
export const ServiceItemDraft = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 500 }),
  departmentId: Type.String({ minLength: 1, maxLength: 100 }),
  processing: Type.Union([Type.Literal('instant'), Type.Literal('promised')]),
  acceptanceLimit: Type.Optional(LimitSchema),
  promisedLimit: LimitSchema,
  /** Rule 10: 20 working days when left out (GUIDE_DEFAULTS). */
  statutoryLimit: Type.Optional(LimitSchema),
  resultLimit: Type.Optional(LimitSchema),
  maxExtensionWorkingDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
  warnBefore: Type.Optional(LimitSchema),
  materials: Type.Array(Material, { maxItems: 200 }),
  channels: Type.Array(Channel, { minItems: 1, uniqueItems: true }),
  /** Rule 39: why an item without the `online` channel is not offered online (required then, refused otherwise). */
  offlineReason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  /** Rule 36 (告知承诺制): the applicant's written commitment may replace proof of the item's conditions. */
  commitmentAllowed: Type.Optional(Type.Boolean()),
  autoApprove: Type.Optional(Type.Unknown({ description: 'JSONLogic over the application' })),
  /** Rule 37: the shared-data source an issued result's certificate joins (an e-licence). */
  resultSource: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
}, { additionalProperties: false })
export type ServiceItemDraft = Static<typeof ServiceItemDraft>

/** A published, immutable version of the guide; cases pin the version they were submitted under. */
export const Guide = Type.Object({
  code: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  name: Type.String(),
  departmentId: Type.String(),
  processing: Type.Union([Type.Literal('instant'), Type.Literal('promised')]),
  acceptanceLimit: LimitSchema,
  promisedLimit: LimitSchema,
  statutoryLimit: LimitSchema,
  resultLimit: LimitSchema,
  maxExtensionWorkingDays: Type.Integer(),
  warnBefore: Type.Optional(LimitSchema),
  materials: Type.Array(Material),
  channels: Type.Array(Channel),
  offlineReason: Type.Optional(Type.String()),
  /** Absent in versions published before it existed: read as false. */
  commitmentAllowed: Type.Optional(Type.Boolean()),
  autoApprove: Type.Optional(Type.Unknown()),
  resultSource: Type.Optional(Type.String()),
  publishedAt: Type.String(),
  /**
   * Rule 40: the key that wrote the draft and the one that approved it (never the same), and when
   * it was approved. Absent only in versions published before guides were reviewed.
   */
  author: Type.Optional(Signer),
  reviewer: Type.Optional(Signer),
  reviewedAt: Type.Optional(Type.String()),
})
export type Guide = Static<typeof Guide>

/**
 * What pre-review asks shared data for (DOMAIN rule 19): each material of the guide that some
 * source holds, unless the applicant handed it in.
 */
export function sharedMaterialsWanted(guide: Pick<Guide, 'materials'>, given: ReadonlyArray<{ code: string }>): Array<{ code: string; source: string }> {
  return guide.materials
    .filter((m) => m.sharedSource !== undefined && !given.some((g) => g.code === m.code))
    .map((m) => ({ code: m.code, source: m.sharedSource! }))
}

/** What a published guide gets for what its draft leaves out (API.md "Catalogue"). */
export const GUIDE_DEFAULTS = {
  acceptanceLimit: { workingDays: 5 },
  /** Rule 10 (Administrative Licensing Law Art. 42): the decision within 20 working days of acceptance. */
  statutoryLimit: { workingDays: 20 },
  resultLimit: { workingDays: 10 },
  maxExtensionWorkingDays: 10,
} as const satisfies Partial<Guide>

/**
 * Rule 5 (Art. 32): the applicant hears within 5 working days at most whether the materials are
 * complete. A duration is calendar time: P5D never ends later than 5 working days would.
 */
export const MAX_ACCEPTANCE_LIMIT = { workingDays: 5, duration: 'P5D' } as const

/**
 * Problems that make a draft unpublishable, as `{ path, message }` (empty when fine). The one
 * check of a guide's content: at save (400) and again at publication (422), since a draft saved
 * before a rule existed must not reach a case.
 */
export function draftProblems(draft: ServiceItemDraft): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = []
  for (const field of ['acceptanceLimit', 'promisedLimit', 'statutoryLimit', 'resultLimit', 'warnBefore'] as const) {
    const limit = draft[field]
    if (limit && 'duration' in limit) {
      try {
        parseDurationMs(limit.duration)
      } catch (err) {
        problems.push({ path: `/${field}/duration`, message: (err as Error).message })
      }
    }
  }
  if (problems.length === 0) {
    const acceptance = draft.acceptanceLimit
    if (acceptance && limitLength(acceptance) > limitLength(sameUnit(acceptance, MAX_ACCEPTANCE_LIMIT))) {
      problems.push({
        path: '/acceptanceLimit',
        message: `the acceptance limit is at most ${MAX_ACCEPTANCE_LIMIT.workingDays} working days (as a duration, ${MAX_ACCEPTANCE_LIMIT.duration})`,
      })
    }
    const { promisedLimit: promised, statutoryLimit: statutory = GUIDE_DEFAULTS.statutoryLimit } = draft
    if ('workingDays' in promised !== 'workingDays' in statutory) {
      problems.push({ path: '/promisedLimit', message: 'the promised and statutory limits must use the same unit' })
    } else if (limitLength(promised) > limitLength(statutory)) {
      problems.push({ path: '/promisedLimit', message: 'the promised limit must not exceed the statutory limit' })
    }
  }
  const codes = new Set<string>()
  draft.materials.forEach((m, i) => {
    if (codes.has(m.code)) problems.push({ path: `/materials/${i}/code`, message: `duplicate material code ${m.code}` })
    codes.add(m.code)
    if (m.deferrable && !m.required) {
      problems.push({ path: `/materials/${i}/deferrable`, message: `material ${m.code} is not required, so there is nothing to defer` })
    }
  })
  problems.push(...channelProblems(draft))
  return [...problems, ...ruleProblemsOf(draft)]
}

/** Rule 39: every item is offered online, or says why not; a reason beside `online` would be false. */
function channelProblems(draft: Pick<ServiceItemDraft, 'channels' | 'offlineReason'>): Array<{ path: string; message: string }> {
  const reason = draft.offlineReason
  if (draft.channels.includes('online')) {
    return reason === undefined ? [] : [{ path: '/offlineReason', message: 'the item is offered online: it has no offline reason' }]
  }
  if (reason === undefined || reason.trim() === '' || !isSafeText(reason)) {
    return [{ path: '/offlineReason', message: 'an item not offered online (no "online" channel) must say why in offlineReason' }]
  }
  return []
}

/**
 * Problems with the item's auto-approval rule, at their path in the draft or guide
 * (`/autoApprove/no_such_op`): an operator json-logic-js does not know, nesting past the bound,
 * or a failure on the complete sample applications the item could receive.
 */
export function ruleProblemsOf(item: Pick<ServiceItemDraft, 'autoApprove' | 'channels' | 'materials'>): Array<{ path: string; message: string }> {
  if (item.autoApprove === undefined) return []
  return autoApproveProblems(item.autoApprove, item).map((p) => ({ path: `/autoApprove${p.path}`, message: p.message }))
}

/** The form of `bound` in the unit of `limit`. */
function sameUnit(limit: Limit, bound: { workingDays: number; duration: string }): Limit {
  return 'workingDays' in limit ? { workingDays: bound.workingDays } : { duration: bound.duration }
}

/** Comparable length of a limit within its own unit (working days, or milliseconds). */
function limitLength(limit: Limit): number {
  return 'workingDays' in limit ? limit.workingDays : parseDurationMs(limit.duration)
}

/** Who wrote the draft and who approved it (rule 40). */
export interface GuideSignatures {
  author: Signer
  reviewer: Signer
  reviewedAt: string
}

export function publishGuide(code: string, version: number, draft: ServiceItemDraft, publishedAt: string, signatures?: GuideSignatures): Guide {
  return {
    code,
    version,
    name: draft.name,
    departmentId: draft.departmentId,
    processing: draft.processing,
    acceptanceLimit: draft.acceptanceLimit ?? GUIDE_DEFAULTS.acceptanceLimit,
    promisedLimit: draft.promisedLimit,
    statutoryLimit: draft.statutoryLimit ?? GUIDE_DEFAULTS.statutoryLimit,
    resultLimit: draft.resultLimit ?? GUIDE_DEFAULTS.resultLimit,
    maxExtensionWorkingDays: draft.maxExtensionWorkingDays ?? GUIDE_DEFAULTS.maxExtensionWorkingDays,
    ...(draft.warnBefore ? { warnBefore: draft.warnBefore } : {}),
    materials: draft.materials,
    channels: draft.channels,
    ...(draft.offlineReason !== undefined ? { offlineReason: draft.offlineReason } : {}),
    commitmentAllowed: draft.commitmentAllowed ?? false,
    ...(draft.autoApprove !== undefined ? { autoApprove: draft.autoApprove } : {}),
    ...(draft.resultSource !== undefined ? { resultSource: draft.resultSource } : {}),
    publishedAt,
    ...signatures,
  }
}
