import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/system.ts'

// A server restart, or an operator ending sessions (pg_terminate_backend), reaches a process's
// connections wherever they are: idle in the pool, or checked out by a transaction that is
// awaiting the code between two statements. Neither may bring the process down (the fault tests'
// Postgres restart once killed the worker this way): the work in hand fails and is retried.

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => db?.drop())

/** Ends the session of the backend `pid` from another connection of the pool. */
const terminate = (pid: number) => db.database.pool.query('SELECT pg_terminate_backend($1)', [pid])

describe('a session ended by the server', () => {
  it('fails the transaction that held it, without crashing the process, and the pool serves on', async () => {
    const crashes: unknown[] = []
    const onUncaught = (err: unknown) => crashes.push(err)
    process.on('uncaughtException', onUncaught)
    try {
      const held = await db.database.pool.connect()
      await held.query('BEGIN')
      const { rows } = await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      await terminate(rows[0]!.pid)
      // The server's notice arrives while no statement runs on the held client.
      await new Promise((resolve) => setTimeout(resolve, 300))
      await expect(held.query('SELECT 1')).rejects.toThrow()
      held.release(true)
      expect(crashes).toEqual([])
      expect((await db.database.pool.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }])
    } finally {
      process.off('uncaughtException', onUncaught)
    }
  })
})
