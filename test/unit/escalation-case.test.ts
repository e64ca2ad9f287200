import { describe, expect, it } from 'vitest'
import { presentCase } from '../../src/api/present.ts'
import { ApplicationCase, escalationEligible } from '../../src/domain/application/application-case.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { ESCALATION_ACTIONS } from '../../src/domain/escalation/actions.ts'
import {
  ESCALATION_STATUSES, EscalationCase, type EscalationFiling, escalationLimits, escalationParticipants, isOpenEscalation,
} from '../../src/domain/escalation/escalation-case.ts'
import { DEFAULT_LIMIT_SETTINGS } from '../../src/domain/limit-settings.ts'
import type { Actor, Role } from '../../src/domain/roles.ts'
import { calendarWith, newApplication, testGuide } from '../support/time-skipping.ts'
import { refusalOf } from '../support/tiny-case.ts'
import { ADMIN, AMR, AUDITOR, CITY_SUPERVISOR, endOfDay, eventTypesOf, HR, MON, THU, TUE, WED } from '../support/unit-fixtures.ts'

// The escalation (办不成事, DOMAIN rules 21 and 22; API.md "Escalations") as pure domain code.

const DESK: Actor = { organizationId: 'gz-center', role: 'window' }
const HOTLINE: Actor = { organizationId: 'gz-center', role: 'hotline' }
const OTHER_DESK: Actor = { organizationId: 'gz-other-center', role: 'window' }


const filing = (overrides: Partial<EscalationFiling> = {}): EscalationFiling => ({
  category: 'overdue', complainant: { name: '王五', phone: '13800000000', idNumber: '440106198805052345' },
  description: 'my licence is a week late', ...overrides,
})

function filed(overrides: { filing?: Partial<EscalationFiling>; actor?: Actor; limits?: ReturnType<typeof escalationLimits> } = {}) {
  return EscalationCase.file({
    id: 'E-1', filing: filing(overrides.filing), actor: overrides.actor ?? DESK, calendar: calendarWith(), at: MON,
    limits: overrides.limits ?? escalationLimits(),
  })
}
const command = (action: string, actor: Actor, params: Record<string, unknown> = {}) => ({ action, actor, params })
const deadline = (kase: EscalationCase, key: string, at = THU) => kase.view(at).deadlines.find((d) => d.key === key)

/** An escalation driven to `status` through its actions. */
function at(status: (typeof ESCALATION_STATUSES)[number] | 'reopened'): EscalationCase {
  const { escalation } = filed()
  const steps: Array<[string, Actor, Record<string, unknown>]> = [
    ['accept', DESK, {}], ['assign', DESK, { toOrganizationId: 'gz-amr' }], ['respond', AMR, { resolution: 'issued', resolved: true }],
    ['feedback', DESK, { message: 'issued today' }], ['close', DESK, { satisfied: false, comment: 'too late' }],
    ['reopen', DESK, { reason: 'still missing' }],
  ]
  const reached = { received: 0, accepted: 1, assigned: 2, responded: 3, feedback_given: 4, closed: 5, reopened: 6 }
  if (status === 'rejected') {
    escalation.apply(command('reject', DESK, { reason: 'not ours' }), TUE)
    return escalation
  }
  for (const [action, actor, params] of steps.slice(0, reached[status])) escalation.apply(command(action, actor, params), TUE)
  return escalation
}

/** Parameters each action takes, valid. */
const VALID: Record<string, Record<string, unknown>> = {
  accept: {}, reject: { reason: 'not ours' }, assign: { toOrganizationId: 'gz-hr' }, respond: { resolution: 'done', resolved: true },
  feedback: { message: 'told' }, close: { satisfied: true }, reopen: { reason: 'again' },
  supervise: { note: 'hurry', respondWithin: { workingDays: 1 } }, respond_supervision: { note: 'on it' },
}

