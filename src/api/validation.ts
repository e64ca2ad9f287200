import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import { unsafeTextPath } from '../domain/safe-text.ts'

/**
 * TypeBox validation for every request part. Bodies are checked as sent (a string is never a
 * number, unknown fields are refused by the schemas); query strings, params and headers are
 * text, so they are converted, exactly, and get their defaults first. Any part holding text that
 * Postgres or JSON cannot carry is refused here, for every route.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema)
  return (value) => {
    const unsafe = unsafeTextPath(value)
    if (unsafe !== undefined) return { error: [{ instancePath: unsafe, message: UNSAFE_TEXT }] as never }
    const input = httpPart === 'body' ? value : Value.Default(schema, fromText(schema, value))
    if (check.Check(input)) return { value: input }
    return { error: check.Errors(input) as never }
  }
}

const UNSAFE_TEXT = 'must not contain U+0000 or an unpaired UTF-16 surrogate'

const INTEGER = /^-?\d{1,15}$/
const NUMBER = /^-?\d{1,15}(\.\d{1,15})?$/

/**
 * Each field of a text part as the scalar its schema asks for, written exactly: `1.5` is not an
 * integer, nor `0x10` or `''` a number (TypeBox's Convert would take them as 1, 16 and 0).
 * Anything else stays text, for the check to refuse.
 */
function fromText(schema: TSchema, value: unknown): unknown {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties
  if (properties === undefined || typeof value !== 'object' || value === null) return value
  const converted: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(value)) {
    const type = Object.hasOwn(properties, name) ? properties[name]!.type : undefined
    converted[name] = typeof field !== 'string' ? field
      : type === 'integer' && INTEGER.test(field) ? Number(field)
      : type === 'number' && NUMBER.test(field) ? Number(field)
      : type === 'boolean' && (field === 'true' || field === 'false') ? field === 'true'
      : field
  }
  return converted
}
