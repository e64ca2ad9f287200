import { Type, type Static } from 'typebox'
import { REFUSALS, type RefusalCode } from '../domain/refusal.ts'

/** Every error code the API can answer with, and its HTTP status: the contract's catalogue. */
export const PROBLEMS = {
  ...REFUSALS,
  validation_failed: 400,
  unauthenticated: 401,
  not_found: 404,
  request_timeout: 408,
  idempotency_conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  not_ready: 503,
  internal: 500,
} as const satisfies Record<RefusalCode, number> & Record<string, number>
export type ProblemCode = keyof typeof PROBLEMS

const TITLES: Record<ProblemCode, string> = {
  validation_failed: 'Request is not valid',
  unauthenticated: 'Authentication required',
  forbidden: 'Not allowed',
  not_found: 'Not found',
  invalid_transition: 'Action not allowed in the current state',
  idempotency_conflict: 'Idempotency key reused with a different request',
  conflict: 'Conflict',
  unprocessable: 'Request cannot be carried out',
  request_timeout: 'Request not received in time',
  payload_too_large: 'Request body too large',
  unsupported_media_type: 'Unsupported media type',
  rate_limited: 'Too many requests',
  headers_too_large: 'Request line and headers too large',
  not_ready: 'Service not ready',
  internal: 'Internal error',
}

export const ProblemDetails = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
})
export type ProblemDetails = Static<typeof ProblemDetails>

export class HttpProblem extends Error {
  readonly status: number
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly errors?: Array<{ path: string; message: string }>,
  ) {
    super(detail)
    this.name = 'HttpProblem'
    this.status = PROBLEMS[code]
  }

  toJSON(): ProblemDetails {
    return {
      type: `https://banjian.dev/problems/${this.code.replaceAll('_', '-')}`,
      title: TITLES[this.code],
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...(this.errors ? { errors: this.errors } : {}),
    }
  }
}

export const problem = (code: ProblemCode, detail: string, errors?: Array<{ path: string; message: string }>) =>
  new HttpProblem(code, detail, errors)

/** Responses every authenticated route may give, for the OpenAPI document. */
export const commonErrorResponses = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  429: ProblemDetails,
} as const

/**
 * The error handler answers every 4xx and 5xx as application/problem+json, so the OpenAPI document
 * lists their ProblemDetails under that media type (the swagger plugin would say application/json).
 */
export function documentProblemMediaType<T extends object>(document: T): T {
  const { paths } = document as { paths?: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>> }
  for (const item of Object.values(paths ?? {})) {
    for (const operation of Object.values(item)) {
      for (const [status, response] of Object.entries(operation?.responses ?? {})) {
        const json = response.content?.['application/json']
        if (Number(status) >= 400 && json) response.content = { 'application/problem+json': json }
      }
    }
  }
  return document
}
