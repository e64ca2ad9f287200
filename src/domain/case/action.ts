import { Type, type Static, type TObject, type TProperties, type TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { limitProblem, LimitSchema } from '../limit-schema.ts'
import { Refusal, type RefusalDetail } from '../refusal.ts'
import { Actor, type Role } from '../roles.ts'
import { unsafeTextPath } from '../safe-text.ts'

/** Free text of a parameter: never empty, bounded. */
/** At least one character that is not white space: a reason of blanks is no reason (rule 7). */
const WRITTEN = '\\S'
const NOT_WRITTEN = 'must contain a character other than white space'
/** Written text, up to `maxLength` characters. */
export const Text = (maxLength = 2000) => Type.String({ maxLength, pattern: WRITTEN })
/** A parameter object that refuses unknown fields. */
export const Strict = <T extends TProperties>(properties: T) => Type.Object(properties, { additionalProperties: false })

/**
 * One action of a case kind, whole: who may take it, what it takes, in which statuses, what else
 * its state must allow, and what it does. A reader changes an action here and nowhere else.
 * `K` is the kind's case class, `P` the schema of the parameters.
 */
export interface ActionSpec<K, P extends TObject = TObject> {
  roles: readonly Role[]
  params: P
  allowedIn: readonly string[]
  /** Roles that may take it only while their organisation handles the case. */
  handlerOnly?: readonly Role[]
  // Methods, not function properties: a table holds specs of different parameter types.
  /** Refuses (throws a Refusal) what the case's state does not allow beyond its status. */
  check?(kase: K, params: Static<P>, actor: Actor): void
  apply(kase: K, params: Static<P>, actor: Actor, at: string): void
}

/** Declares one action of kind `K`; its parameters are typed from its own schema, so no casts. */
export function actionOf<K>() {
  return <P extends TObject>(spec: ActionSpec<K, P>): ActionSpec<K, P> => spec
}

export type ActionTable<K> = Readonly<Record<string, ActionSpec<K, TObject>>>

/** What reaches a case: an action's name, who takes it, and its parameters, all unchecked. */
export interface CaseCommand {
  action: string
  params: Record<string, unknown>
  actor: Actor
}

/** A command whose action is known and whose actor and parameters have been read. */
export interface ParsedCommand<K> {
  action: string
  spec: ActionSpec<K, TObject>
  params: Record<string, unknown>
  actor: Actor
}

export const UNSAFE_TEXT = 'must not contain U+0000 or an unpaired UTF-16 surrogate'
/** Enough to find the mistake; a huge body must not make a huge refusal. */
const MAX_DETAILS = 10

/**
 * The one parser of an action's parameters, used by the HTTP edge and by the workflow's Update
 * validator alike: returns them, or throws a Refusal('validation_failed') whose details carry the
 * JSON pointer of each problem (`/within/duration`). Whatever it returns, the case can apply
 * without failing: limits parse, text can be stored.
 */
export function parseActionParams(action: string, schema: TObject, params: unknown): Record<string, unknown> {
  refuseUnsafeText(params, '', `parameters of ${action}`)
  if (Value.Check(schema, params)) return params as Record<string, unknown>
  const limits = limitProblems(schema, params, '')
  // A limit the parser explained needs no schema noise about it (union branches, the pattern).
  const explained = limits.map((l) => l.limitPath)
  const unexplained = (d: RefusalDetail) => !explained.some((path) => d.path === path || d.path.startsWith(`${path}/`))
  const details = [...limits.map(({ path, message }) => ({ path, message })), ...firstErrors(schema, params).filter(unexplained)]
    .slice(0, MAX_DETAILS)
  throw new Refusal('validation_failed',
    `parameters of ${action} are not valid: ${details.map((d) => `${d.path || '/'} ${d.message}`).join('; ')}`, details)
}

/** Reads a whole command as it reaches a case of a kind with these actions. */
export function parseCommand<K>(actions: ActionTable<K>, command: unknown): ParsedCommand<K> {
  // First, so that no refusal below ever quotes text that cannot leave the workflow.
  refuseUnsafeText(command, '', 'the command')
  const { action, actor, params } = (typeof command === 'object' && command !== null ? command : {}) as Record<string, unknown>
  const names = Object.keys(actions)
  if (typeof action !== 'string' || !Object.hasOwn(actions, action)) {
    const name = typeof action === 'string' ? [...action].slice(0, 50).join('') : String(action)
    throw new Refusal('validation_failed', `unknown action ${name}; one of ${names.join(', ')}`,
      [{ path: '/action', message: `must be one of ${names.join(', ')}` }])
  }
  if (!Value.Check(Actor, actor)) {
    throw new Refusal('validation_failed', 'the command has no valid actor',
      firstErrors(Actor, actor).map((d) => ({ ...d, path: `/actor${d.path}` })))
  }
  const spec = actions[action]!
  try {
    return { action, spec, actor, params: parseActionParams(action, spec.params, params) }
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

/**
 * The parser's own word on each limit parameter (why `P1.5W2D` is no duration), before the
 * schema's; also inside a parameter that is an object of its own (`commitment.verifyWithin`).
 */
function limitProblems(schema: TObject, params: unknown, prefix: string): Array<RefusalDetail & { limitPath: string }> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return []
  return Object.entries(schema.properties).flatMap(([name, field]) => {
    if (!Object.hasOwn(params, name)) return []
    const value = (params as Record<string, unknown>)[name]
    const limitPath = `${prefix}/${name}`
    if (!isLimitSchema(field)) return Type.IsObject(field) ? limitProblems(field, value, limitPath) : []
    const problem = limitProblem(value)
    return problem ? [{ path: `${limitPath}${problem.path}`, message: problem.message, limitPath }] : []
  })
}

/** LimitSchema, or an optional limit (`within?`): Type.Optional copies the schema, keeping its branches. */
function isLimitSchema(schema: TSchema): boolean {
  return schema === LimitSchema || (Type.IsOptional(schema) && (schema as { anyOf?: unknown }).anyOf === LimitSchema.anyOf)
}

function firstErrors(schema: TSchema, value: unknown): RefusalDetail[] {
  const details: RefusalDetail[] = []
  for (const error of Value.Errors(schema, value)) {
    // A union reports each branch; "must match a schema in anyOf" adds nothing to what they said.
    if (error.keyword === 'anyOf' || error.keyword === 'boolean') continue
    const message = error.keyword === 'pattern' && (error.params as { pattern?: unknown }).pattern === WRITTEN ? NOT_WRITTEN : error.message
    if (details.some((d) => d.path === error.instancePath && d.message === message)) continue
    details.push({ path: error.instancePath, message })
    if (details.length === MAX_DETAILS) break
  }
  return details
}
