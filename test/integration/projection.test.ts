import { ApplicationFailure } from '@temporalio/common'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProjectionActivities } from '../../src/activities/projection.ts'
import type { CaseView, RecordedEvent } from '../../src/domain/case-view.ts'
import { createTestDatabase, type TestDatabase, uniqueName } from '../support/system.ts'

// The validators keep unstorable text out of cases; should any still reach the projection, Postgres
// refuses it the same way on every attempt, so retrying would only hang the case's request.

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => db?.drop())

const AT = '2026-03-02T02:00:00.000Z'
const view = (id: string, note: string): CaseView => ({
  id, kind: 'application', status: 'submitted', version: 1, channel: 'window', receivedBy: 'gz-center',
  handlingOrganizationId: 'gz-amr', priority: { greenChannel: false, urgent: false }, deadlines: [], overdue: false,
  warned: false, flags: [note], createdAt: AT, updatedAt: AT,
})
const recorded = (id: string, note: string): RecordedEvent[] => [{
  event: { seq: 1, at: AT, type: 'submitted', actor: { organizationId: 'gz-center', role: 'window' }, data: { note } },
  view: view(id, note),
}]

describe('the projection activity', () => {
  it.each([['NUL', 'a\u0000b'], ['a lone surrogate', 'a\ud800b']])('fails for good, typed, when Postgres refuses %s', async (_, text) => {
    const activities = createProjectionActivities({ database: db.database })
    const id = uniqueName('A-')
    const failure = await activities.recordCaseEvents({ caseId: id, recorded: recorded(id, text) }).catch((err: unknown) => err)
    expect(failure).toBeInstanceOf(ApplicationFailure)
    expect(failure).toMatchObject({ type: 'unstorable', nonRetryable: true })
    expect((await db.database.pool.query('SELECT 1 FROM case_events WHERE case_id = $1', [id])).rowCount).toBe(0)
  })

  it('stores the same events once their text can be carried', async () => {
    const activities = createProjectionActivities({ database: db.database })
    const id = uniqueName('A-')
    expect(await activities.recordCaseEvents({ caseId: id, recorded: recorded(id, 'a 😀 b') })).toEqual({ lastSeq: 1 })
  })

  it('writes a command in five statements however much follows from it: begin, the row locked, the events with the row, the rest, commit', async () => {
    const activities = createProjectionActivities({ database: db.database })
    const id = uniqueName('A-')
    await activities.recordCaseEvents({ caseId: id, recorded: recorded(id, 'first') })
    // Suspended: its deadline paused, a supervision record open, and a notice owed to the applicant.
    const suspended: CaseView = {
      ...view(id, 'second'), status: 'suspended', version: 2, applicant: { type: 'person', name: '张三', idNumber: '440106199001011234' },
      deadlines: [{ kind: 'statutory', key: 'statutory', dueAt: '2026-04-13T16:00:00.000Z', warnAt: '2026-04-10T16:00:00.000Z', state: 'paused', provisional: false, warned: false, startedAt: AT }],
      supervisions: [{ id: 'S1', kind: 'order', organizationId: 'gz-amr', reason: 'why so slow', openedAt: AT }],
    }
    const sent: string[] = []
    const watched = new Map<pg.PoolClient, pg.PoolClient['query']>()
    const watch = (client: pg.PoolClient) => {
      const query = client.query
      watched.set(client, query)
      client.query = ((...args: Parameters<typeof query>) => {
        const text: unknown = args[0]
        sent.push(typeof text === 'string' ? text : (text as { text: string }).text)
        return (query as (...a: unknown[]) => unknown).apply(client, args)
      }) as typeof query
    }
    db.database.pool.on('acquire', watch)
    try {
      await activities.recordCaseEvents({ caseId: id, recorded: [{ event: { seq: 2, at: AT, type: 'suspended', actor: { organizationId: 'gz-amr', role: 'department' }, data: { reason: 'inspection' } }, view: suspended }] })
    } finally {
      db.database.pool.off('acquire', watch)
      for (const [client, query] of watched) client.query = query
    }
    expect(sent.map((text) => text.split(/\s/)[0]!.toLowerCase())).toEqual(['begin', 'select', 'with', 'with', 'commit'])
    const count = async (table: string) => Number((await db.database.pool.query(`SELECT count(*) AS n FROM ${table} WHERE case_id = $1`, [id])).rows[0].n)
    expect([await count('case_events'), await count('deadlines'), await count('supervisions'), await count('notification_outbox')]).toEqual([2, 1, 1, 1])
  })
})
