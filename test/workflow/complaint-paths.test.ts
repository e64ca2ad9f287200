import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCaseReads } from '../../src/db/cases.ts'
import { WorkingCalendar } from '../../src/domain/calendar.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { complaintLimits, type ComplaintFiling } from '../../src/domain/complaint/terms.ts'
import { addWorkingDays } from '../../src/domain/deadline-clock.ts'
import { DEFAULT_LIMIT_SETTINGS } from '../../src/domain/limit-settings.ts'
import type { Actor } from '../../src/domain/roles.ts'
import type { NewComplaint } from '../../src/workflows/complaint/contract.ts'
import { uniqueName } from '../support/system.ts'
import {
  act, calendarWith, deadline, eventTypes, refusalType, sleepUntil, startKind, startTimeSkipping, type TimeSkipping, view, viewWhen,
} from '../support/time-skipping.ts'

// The 12345 work order's workflow on the time-skipping server: the kernel's runner with the
// complaint's rules (DOMAIN rules 26–28, 31, 32).

let ts: TimeSkipping
beforeAll(async () => {
  ts = await startTimeSkipping()
})
afterAll(async () => ts?.stop())

const SECOND = 1000
const HOUR = 3_600_000
const HOTLINE: Actor = { organizationId: 'gz-12345', role: 'hotline' }
const OWNER_WINDOW: Actor = { organizationId: 'gz-12345', role: 'window' }
const AMR: Actor = { organizationId: 'gz-amr', role: 'department' }
const HR: Actor = { organizationId: 'gz-hr', role: 'department' }

const FILING: ComplaintFiling = {
  type: 'complaint', channel: 'phone', content: '噪音扰民', citizen: { name: '赵六', phone: '13900139000' },
}

function newComplaint(caseId: string, overrides: Partial<NewComplaint> = {}): NewComplaint {
  const filing = overrides.filing ?? FILING
  return { kind: 'new', caseId, filing, actor: HOTLINE, calendar: calendarWith(), limits: complaintLimits(filing), ...overrides }
}

const startComplaint = (input: NewComplaint): Promise<CaseView> => startKind(ts, 'complaintWorkflow', input)

