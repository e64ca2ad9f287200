import { Type, type Static, type TSchema } from 'typebox'

/**
 * Organisation ids: 1 to 100 of `A–Z a–z 0–9 . _ -`, starting with a letter or digit. Never `/`,
 * which joins ids into tree paths; `_` and `%` are plain characters (paths are not matched with LIKE).
 */
export const Id = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$',
  description: '1–100 characters: letters, digits, ".", "_", "-"; starting with a letter or digit',
})

/**
 * An RFC 3339 instant Postgres and `Date` both hold: seconds 00–59 (no leap second), years
 * 1900–9999 as written, `Z` or an offset (9999-12-31 with a negative offset, which is year 10000
 * in UTC, is refused). `format` also refuses days a month lacks (30 February).
 */
export const Instant = Type.String({
  format: 'date-time',
  pattern: '^(?!9999-12-31T[^-]*-)(19\\d\\d|[2-9]\\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])'
    + 'T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)$',
  description: 'ISO 8601 instant, e.g. 2026-12-01T09:30:00Z or 2026-12-01T17:30:00+08:00; years 1900–9999',
})

/** The largest value of a Postgres `integer` column: a number over it would fail as an overflow in SQL. */
export const INT4_MAX = 2_147_483_647

/** A list's page size when the caller names none. */
export const DEFAULT_PAGE_SIZE = 50

/**
 * A list's page size: optional (OpenAPI must not call it required, since a request without it is
 * answered), 50 when absent. Handlers read it as `limit ?? DEFAULT_PAGE_SIZE`.
 */
export const PageSize = Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: DEFAULT_PAGE_SIZE }))

export const ListQuery = Type.Object({
  limit: PageSize,
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
}, { additionalProperties: false })

export const Page = <T extends TSchema>(item: T) => Type.Object({
  items: Type.Array(item),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
})
export type IdempotencyHeaders = Static<typeof IdempotencyHeaders>
