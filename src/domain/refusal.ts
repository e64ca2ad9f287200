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

export class Refusal extends Error {
  constructor(readonly code: RefusalCode, message: string) {
    super(message)
    this.name = 'Refusal'
  }
}

export function isRefusalCode(value: unknown): value is RefusalCode {
  return typeof value === 'string' && Object.hasOwn(REFUSALS, value)
}