describe('complaint workflow paths (time-skipping)', () => {
  it('rule 27: a complaint dispatched, returned, re-dispatched and reopened, whose owner never changes', async () => {
    const id = uniqueName('C-loop-')
    const created = await startComplaint(newComplaint(id))
    const seen: CaseView[] = [created]
    const step = async (action: string, actor: Actor, params: Record<string, unknown> = {}) => {
      const after = await act(ts, id, action, actor, params)
      seen.push(after)
      return after
    }
    await step('dispatch', HOTLINE, { toOrganizationId: 'gz-amr' })
    const returned = await step('return', AMR, { reason: '不属本单位职责' })
    expect(returned).toMatchObject({ status: 'received', handlingOrganizationId: 'gz-12345' })
    await step('dispatch', OWNER_WINDOW, { toOrganizationId: 'gz-hr', within: { workingDays: 3 } })
    // Only the owner dispatches; only the unit handling it signs.
    expect(await refusalType(act(ts, id, 'sign', AMR))).toBe('forbidden')
    await step('sign', HR)
    await step('respond', HR, { answer: '已协调处理' })
    await step('reply', HOTLINE, { message: '已回复市民' })
    const reopened = await step('callback', HOTLINE, { satisfied: false, note: '问题仍在' })
    expect(reopened).toMatchObject({ status: 'dispatched', handlingOrganizationId: 'gz-hr', flags: ['reopened'] })
    expect(deadline(reopened, 'reply').state).toBe('met')
    expect(deadline(reopened, 'reply:2')).toMatchObject({ state: 'running', organizationId: 'gz-12345' })
    expect(deadline(reopened, 'sign:3')).toMatchObject({ state: 'running', organizationId: 'gz-hr' })
    await step('respond', HR, { answer: '已彻底解决' })
    await step('reply', OWNER_WINDOW, { message: '已再次回复' })
    const closed = await step('callback', HOTLINE, { satisfied: true })
    expect(closed.status).toBe('closed')
    expect(seen.map((v) => [v.ownerOrganizationId, v.receivedBy])).toEqual(seen.map(() => ['gz-12345', 'gz-12345']))
    expect(closed.dispatches?.map((d) => d.organizationId)).toEqual(['gz-amr', 'gz-hr', 'gz-hr'])
    // The workflow ends with the order; the read side has every step, in order.
    await ts.env.client.workflow.getHandle(id).result()
    // Warnings depend on the hour the test runs (run at night or at a weekend, a step's warning is
    // already due when it starts): the steps are what this test checks.
    expect((await eventTypes(ts, id)).filter((type) => type !== 'deadline_warned')).toEqual([
      'received', 'dispatched', 'returned', 'dispatched', 'signed', 'responded', 'replied', 'called_back', 'reopened',
      'responded', 'replied', 'called_back', 'closed',
    ])
    const stored = await ts.db.database.pool.query('SELECT open, organizations, flags FROM cases WHERE id = $1', [id])
    expect(stored.rows[0]).toEqual({ open: false, organizations: expect.arrayContaining(['gz-12345', 'gz-amr', 'gz-hr']), flags: ['reopened'] })
  })

  it('rule 28: a missed sign deadline makes the order overdue and opens a supervision record on the unit dispatched to', async () => {
    const id = uniqueName('C-sign-')
    await startComplaint(newComplaint(id))
    const sent = await act(ts, id, 'dispatch', HOTLINE, { toOrganizationId: 'gz-amr' })
    const due = deadline(sent, 'sign:1').dueAt
    await sleepUntil(ts, due, -SECOND)
    expect((await view(ts, id)).overdue).toBe(false)
    await sleepUntil(ts, due, SECOND)
    // The case looks up where the unit sits in the tree (an activity) before it acts on the miss.
    const late = await viewWhen(ts, id, (v) => v.overdue)
    expect(deadline(late, 'sign:1')).toMatchObject({ state: 'missed', organizationId: 'gz-amr' })
    expect(late.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', level: 1, organizationId: 'gz-amr', deadlineKey: 'sign:1' })])
    expect(await eventTypes(ts, id)).toEqual(['received', 'dispatched', 'deadline_warned', 'deadline_missed', 'supervision_opened'])
    // A late signature is still taken; the miss stays on the record.
    const signed = await act(ts, id, 'sign', AMR)
    expect(deadline(signed, 'sign:1').state).toBe('missed')
    expect(signed.dispatches?.[0]?.signedAt).toBeDefined()
  })

  it('rule 14: an urgent order must be replied to 24 hours after receipt, and is supervised on its owner when it is not', async () => {
    const id = uniqueName('C-urgent-')
    const filing = { ...FILING, type: 'help' as const, urgent: true }
    const created = await startComplaint(newComplaint(id, { filing, limits: complaintLimits(filing) }))
    expect(created.priority).toEqual({ greenChannel: false, urgent: true })
    expect(deadline(created, 'reply').dueAt).toBe(new Date(Date.parse(created.createdAt) + 24 * HOUR).toISOString())
    await act(ts, id, 'dispatch', HOTLINE, { toOrganizationId: 'gz-amr' })
    await act(ts, id, 'sign', AMR)
    await sleepUntil(ts, deadline(created, 'reply').dueAt, SECOND)
    const late = await viewWhen(ts, id, (v) => v.overdue)
    expect(deadline(late, 'reply').state).toBe('missed')
    expect(late.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', level: 1, organizationId: 'gz-12345', deadlineKey: 'reply' })])
    // The owner's hotline answers the record on its organisation.
    const answered = await act(ts, id, 'respond_supervision', HOTLINE, { note: '已催办答复' })
    expect(answered.supervisions?.[0]).toMatchObject({ response: '已催办答复' })
    expect(deadline(answered, 'supervision:S1').state).toBe('met')
  })

  it('rule 26: a type\'s limit comes from the settings carried in the start input, and the first event records it', async () => {
    const id = uniqueName('C-limit-')
    const filing = { ...FILING, type: 'consultation' as const }
    const settings = { ...DEFAULT_LIMIT_SETTINGS, 'complaint.consultation': { workingDays: 4 }, 'complaint.sign': { duration: 'PT2H' } }
    const input = newComplaint(id, { filing, limits: complaintLimits(filing, settings) })
    const created = await startComplaint(input)
    const calendar = WorkingCalendar.from(input.calendar)
    expect(deadline(created, 'reply').dueAt).toBe(addWorkingDays(calendar, created.createdAt, 4).dueAt)
    const sent = await act(ts, id, 'dispatch', HOTLINE, { toOrganizationId: 'gz-amr' })
    expect(deadline(sent, 'sign:1').dueAt).toBe(new Date(Date.parse(sent.updatedAt) + 2 * HOUR).toISOString())
    const [first] = await createCaseReads(ts.db.database.db, ts.db.database.personal).history(id)
    expect(first?.data).toMatchObject({ type: 'consultation', limits: { reply: { workingDays: 4 }, sign: { duration: 'PT2H' } } })
  })
})
