import { describe, expect, it } from 'vitest'
import { COMPLAINT_ACTIONS } from '../../src/domain/complaint/actions.ts'
import { ComplaintCase, complaintParticipants, isOpenComplaint } from '../../src/domain/complaint/complaint-case.ts'
import {
  COMPLAINT_CHANNELS, COMPLAINT_STATUSES, COMPLAINT_TYPES, type ComplaintFiling, complaintLimits, dispatchOfKey, handleKey,
  OPEN_STATUSES, replyKey, signKey,
} from '../../src/domain/complaint/terms.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { kindDefinition } from '../../src/domain/kinds.ts'
import { DEFAULT_LIMIT_SETTINGS, type LimitSettings } from '../../src/domain/limit-settings.ts'
import type { Actor } from '../../src/domain/roles.ts'
import { calendarWith } from '../support/time-skipping.ts'
import { refusalOf } from '../support/tiny-case.ts'
import { ADMIN, AMR, AUDITOR, CITY_SUPERVISOR, endOfDay, eventTypesOf, HR, MON, TUE, WED } from '../support/unit-fixtures.ts'

// The 12345 work order (src/domain/complaint): DOMAIN rules 26–28 and API.md "Complaints".
// March 2026 has no holiday: working days are Monday to Friday.

const RECEIVED_AT = MON
const LATER = '2026-03-02T03:00:00.000Z'

const HOTLINE: Actor = { organizationId: 'gz-12345', role: 'hotline' }
const OWNER_WINDOW: Actor = { organizationId: 'gz-12345', role: 'window' }
const OTHER_HOTLINE: Actor = { organizationId: 'th-12345', role: 'hotline' }
const OTHER_WINDOW: Actor = { organizationId: 'gz-center', role: 'window' }

const FILING: ComplaintFiling = {
  type: 'complaint', channel: 'phone', content: '小区路灯坏了一个月无人修理',
  citizen: { name: '王五', phone: '13800138000', idNumber: '440106199001011234' },
}

function receive(filing: ComplaintFiling = FILING, options: { actor?: Actor; settings?: LimitSettings } = {}) {
  return ComplaintCase.receive({
    id: 'C20260302-TEST000001', filing, actor: options.actor ?? HOTLINE, limits: complaintLimits(filing, options.settings),
    calendar: calendarWith(), at: RECEIVED_AT,
  })
}

const received = (filing?: ComplaintFiling) => receive(filing).complaint
const act = (kase: ComplaintCase, action: string, actor: Actor, params: Record<string, unknown> = {}, at = LATER) =>
  kase.apply({ action, actor, params }, at)
const refused = (kase: ComplaintCase, action: string, actor: Actor, params: Record<string, unknown> = {}) => {
  const checked = refusalOf(() => kase.check({ action, actor, params }))
  const before = JSON.stringify(kase.state)
  // apply refuses as check does, and changes nothing.
  expect(refusalOf(() => kase.apply({ action, actor, params }, LATER))).toEqual(checked)
  expect(JSON.stringify(kase.state)).toBe(before)
  return checked
}
const deadline = (kase: ComplaintCase | CaseView, key: string) => {
  const view = kase instanceof ComplaintCase ? kase.view(LATER) : kase
  const found = view.deadlines.find((d) => d.key === key)
  if (!found) throw new Error(`no deadline ${key} in ${JSON.stringify(view.deadlines.map((d) => d.key))}`)
  return found
}
const keys = (kase: ComplaintCase) => kase.view(LATER).deadlines.map((d) => [d.key, d.state])

/** A work order dispatched to the market regulator. */
function dispatched(within?: Record<string, unknown>) {
  const kase = received()
  act(kase, 'dispatch', HOTLINE, { toOrganizationId: AMR.organizationId, ...(within ? { within } : {}) })
  return kase
}
/** Answered by the market regulator. */
function responded() {
  const kase = dispatched()
  act(kase, 'respond', AMR, { answer: '已修复' })
  return kase
}
/** Answered and replied to. */
function replied(byOwner = false) {
  const kase = byOwner ? received() : dispatched()
  act(kase, 'respond', byOwner ? HOTLINE : AMR, { answer: '已修复' })
  act(kase, 'reply', HOTLINE, { message: '已告知市民' })
  return kase
}
/** A case in each status, fresh. */
const IN_STATUS: Record<string, () => ComplaintCase> = {
  received,
  dispatched: () => dispatched(),
  responded,
  replied: () => replied(),
  closed: () => {
    const kase = replied()
    act(kase, 'close', HOTLINE, { note: '市民电话无人接听' })
    return kase
  },
}

/** Statuses in which `action` by `actor` with `params` gets past the status check, for a fresh case in each. */
function statusesAllowing(action: string, actor: Actor, params: Record<string, unknown>) {
  return COMPLAINT_STATUSES.filter((status) => refusalOf(() => IN_STATUS[status]!().check({ action, actor, params }))?.code !== 'invalid_transition')
}