describe('rule 22: filing an escalation', () => {
  it('is received by the caller\'s organisation, which owns and handles it, with the limits it got recorded', () => {
    const { escalation, recorded } = filed({ filing: { relatedCaseId: 'A-9' } })
    expect(recorded.map((r) => [r.event.seq, r.event.type, r.view.status, r.view.version])).toEqual([[1, 'received', 'received', 1]])
    expect(recorded[0]!.event.actor).toEqual(DESK)
    expect(recorded[0]!.event.data).toEqual({ category: 'overdue', relatedCaseId: 'A-9', limits: escalationLimits() })
    const view = escalation.view(MON)
    expect(view).toMatchObject({
      id: 'E-1', kind: 'escalation', status: 'received', receivedBy: 'gz-center', ownerOrganizationId: 'gz-center',
      handlingOrganizationId: 'gz-center', channel: 'window', priority: { greenChannel: false, urgent: false },
      category: 'overdue', relatedCaseId: 'A-9', complainant: filing().complainant, description: 'my licence is a week late',
      assignments: [], overdue: false, flags: [], supervisions: [],
    })
    for (const absent of ['response', 'feedback', 'closure', 'reopenedAt', 'rejection', 'applicant', 'escalations']) expect(view).not.toHaveProperty(absent)
    expect(escalation.state.supervision).toEqual({ respondWithin: DEFAULT_LIMIT_SETTINGS['supervision.respond'], parents: {} })
    expect(escalation.state.filedBy).toEqual(DESK)
  })

  it('has no relatedCaseId in its event or view when none was given; the hotline files on its own channel', () => {
    const { escalation, recorded } = filed({ actor: HOTLINE })
    expect(recorded[0]!.event.data).not.toHaveProperty('relatedCaseId')
    expect(escalation.view(MON)).not.toHaveProperty('relatedCaseId')
    expect(escalation.view(MON).channel).toBe('hotline')
  })

  it('starts accept (1 working day) and feedback (10 working days) from receipt, both owed by the owner', () => {
    const { escalation } = filed()
    expect(escalation.view(MON).deadlines.map((d) => [d.kind, d.key, d.dueAt, d.state, d.organizationId])).toEqual([
      ['accept', 'accept', endOfDay('2026-03-03'), 'running', 'gz-center'],
      ['feedback', 'feedback', endOfDay('2026-03-16'), 'running', 'gz-center'],
    ])
  })

  it('takes its limits from the settings it was given (durations too)', () => {
    const settings = { ...DEFAULT_LIMIT_SETTINGS, 'escalation.accept': { duration: 'PT2H' }, 'escalation.handle': { workingDays: 2 },
      'escalation.feedback': { duration: 'PT5S' }, 'supervision.respond': { workingDays: 7 } }
    const limits = escalationLimits(settings)
    expect(limits).toEqual({ accept: { duration: 'PT2H' }, handle: { workingDays: 2 }, feedback: { duration: 'PT5S' }, supervisionRespond: { workingDays: 7 } })
    const { escalation } = filed({ limits })
    expect(deadline(escalation, 'accept', MON)?.dueAt).toBe('2026-03-02T04:00:00.000Z')
    expect(deadline(escalation, 'feedback', MON)?.dueAt).toBe('2026-03-02T02:00:05.000Z')
    expect(escalation.state.supervision?.respondWithin).toEqual({ workingDays: 7 })
    escalation.apply(command('accept', DESK), MON)
    escalation.apply(command('assign', DESK, { toOrganizationId: 'gz-amr' }), MON)
    expect(deadline(escalation, 'handle:1', MON)?.dueAt).toBe(endOfDay('2026-03-04'))
    expect(escalationLimits()).toEqual({
      accept: { workingDays: 1 }, handle: { workingDays: 5 }, feedback: { workingDays: 10 }, supervisionRespond: { workingDays: 3 },
    })
  })

  it('is refused from a role that takes no escalations in, and with text no event can carry', () => {
    for (const role of ['department', 'supervisor', 'auditor', 'admin'] as Role[]) {
      expect(refusalOf(() => filed({ actor: { organizationId: 'gz-center', role } })))
        .toEqual({ code: 'forbidden', message: `role ${role} takes no escalations in (needs window or hotline)`, paths: [] })
    }
    expect(refusalOf(() => EscalationCase.checkFiling({ filing: filing(), actor: DESK }))).toBeUndefined()
    expect(refusalOf(() => EscalationCase.checkFiling({ filing: filing(), actor: HOTLINE }))).toBeUndefined()
    expect(refusalOf(() => filed({ filing: { description: 'a\u0000b' } })))
      .toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/^the escalation: \/filing\/description /), paths: ['/filing/description'] })
    // The edge's own schema, read again: what the route refuses, the workflow refuses too.
    expect(refusalOf(() => filed({ filing: { description: '  ' } })))
      .toMatchObject({ code: 'validation_failed', paths: ['/description'] })
    expect(refusalOf(() => filed({ filing: { category: 'angry' as never } }))?.code).toBe('validation_failed')
    expect(refusalOf(() => filed({ filing: { urgent: true } as never }))?.code).toBe('validation_failed')
    expect(refusalOf(() => filed({ filing: { complainant: { name: 'x\ud800' } } })))
      .toMatchObject({ code: 'validation_failed', paths: ['/filing/complainant/name'] })
  })
})

