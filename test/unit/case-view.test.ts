// The case as every endpoint returns it, the event that records each step, and the small rules
// that present them: queue order, masked identity numbers, deadlines still pending.
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import {
  Applicant, ApplicationViewFields, CASE_KINDS, CaseCoreView, CaseEvent, CaseView, ComplaintViewFields, FulfilmentViewFields, DEADLINE_STATES, DeadlineView,
  EscalationViewFields, isPending, maskIdNumber, priorityRank,
} from '../../src/domain/case-view.ts'

const AT = '2026-03-02T02:00:00.000Z'

const deadline = {
  kind: 'acceptance', key: 'acceptance', dueAt: AT, warnAt: AT, state: 'met', provisional: false, warned: false,
  workingDaysLeft: 0, organizationId: 'gz-amr', settledAt: AT, workingDaysUsed: 3,
}

/** A view with every field of the core and of the application filled in (a fresh copy each time). */
const fullView = () => structuredClone({
  id: 'A-1', kind: 'application', status: 'completed', version: 12,
  applicant: { type: 'person', name: '李四', idNumber: '440106198805052345', phone: '13800000000' },
  channel: 'window', receivedBy: 'gz-center', handlingOrganizationId: 'gz-amr',
  priority: { greenChannel: false, urgent: true },
  deadlines: [deadline], overdue: false, warned: true, flags: ['provisional'], createdAt: AT, updatedAt: AT,
  supervisions: [{
    id: 'S-1', kind: 'order', organizationId: 'gz-amr', reason: 'slow', openedAt: AT, orderedBy: 'gz',
    deadlineKey: 'supervision:S-1', respondedAt: AT, response: 'done',
  }],
  rating: { score: 5, level: 'very satisfied', comment: 'quick', at: AT, defaulted: false },
  rectification: { openedAt: AT, rectifiedAt: AT, note: 'fixed', callBack: { satisfied: true, note: 'ok', at: AT } },
  serviceItemCode: 'ITEM-1', serviceItemVersion: 2,
  materials: [{ code: 'form', ref: 'doc://form', source: 'applicant' }],
  missingMaterials: ['photo'], submittedOnBehalfBy: 'gz-center',
  decision: { outcome: 'approved', note: 'fine', at: AT },
  supplementRequests: [{ missing: ['photo'], note: 'please', at: AT }],
  suspension: { reason: 'expert review', note: 'n', since: AT },
  extension: { workingDays: 10, approvedBy: 'gz', reason: 'complex', at: AT },
  opinions: [{ organizationId: 'gz-hr', requestedAt: AT, opinion: 'agree', agree: true, givenAt: AT }],
  result: { certificateNo: 'C-1', issuedAt: AT, deliveredAt: AT, method: 'post' },
})

/** Sets `value` at a path of keys and indexes in a copy of the full view. */
function withValue(path: Array<string | number>, value: unknown): Record<string, unknown> {
  const view = fullView() as Record<string, unknown>
  let at: Record<string | number, unknown> = view
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>
  at[path.at(-1)!] = value
  return view
}

describe('the case view', () => {
  it('describes a complete application, and a bare case of any kind', () => {
    expect(Value.Check(CaseView, fullView())).toBe(true)
    const bare = {
      id: 'E-1', kind: 'escalation', status: 'received', version: 1, channel: 'hotline', receivedBy: 'gz-12345',
      handlingOrganizationId: 'gz-amr', priority: { greenChannel: false, urgent: false }, deadlines: [], overdue: false,
      warned: false, flags: [], createdAt: AT, updatedAt: AT,
    }
    expect(Value.Check(CaseCoreView, bare)).toBe(true)
    expect(Value.Check(CaseView, bare)).toBe(true)
    for (const kind of ['application', 'fulfilment', 'escalation', 'complaint']) expect(Value.Check(CaseView, { ...bare, kind })).toBe(true)
  })

  it('is the shared core plus each kind\'s own fields, no name used twice', () => {
    const parts = [CaseCoreView, ApplicationViewFields, EscalationViewFields, ComplaintViewFields, FulfilmentViewFields].map((part) => Object.keys(part.properties))
    expect(Object.keys(ComplaintViewFields.properties)).toContain('dispatches')
    expect(Object.keys(CaseView.properties).sort()).toEqual(parts.flat().sort())
    expect(new Set(parts.flat()).size).toBe(parts.flat().length)
    expect(Object.keys(CaseCoreView.properties)).not.toContain('serviceItemCode')
    expect(Object.keys(ApplicationViewFields.properties)).toContain('opinions')
    expect(Object.keys(EscalationViewFields.properties)).toEqual(expect.arrayContaining(['complainant', 'assignments']))
    expect(Object.keys(FulfilmentViewFields.properties)).toEqual(expect.arrayContaining(['policyCode', 'amount', 'payment']))
  })

  it.each([
    ['an unknown kind', ['kind'], 'permit'],
    ['a fractional version', ['version'], 1.5],
    ['an applicant of no known type', ['applicant', 'type'], 'robot'],
    ['an applicant without a name', ['applicant', 'name'], ''],
    ['a priority that is not a flag', ['priority', 'urgent'], 'yes'],
    ['a deadline in an unknown state', ['deadlines', 0, 'state'], 'late'],
    ['a deadline without a due instant', ['deadlines', 0, 'dueAt'], undefined],
    ['a fractional count of working days left', ['deadlines', 0, 'workingDaysLeft'], 1.5],
    ['a fractional count of working days used', ['deadlines', 0, 'workingDaysUsed'], 2.5],
    ['a settlement that is not an instant string', ['deadlines', 0, 'settledAt'], 5],
    ['a deadline owner that is not a string', ['deadlines', 0, 'organizationId'], 7],
    ['a supervision of an unknown kind', ['supervisions', 0, 'kind'], 'complaint'],
    ['a supervision without a reason', ['supervisions', 0, 'reason'], undefined],
    ['a rating score that is not whole', ['rating', 'score'], 4.5],
    ['a rating without its instant', ['rating', 'at'], undefined],
    ['a rectification without its opening', ['rectification', 'openedAt'], undefined],
    ['a call-back without an answer', ['rectification', 'callBack', 'satisfied'], 'maybe'],
    ['a service item version that is not whole', ['serviceItemVersion'], 2.5],
    ['a material from nowhere', ['materials', 0, 'source'], 'email'],
    ['a material without a reference', ['materials', 0, 'ref'], undefined],
    ['a missing material that is not a code', ['missingMaterials', 0], 1],
    ['a decision without an outcome', ['decision', 'outcome'], undefined],
    ['a supplement request without a note', ['supplementRequests', 0, 'note'], undefined],
    ['a supplement request listing no codes', ['supplementRequests', 0, 'missing'], 'photo'],
    ['a suspension without its start', ['suspension', 'since'], undefined],
    ['an extension by part of a day', ['extension', 'workingDays'], 0.5],
    ['an opinion that is not agree or disagree', ['opinions', 0, 'agree'], 'perhaps'],
    ['an opinion asked of no organisation', ['opinions', 0, 'organizationId'], undefined],
    ['a result with a certificate number that is not text', ['result', 'certificateNo'], 12],
  ] as const)('refuses %s', (_, path, value) => {
    expect(Value.Check(CaseView, withValue([...path], value))).toBe(false)
  })

  it('takes shared materials and automatic supervisions, and no priority but the two flags', () => {
    expect(Value.Check(CaseView, withValue(['materials', 0, 'source'], 'shared'))).toBe(true)
    expect(Value.Check(CaseView, withValue(['supervisions', 0, 'kind'], 'automatic'))).toBe(true)
    expect(Value.Check(CaseView, withValue(['priority'], { greenChannel: true, urgent: false, vip: true }))).toBe(false)
  })

  it('names the deadline states and case kinds of the contract', () => {
    expect(DEADLINE_STATES).toEqual(['running', 'paused', 'met', 'missed', 'cancelled'])
    expect(CASE_KINDS).toEqual(['application', 'fulfilment', 'escalation', 'complaint'])
    for (const state of DEADLINE_STATES) expect(Value.Check(DeadlineView, { ...deadline, state })).toBe(true)
  })
})