describe('rule 26: receiving a work order', () => {
  it('starts it received, owned and handled by the receiving organisation, with the citizen\'s matter in its view', () => {
    const { complaint, recorded } = receive()
    const view = complaint.view(RECEIVED_AT)
    expect(view).toMatchObject({
      id: 'C20260302-TEST000001', kind: 'complaint', status: 'received', version: 1, channel: 'phone',
      priority: { greenChannel: false, urgent: false }, receivedBy: 'gz-12345', ownerOrganizationId: 'gz-12345',
      handlingOrganizationId: 'gz-12345', type: 'complaint', citizen: FILING.citizen, content: FILING.content, urgent: false,
      dispatches: [], callbacks: [], flags: [], overdue: false, warned: false, supervisions: [],
      createdAt: RECEIVED_AT, updatedAt: RECEIVED_AT,
    })
    for (const absent of ['answer', 'reply', 'closure', 'applicant', 'serviceItemCode']) expect(view).not.toHaveProperty(absent)
    expect(complaint.isOpen).toBe(true)
    expect(eventTypesOf(recorded)).toEqual(['received'])
    expect(recorded[0]!.event).toMatchObject({ seq: 1, at: RECEIVED_AT, actor: HOTLINE })
    expect(recorded[0]!.view).toEqual(view)
  })

  it('records in its first event which limits it got, and keeps the supervision limit for levelled supervision', () => {
    const { complaint, recorded } = receive()
    expect(recorded[0]!.event.data).toEqual({
      type: 'complaint', channel: 'phone', urgent: false,
      limits: { reply: { workingDays: 15 }, sign: { workingDays: 1 }, supervisionRespond: { workingDays: 3 } },
    })
    expect(complaint.state.supervision).toEqual({ respondWithin: { workingDays: 3 }, parents: {} })
  })

  it('starts one reply deadline from receipt, owed by the owner: 15 working days for a complaint', () => {
    const kase = received()
    expect(kase.view(LATER).deadlines).toEqual([expect.objectContaining({
      kind: 'reply', key: 'reply', state: 'running', dueAt: endOfDay('2026-03-23'), startedAt: RECEIVED_AT, organizationId: 'gz-12345',
    })])
    expect(kase.nextWakeMs()).toBeDefined()
  })

  it('gives each type the limit of its own setting: consultation 2, help and suggestion 10, complaint and report 15 working days', () => {
    const due = Object.fromEntries(COMPLAINT_TYPES.map((type) => [type, deadline(received({ ...FILING, type }), 'reply').dueAt]))
    expect(due).toEqual({
      consultation: endOfDay('2026-03-04'), help: endOfDay('2026-03-16'), suggestion: endOfDay('2026-03-16'),
      complaint: endOfDay('2026-03-23'), report: endOfDay('2026-03-23'),
    })
  })

  it('takes the limits from the settings it is given, not the defaults', () => {
    const settings: LimitSettings = {
      ...DEFAULT_LIMIT_SETTINGS, 'complaint.consultation': { workingDays: 1 }, 'complaint.help': { duration: 'PT3H' },
      'complaint.suggestion': { workingDays: 4 }, 'complaint.complaint': { workingDays: 5 }, 'complaint.report': { workingDays: 6 },
      'complaint.urgent': { duration: 'PT2H' }, 'complaint.sign': { duration: 'PT30M' }, 'supervision.respond': { workingDays: 7 },
    }
    const replies = COMPLAINT_TYPES.map((type) => complaintLimits({ type }, settings).reply)
    expect(replies).toEqual([{ workingDays: 1 }, { duration: 'PT3H' }, { workingDays: 4 }, { workingDays: 5 }, { workingDays: 6 }])
    expect(complaintLimits({ type: 'help', urgent: true }, settings)).toEqual({
      reply: { duration: 'PT2H' }, sign: { duration: 'PT30M' }, supervisionRespond: { workingDays: 7 },
    })
    expect(complaintLimits({ type: 'help', urgent: false }, settings).reply).toEqual({ duration: 'PT3H' })
    const { complaint } = receive({ ...FILING, type: 'help' }, { settings })
    expect(deadline(complaint, 'reply').dueAt).toBe('2026-03-02T05:00:00.000Z')
    expect(complaintLimits({ type: 'report' })).toEqual({
      reply: { workingDays: 15 }, sign: { workingDays: 1 }, supervisionRespond: { workingDays: 3 },
    })
  })

  it('rule 14: an urgent order is replied to within complaint.urgent (24 hours), and is urgent in the queue', () => {
    const kase = received({ ...FILING, type: 'consultation', urgent: true })
    expect(deadline(kase, 'reply').dueAt).toBe('2026-03-03T02:00:00.000Z')
    const view = kase.view(LATER)
    expect(view.priority).toEqual({ greenChannel: false, urgent: true })
    expect(view.urgent).toBe(true)
    expect(receive({ ...FILING, urgent: true }).recorded[0]!.event.data).toMatchObject({ urgent: true, limits: { reply: { duration: 'PT24H' } } })
  })

  it('is received by a window the same way: its organisation owns it', () => {
    const { complaint } = receive({ ...FILING, channel: 'window' }, { actor: OTHER_WINDOW })
    expect(complaint.view(LATER)).toMatchObject({ channel: 'window', ownerOrganizationId: 'gz-center', receivedBy: 'gz-center', handlingOrganizationId: 'gz-center' })
  })

  it('refuses a filing its schema does not admit, text that cannot be stored, or a limit that does not parse', () => {
    const attempt = (filing: unknown, limits: unknown = complaintLimits(FILING)) => refusalOf(() => ComplaintCase.receive({
      id: 'C-x', filing: filing as ComplaintFiling, actor: HOTLINE, limits: limits as ReturnType<typeof complaintLimits>,
      calendar: calendarWith(), at: RECEIVED_AT,
    }))
    expect(attempt({ ...FILING, type: 'praise' })).toMatchObject({ code: 'validation_failed', paths: ['/type'] })
    expect(attempt({ ...FILING, content: '   ' })).toMatchObject({ code: 'validation_failed', paths: ['/content'] })
    expect(attempt({ ...FILING, citizen: { phone: '1' } })).toMatchObject({ code: 'validation_failed', paths: ['/citizen'] })
    expect(attempt({ ...FILING, extra: 1 })?.code).toBe('validation_failed')
    expect(attempt({ ...FILING, content: 'a\u0000b' })).toMatchObject({
      code: 'validation_failed', paths: ['/filing/content'], message: 'the work order: /filing/content must not contain U+0000 or an unpaired UTF-16 surrogate',
    })
    expect(attempt({ ...FILING, citizen: { name: '\ud800' } })).toMatchObject({ code: 'validation_failed', paths: ['/filing/citizen/name'] })
    expect(attempt(FILING, { ...complaintLimits(FILING), reply: { duration: 'P1M' } })?.code).toBe('validation_failed')
    expect(attempt(FILING, { ...complaintLimits(FILING), sign: { workingDays: -1 } })?.code).toBe('validation_failed')
    expect(attempt({ ...FILING, channel: 'fax' })?.message).toMatch(/^parameters of the work order are not valid: \/channel /)
    expect(attempt(FILING)).toBeUndefined()
    for (const channel of COMPLAINT_CHANNELS) expect(attempt({ ...FILING, channel })).toBeUndefined()
    // Only the name is required of the citizen.
    expect(attempt({ ...FILING, citizen: { name: '匿名' }, urgent: false })).toBeUndefined()
  })

  it('refuses unknown fields of a filing in one problem, as the action parser does', () => {
    const refusal = refusalOf(() => ComplaintCase.checkReceipt({ filing: { ...FILING, a: 1, b: 2 } as never, actor: HOTLINE, limits: complaintLimits(FILING) }))
    expect(refusal).toMatchObject({ code: 'validation_failed', paths: [''] })
    expect(refusal?.message).not.toContain('schema is false')
  })
})