describe('rule 22: the actions, each in its own statuses', () => {
  const ALLOWED: Record<string, string[]> = {
    accept: ['received'], reject: ['received'], assign: ['accepted', 'assigned'], respond: ['assigned'], feedback: ['responded'],
    close: ['feedback_given'], reopen: ['closed'], supervise: ['assigned'],
    respond_supervision: ['received', 'accepted', 'assigned', 'responded', 'feedback_given', 'closed'],
  }
  const actorFor = (action: string) =>
    ({ respond: AMR, respond_supervision: AMR, supervise: CITY_SUPERVISOR }[action] ?? DESK)

  it('lists exactly these actions', () => {
    expect(Object.keys(ESCALATION_ACTIONS).sort()).toEqual(Object.keys(ALLOWED).sort())
  })

  it.each(Object.keys(ALLOWED))('%s: invalid_transition in every other status', (action) => {
    for (const status of ESCALATION_STATUSES) {
      const kase = at('closed')
      // The status alone decides here: everything else about the case allows the action.
      kase.state.status = status
      kase.state.supervisions.push({ id: 'S1', kind: 'order', organizationId: 'gz-amr', reason: 'x', openedAt: MON })
      const refusal = refusalOf(() => kase.check(command(action, actorFor(action), VALID[action])))
      expect({ status, code: refusal?.code }).toEqual({ status, code: ALLOWED[action]!.includes(status) ? undefined : 'invalid_transition' })
    }
  })

  it.each([
    ['accept', ['window', 'hotline', 'supervisor']], ['reject', ['window', 'hotline', 'supervisor']],
    ['assign', ['window', 'hotline', 'supervisor']], ['respond', ['department']], ['feedback', ['window', 'hotline']],
    ['close', ['window', 'hotline']], ['reopen', ['window', 'hotline']], ['supervise', ['supervisor']],
    ['respond_supervision', ['department', 'supervisor', 'window', 'hotline']],
  ])('%s: only %j may', (action, roles) => {
    expect([...ESCALATION_ACTIONS[action as keyof typeof ESCALATION_ACTIONS].roles].sort()).toEqual([...roles].sort())
    for (const role of ['window', 'hotline', 'supervisor', 'department', 'auditor', 'admin'] as Role[]) {
      if (roles.includes(role)) continue
      const refusal = refusalOf(() => at('received').check(command(action, { organizationId: 'gz-center', role }, VALID[action])))
      expect({ role, refusal }).toEqual({ role, refusal: { code: 'forbidden', message: `role ${role} may not ${action}`, paths: [] } })
    }
  })

  it('refuses parameters that do not parse: a reason of blanks, an unknown field, a bad limit', () => {
    const kase = at('received')
    expect(refusalOf(() => kase.check(command('reject', DESK, { reason: '   ' })))).toMatchObject({ code: 'validation_failed', paths: ['/params/reason'] })
    expect(refusalOf(() => kase.check(command('reject', DESK, {})))).toMatchObject({ code: 'validation_failed' })
    expect(refusalOf(() => kase.check(command('accept', DESK, { extra: 1 })))).toMatchObject({ code: 'validation_failed' })
    const accepted = at('accepted')
    expect(refusalOf(() => accepted.check(command('assign', DESK, { toOrganizationId: 'gz-amr', within: { workingDays: -1 } }))))
      .toMatchObject({ code: 'validation_failed' })
    const responded = at('assigned')
    expect(refusalOf(() => responded.check(command('respond', AMR, { resolution: 'x' })))).toMatchObject({ code: 'validation_failed' })
  })
})

