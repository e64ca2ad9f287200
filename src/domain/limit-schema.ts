import { Type } from 'typebox'
import { DURATION_PATTERN, type Limit, LimitError, MAX_LIMIT_DAYS, parseDurationMs, validateLimit } from './limit.ts'
import type { RefusalDetail } from './refusal.ts'

function durationProblem(iso: string): string | undefined {
  try {
    parseDurationMs(iso)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/**
 * A duration as parseDurationMs reads it: the pattern (published in the OpenAPI document) is the
 * parser's own grammar, and the refinement runs the parser itself, so whatever this schema admits
 * parses (no `P1.5W2D` past the edge, nothing longer than MAX_LIMIT_DAYS).
 */
const Duration = Type.Refine(
  Type.String({ pattern: DURATION_PATTERN, examples: ['PT2H', 'P3D', 'PT5S'] }),
  (iso) => durationProblem(iso) === undefined,
  (iso) => durationProblem(iso) ?? 'is not a duration',
)

/** The wire shape of a limit (API.md "Conventions"); `Limit` in limit.ts is its type. */
export const LimitSchema = Type.Union([
  Type.Object({ workingDays: Type.Integer({ minimum: 0, maximum: MAX_LIMIT_DAYS }) }, { additionalProperties: false }),
  Type.Object({ duration: Duration }, { additionalProperties: false }),
], { $id: undefined, description: '`{ workingDays: n }` or `{ duration: "<ISO 8601 duration>" }`' })

/**
 * What the parser says is wrong with a limit, at its path (`/duration`), or undefined when it
 * parses. Schema checks report a bad duration only as a pattern mismatch; this says why.
 */
export function limitProblem(value: unknown): RefusalDetail | undefined {
  try {
    validateLimit(value)
    return undefined
  } catch (err) {
    if (!(err instanceof LimitError)) throw err
    const duration = typeof value === 'object' && value !== null && 'duration' in value && !('workingDays' in value)
    return { path: duration ? '/duration' : '', message: err.message }
  }
}

// Keeps the schema and the domain type from drifting apart.
export type LimitWire = { workingDays: number } | { duration: string }
const _sameShape: Limit extends LimitWire ? (LimitWire extends Limit ? true : never) : never = true
void _sameShape
