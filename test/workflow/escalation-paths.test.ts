import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProjectionActivities } from '../../src/activities/projection.ts'
import { checkReadSide } from '../../src/audit/read-side-lag.ts'
import { createCaseReads } from '../../src/db/cases.ts'
import { saveOrganization } from '../../src/db/organizations.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { escalationLimits, type EscalationLimits } from '../../src/domain/escalation/escalation-case.ts'
import type { Actor } from '../../src/domain/roles.ts'
import { escalationFiledSignal, type NewEscalation } from '../../src/workflows/escalation/contract.ts'
import { uniqueName } from '../support/system.ts'
import {
  act, calendarWith, deadline, DEPARTMENT, eventTypes, historyEventTypes, newApplication, refusalType, sleepUntil, startCase, startKind, startTimeSkipping,
  SUPERVISOR, type TimeSkipping, view, WINDOW,
} from '../support/time-skipping.ts'

// The escalation's workflow (办不成事, rules 21 and 22) on the time-skipping server: the runner's
// second kind, its deadlines and supervision, and the escalation_filed it leaves on its related case.

let ts: TimeSkipping
beforeAll(async () => {
  ts = await startTimeSkipping()
  // Four levels: the city ⊃ a district ⊃ a sub-district ⊃ its office, for the climbing.
  const tree = [['gz', 'government'], ['gz-th', 'government', 'gz'], ['gz-th-sd', 'government', 'gz-th'], ['gz-th-sd-office', 'department', 'gz-th-sd']] as const
  for (const [id, kind, parentId] of tree) await saveOrganization(ts.db.database.db, { id, name: id, kind, parentId })
})
afterAll(async () => ts?.stop())

const SECOND = 1000
const HOTLINE: Actor = { organizationId: 'gz-center', role: 'hotline' }
const reads = () => createCaseReads(ts.db.database.db, ts.db.database.personal)

function newEscalation(caseId: string, overrides: Partial<NewEscalation> & { limits?: EscalationLimits } = {}): NewEscalation {
  return {
    kind: 'new', caseId, actor: WINDOW, calendar: calendarWith(), limits: escalationLimits(),
    filing: { category: 'overdue', complainant: { name: '王五', idNumber: '440106198805052345' }, description: 'still waiting' },
    ...overrides,
  }
}

const fileEscalation = (input: NewEscalation): Promise<CaseView> => startKind(ts, 'escalationWorkflow', input)

