// The guarantees' floor for bench/lifecycle (issue 13): what an action through an HTTP API costs
// when it keeps the API's promises and does nothing else. Each command is an HTTP request whose
// route sends one Update; the Update's handler writes the command's event to Postgres in a local
// activity before it answers (read-your-writes), in order and once (a retried write changes
// nothing), with the case's row moved on in the same statement (one round trip, where the
// projection takes five: a first version of this floor did the same in five and measured no
// different). No keys, no domain, no deadlines, no audit chain, no personal data sealed, no search
// attributes: the distance from bare cases to this floor is what the promises cost on this
// machine, and the distance from it to the API what the product does besides.
import { type Client, WithStartWorkflowOperation } from '@temporalio/client'
import Fastify from 'fastify'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { bareStepUpdate, type FloorActivities, type floorUpdatesWorkflow } from './bare-workflow.ts'
import { onCleanUp } from './processes.ts'

export interface Floor {
  /** The floor's activity, for the worker that runs its workflows on the floor's task queue. */
  activities: FloorActivities
  /**
   * One floor case: its start and `updates` more commands over HTTP, each awaited (each one's
   * latency into `latencies` when given), then its result, as a bare case.
   */
  run(tag: string, i: number, updates: number, latencies?: number[]): Promise<void>
  /** Fails unless the floor's cases have written `events` events in all: the floor did its writes. */
  expectWritten(events: number): Promise<void>
}

/**
 * The floor's tables in a schema of their own in `databaseUrl`, and its routes serving commands for
 * cases on `taskQueue` through `client` (a worker given `activities` runs them), both gone at clean-up.
 */
export async function openFloor(databaseUrl: string, client: Client, taskQueue: string): Promise<Floor> {
  const schema = `floor_${randomBytes(5).toString('hex')}`
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 })
  onCleanUp('floor database', async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await pool.end()
  })
  await pool.query(`CREATE SCHEMA ${schema};
    CREATE TABLE ${schema}.cases (id text PRIMARY KEY, last_seq integer NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE ${schema}.events (case_id text NOT NULL, seq integer NOT NULL, at timestamptz NOT NULL, PRIMARY KEY (case_id, seq))`)

  const activities: FloorActivities = {
    async recordFloorEvent(caseId, seq) {
      // One statement, so one round trip and its own transaction: the event inserted once, the
      // case's row moved on only forward.
      await pool.query(`WITH event AS (
          INSERT INTO ${schema}.events (case_id, seq, at) VALUES ($1, $2, now()) ON CONFLICT DO NOTHING
        ) INSERT INTO ${schema}.cases AS c (id, last_seq, updated_at) VALUES ($1, $2, now())
        ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at WHERE c.last_seq < excluded.last_seq`,
      [caseId, seq])
    },
  }

  const app = Fastify()
  app.post<{ Params: { id: string }; Body: { steps: number } }>('/floor/:id/start', async (request) => {
    const start = new WithStartWorkflowOperation<typeof floorUpdatesWorkflow>('floorUpdatesWorkflow', {
      taskQueue, workflowId: request.params.id, args: [request.params.id, request.body.steps], workflowIdConflictPolicy: 'USE_EXISTING',
    })
    return { taken: await client.workflow.executeUpdateWithStart(bareStepUpdate, { startWorkflowOperation: start }) }
  })
  app.post<{ Params: { id: string } }>('/floor/:id/step', async (request) =>
    ({ taken: await client.workflow.getHandle(request.params.id).executeUpdate(bareStepUpdate) }))
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  onCleanUp('floor API', () => app.close())

  return {
    activities,
    async run(tag, i, updates, latencies) {
      const id = `floor-${tag}-${i}`
      const command = async (path: string, body: unknown) => {
        const response = await fetch(`${url}/floor/${id}/${path}`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
        })
        if (response.status !== 200) throw new Error(`floor ${path} of ${id}: ${response.status} ${await response.text()}`)
        await response.text()
      }
      await command('start', { steps: updates + 1 })
      for (let u = 0; u < updates; u++) {
        const began = performance.now()
        await command('step', {})
        latencies?.push(performance.now() - began)
      }
      await client.workflow.getHandle(id).result()
    },
    async expectWritten(events) {
      const { rows: [row] } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.events`)
      if (row?.n !== events) throw new Error(`the floor wrote ${row?.n} events, not ${events}`)
    },
  }
}