describe('rule 27: first-responder ownership', () => {
  it('only the owner dispatches, replies, calls back and closes: another hotline or window is forbidden', () => {
    const cases: Array<[string, () => ComplaintCase, Record<string, unknown>, string]> = [
      ['dispatch', received, { toOrganizationId: 'gz-amr' }, 'dispatch'],
      ['reply', responded, { message: 'm' }, 'reply to'],
      ['callback', () => replied(), { satisfied: true }, 'call back on'],
      ['close', () => replied(), { note: 'n' }, 'close'],
      ['respond', received, { answer: 'a' }, 'respond to'],
    ]
    for (const [action, make, params, what] of cases) {
      for (const stranger of [OTHER_HOTLINE, OTHER_WINDOW]) {
        expect(refused(make(), action, stranger, params), `${action} by ${stranger.organizationId}`).toEqual({
          code: 'forbidden', message: `only gz-12345, which received this work order, may ${what} it`, paths: [],
        })
      }
      // Its hotline and its window are the owner alike.
      for (const owner of [HOTLINE, OWNER_WINDOW]) expect(refusalOf(() => make().check({ action, actor: owner, params }))).toBeUndefined()
    }
  })

  it('no other role takes the owner\'s steps, even of the owner organisation', () => {
    const steps: Array<[string, () => ComplaintCase, Record<string, unknown>]> = [
      ['dispatch', received, { toOrganizationId: 'gz-amr' }], ['reply', responded, { message: 'm' }],
      ['callback', () => replied(), { satisfied: true }], ['close', () => replied(), { note: 'n' }],
    ]
    for (const [action, make, params] of steps) {
      for (const role of ['department', 'supervisor', 'auditor', 'admin'] as const) {
        expect(refused(make(), action, { organizationId: 'gz-12345', role }, params)).toEqual({
          code: 'forbidden', message: `role ${role} may not ${action}`, paths: [],
        })
      }
    }
  })

  it('the owner never changes through dispatch, return, re-dispatch, reopening and closure', () => {
    const kase = received()
    const owners = () => [kase.state.ownerOrganizationId, kase.view(LATER).ownerOrganizationId, kase.state.receivedBy]
    const steps: Array<[string, Actor, Record<string, unknown>]> = [
      ['dispatch', HOTLINE, { toOrganizationId: 'gz-amr' }], ['return', AMR, { reason: '非本单位职责' }],
      ['dispatch', OWNER_WINDOW, { toOrganizationId: 'gz-hr' }], ['dispatch', HOTLINE, { toOrganizationId: 'gz-amr' }],
      ['sign', AMR, {}], ['respond', AMR, { answer: 'a' }], ['reply', HOTLINE, { message: 'm' }],
      ['callback', HOTLINE, { satisfied: false }], ['respond', AMR, { answer: 'b' }], ['reply', HOTLINE, { message: 'm2' }],
      ['callback', OWNER_WINDOW, { satisfied: true }],
    ]
    for (const [action, actor, params] of steps) {
      const recorded = act(kase, action, actor, params)
      for (const r of recorded) expect(r.view.ownerOrganizationId).toBe('gz-12345')
      expect(owners()).toEqual(['gz-12345', 'gz-12345', 'gz-12345'])
    }
    expect(kase.state.status).toBe('closed')
  })
})