// A test here once hung until its timeout under the whole suite's load, three tries running, while
// the file alone passed. sleepUntil's report found it: the case's workflow task had cancelled a
// timer that fired while the task was in flight; the test server refused the completion and never
// handed the run another task (temporalio/sdk-java#3088), and the stuck case held the clock for
// every case after it. Cases started now never cancel a timer (src/workflows/wake-timer.ts), and a
// retry could not have helped: the tries share the stuck clock.
describe('escalation workflow paths (time-skipping)', () => {
  it('rule 22: received → accepted → assigned → responded → feedback_given → closed, then the workflow ends', async () => {
    const id = uniqueName('E-path-')
    const filed = await fileEscalation(newEscalation(id))
    expect(filed).toMatchObject({ kind: 'escalation', status: 'received', ownerOrganizationId: 'gz-center', version: 1 })
    await act(ts, id, 'accept', WINDOW)
    await act(ts, id, 'assign', WINDOW, { toOrganizationId: 'gz-amr' })
    expect(await refusalType(act(ts, id, 'respond', { organizationId: 'gz-hr', role: 'department' }, { resolution: 'x', resolved: true })))
      .toBe('forbidden')
    await act(ts, id, 'respond', DEPARTMENT, { resolution: 'licence issued', resolved: true })
    expect(await refusalType(act(ts, id, 'close', WINDOW, { satisfied: true }))).toBe('invalid_transition')
    await act(ts, id, 'feedback', WINDOW, { message: 'your licence is ready' })
    const closed = await act(ts, id, 'close', WINDOW, { satisfied: true })
    expect(closed.status).toBe('closed')
    expect(closed.deadlines.map((d) => [d.key, d.state])).toEqual([['accept', 'met'], ['feedback', 'met'], ['handle:1', 'met']])
    await ts.env.client.workflow.getHandle(id).result()
    // Filed outside working hours, the one working day to accept in warns at once: the warning may
    // come before the acceptance, whatever the date.
    const events = await eventTypes(ts, id)
    expect(events.filter((type) => type !== 'deadline_warned')).toEqual(['received', 'accepted', 'assigned', 'responded', 'feedback_given', 'closed'])
    const stored = await reads().find(id)
    expect(stored).toMatchObject({ status: 'closed', version: events.length, closure: { satisfied: true } })
    // Every command moved the next deadline, and no timer was cancelled for it (WakeTimers).
    const raw = await historyEventTypes(ts, id)
    expect(raw).not.toContain('EVENT_TYPE_TIMER_CANCELED')
    // The closing answer went out in a task before the one that completes the workflow: a kept timer
    // firing during that last task can fail it, but no longer the caller's update with it.
    const answered = raw.lastIndexOf('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED')
    const completed = raw.indexOf('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED')
    expect(answered).toBeGreaterThan(0)
    expect(raw.slice(answered, completed)).toContain('EVENT_TYPE_WORKFLOW_TASK_STARTED')
  })

  it('rule 22: reopened once after an unsatisfied closure; closed unsatisfied again, it ends', async () => {
    const id = uniqueName('E-reopen-')
    await fileEscalation(newEscalation(id, { actor: HOTLINE }))
    const round = async () => {
      await act(ts, id, 'respond', DEPARTMENT, { resolution: 'tried', resolved: false })
      await act(ts, id, 'feedback', HOTLINE, { message: 'tried' })
      return act(ts, id, 'close', HOTLINE, { satisfied: false })
    }
    await act(ts, id, 'accept', SUPERVISOR)
    await act(ts, id, 'assign', HOTLINE, { toOrganizationId: 'gz-amr' })
    await round()
    const reopened = await act(ts, id, 'reopen', HOTLINE, { reason: 'nothing changed' })
    expect(reopened).toMatchObject({ status: 'assigned', handlingOrganizationId: 'gz-amr', channel: 'hotline' })
    expect(deadline(reopened, 'handle:2').state).toBe('running')
    expect(deadline(reopened, 'feedback:reopened').state).toBe('running')
    await round()
    await ts.env.client.workflow.getHandle(id).result()
    expect((await eventTypes(ts, id)).filter((t) => t === 'reopened')).toHaveLength(1)
  })

  it('rules 22 and 32: a missed accept deadline marks the case overdue and supervises the owner', async () => {
    const id = uniqueName('E-accept-')
    const filed = await fileEscalation(newEscalation(id))
    await sleepUntil(ts, deadline(filed, 'accept').dueAt, SECOND)
    const late = await view(ts, id)
    expect(late.overdue).toBe(true)
    expect(deadline(late, 'accept').state).toBe('missed')
    expect(late.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', organizationId: 'gz-center', deadlineKey: 'accept' })])
    expect(await eventTypes(ts, id)).toEqual(expect.arrayContaining(['deadline_missed', 'supervision_opened']))
    // Late, it is still accepted and handled.
    expect((await act(ts, id, 'accept', WINDOW)).status).toBe('accepted')
  })

  it('rules 22 and 32: a missed handle deadline supervises the assignee, not the owner', async () => {
    const id = uniqueName('E-handle-')
    await fileEscalation(newEscalation(id))
    await act(ts, id, 'accept', WINDOW)
    const assigned = await act(ts, id, 'assign', WINDOW, { toOrganizationId: 'gz-amr', within: { duration: 'PT2H' } })
    await sleepUntil(ts, deadline(assigned, 'handle:1').dueAt, SECOND)
    const late = await view(ts, id)
    expect(late.overdue).toBe(true)
    expect(deadline(late, 'handle:1')).toMatchObject({ state: 'missed', organizationId: 'gz-amr' })
    expect(late.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', organizationId: 'gz-amr', deadlineKey: 'handle:1' })])
    const stored = await reads().find(id)
    expect(stored?.overdue).toBe(true)
  })

  it('rule 21: the related application records escalation_filed once, from the escalation\'s own workflow', async () => {
    const appId = uniqueName('A-rel-')
    await startCase(ts, newApplication(appId))
    await act(ts, appId, 'accept', DEPARTMENT)
    const id = uniqueName('E-rel-')
    await fileEscalation(newEscalation(id, { filing: { ...newEscalation(id).filing, relatedCaseId: appId } }))
    await expect.poll(async () => (await view(ts, appId)).escalations, { timeout: 20_000, interval: 200 }).toEqual([id])
    // A repeated message changes nothing.
    await ts.env.client.workflow.getHandle(appId).signal(escalationFiledSignal, { escalationId: id, actor: WINDOW })
    const after = await act(ts, appId, 'approve', DEPARTMENT, { note: 'fine' })
    expect(after.escalations).toEqual([id])
    const history = await reads().history(appId)
    const filed = history.filter((e) => e.type === 'escalation_filed')
    expect(filed).toHaveLength(1)
    expect(filed[0]).toMatchObject({ data: { escalationId: id }, actor: WINDOW })
    expect((await reads().find(appId))?.escalations).toEqual([id])
  })

  it('rule 21: an application whose workflow has ended gets escalation_filed on its read side, once, the hash chain continued', async () => {
    const appId = uniqueName('A-ended-')
    await startCase(ts, newApplication(appId))
    await act(ts, appId, 'reject', WINDOW, { reason: 'not competent' })
    const rated = await act(ts, appId, 'rate', WINDOW, { score: 4 })
    expect(rated.escalationEligible).toBe(true)
    await ts.env.client.workflow.getHandle(appId).result()
    const before = await reads().history(appId)

    const id = uniqueName('E-ended-')
    await fileEscalation(newEscalation(id, { filing: { ...newEscalation(id).filing, category: 'other', relatedCaseId: appId } }))
    await expect.poll(async () => (await reads().history(appId)).length, { timeout: 20_000, interval: 200 }).toBe(before.length + 1)
    const history = await reads().history(appId)
    const last = history.at(-1)!
    expect(last).toMatchObject({ seq: before.length + 1, type: 'escalation_filed', data: { escalationId: id }, actor: WINDOW,
      prevHash: before.at(-1)!.hash })
    const stored = (await reads().find(appId))!
    expect(stored).toMatchObject({ status: 'rejected', version: before.length + 1, escalations: [id], escalationEligible: true })
    // A retry of the activity finds it there.
    const { recordEscalationOnEndedCase } = createProjectionActivities({ database: ts.db.database })
    expect(await recordEscalationOnEndedCase({ caseId: appId, escalationId: id, actor: WINDOW, at: last.at })).toBe('already')
    expect(await recordEscalationOnEndedCase({ caseId: 'A-nowhere', escalationId: id, actor: WINDOW, at: last.at })).toBe('no_case')
    expect((await reads().history(appId)).length).toBe(before.length + 1)
    // The audit knows the read side is ahead of the ended workflow by that event alone.
    const audit = await checkReadSide({ database: ts.db.database, client: ts.env.client, caseId: appId, settleMs: 0 })
    expect(audit).toEqual({ cases: 1, lagging: [], unverified: [] })
    // The escalation itself carries on.
    expect((await act(ts, id, 'accept', WINDOW)).status).toBe('accepted')
  })

  it('rules 22 and 32: an escalation that nobody answers, climbing three levels', async () => {
    const id = uniqueName('E-climb-')
    const limits = { ...escalationLimits(), supervisionRespond: { duration: 'PT4H' } }
    await fileEscalation(newEscalation(id, { limits }))
    await act(ts, id, 'accept', WINDOW)
    const assigned = await act(ts, id, 'assign', WINDOW, { toOrganizationId: 'gz-th-sd-office', within: { duration: 'PT2H' } })
    await sleepUntil(ts, deadline(assigned, 'handle:1').dueAt, SECOND)
    const first = await view(ts, id)
    expect(first.supervisions).toEqual([expect.objectContaining({
      id: 'S1', kind: 'automatic', level: 1, organizationId: 'gz-th-sd-office', supervisorOrganizationId: 'gz-th-sd', deadlineKey: 'handle:1',
    })])
    await sleepUntil(ts, first.supervisions![0]!.dueAt!, SECOND)
    const second = await view(ts, id)
    await sleepUntil(ts, second.supervisions![1]!.dueAt!, SECOND)
    const third = await view(ts, id)
    expect(third.supervisions?.map((s) => [s.id, s.level, s.organizationId, s.supervisorOrganizationId])).toEqual([
      ['S1', 1, 'gz-th-sd-office', 'gz-th-sd'], ['S2', 2, 'gz-th-sd', 'gz-th'], ['S3', 3, 'gz-th', 'gz'],
    ])
    expect(deadline(third, 'supervision:S3')).toMatchObject({ state: 'running', organizationId: 'gz-th' })
    expect((await eventTypes(ts, id)).filter((t) => t === 'supervision_opened')).toHaveLength(3)
    // Answered late, the office still responds to the escalation itself; the district answers its own record.
    await act(ts, id, 'respond_supervision', { organizationId: 'gz-th', role: 'supervisor' }, { note: 'chasing the sub-district' })
    expect((await act(ts, id, 'respond', { organizationId: 'gz-th-sd-office', role: 'department' }, { resolution: 'done', resolved: true })).status)
      .toBe('responded')
  })
})