describe('rule 27: the owner\'s window acts for the owner; a supervisor may accept, reject and assign', () => {
  it.each(['accept', 'reject'])('%s: another organisation\'s window is forbidden, the owner\'s window, its hotline and a supervisor may', (action) => {
    expect(refusalOf(() => at('received').check(command(action, OTHER_DESK, VALID[action]))))
      .toEqual({ code: 'forbidden', message: 'only gz-center, which owns this escalation, may do this', paths: [] })
    expect(refusalOf(() => at('received').check(command(action, { organizationId: 'gz-other-center', role: 'hotline' }, VALID[action]))))
      .toMatchObject({ code: 'forbidden' })
    for (const actor of [DESK, HOTLINE, CITY_SUPERVISOR]) expect(refusalOf(() => at('received').check(command(action, actor, VALID[action])))).toBeUndefined()
  })

  it('assign: another window is forbidden; a supervisor of anywhere may', () => {
    expect(refusalOf(() => at('accepted').check(command('assign', OTHER_DESK, VALID.assign)))?.code).toBe('forbidden')
    expect(refusalOf(() => at('accepted').check(command('assign', CITY_SUPERVISOR, VALID.assign)))).toBeUndefined()
  })

  it.each([['feedback', 'responded'], ['close', 'feedback_given'], ['reopen', 'closed']] as const)(
    '%s: only the owner\'s window (or hotline)', (action, status) => {
      expect(refusalOf(() => at(status).check(command(action, OTHER_DESK, VALID[action])))?.code).toBe('forbidden')
      const params = action === 'reopen' ? { reason: 'again' } : VALID[action]
      expect(refusalOf(() => at(status).check(command(action, DESK, params)))).toBeUndefined()
      expect(refusalOf(() => at(status).check(command(action, HOTLINE, params)))).toBeUndefined()
    })

  it('respond: only the current assignee; after a reassignment the first one no longer may', () => {
    const kase = at('assigned')
    expect(refusalOf(() => kase.check(command('respond', HR, VALID.respond))))
      .toEqual({ code: 'forbidden', message: 'organisation gz-hr does not handle this case', paths: [] })
    expect(refusalOf(() => kase.check(command('respond', AMR, VALID.respond)))).toBeUndefined()
    kase.apply(command('assign', CITY_SUPERVISOR, { toOrganizationId: 'gz-hr' }), WED)
    expect(refusalOf(() => kase.check(command('respond', AMR, VALID.respond)))?.code).toBe('forbidden')
    expect(refusalOf(() => kase.check(command('respond', HR, VALID.respond)))).toBeUndefined()
  })
})