describe('dispatch', () => {
  it('is allowed received or dispatched, nowhere else', () => {
    expect(statusesAllowing('dispatch', HOTLINE, { toOrganizationId: 'gz-tax' })).toEqual(['received', 'dispatched'])
  })

  it('hands the order to the unit, which must sign for it within complaint.sign (1 working day)', () => {
    const kase = received()
    const recorded = act(kase, 'dispatch', HOTLINE, { toOrganizationId: 'gz-amr' })
    expect(eventTypesOf(recorded)).toEqual(['dispatched'])
    expect(recorded[0]!.event.data).toEqual({ toOrganizationId: 'gz-amr', dispatch: 1 })
    const view = kase.view(LATER)
    expect(view).toMatchObject({ status: 'dispatched', handlingOrganizationId: 'gz-amr', dispatches: [{ organizationId: 'gz-amr', at: LATER }] })
    expect(deadline(view, 'sign:1')).toMatchObject({ kind: 'sign', state: 'running', dueAt: endOfDay('2026-03-03'), organizationId: 'gz-amr' })
    expect(deadline(view, 'reply')).toMatchObject({ state: 'running', organizationId: 'gz-12345' })
    expect(keys(kase)).toEqual([['reply', 'running'], ['sign:1', 'running']])
  })

  it('starts a handle deadline owed by the unit when given `within`, and none without', () => {
    const kase = dispatched({ duration: 'PT48H' })
    expect(deadline(kase, 'handle:1')).toMatchObject({ kind: 'handle', state: 'running', dueAt: '2026-03-04T03:00:00.000Z', organizationId: 'gz-amr' })
    expect(kase.view(LATER).deadlines.filter((d) => d.kind === 'handle')).toHaveLength(1)
    expect(dispatched().view(LATER).deadlines.some((d) => d.kind === 'handle')).toBe(false)
    const recorded = act(received(), 'dispatch', HOTLINE, { toOrganizationId: 'gz-amr', within: { workingDays: 3 } })
    expect(recorded[0]!.event.data).toEqual({ toOrganizationId: 'gz-amr', dispatch: 1, within: { workingDays: 3 } })
    expect(recorded[0]!.view.deadlines.map((d) => d.key)).toEqual(['reply', 'sign:1', 'handle:1'])
  })

  it('again to another unit takes it from the first: its sign and handle clocks are cancelled, the new unit gets its own', () => {
    const kase = dispatched({ workingDays: 5 })
    act(kase, 'dispatch', HOTLINE, { toOrganizationId: 'gz-hr', within: { workingDays: 2 } }, TUE)
    const view = kase.view(TUE)
    expect(view.handlingOrganizationId).toBe('gz-hr')
    expect(view.dispatches).toEqual([{ organizationId: 'gz-amr', at: LATER }, { organizationId: 'gz-hr', at: TUE }])
    expect(keys(kase)).toEqual([['reply', 'running'], ['sign:1', 'cancelled'], ['handle:1', 'cancelled'], ['sign:2', 'running'], ['handle:2', 'running']])
    // Each deadline stays owed by the unit it was set for.
    expect(deadline(view, 'sign:1').organizationId).toBe('gz-amr')
    expect(deadline(view, 'sign:2')).toMatchObject({ organizationId: 'gz-hr', dueAt: endOfDay('2026-03-04') })
    expect(deadline(view, 'handle:2')).toMatchObject({ organizationId: 'gz-hr', dueAt: endOfDay('2026-03-05') })
    // The first unit no longer handles it.
    expect(refused(kase, 'sign', AMR)?.code).toBe('forbidden')
  })

  it('keeps a signed-for dispatch\'s met sign deadline as met when re-dispatched', () => {
    const kase = dispatched()
    act(kase, 'sign', AMR)
    act(kase, 'dispatch', HOTLINE, { toOrganizationId: 'gz-hr' })
    expect(keys(kase)).toEqual([['reply', 'running'], ['sign:1', 'met'], ['sign:2', 'running']])
  })

  it('refuses the unit that has it already (conflict), and the owner itself (unprocessable)', () => {
    expect(refused(dispatched(), 'dispatch', HOTLINE, { toOrganizationId: 'gz-amr' })).toEqual({
      code: 'conflict', message: 'the work order is already dispatched to gz-amr', paths: [],
    })
    expect(refused(received(), 'dispatch', HOTLINE, { toOrganizationId: 'gz-12345' })).toEqual({
      code: 'unprocessable', message: 'the owner does not dispatch a work order to itself; it may respond to it directly', paths: [],
    })
    expect(refused(dispatched(), 'dispatch', HOTLINE, { toOrganizationId: 'gz-12345' })?.code).toBe('unprocessable')
    // A unit that returned it may be sent it again: it is no longer dispatched to it.
    const back = dispatched()
    act(back, 'return', AMR, { reason: 'r' })
    expect(refusalOf(() => back.check({ action: 'dispatch', actor: HOTLINE, params: { toOrganizationId: 'gz-amr' } }))).toBeUndefined()
  })

  it('parses its parameters: a target is required, a limit must parse', () => {
    expect(refused(received(), 'dispatch', HOTLINE, {})).toMatchObject({ code: 'validation_failed', paths: ['/params'] })
    expect(refused(received(), 'dispatch', HOTLINE, { toOrganizationId: 'gz-amr', within: { duration: 'P1Y' } }))
      .toMatchObject({ code: 'validation_failed', paths: ['/params/within/duration'] })
  })
})

