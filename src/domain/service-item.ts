import { Type, type Static } from 'typebox'
import { autoApproveProblems } from './application/auto-approval.ts'
import { parseDurationMs, type Limit } from './limit.ts'
import { LimitSchema } from './limit-schema.ts'

export const CHANNELS = ['window', 'online', 'app', 'kiosk'] as const
export const Channel = Type.Enum(CHANNELS)
export type Channel = (typeof CHANNELS)[number]

export const Material = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 100 }),
  name: Type.String({ minLength: 1, maxLength: 500 }),
  required: Type.Boolean(),
  /** Where the government already holds it (shared data, e-licence): never asked for again. */
  sharedSource: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
}, { additionalProperties: false })
export type Material = Static<typeof Material>

/** What an administrator writes: the draft of a service item's guide. */
export const ServiceItemDraft = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 500 }),
  departmentId: Type.String({ minLength: 1, maxLength: 100 }),
  processing: Type.Union([Type.Literal('instant'), Type.Literal('promised')]),
  acceptanceLimit: Type.Optional(LimitSchema),
  promisedLimit: LimitSchema,
  statutoryLimit: LimitSchema,
  resultLimit: Type.Optional(LimitSchema),
  maxExtensionWorkingDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
  warnBefore: Type.Optional(LimitSchema),
  materials: Type.Array(Material, { maxItems: 200 }),
  channels: Type.Array(Channel, { minItems: 1, uniqueItems: true }),
  autoApprove: Type.Optional(Type.Unknown({ description: 'JSONLogic over the application' })),
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
  autoApprove: Type.Optional(Type.Unknown()),
  publishedAt: Type.String(),
})
export type Guide = Static<typeof Guide>

export const GUIDE_DEFAULTS = {
  acceptanceLimit: { workingDays: 5 },
  resultLimit: { workingDays: 10 },
  maxExtensionWorkingDays: 10,
} as const satisfies Partial<Guide>

/** Problems that make a draft unpublishable, as `{ path, message }` (empty when fine). */
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
    const { promisedLimit: promised, statutoryLimit: statutory } = draft
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
  })
  return [...problems, ...ruleProblemsOf(draft)]
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

/** Comparable length of a limit within its own unit (working days, or milliseconds). */
function limitLength(limit: Limit): number {
  return 'workingDays' in limit ? limit.workingDays : parseDurationMs(limit.duration)
}

export function publishGuide(code: string, version: number, draft: ServiceItemDraft, publishedAt: string): Guide {
  return {
    code,
    version,
    name: draft.name,
    departmentId: draft.departmentId,
    processing: draft.processing,
    acceptanceLimit: draft.acceptanceLimit ?? GUIDE_DEFAULTS.acceptanceLimit,
    promisedLimit: draft.promisedLimit,
    statutoryLimit: draft.statutoryLimit,
    resultLimit: draft.resultLimit ?? GUIDE_DEFAULTS.resultLimit,
    maxExtensionWorkingDays: draft.maxExtensionWorkingDays ?? GUIDE_DEFAULTS.maxExtensionWorkingDays,
    ...(draft.warnBefore ? { warnBefore: draft.warnBefore } : {}),
    materials: draft.materials,
    channels: draft.channels,
    ...(draft.autoApprove !== undefined ? { autoApprove: draft.autoApprove } : {}),
    publishedAt,
  }
}
