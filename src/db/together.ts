import { sql, type SQL } from 'drizzle-orm'

/**
 * Writes (each a query builder's SQL: `.getSQL()`, never the builder, which awaiting would send)
 * sent to Postgres as one statement, each as a data-modifying WITH query, so that they cost
 * one round trip inside the projection's locked transaction instead of one each (issue 13).
 * Postgres runs every one of them to its end. They all see the snapshot the statement started
 * with, so none may read what another writes, nor write a row another writes: each of the
 * projection's writes its own table. Postgres leaves the order in which the WITH queries run
 * unspecified; it runs the same statement's the same way, so two cases' statements take the
 * summary counters' rows (the only rows two cases share) in one order. Should two ever deadlock,
 * Postgres fails one transaction, and the projection's retry writes it again. Undefined when
 * there is nothing to write.
 */
export function together(writes: readonly (SQL | undefined)[]): SQL | undefined {
  const present = writes.filter((w): w is SQL => w !== undefined)
  if (present.length === 0) return undefined
  const queries = present.map((w, i) => sql`${sql.identifier(`w${i}`)} AS (${w})`)
  return sql`WITH ${sql.join(queries, sql`, `)} SELECT 1`
}