describe('rule 28: sign and return by the unit dispatched to', () => {
  it('sign is taken only while dispatched', () => {
    expect(statusesAllowing('sign', AMR, {})).toEqual(['dispatched'])
  })

  it('sign by the handling department meets the sign deadline and records when', () => {
    const kase = dispatched()
    const recorded = act(kase, 'sign', AMR, {}, TUE)
    expect(eventTypesOf(recorded)).toEqual(['signed'])
    expect(recorded[0]!.event.data).toEqual({ dispatch: 1 })
    expect(kase.state.dispatches).toEqual([{ organizationId: 'gz-amr', at: LATER, signedAt: TUE }])
    expect(deadline(kase, 'sign:1')).toMatchObject({ state: 'met', settledAt: TUE })
    expect(kase.state.status).toBe('dispatched')
  })

  it('sign once: a second is refused', () => {
    const kase = dispatched()
    act(kase, 'sign', AMR)
    expect(refused(kase, 'sign', AMR)).toEqual({ code: 'invalid_transition', message: 'the work order has been signed for already', paths: [] })
  })

  it('sign and return only by the department handling it; no other role', () => {
    for (const [action, params] of [['sign', {}], ['return', { reason: 'r' }]] as const) {
      expect(refused(dispatched(), action, HR, params)).toEqual({ code: 'forbidden', message: 'organisation gz-hr does not handle this case', paths: [] })
      for (const actor of [HOTLINE, OWNER_WINDOW, CITY_SUPERVISOR, AUDITOR, ADMIN]) expect(refused(dispatched(), action, actor, params)?.code).toBe('forbidden')
      expect(refusalOf(() => dispatched().check({ action, actor: AMR, params }))).toBeUndefined()
    }
  })

  it('return is taken only while dispatched, with a written reason', () => {
    expect(statusesAllowing('return', AMR, { reason: 'r' })).toEqual(['dispatched'])
    expect(refused(dispatched(), 'return', AMR, { reason: ' ' })).toMatchObject({ code: 'validation_failed', paths: ['/params/reason'] })
    expect(refused(dispatched(), 'return', AMR, {})?.code).toBe('validation_failed')
  })

  it('return (退单) sends the order back to the owner and cancels the unit\'s clocks', () => {
    const kase = dispatched({ workingDays: 3 })
    const recorded = act(kase, 'return', AMR, { reason: '非本单位职责' }, TUE)
    expect(eventTypesOf(recorded)).toEqual(['returned'])
    expect(recorded[0]!.event.data).toEqual({ dispatch: 1, reason: '非本单位职责' })
    expect(kase.view(TUE)).toMatchObject({
      status: 'received', handlingOrganizationId: 'gz-12345',
      dispatches: [{ organizationId: 'gz-amr', at: LATER, returnedAt: TUE, returnReason: '非本单位职责' }],
    })
    expect(keys(kase)).toEqual([['reply', 'running'], ['sign:1', 'cancelled'], ['handle:1', 'cancelled']])
    expect(refused(kase, 'sign', AMR)?.code).toBe('invalid_transition')
  })

  it('a return after signing keeps the sign deadline met', () => {
    const kase = dispatched()
    act(kase, 'sign', AMR)
    act(kase, 'return', AMR, { reason: 'r' })
    expect(deadline(kase, 'sign:1').state).toBe('met')
  })
})

describe('respond', () => {
  it('by the department handling it while dispatched: the answer is recorded, its sign and handle clocks met', () => {
    const kase = dispatched({ workingDays: 3 })
    const recorded = act(kase, 'respond', AMR, { answer: '已安排维修' }, TUE)
    expect(eventTypesOf(recorded)).toEqual(['responded'])
    expect(recorded[0]!.event.data).toEqual({ answer: '已安排维修' })
    expect(kase.view(TUE)).toMatchObject({ status: 'responded', handlingOrganizationId: 'gz-amr', answer: { text: '已安排维修', by: 'gz-amr', at: TUE } })
    expect(keys(kase)).toEqual([['reply', 'running'], ['sign:1', 'met'], ['handle:1', 'met']])
  })

  it('by the owner when not dispatched (received, or returned to it)', () => {
    const kase = received()
    act(kase, 'respond', OWNER_WINDOW, { answer: '政策解答' })
    expect(kase.view(LATER)).toMatchObject({ status: 'responded', answer: { text: '政策解答', by: 'gz-12345', at: LATER } })
    const returned = dispatched()
    act(returned, 'return', AMR, { reason: 'r' })
    act(returned, 'respond', HOTLINE, { answer: '直接答复' })
    expect(returned.state.status).toBe('responded')
    expect(keys(returned)).toEqual([['reply', 'running'], ['sign:1', 'cancelled']])
  })

  it('not by the owner while dispatched: the unit responds', () => {
    expect(refused(dispatched(), 'respond', HOTLINE, { answer: 'a' })).toEqual({
      code: 'invalid_transition', message: 'the work order is dispatched to gz-amr, which responds', paths: [],
    })
  })

  it('not by a department the order is not dispatched to, nor by a supervisor', () => {
    expect(refused(received(), 'respond', AMR, { answer: 'a' })?.code).toBe('forbidden')
    expect(refused(dispatched(), 'respond', HR, { answer: 'a' })?.code).toBe('forbidden')
    for (const actor of [CITY_SUPERVISOR, AUDITOR, ADMIN]) expect(refused(dispatched(), 'respond', actor, { answer: 'a' })?.code).toBe('forbidden')
  })

  it('only received or dispatched, with a written answer', () => {
    // The owner may not while dispatched (above); the department's refusal when received is forbidden, not the status.
    expect(statusesAllowing('respond', HOTLINE, { answer: 'a' })).toEqual(['received'])
    expect(statusesAllowing('respond', AMR, { answer: 'a' })).toEqual(['received', 'dispatched'])
    expect(refused(dispatched(), 'respond', AMR, { answer: '' })).toMatchObject({ code: 'validation_failed', paths: ['/params/answer'] })
  })
})

