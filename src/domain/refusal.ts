/**
 * Business refusals, shared by workflows (as the `type` of a non-retryable ApplicationFailure)
 * and the API (which maps each to its HTTP status in one place).
 */
export const REFUSALS = {
  invalid_transition: 409,
  forbidden: 403,
  unprocessable: 422,
  conflict: 409,
  validation_failed: 400,
} as const
export type RefusalCode = keyof typeof REFUSALS

/** Where in the input a refusal found the problem: a JSON pointer relative to what was checked. */
export interface RefusalDetail { path: string; message: string }

/**
 * The one family of domain errors: every rule that says no throws a Refusal (or a subclass), so
 * the workflow can hand each to its caller as a typed, non-retryable failure.
 */
export class Refusal extends Error {
  constructor(readonly code: RefusalCode, message: string, readonly details: readonly RefusalDetail[] = []) {
    super(message)
    this.name = 'Refusal'
  }
}

export function isRefusalCode(value: unknown): value is RefusalCode {
  return typeof value === 'string' && Object.hasOwn(REFUSALS, value)
}
