import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'

/**
 * TypeBox validation for every request part. Bodies are checked as sent (a string is never a
 * number, unknown fields are refused by the schemas); query strings, params and headers are
 * text, so they are converted and get their defaults first.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema)
  return (value) => {
    const input = httpPart === 'body' ? value : Value.Default(schema, Value.Convert(schema, value))
    if (check.Check(input)) return { value: input }
    return { error: check.Errors(input) as never }
  }
}
