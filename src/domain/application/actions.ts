import { Type, type Static, type TObject, type TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { limitProblem, LimitSchema } from '../limit-schema.ts'
import { Refusal, type RefusalDetail } from '../refusal.ts'
import { Actor, type Role } from '../roles.ts'
import { unsafeTextPath } from '../safe-text.ts'

const Text = (maxLength = 2000) => Type.String({ minLength: 1, maxLength })
const Strict = <T extends Parameters<typeof Type.Object>[0]>(properties: T) => Type.Object(properties, { additionalProperties: false })

export const SUSPENSION_REASONS = ['hearing', 'inspection', 'testing', 'appraisal', 'expert_review', 'public_notice', 'other'] as const
export const DELIVERY_METHODS = ['window', 'mail', 'electronic'] as const

/**
 * Every action on an application: who may take it and what it takes (API.md "Applications").
 * parseCommand reads parameters against these schemas, for the API and the workflow alike; the
 * case decides whether its state allows the action (application-case.ts).
 */
export const APPLICATION_ACTIONS = {
  accept: { roles: ['window', 'department'], params: Strict({}) },
  reject: { roles: ['window', 'department'], params: Strict({ reason: Text() }) },
  request_supplement: {
    roles: ['window', 'department'],
    params: Strict({ missing: Type.Array(Text(100), { minItems: 1, maxItems: 200, uniqueItems: true }), note: Text() }),
  },
  supplement: {
    roles: ['window'],
    params: Strict({ materials: Type.Array(Strict({ code: Text(100), ref: Text(1000) }), { minItems: 1, maxItems: 200 }) }),
  },
  transfer: { roles: ['department', 'supervisor'], params: Strict({ toOrganizationId: Text(100), reason: Text() }) },
  request_opinions: {
    roles: ['department'],
    params: Strict({ organizationIds: Type.Array(Text(100), { minItems: 1, maxItems: 50, uniqueItems: true }), within: LimitSchema }),
  },
  give_opinion: { roles: ['department'], params: Strict({ opinion: Text(), agree: Type.Boolean() }) },
  suspend: { roles: ['department'], params: Strict({ reason: Type.Enum(SUSPENSION_REASONS), note: Text() }) },
  resume: { roles: ['department'], params: Strict({ note: Type.Optional(Text()) }) },
  extend: {
    roles: ['department'],
    params: Strict({ workingDays: Type.Integer({ minimum: 1, maximum: 365 }), approvedBy: Text(200), reason: Text() }),
  },
  approve: { roles: ['department'], params: Strict({ note: Type.Optional(Text()) }) },
  deny: { roles: ['department'], params: Strict({ reason: Text() }) },
  issue_result: { roles: ['department'], params: Strict({ certificateNo: Type.Optional(Text(200)) }) },
  deliver: { roles: ['window'], params: Strict({ method: Type.Enum(DELIVERY_METHODS) }) },
  withdraw: { roles: ['window'], params: Strict({ reason: Text() }) },
  rate: { roles: ['window'], params: Strict({ score: Type.Integer({ minimum: 1, maximum: 5 }), comment: Type.Optional(Text()) }) },
  rectify: { roles: ['department'], params: Strict({ note: Text() }) },
  call_back: { roles: ['window', 'supervisor'], params: Strict({ satisfied: Type.Boolean(), note: Type.Optional(Text()) }) },
  supervise: { roles: ['supervisor'], params: Strict({ note: Text(), respondWithin: LimitSchema }) },
  respond_supervision: { roles: ['department'], params: Strict({ note: Text() }) },
} as const satisfies Record<string, { roles: readonly Role[]; params: TObject }>

export type ApplicationAction = keyof typeof APPLICATION_ACTIONS
export type ActionParams<A extends ApplicationAction> = Static<(typeof APPLICATION_ACTIONS)[A]['params']>

export function isApplicationAction(name: string): name is ApplicationAction {
  return Object.hasOwn(APPLICATION_ACTIONS, name)
}

/** A command whose action is known and whose actor and parameters have been read. */
export type ParsedCommand = {
  [A in ApplicationAction]: { action: A; params: ActionParams<A>; actor: Actor }
}[ApplicationAction]

export const UNSAFE_TEXT = 'must not contain U+0000 or an unpaired UTF-16 surrogate'
/** Enough to find the mistake; a huge body must not make a huge refusal. */
const MAX_DETAILS = 10

/**
 * The one parser of an action's parameters, used by the HTTP edge and by the workflow's Update
 * validator alike: returns them typed, or throws a Refusal('validation_failed') whose details
 * carry the JSON pointer of each problem (`/within/duration`). Whatever it returns, the case can
 * apply without failing: limits parse, text can be stored.
 */
export function parseActionParams<A extends ApplicationAction>(action: A, params: unknown): ActionParams<A> {
  const schema: TObject = APPLICATION_ACTIONS[action].params
  refuseUnsafeText(params, '', `parameters of ${action}`)
  if (Value.Check(schema, params)) return params as ActionParams<A>
  const limits = limitProblems(schema, params)
  // A limit the parser explained needs no schema noise about it (union branches, the pattern).
  const explained = new Set(limits.map((l) => l.path.split('/')[1]))
  const details = [...limits, ...firstErrors(schema, params).filter((d) => !explained.has(d.path.split('/')[1]))].slice(0, MAX_DETAILS)
  throw new Refusal('validation_failed',
    `parameters of ${action} are not valid: ${details.map((d) => `${d.path || '/'} ${d.message}`).join('; ')}`, details)
}

/** Reads a whole command as it reaches a case: a known action, a well-formed actor, valid parameters. */
export function parseCommand(command: unknown): ParsedCommand {
  // First, so that no refusal below ever quotes text that cannot leave the workflow.
  refuseUnsafeText(command, '', 'the command')
  const { action, actor, params } = (typeof command === 'object' && command !== null ? command : {}) as Record<string, unknown>
  if (typeof action !== 'string' || !isApplicationAction(action)) {
    const name = typeof action === 'string' ? [...action].slice(0, 50).join('') : String(action)
    throw new Refusal('validation_failed', `unknown action ${name}; one of ${Object.keys(APPLICATION_ACTIONS).join(', ')}`,
      [{ path: '/action', message: `must be one of ${Object.keys(APPLICATION_ACTIONS).join(', ')}` }])
  }
  if (!Value.Check(Actor, actor)) {
    throw new Refusal('validation_failed', 'the command has no valid actor', firstErrors(Actor, actor).map((d) => ({ ...d, path: `/actor${d.path}` })))
  }
  try {
    return { action, actor, params: parseActionParams(action, params) } as ParsedCommand
  } catch (err) {
    if (!(err instanceof Refusal)) throw err
    throw new Refusal(err.code, err.message, err.details.map((d) => ({ ...d, path: `/params${d.path}` })))
  }
}

/** Refuses text Postgres or JSON cannot carry (U+0000, a lone surrogate) without quoting it. */
export function refuseUnsafeText(value: unknown, prefix: string, what: string): void {
  const path = unsafeTextPath(value)
  if (path !== undefined) {
    throw new Refusal('validation_failed', `${what}: ${prefix}${path || '/'} ${UNSAFE_TEXT}`, [{ path: `${prefix}${path}`, message: UNSAFE_TEXT }])
  }
}

/** The parser's own word on each limit parameter (why `P1.5W2D` is no duration), before the schema's. */
function limitProblems(schema: TObject, params: unknown): RefusalDetail[] {
  if (typeof params !== 'object' || params === null) return []
  return Object.entries(schema.properties).flatMap(([name, field]) => {
    if (field !== LimitSchema || !Object.hasOwn(params, name)) return []
    const problem = limitProblem((params as Record<string, unknown>)[name])
    return problem ? [{ path: `/${name}${problem.path}`, message: problem.message }] : []
  })
}

function firstErrors(schema: TSchema, value: unknown): RefusalDetail[] {
  const details: RefusalDetail[] = []
  for (const error of Value.Errors(schema, value)) {
    // A union reports each branch; "must match a schema in anyOf" adds nothing to what they said.
    if (error.keyword === 'anyOf' || error.keyword === 'boolean') continue
    if (details.some((d) => d.path === error.instancePath && d.message === error.message)) continue
    details.push({ path: error.instancePath, message: error.message })
    if (details.length === MAX_DETAILS) break
  }
  return details
}
