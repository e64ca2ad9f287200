import { ApplicationFailure } from '@temporalio/common'
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
})
