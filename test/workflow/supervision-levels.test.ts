import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCaseReads } from '../../src/db/cases.ts'
import { saveOrganization } from '../../src/db/organizations.ts'
import { supervisions } from '../../src/db/schema.ts'
import { caseLimits } from '../../src/domain/application/application-case.ts'
import { uniqueName } from '../support/system.ts'
import {
  act, actorOf, deadline, newApplication, sleepUntil, startCase, startTimeSkipping, testGuide, type TimeSkipping, view,
} from '../support/time-skipping.ts'

// Supervision that climbs the tree, run by the case workflow on the time-skipping server: the
// runner looks the parents up (an activity reading the organisations table) when a step falls due.

let ts: TimeSkipping
beforeAll(async () => {
  ts = await startTimeSkipping()
  // gz (city) ⊃ gz-yx (district) ⊃ gz-yx-amr (its market regulator).
  for (const [id, kind, parentId] of [['gz', 'government'], ['gz-yx', 'government', 'gz'], ['gz-yx-amr', 'department', 'gz-yx']] as const) {
    await saveOrganization(ts.db.database.db, { id, name: id, kind, parentId })
  }
})
afterAll(async () => ts?.stop())

const SECOND = 1000
const historyOf = async (caseId: string) => (await createCaseReads(ts.db.database.db, ts.db.database.personal).history(caseId))

describe('supervision levels in the case workflow (time-skipping)', () => {
  it('rule 22: a missed step supervised at level 1 by the parent, unanswered, climbs to level 2; each level answers its own', async () => {
    const id = uniqueName('levels-')
    await startCase(ts, newApplication(id, { guide: testGuide({ departmentId: 'gz-yx-amr' }), limits: caseLimits() }))
    const handler = actorOf('gz-yx-amr')
    const accepted = await act(ts, id, 'accept', handler)
    await sleepUntil(ts, deadline(accepted, 'promised').dueAt, SECOND)
    const first = await view(ts, id)
    expect(first.supervisions).toEqual([expect.objectContaining({ id: 'S1', level: 1, organizationId: 'gz-yx-amr', supervisorOrganizationId: 'gz-yx' })])
    await sleepUntil(ts, deadline(first, 'supervision:S1').dueAt, SECOND)
    const second = await view(ts, id)
    expect(second.supervisions?.map((s) => [s.id, s.level, s.organizationId, s.supervisorOrganizationId])).toEqual([
      ['S1', 1, 'gz-yx-amr', 'gz-yx'], ['S2', 2, 'gz-yx', 'gz'],
    ])
    // The district answers its record with a supervisor's key; the bureau still owes its own.
    await act(ts, id, 'respond_supervision', actorOf('gz-yx', 'supervisor'), { note: 'we have chased the bureau' })
    await act(ts, id, 'respond_supervision', handler, { note: 'decision this week' })
    const rows = await ts.db.database.db.select().from(supervisions).where(eq(supervisions.caseId, id)).orderBy(supervisions.id)
    expect(rows.map((r) => [r.id, r.level, r.organizationId, r.supervisorOrganizationId, r.response])).toEqual([
      ['S1', 1, 'gz-yx-amr', 'gz-yx', 'decision this week'], ['S2', 2, 'gz-yx', 'gz', 'we have chased the bureau'],
    ])
    const types = (await historyOf(id)).map((e) => e.type)
    expect(types.filter((t) => t.startsWith('supervision_'))).toEqual([
      'supervision_opened', 'supervision_opened', 'supervision_responded', 'supervision_responded',
    ])
    // The tree was looked up by an activity, once per organisation the case had not placed yet.
    const history = await ts.env.client.workflow.getHandle(id).fetchHistory()
    const lookups = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'organizationParents')
    expect(lookups).toHaveLength(1)
  })

  it('a case started without the supervision setting keeps single-level records and never looks the tree up', async () => {
    const id = uniqueName('flat-')
    const { supervisionRespond: _left, ...older } = caseLimits()
    await startCase(ts, newApplication(id, { guide: testGuide({ departmentId: 'gz-yx-amr' }), limits: older }))
    const accepted = await act(ts, id, 'accept', actorOf('gz-yx-amr'))
    await sleepUntil(ts, deadline(accepted, 'promised').dueAt, SECOND)
    const late = await view(ts, id)
    expect(late.supervisions).toEqual([expect.not.objectContaining({ level: expect.anything() })])
    expect(late.deadlines.map((d) => d.kind)).not.toContain('supervision')
    const history = await ts.env.client.workflow.getHandle(id).fetchHistory()
    expect((history.events ?? []).some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'organizationParents')).toBe(false)
  })
})