describe('rule 22: accept, assign (转办), respond, feedback, close', () => {
  it('walks the whole path, recording each step and settling each deadline it owes', () => {
    const { escalation } = filed()
    expect(eventTypesOf(escalation.apply(command('accept', DESK), MON))).toEqual(['accepted'])
    expect(escalation.state.status).toBe('accepted')
    expect(deadline(escalation, 'accept')).toMatchObject({ state: 'met', settledAt: MON })

    const assigned = escalation.apply(command('assign', DESK, { toOrganizationId: 'gz-amr' }), TUE)
    expect(assigned.map((r) => [r.event.type, r.event.data])).toEqual([['assigned', { to: 'gz-amr' }]])
    expect(assigned[0]!.view).toMatchObject({ status: 'assigned', handlingOrganizationId: 'gz-amr', ownerOrganizationId: 'gz-center',
      assignments: [{ organizationId: 'gz-amr', at: TUE }] })
    expect(assigned[0]!.view.assignments![0]).not.toHaveProperty('within')
    // Setting escalation.handle: 5 working days from Tuesday.
    expect(deadline(escalation, 'handle:1')).toMatchObject({ kind: 'handle', dueAt: endOfDay('2026-03-10'), state: 'running', organizationId: 'gz-amr' })
    // Accepting and feedback stay the owner's, whoever handles the case now.
    expect([deadline(escalation, 'accept')?.organizationId, deadline(escalation, 'feedback')?.organizationId]).toEqual(['gz-center', 'gz-center'])

    const responded = escalation.apply(command('respond', AMR, { resolution: 'licence issued', resolved: true }), WED)
    expect(responded.map((r) => [r.event.type, r.event.data])).toEqual([['responded', { resolution: 'licence issued', resolved: true }]])
    expect(responded[0]!.view.response).toEqual({ resolution: 'licence issued', resolved: true, at: WED })
    expect(escalation.state.status).toBe('responded')
    expect(deadline(escalation, 'handle:1')).toMatchObject({ state: 'met', settledAt: WED })
    expect(deadline(escalation, 'feedback')?.state).toBe('running')

    const fed = escalation.apply(command('feedback', DESK, { message: 'your licence is ready' }), THU)
    expect(fed.map((r) => [r.event.type, r.event.data])).toEqual([['feedback_given', { message: 'your licence is ready' }]])
    expect(fed[0]!.view.feedback).toEqual({ message: 'your licence is ready', at: THU })
    expect(escalation.state.status).toBe('feedback_given')
    expect(deadline(escalation, 'feedback')).toMatchObject({ state: 'met', settledAt: THU })
    expect(escalation.isOpen).toBe(true)

    const closed = escalation.apply(command('close', DESK, { satisfied: true, comment: 'thanks' }), THU)
    expect(closed.map((r) => [r.event.type, r.event.data])).toEqual([['closed', { satisfied: true, comment: 'thanks' }]])
    expect(closed[0]!.view).toMatchObject({ status: 'closed', closure: { satisfied: true, comment: 'thanks', at: THU } })
    expect(escalation.isOpen).toBe(false)
    expect(escalation.view(THU).deadlines.every((d) => d.state === 'met')).toBe(true)
    expect(closed[0]!.view.version).toBe(6)
  })

  it('assigns with its own limit when given one, and records it', () => {
    const kase = at('accepted')
    const [r] = kase.apply(command('assign', DESK, { toOrganizationId: 'gz-amr', within: { workingDays: 1 } }), TUE)
    expect(r!.event.data).toEqual({ to: 'gz-amr', within: { workingDays: 1 } })
    expect(r!.view.assignments).toEqual([{ organizationId: 'gz-amr', at: TUE, within: { workingDays: 1 } }])
    expect(deadline(kase, 'handle:1')?.dueAt).toBe(endOfDay('2026-03-04'))
  })

  it('reassigns to another organisation: the first handle clock is cancelled, the new one runs, each owed by its assignee', () => {
    const kase = at('assigned')
    expect(refusalOf(() => kase.check(command('assign', DESK, { toOrganizationId: 'gz-amr' }))))
      .toEqual({ code: 'conflict', message: 'the escalation is already assigned to gz-amr', paths: [] })
    const [r] = kase.apply(command('assign', DESK, { toOrganizationId: 'gz-hr' }), WED)
    expect(r!.event.data).toEqual({ to: 'gz-hr', from: 'gz-amr' })
    expect(r!.view.handlingOrganizationId).toBe('gz-hr')
    expect(r!.view.assignments!.map((a) => a.organizationId)).toEqual(['gz-amr', 'gz-hr'])
    expect(deadline(kase, 'handle:1')).toMatchObject({ state: 'cancelled', settledAt: WED, organizationId: 'gz-amr' })
    expect(deadline(kase, 'handle:2')).toMatchObject({ state: 'running', organizationId: 'gz-hr', dueAt: endOfDay('2026-03-11') })
    expect(escalationParticipants(r!.view)).toEqual(['gz-center', 'gz-amr', 'gz-hr'])
  })

  it('rejects with a reason: terminal, every clock cancelled', () => {
    const kase = at('received')
    const [r] = kase.apply(command('reject', CITY_SUPERVISOR, { reason: 'not an escalation' }), TUE)
    expect([r!.event.type, r!.event.data, r!.event.actor]).toEqual(['rejected', { reason: 'not an escalation' }, CITY_SUPERVISOR])
    expect(r!.view).toMatchObject({ status: 'rejected', rejection: { reason: 'not an escalation', at: TUE } })
    expect(kase.view(TUE).deadlines.map((d) => d.state)).toEqual(['cancelled', 'cancelled'])
    expect(kase.isOpen).toBe(false)
    expect(kase.nextWakeMs()).toBeUndefined()
  })

  it('closes unsatisfied without a comment, and stays open for the one reopening it may get', () => {
    const kase = at('feedback_given')
    const [r] = kase.apply(command('close', DESK, { satisfied: false }), THU)
    expect(r!.event.data).toEqual({ satisfied: false })
    expect(r!.view.closure).toEqual({ satisfied: false, at: THU })
    expect(kase.isOpen).toBe(true)
  })

  it('cancels what still runs when it closes (a supervision order\'s answer)', () => {
    const kase = at('assigned')
    kase.apply(command('supervise', CITY_SUPERVISOR, VALID.supervise), TUE)
    expect(deadline(kase, 'supervision:S1')?.state).toBe('running')
    kase.apply(command('respond', AMR, VALID.respond), TUE)
    kase.apply(command('feedback', DESK, VALID.feedback), TUE)
    kase.apply(command('close', DESK, { satisfied: true }), WED)
    expect(deadline(kase, 'supervision:S1')).toMatchObject({ state: 'cancelled', settledAt: WED })
  })
})