describe('the applicant', () => {
  const applicant = { type: 'enterprise', name: '示例有限公司', idNumber: '91440101MA00000000' }

  it('is a person or an enterprise with a name and an identity number, and perhaps a phone', () => {
    expect(Value.Check(Applicant, applicant)).toBe(true)
    expect(Value.Check(Applicant, { ...applicant, type: 'person', name: 'n'.repeat(200), idNumber: '1234', phone: 'p'.repeat(32) })).toBe(true)
    expect(Value.Check(Applicant, { ...applicant, idNumber: 'i'.repeat(64) })).toBe(true)
    for (const bad of [
      { ...applicant, name: '' }, { ...applicant, name: 'n'.repeat(201) }, { ...applicant, idNumber: '123' },
      { ...applicant, idNumber: 'i'.repeat(65) }, { ...applicant, phone: 'p'.repeat(33) }, { ...applicant, email: 'a@b.cn' },
      { ...applicant, type: 'group' },
    ]) {
      expect(Value.Check(Applicant, bad), JSON.stringify(bad)).toBe(false)
    }
  })
})

describe('the event record', () => {
  const event = { seq: 1, at: AT, type: 'submitted', actor: { organizationId: 'gz-center', role: 'window' }, data: { a: 1 } }

  it('numbers events from 1 and records who acted', () => {
    expect(Value.Check(CaseEvent, event)).toBe(true)
    expect(Value.Check(CaseEvent, { ...event, actor: { ...event.actor, keyId: 'k-1' } })).toBe(true)
    expect(Value.Check(CaseEvent, { ...event, seq: 0 })).toBe(false)
    expect(Value.Check(CaseEvent, { ...event, seq: 1.5 })).toBe(false)
    expect(Value.Check(CaseEvent, { ...event, actor: { organizationId: 'gz-center', role: 'clerk' } })).toBe(false)
    expect(Value.Check(CaseEvent, { ...event, data: 'submitted' })).toBe(false)
    expect(Value.Check(CaseEvent, { ...event, type: undefined })).toBe(false)
  })
})

describe('presentation rules', () => {
  it('rule 16: queues the green channel and urgent cases first', () => {
    expect(priorityRank({ greenChannel: true, urgent: true })).toBe(0)
    expect(priorityRank({ greenChannel: true, urgent: false })).toBe(1)
    expect(priorityRank({ greenChannel: false, urgent: true })).toBe(1)
    expect(priorityRank({ greenChannel: false, urgent: false })).toBe(2)
  })

  it('masks an identity number to its first and last four characters', () => {
    expect(maskIdNumber('440106199001011234')).toBe('4401**********1234')
    expect(maskIdNumber('123456789')).toBe('1234*6789')
  })

  it('masks a short number but for its first character, so that the last four never give it away', () => {
    expect(maskIdNumber('12345678')).toBe('1*******')
    expect(maskIdNumber('1234')).toBe('1***')
    expect(maskIdNumber('A')).toBe('A')
    expect(maskIdNumber('')).toBe('')
  })

  it('counts running and paused deadlines as pending, and settled ones not', () => {
    expect(DEADLINE_STATES.filter((state) => isPending({ state }))).toEqual(['running', 'paused'])
  })
})
