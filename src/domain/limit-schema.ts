import { Type } from 'typebox'
import type { Limit } from './limit.ts'

/** The wire shape of a limit (API.md "Conventions"); `Limit` in limit.ts is its type. */
export const LimitSchema = Type.Union([
  Type.Object({ workingDays: Type.Integer({ minimum: 0, maximum: 3650 }) }, { additionalProperties: false }),
  Type.Object(
    { duration: Type.String({ pattern: '^P(?!$)(\\d+([.,]\\d+)?W)?(\\d+([.,]\\d+)?D)?(T(?=\\d)(\\d+([.,]\\d+)?H)?(\\d+([.,]\\d+)?M)?(\\d+([.,]\\d+)?S)?)?$', examples: ['PT2H', 'P3D', 'PT5S'] }) },
    { additionalProperties: false },
  ),
], { $id: undefined, description: '`{ workingDays: n }` or `{ duration: "<ISO 8601 duration>" }`' })

// Keeps the schema and the domain type from drifting apart.
export type LimitWire = { workingDays: number } | { duration: string }
const _sameShape: Limit extends LimitWire ? (LimitWire extends Limit ? true : never) : never = true
void _sameShape