describe('rule 22: reopening, once', () => {
  it('sends an unsatisfied closure back to the same assignee with new handle and feedback clocks', () => {
    const kase = at('closed')
    const [r] = kase.apply(command('reopen', DESK, { reason: 'nothing changed' }), WED)
    expect([r!.event.type, r!.event.data]).toEqual(['reopened', { reason: 'nothing changed', to: 'gz-amr' }])
    expect(r!.view).toMatchObject({ status: 'assigned', reopenedAt: WED, handlingOrganizationId: 'gz-amr' })
    for (const gone of ['response', 'feedback', 'closure']) expect(r!.view).not.toHaveProperty(gone)
    expect(r!.view.assignments!.map((a) => [a.organizationId, a.at])).toEqual([['gz-amr', TUE], ['gz-amr', WED]])
    expect(deadline(kase, 'handle:1')?.state).toBe('met')
    expect(deadline(kase, 'handle:2')).toMatchObject({ state: 'running', startedAt: WED, dueAt: endOfDay('2026-03-11'), organizationId: 'gz-amr' })
    expect(deadline(kase, 'feedback')?.state).toBe('met')
    expect(deadline(kase, 'feedback:reopened')).toMatchObject({ kind: 'feedback', state: 'running', startedAt: WED,
      dueAt: endOfDay('2026-03-18'), organizationId: 'gz-center' })
    // The second round settles the new clocks.
    kase.apply(command('respond', AMR, VALID.respond), THU)
    expect(deadline(kase, 'handle:2')?.state).toBe('met')
    kase.apply(command('feedback', DESK, VALID.feedback), THU)
    expect(deadline(kase, 'feedback:reopened')?.state).toBe('met')
    kase.apply(command('close', DESK, { satisfied: false }), THU)
    // Closed again: no second reopening, so it has ended.
    expect(kase.isOpen).toBe(false)
    expect(refusalOf(() => kase.check(command('reopen', DESK, { reason: 'again' }))))
      .toEqual({ code: 'invalid_transition', message: 'an escalation is reopened once; this one was already', paths: [] })
  })

  it('keeps the limit of the last assignment', () => {
    const kase = at('accepted')
    kase.apply(command('assign', DESK, { toOrganizationId: 'gz-amr', within: { workingDays: 2 } }), TUE)
    for (const [action, actor, params] of [['respond', AMR, VALID.respond], ['feedback', DESK, VALID.feedback], ['close', DESK, { satisfied: false }]] as const) {
      kase.apply(command(action, actor, params), TUE)
    }
    kase.apply(command('reopen', DESK, { reason: 'again' }), WED)
    expect(kase.state.assignments.at(-1)).toEqual({ organizationId: 'gz-amr', at: WED, within: { workingDays: 2 } })
    expect(deadline(kase, 'handle:2')?.dueAt).toBe(endOfDay('2026-03-06'))
  })

  it('refuses a satisfied closure', () => {
    const kase = at('feedback_given')
    kase.apply(command('close', DESK, { satisfied: true }), THU)
    expect(refusalOf(() => kase.check(command('reopen', DESK, { reason: 'again' }))))
      .toEqual({ code: 'invalid_transition', message: 'only an escalation closed unsatisfied is reopened', paths: [] })
  })
})