describe('reply, callback and close: the closed loop (rule 28)', () => {
  it('reply is taken only responded, and meets the reply deadline', () => {
    expect(statusesAllowing('reply', HOTLINE, { message: 'm' })).toEqual(['responded'])
    const kase = responded()
    const recorded = act(kase, 'reply', HOTLINE, { message: '已告知处理结果' }, TUE)
    expect(eventTypesOf(recorded)).toEqual(['replied'])
    expect(recorded[0]!.event.data).toEqual({ message: '已告知处理结果' })
    expect(kase.view(TUE)).toMatchObject({ status: 'replied', reply: { message: '已告知处理结果', at: TUE } })
    expect(deadline(kase, 'reply')).toMatchObject({ state: 'met', settledAt: TUE })
    expect(kase.isOpen).toBe(true)
  })

  it('callback and close are taken only replied', () => {
    expect(statusesAllowing('callback', HOTLINE, { satisfied: true })).toEqual(['replied'])
    expect(statusesAllowing('close', HOTLINE, { note: 'n' })).toEqual(['replied'])
  })

  it('a satisfied callback closes the order', () => {
    const kase = replied()
    const recorded = act(kase, 'callback', HOTLINE, { satisfied: true, note: '满意' }, WED)
    expect(eventTypesOf(recorded)).toEqual(['called_back', 'closed'])
    expect(recorded.map((r) => r.event.data)).toEqual([{ satisfied: true, note: '满意' }, { via: 'callback' }])
    expect(kase.view(WED)).toMatchObject({
      status: 'closed', callbacks: [{ satisfied: true, note: '满意', at: WED }],
      closure: { via: 'callback', by: 'gz-12345', at: WED, note: '满意' },
    })
    expect(kase.isOpen).toBe(false)
    expect(kase.nextWakeMs()).toBeUndefined()
  })

  it('a callback without a note records none', () => {
    const kase = replied()
    const recorded = act(kase, 'callback', HOTLINE, { satisfied: true })
    expect(recorded[0]!.event.data).toEqual({ satisfied: true })
    expect(kase.state.callbacks).toEqual([{ satisfied: true, at: LATER }])
    expect(kase.state.closure).toEqual({ via: 'callback', by: 'gz-12345', at: LATER })
  })

  it('closing ends every clock still running (a supervision order\'s)', () => {
    const kase = replied()
    act(kase, 'supervise', CITY_SUPERVISOR, { note: '请跟进', respondWithin: { workingDays: 2 } })
    act(kase, 'callback', HOTLINE, { satisfied: true })
    expect(deadline(kase, 'supervision:S1').state).toBe('cancelled')
    const closedByNote = replied()
    act(closedByNote, 'supervise', CITY_SUPERVISOR, { note: '请跟进', respondWithin: { workingDays: 2 } })
    act(closedByNote, 'close', HOTLINE, { note: 'n' })
    expect(deadline(closedByNote, 'supervision:S1').state).toBe('cancelled')
  })

  it('close without a call-back (citizen unreachable) needs a note', () => {
    const kase = replied()
    const recorded = act(kase, 'close', OWNER_WINDOW, { note: '三次致电未接通' }, WED)
    expect(eventTypesOf(recorded)).toEqual(['closed'])
    expect(recorded[0]!.event.data).toEqual({ via: 'close', note: '三次致电未接通' })
    expect(kase.view(WED)).toMatchObject({ status: 'closed', callbacks: [], closure: { via: 'close', by: 'gz-12345', at: WED, note: '三次致电未接通' } })
    expect(kase.isOpen).toBe(false)
    expect(refused(replied(), 'close', HOTLINE, {})?.code).toBe('validation_failed')
  })

  it('a dissatisfied callback reopens the order: dispatched again to the last handler, flagged, with a new reply deadline beside the met one', () => {
    const kase = replied()
    const recorded = act(kase, 'callback', HOTLINE, { satisfied: false, note: '灯还是不亮' }, WED)
    expect(eventTypesOf(recorded)).toEqual(['called_back', 'reopened'])
    expect(recorded[1]!.event.data).toEqual({ round: 2, replyKey: 'reply:2', toOrganizationId: 'gz-amr', dispatch: 2 })
    const view = kase.view(WED)
    expect(view).toMatchObject({
      status: 'dispatched', handlingOrganizationId: 'gz-amr', ownerOrganizationId: 'gz-12345', flags: ['reopened'],
      callbacks: [{ satisfied: false, note: '灯还是不亮', at: WED }],
      dispatches: [{ organizationId: 'gz-amr', at: LATER }, { organizationId: 'gz-amr', at: WED }],
    })
    expect(view).not.toHaveProperty('closure')
    expect(keys(kase)).toEqual([['reply', 'met'], ['sign:1', 'met'], ['reply:2', 'running'], ['sign:2', 'running']])
    expect(deadline(view, 'reply:2')).toMatchObject({ kind: 'reply', startedAt: WED, dueAt: endOfDay('2026-03-25'), organizationId: 'gz-12345' })
    expect(deadline(view, 'sign:2')).toMatchObject({ startedAt: WED, dueAt: endOfDay('2026-03-05'), organizationId: 'gz-amr' })
    expect(kase.isOpen).toBe(true)
    // The loop runs again: the unit answers, the owner replies and meets the new deadline.
    act(kase, 'respond', AMR, { answer: '已更换灯具' })
    act(kase, 'reply', HOTLINE, { message: '已再次告知' })
    expect(keys(kase).filter(([key]) => String(key).startsWith('reply'))).toEqual([['reply', 'met'], ['reply:2', 'met']])
  })

  it('reopens to received when the owner answered it itself, with no sign deadline', () => {
    const kase = replied(true)
    const recorded = act(kase, 'callback', OWNER_WINDOW, { satisfied: false })
    expect(eventTypesOf(recorded)).toEqual(['called_back', 'reopened'])
    expect(recorded[1]!.event.data).toEqual({ round: 2, replyKey: 'reply:2' })
    expect(kase.view(LATER)).toMatchObject({ status: 'received', handlingOrganizationId: 'gz-12345', flags: ['reopened'], dispatches: [] })
    expect(keys(kase)).toEqual([['reply', 'met'], ['reply:2', 'running']])
  })

  it('a second reopening adds a third reply deadline and flags it once', () => {
    const kase = replied()
    act(kase, 'callback', HOTLINE, { satisfied: false })
    act(kase, 'respond', AMR, { answer: 'b' })
    act(kase, 'reply', HOTLINE, { message: 'm' })
    act(kase, 'callback', HOTLINE, { satisfied: false })
    expect(kase.state.flags).toEqual(['reopened'])
    expect(kase.view(LATER).deadlines.filter((d) => d.kind === 'reply').map((d) => [d.key, d.state]))
      .toEqual([['reply', 'met'], ['reply:2', 'met'], ['reply:3', 'running']])
    expect(kase.state.callbacks.map((c) => c.satisfied)).toEqual([false, false])
    expect(kase.state.dispatches).toHaveLength(3)
  })

  it('takes satisfied as a boolean', () => {
    expect(refused(replied(), 'callback', HOTLINE, { satisfied: 'no' })).toMatchObject({ code: 'validation_failed', paths: ['/params/satisfied'] })
  })
})