describe('rules 22 and 32: missed steps are overdue and supervised on whoever owed them', () => {
  it('a missed accept: overdue, a level-1 supervision on the owner, watched by its parent, due by setting supervision.respond', () => {
    const { escalation } = filed()
    expect(escalation.nextWakeMs()).toBeDefined()
    expect(escalation.unplacedBy(Date.parse('2026-03-03T16:00:01.000Z'))).toEqual(['gz-center'])
    escalation.place({ 'gz-center': 'gz' })
    const recorded = escalation.advance('2026-03-03T16:00:01.000Z')
    expect(eventTypesOf(recorded)).toEqual(expect.arrayContaining(['deadline_missed', 'supervision_opened']))
    const view = escalation.view('2026-03-03T16:00:01.000Z')
    expect(view.overdue).toBe(true)
    expect(deadline(escalation, 'accept')?.state).toBe('missed')
    expect(view.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', organizationId: 'gz-center', deadlineKey: 'accept',
      level: 1, supervisorOrganizationId: 'gz', dueAt: endOfDay('2026-03-09') })])
  })

  it('the owner\'s window answers the record on the owner; another organisation\'s has none to answer', () => {
    const { escalation } = filed()
    escalation.place({ 'gz-center': 'gz' })
    escalation.advance('2026-03-03T16:00:01.000Z')
    expect(refusalOf(() => escalation.check(command('respond_supervision', OTHER_DESK, VALID.respond_supervision)))?.code).toBe('invalid_transition')
    const [answered] = escalation.apply(command('respond_supervision', DESK, { note: 'accepting now' }), WED)
    expect(answered!.event).toMatchObject({ type: 'supervision_responded', data: { id: 'S1', note: 'accepting now' } })
    expect(escalation.state.supervisions[0]).toMatchObject({ respondedAt: WED, response: 'accepting now' })
    expect(deadline(escalation, 'supervision:S1', WED)?.state).toBe('met')
  })

  it('a missed handle is placed in the tree at the assignee (whoever owes the step), not the owner', () => {
    const kase = at('assigned')
    kase.book.settle('accept', 'met', TUE)
    expect(kase.unplacedBy(Date.parse(endOfDay('2026-03-11')))).toEqual(['gz-amr'])
  })

  it('a missed handle: supervision on the assignee, not on the owner', () => {
    const kase = at('assigned')
    kase.advance(endOfDay('2026-03-11'))
    expect(deadline(kase, 'handle:1', endOfDay('2026-03-11'))?.state).toBe('missed')
    expect(kase.state.overdue).toBe(true)
    expect(kase.state.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', organizationId: 'gz-amr', deadlineKey: 'handle:1' })])
  })

  it('a missed feedback: supervision on the owner, though the case is handled by the assignee', () => {
    const kase = at('responded')
    kase.advance(endOfDay('2026-03-17'))
    const handle = kase.state.supervisions.find((s) => s.deadlineKey === 'feedback')
    expect(handle).toMatchObject({ kind: 'automatic', organizationId: 'gz-center' })
    expect(kase.state.handlingOrganizationId).toBe('gz-amr')
  })

  it('a supervisor orders the assignee, which answers', () => {
    const kase = at('assigned')
    const [ordered] = kase.apply(command('supervise', CITY_SUPERVISOR, VALID.supervise), TUE)
    expect(ordered!.event.type).toBe('supervision_ordered')
    expect(kase.state.supervisions[0]).toMatchObject({ kind: 'order', organizationId: 'gz-amr' })
    // Each organisation answers what it owes: gz-hr owes nothing here.
    expect(refusalOf(() => kase.check(command('respond_supervision', HR, VALID.respond_supervision)))?.code).toBe('invalid_transition')
    expect(eventTypesOf(kase.apply(command('respond_supervision', AMR, VALID.respond_supervision), WED))).toEqual(['supervision_responded'])
  })
})

describe('what "open" means for an escalation', () => {
  it.each([
    [{ status: 'received' }, true], [{ status: 'accepted' }, true], [{ status: 'assigned' }, true], [{ status: 'responded' }, true],
    [{ status: 'feedback_given' }, true], [{ status: 'rejected' }, false], [{ status: 'closed', closure: { satisfied: true } }, false],
    [{ status: 'closed', closure: { satisfied: false } }, true], [{ status: 'closed', closure: { satisfied: false }, reopenedAt: MON }, false],
    [{ status: 'closed' }, false],
  ])('%j → %s', (facts, open) => {
    expect(isOpenEscalation(facts)).toBe(open)
  })

  it('has the owner and every organisation ever assigned take part, each once', () => {
    expect(escalationParticipants({})).toEqual([])
    expect(escalationParticipants({ ownerOrganizationId: 'gz-center', assignments: [{ organizationId: 'gz-center', at: MON }] })).toEqual(['gz-center'])
  })

  it('resumes from its state as it was', () => {
    const kase = at('assigned')
    const resumed = EscalationCase.resume(JSON.parse(JSON.stringify(kase.state)), calendarWith())
    expect(resumed.view(THU)).toEqual(kase.view(THU))
    expect(refusalOf(() => resumed.check(command('respond', AMR, VALID.respond)))).toBeUndefined()
  })

  it('records views that later steps do not change', () => {
    const { escalation, recorded } = filed()
    escalation.apply(command('accept', DESK), MON)
    escalation.apply(command('assign', DESK, { toOrganizationId: 'gz-amr' }), MON)
    expect(recorded[0]!.view.assignments).toEqual([])
    expect(recorded[0]!.view.status).toBe('received')
  })
})

describe('rule 21: the application an escalation is about', () => {
  const application = () => ApplicationCase.submit({
    id: 'A-1', guide: testGuide(), submission: newApplication('A-1').submission, actor: DESK, calendar: calendarWith(), at: MON,
  }).application

  it('is eligible while overdue, flagged for the one-time notice, or rejected; otherwise not', () => {
    expect(escalationEligible({ overdue: false, flags: [], status: 'accepted' })).toBe(false)
    expect(escalationEligible({ overdue: false, flags: ['priority'], status: 'completed' })).toBe(false)
    expect(escalationEligible({ overdue: true, flags: [], status: 'accepted' })).toBe(true)
    expect(escalationEligible({ overdue: false, flags: ['one_time_notice_violation'], status: 'submitted' })).toBe(true)
    expect(escalationEligible({ overdue: false, flags: [], status: 'rejected' })).toBe(true)
    const app = application()
    expect(app.view(MON).escalationEligible).toBe(false)
    app.apply(command('reject', DESK, { reason: 'not competent' }), TUE)
    expect(app.view(TUE).escalationEligible).toBe(true)
  })

  it('records escalation_filed once per escalation, and lists them', () => {
    const app = application()
    expect(app.view(MON)).not.toHaveProperty('escalations')
    const first = app.noteEscalation('E-1', DESK, TUE)
    expect(first.map((r) => [r.event.seq, r.event.type, r.event.data, r.event.actor])).toEqual([[2, 'escalation_filed', { escalationId: 'E-1' }, DESK]])
    expect(first[0]!.view.escalations).toEqual(['E-1'])
    expect(app.noteEscalation('E-1', DESK, WED)).toEqual([])
    expect(app.noteEscalation('E-2', HOTLINE, WED).map((r) => r.view.escalations)).toEqual([['E-1', 'E-2']])
    expect(app.state.seq).toBe(3)
    // A recorded view keeps the list it had.
    expect(first[0]!.view.escalations).toEqual(['E-1'])
  })
})

describe('personal data of a complainant', () => {
  const view = () => filed().escalation.view(MON)

  it('is masked for supervisors and auditors, as an applicant\'s is', () => {
    for (const role of ['supervisor', 'auditor'] as Role[]) {
      expect(presentCase(view(), role).complainant).toEqual({ name: '王五', phone: '1380***0000', idNumber: '4401**********2345' })
    }
  })

  it('is shown to the window, the hotline (which calls back), departments and the administrator, and a missing number stays missing', () => {
    for (const actor of [DESK, AMR, ADMIN]) expect(presentCase(view(), actor.role).complainant).toEqual(filing().complainant)
    expect(presentCase(view(), 'hotline').complainant).toEqual(filing().complainant)
    const bare = filed({ filing: { complainant: { name: '赵六' } } }).escalation.view(MON)
    expect(presentCase(bare, AUDITOR.role).complainant).toEqual({ name: '赵六' })
  })

  it('leaves an application\'s applicant masked as before', () => {
    const app = { applicant: { type: 'person', name: 'x', idNumber: '440106198805052345' } } as CaseView
    expect(presentCase(app, 'auditor').applicant).toEqual({ type: 'person', name: 'x', idNumber: '4401**********2345' })
    expect(presentCase(app, 'auditor')).not.toHaveProperty('complainant')
  })
})