describe('deadlines and who owes them (rules 28, 31, 32)', () => {
  it('a missed sign deadline marks the order overdue and opens a supervision record on the unit dispatched to', () => {
    const kase = dispatched()
    const due = deadline(kase, 'sign:1').dueAt
    expect(eventTypesOf(kase.advance(due))).toEqual(['deadline_warned', 'deadline_missed', 'supervision_opened'])
    expect(kase.state.overdue).toBe(true)
    expect(deadline(kase, 'sign:1').state).toBe('missed')
    expect(kase.state.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', organizationId: 'gz-amr', deadlineKey: 'sign:1' })])
  })

  it('a missed reply deadline is supervised on the owner, even while another unit handles the order', () => {
    const kase = dispatched()
    act(kase, 'sign', AMR)
    kase.advance(deadline(kase, 'reply').dueAt)
    expect(kase.state.supervisions).toEqual([expect.objectContaining({ organizationId: 'gz-12345', deadlineKey: 'reply' })])
  })

  it('a missed handle deadline is supervised on the unit it was dispatched to, and stays owed by it after a return', () => {
    const kase = dispatched({ duration: 'PT1H' })
    act(kase, 'sign', AMR)
    kase.advance('2026-03-02T04:00:00.000Z')
    expect(kase.state.supervisions).toEqual([expect.objectContaining({ organizationId: 'gz-amr', deadlineKey: 'handle:1' })])
    act(kase, 'return', AMR, { reason: 'r' }, '2026-03-02T05:00:00.000Z')
    expect(deadline(kase, 'handle:1')).toMatchObject({ state: 'missed', organizationId: 'gz-amr' })
    expect(deadline(kase, 'sign:1')).toMatchObject({ state: 'met', organizationId: 'gz-amr' })
  })

  it('a supervision order\'s deadline is owed by the handling organisation, as the kernel has it', () => {
    const kase = dispatched()
    act(kase, 'supervise', CITY_SUPERVISOR, { note: '督办', respondWithin: { workingDays: 1 } })
    expect(deadline(kase, 'supervision:S1').organizationId).toBe('gz-amr')
  })

  it('dispatch keys name their dispatch', () => {
    expect([signKey(1), handleKey(12), replyKey(1), replyKey(2)]).toEqual(['sign:1', 'handle:12', 'reply', 'reply:2'])
    expect([dispatchOfKey('sign:3'), dispatchOfKey('handle:12')]).toEqual([3, 12])
  })
})

describe('supervision on a work order', () => {
  it('supervise while open, respond to it while open; not once closed', () => {
    expect(statusesAllowing('supervise', CITY_SUPERVISOR, { note: 'n', respondWithin: { workingDays: 1 } })).toEqual([...OPEN_STATUSES])
    const kase = dispatched()
    act(kase, 'supervise', CITY_SUPERVISOR, { note: 'n', respondWithin: { workingDays: 1 } })
    act(kase, 'respond_supervision', AMR, { note: '已处理' })
    expect(kase.state.supervisions[0]).toMatchObject({ kind: 'order', organizationId: 'gz-amr', response: '已处理' })
    expect(COMPLAINT_ACTIONS.respond_supervision.allowedIn).toEqual(OPEN_STATUSES)
  })
})

describe('levelled supervision on a work order (API.md "What every case kind shares")', () => {
  it('a missed reply opens a level-1 record on the owner, watched by its parent, which the owner\'s hotline or window answers', () => {
    for (const answerer of [HOTLINE, OWNER_WINDOW]) {
      const kase = dispatched()
      act(kase, 'sign', AMR)
      const due = deadline(kase, 'reply').dueAt
      expect(kase.unplacedBy(Date.parse(due))).toEqual(['gz-12345'])
      kase.place({ 'gz-12345': 'gz' })
      kase.advance(due)
      expect(kase.state.supervisions).toEqual([expect.objectContaining({
        kind: 'automatic', level: 1, organizationId: 'gz-12345', supervisorOrganizationId: 'gz', deadlineKey: 'reply', respondKey: 'supervision:S1',
      })])
      expect(deadline(kase, 'supervision:S1')).toMatchObject({ state: 'running', organizationId: 'gz-12345' })
      // Not the unit handling the order, nor a hotline elsewhere: nothing awaits their answer.
      expect(refused(kase, 'respond_supervision', AMR, { note: 'n' })?.code).toBe('invalid_transition')
      expect(refused(kase, 'respond_supervision', OTHER_HOTLINE, { note: 'n' })?.code).toBe('invalid_transition')
      expect(refused(kase, 'respond_supervision', AUDITOR, { note: 'n' })?.code).toBe('forbidden')
      const recorded = act(kase, 'respond_supervision', answerer, { note: '已督促答复' }, due)
      expect(eventTypesOf(recorded)).toEqual(['supervision_responded'])
      expect(kase.state.supervisions[0]).toMatchObject({ respondedAt: due, response: '已督促答复' })
      expect(deadline(kase, 'supervision:S1').state).toBe('met')
    }
  })

  it('a missed sign opens the record on the unit dispatched to, which answers it as a department', () => {
    const kase = dispatched()
    kase.advance(deadline(kase, 'sign:1').dueAt)
    expect(kase.state.supervisions[0]).toMatchObject({ level: 1, organizationId: 'gz-amr', deadlineKey: 'sign:1' })
    expect(refused(kase, 'respond_supervision', HOTLINE, { note: 'n' })?.code).toBe('invalid_transition')
    act(kase, 'respond_supervision', AMR, { note: '已签收' })
    expect(kase.state.supervisions[0]?.respondedAt).toBe(LATER)
  })

  it('takes respond_supervision from the kernel, with the owner\'s roles added', () => {
    expect(COMPLAINT_ACTIONS.respond_supervision.roles).toEqual(['department', 'supervisor', 'hotline', 'window'])
    expect(COMPLAINT_ACTIONS.supervise.roles).toEqual(['supervisor'])
  })
})

describe('the complaint kind at the edges', () => {
  it('is registered with its actions, its meaning of open, and its participants', () => {
    const definition = kindDefinition('complaint')
    expect(definition?.kind).toBe('complaint')
    expect(definition?.actions).toBe(COMPLAINT_ACTIONS)
    expect(definition?.isOpen).toBe(isOpenComplaint)
    expect(definition?.participants).toBe(complaintParticipants)
    expect(Object.keys(COMPLAINT_ACTIONS)).toEqual(['dispatch', 'sign', 'return', 'respond', 'reply', 'callback', 'close', 'supervise', 'respond_supervision'])
  })

  it('is open in every status but closed', () => {
    expect(COMPLAINT_STATUSES.filter((status) => isOpenComplaint({ status }))).toEqual(['received', 'dispatched', 'responded', 'replied'])
    expect(OPEN_STATUSES).toEqual(COMPLAINT_STATUSES.filter((s) => s !== 'closed'))
  })

  it('rule 27: the owner and every unit ever dispatched to take part, once each, whoever handles it now', () => {
    const kase = dispatched()
    act(kase, 'return', AMR, { reason: 'r' })
    act(kase, 'dispatch', HOTLINE, { toOrganizationId: 'gz-hr' })
    act(kase, 'dispatch', HOTLINE, { toOrganizationId: 'gz-amr' })
    expect(complaintParticipants(kase.view(LATER))).toEqual(['gz-12345', 'gz-amr', 'gz-hr'])
    expect(complaintParticipants(received().view(LATER))).toEqual(['gz-12345'])
    expect(complaintParticipants({ handlingOrganizationId: 'gz-x' })).toEqual(['gz-x'])
  })

  it('records each view as a copy: later steps do not change it', () => {
    const kase = dispatched()
    const [signed] = act(kase, 'sign', AMR)
    act(kase, 'return', AMR, { reason: 'r' })
    expect(signed!.view.dispatches).toEqual([{ organizationId: 'gz-amr', at: LATER, signedAt: LATER }])
    expect(signed!.view.status).toBe('dispatched')
  })

  it('resumes from its state (continue-as-new) exactly where it was', () => {
    const kase = replied()
    const resumed = ComplaintCase.resume(JSON.parse(JSON.stringify(kase.state)), calendarWith())
    expect(resumed.view(LATER)).toEqual(kase.view(LATER))
    expect(eventTypesOf(resumed.apply({ action: 'callback', actor: HOTLINE, params: { satisfied: true } }, WED))).toEqual(['called_back', 'closed'])
  })
})
