import { describe, expect, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import { FulfilmentCase, isOpenFulfilment } from '../../src/domain/fulfilment/fulfilment-case.ts'
import { ENDED_STATUSES, type FulfilmentOpening, OPEN_STATUSES, type PolicyTerms } from '../../src/domain/fulfilment/terms.ts'
import { kindDefinition } from '../../src/domain/kinds.ts'
import { noticeOf } from '../../src/domain/notices.ts'
import type { Actor } from '../../src/domain/roles.ts'
import { calendarWith } from '../support/time-skipping.ts'
import { refusalOf } from '../support/tiny-case.ts'
import { ADMIN, AMR, CITY_SUPERVISOR, endOfDay, eventTypesOf, HR, MON, TUE } from '../support/unit-fixtures.ts'

// The fulfilment case (src/domain/fulfilment): DOMAIN rules 24–25 and API.md "Policy fulfilment".
// March 2026 has no holiday: working days are Monday to Friday.

const WINDOW: Actor = { organizationId: 'gz-center', role: 'window' }
const TERMS: PolicyTerms = {
  code: 'WENGANG', version: 1, departmentId: 'gz-hr', mode: 'no_application', autoVerify: false,
  verifyWithin: { workingDays: 2 }, payWithin: { workingDays: 3 },
}
const opening = (policy: Partial<PolicyTerms> = {}): FulfilmentOpening => ({
  policy: { ...TERMS, ...policy },
  beneficiary: { id: '91440101MA5CXXXX1X', type: 'enterprise', name: '某某科技有限公司' },
  amount: 600000,
  campaignId: 'K20260302-TEST',
})

function open(policy: Partial<PolicyTerms> = {}, actor: Actor = HR) {
  return FulfilmentCase.open({
    id: 'F-WENGANG-test', opening: opening(policy), actor, limits: { supervisionRespond: { workingDays: 3 } },
    calendar: calendarWith(), at: MON,
  })
}
const act = (kase: FulfilmentCase, action: string, actor: Actor, params: Record<string, unknown> = {}, at = TUE) =>
  kase.apply({ action, actor, params }, at)
const refused = (kase: FulfilmentCase, action: string, actor: Actor, params: Record<string, unknown> = {}) => {
  const checked = refusalOf(() => kase.check({ action, actor, params }))
  const before = JSON.stringify(kase.state)
  expect(refusalOf(() => kase.apply({ action, actor, params }, TUE))).toEqual(checked)
  expect(JSON.stringify(kase.state)).toBe(before)
  return checked
}
const deadline = (view: CaseView, key: string) => view.deadlines.find((d) => d.key === key)

describe('a no-application entitlement (免申即享)', () => {
  it('is notified to the beneficiary, the department\'s verify clock running', () => {
    const { fulfilment, recorded } = open()
    expect(eventTypesOf(recorded)).toEqual(['notified'])
    const view = fulfilment.view(MON)
    expect(view).toMatchObject({
      kind: 'fulfilment', status: 'notified', policyCode: 'WENGANG', policyVersion: 1, mode: 'no_application', amount: 600000,
      handlingOrganizationId: 'gz-hr', receivedBy: 'gz-hr', channel: 'campaign', campaignId: 'K20260302-TEST',
      applicant: { type: 'enterprise', name: '某某科技有限公司', idNumber: '91440101MA5CXXXX1X' },
    })
    expect(deadline(view, 'verify')).toMatchObject({ kind: 'verify', state: 'running', dueAt: endOfDay('2026-03-04') })
    expect(recorded[0]!.event.data).toEqual({ policyCode: 'WENGANG', policyVersion: 1, mode: 'no_application', amount: 600000, campaignId: 'K20260302-TEST' })
  })

  it('is supervised, not declined, when the department lets its verify clock run out; its view shows no budget waits', () => {
    const { fulfilment } = open()
    // Verify within 2 working days of Monday: due at the end of Wednesday.
    const recorded = fulfilment.advance(endOfDay('2026-03-04'))
    expect(eventTypesOf(recorded)).toContain('supervision_opened')
    expect(eventTypesOf(recorded)).not.toContain('declined')
    const view = fulfilment.view(endOfDay('2026-03-04'))
    expect(view).toMatchObject({ status: 'notified', overdue: true, priority: { greenChannel: false, urgent: false } })
    expect(view.supervisions).toHaveLength(1)
    expect(view).not.toHaveProperty('budgetWaits')
    expect(fulfilment.isOpen).toBe(true)
  })

  it('tells the beneficiary through the outbox, and again when paid', () => {
    const { fulfilment, recorded } = open()
    const notice = noticeOf('F-WENGANG-test', recorded[0]!)
    expect(notice).toMatchObject({ type: 'notified', details: { policyCode: 'WENGANG', amount: 600000, confirm: false } })
    expect(notice!.text).toContain('6000.00 yuan')
    act(fulfilment, 'verify', HR)
    const paid = fulfilment.paid({ reference: 'L-1', paidAt: TUE }, TUE)
    expect(eventTypesOf(paid)).toEqual(['paid', 'completed'])
    expect(noticeOf('F-WENGANG-test', paid[0]!)).toMatchObject({ type: 'paid', details: { amount: 600000, reference: 'L-1' } })
    expect(noticeOf('F-WENGANG-test', paid[1]!)).toBeUndefined()
  })

  it('is verified by the policy\'s department, which starts the pay clock and asks the workflow to pay', () => {
    const { fulfilment } = open()
    expect(fulfilment.work).toBeUndefined()
    expect(refused(fulfilment, 'verify', AMR)?.code).toBe('forbidden')
    expect(refused(fulfilment, 'verify', WINDOW)?.code).toBe('forbidden')
    expect(eventTypesOf(act(fulfilment, 'verify', HR, { note: '数据核验无误' }))).toEqual(['verified'])
    const view = fulfilment.view(TUE)
    expect(view.status).toBe('verified')
    expect(view.verification).toEqual({ at: TUE, by: 'gz-hr', automatic: false, note: '数据核验无误' })
    expect(deadline(view, 'verify')?.state).toBe('met')
    expect(deadline(view, 'pay')).toMatchObject({ state: 'running', dueAt: endOfDay('2026-03-06') })
    expect(fulfilment.work).toBe('pay')
  })

  it('with autoVerify is verified at once, by the system', () => {
    const { fulfilment, recorded } = open({ autoVerify: true })
    expect(eventTypesOf(recorded)).toEqual(['notified', 'verified'])
    expect(fulfilment.view(MON).verification).toMatchObject({ automatic: true, by: 'system' })
    expect(deadline(fulfilment.view(MON), 'verify')).toBeUndefined()
    expect(fulfilment.work).toBe('pay')
  })

  it('once paid is completed, every clock stopped, and leaves the queues', () => {
    const { fulfilment } = open({ autoVerify: true })
    fulfilment.paid({ reference: 'L-7', paidAt: TUE }, TUE)
    const view = fulfilment.view(TUE)
    expect(view).toMatchObject({ status: 'completed', payment: { status: 'paid', reference: 'L-7', paidAt: TUE } })
    expect(deadline(view, 'pay')?.state).toBe('met')
    expect(fulfilment.isOpen).toBe(false)
    expect(fulfilment.work).toBeUndefined()
    expect(kindDefinition('fulfilment')!.isOpen(view)).toBe(false)
  })

  it('is not for the beneficiary to confirm or decline', () => {
    const { fulfilment } = open()
    expect(refused(fulfilment, 'confirm', WINDOW, { account: '6222' })).toMatchObject({ code: 'invalid_transition' })
    expect(refused(fulfilment, 'decline', WINDOW)).toMatchObject({ code: 'invalid_transition' })
  })

  it('may be rejected by the department, with its reason, and ends', () => {
    const { fulfilment } = open()
    expect(refused(fulfilment, 'reject', HR)?.paths).toEqual(['/params'])
    expect(eventTypesOf(act(fulfilment, 'reject', HR, { reason: '已注销' }))).toEqual(['rejected'])
    expect(fulfilment.view(TUE)).toMatchObject({ status: 'rejected', ending: { status: 'rejected', reason: '已注销', by: 'gz-hr' } })
    expect(fulfilment.isOpen).toBe(false)
    expect(deadline(fulfilment.view(TUE), 'verify')?.state).toBe('cancelled')
  })
})

describe('a confirm-mode entitlement (意愿确认)', () => {
  const CONFIRM = { mode: 'confirm' as const, confirmWithin: { workingDays: 1 } }

  it('waits for the beneficiary, who confirms at a window with an account; then the department verifies', () => {
    const { fulfilment } = open(CONFIRM)
    expect(deadline(fulfilment.view(MON), 'confirm')).toMatchObject({ state: 'running', dueAt: endOfDay('2026-03-03') })
    expect(deadline(fulfilment.view(MON), 'verify')).toBeUndefined()
    expect(refused(fulfilment, 'verify', HR)).toMatchObject({ code: 'invalid_transition', message: 'the beneficiary has not confirmed yet' })
    expect(refused(fulfilment, 'confirm', WINDOW)?.code).toBe('validation_failed')
    expect(eventTypesOf(act(fulfilment, 'confirm', WINDOW, { account: '6222000011112222' }))).toEqual(['confirmed'])
    expect(fulfilment.state.payee.account).toBe('6222000011112222')
    const view = fulfilment.view(TUE)
    expect(view).toMatchObject({ status: 'confirmed', confirmation: { at: TUE, by: 'gz-center' } })
    expect(view).not.toHaveProperty('account')
    expect(deadline(view, 'confirm')?.state).toBe('met')
    expect(deadline(view, 'verify')?.state).toBe('running')
    act(fulfilment, 'verify', HR)
    expect(fulfilment.work).toBe('pay')
  })

  it('is declined when the confirmation window passes, with no supervision record', () => {
    const { fulfilment } = open(CONFIRM)
    const recorded = fulfilment.advance(endOfDay('2026-03-03'))
    expect(eventTypesOf(recorded)).toEqual(['deadline_warned', 'declined'])
    expect(fulfilment.view(endOfDay('2026-03-03'))).toMatchObject({
      status: 'declined', overdue: false, supervisions: [], ending: { reason: 'the confirmation window passed', by: 'system' },
    })
    expect(fulfilment.isOpen).toBe(false)
  })

  it('may be declined at the window', () => {
    const { fulfilment } = open(CONFIRM)
    act(fulfilment, 'decline', WINDOW)
    expect(fulfilment.view(TUE)).toMatchObject({ status: 'declined', ending: { reason: 'the beneficiary declined' } })
    expect(deadline(fulfilment.view(TUE), 'confirm')?.state).toBe('cancelled')
  })

  it('is refused without a confirmation window, at the door', () => {
    expect(refusalOf(() => open({ mode: 'confirm' }))).toMatchObject({ code: 'validation_failed', paths: ['/policy/confirmWithin'] })
  })
})

describe('an application (mode application)', () => {
  it('is submitted by the window and verified by the department', () => {
    const { fulfilment, recorded } = open({ mode: 'application' }, WINDOW)
    expect(eventTypesOf(recorded)).toEqual(['submitted'])
    expect(noticeOf('F', recorded[0]!)).toBeUndefined()
    expect(fulfilment.view(MON)).toMatchObject({ status: 'submitted', receivedBy: 'gz-center', handlingOrganizationId: 'gz-hr' })
    expect(kindDefinition('fulfilment')!.participants(fulfilment.view(MON))).toEqual(['gz-hr', 'gz-center'])
    act(fulfilment, 'verify', HR)
    expect(fulfilment.view(TUE).status).toBe('verified')
  })
})

describe('the budget (rule 25)', () => {
  it('spent: the case waits with a supervision record on the department, watched by its parent', () => {
    const { fulfilment } = open({ autoVerify: true })
    fulfilment.place({ 'gz-hr': 'gz' })
    const recorded = fulfilment.budgetExhausted(TUE)
    expect(eventTypesOf(recorded)).toEqual(['budget_exhausted', 'supervision_opened'])
    const view = fulfilment.view(TUE)
    expect(view.status).toBe('budget_exhausted')
    expect(view.budgetWaits).toEqual([{ since: TUE }])
    expect(view.supervisions).toEqual([expect.objectContaining({
      kind: 'automatic', level: 1, organizationId: 'gz-hr', supervisorOrganizationId: 'gz', deadlineKey: 'pay',
    })])
    expect(fulfilment.work).toBe('await_budget')
    // The department answers it; a supervisor may order more.
    expect(eventTypesOf(act(fulfilment, 'respond_supervision', HR, { note: '已申请追加预算' }))).toEqual(['supervision_responded'])
    expect(eventTypesOf(act(fulfilment, 'supervise', CITY_SUPERVISOR, { note: '尽快', respondWithin: { workingDays: 1 } })))
      .toEqual(['supervision_ordered'])
  })

  it('raised: the case goes on to payment, and its wait shows when it ended', () => {
    const { fulfilment } = open({ autoVerify: true })
    fulfilment.budgetExhausted(TUE)
    expect(eventTypesOf(fulfilment.budgetAvailable(endOfDay('2026-03-03')))).toEqual(['budget_available'])
    expect(fulfilment.view(TUE)).toMatchObject({ status: 'verified', budgetWaits: [{ since: TUE, until: endOfDay('2026-03-03') }] })
    expect(fulfilment.work).toBe('pay')
  })

  it('a case waiting for money may still be rejected', () => {
    const { fulfilment } = open({ autoVerify: true })
    fulfilment.budgetExhausted(TUE)
    act(fulfilment, 'reject', HR, { reason: '预算年度结束' })
    expect(fulfilment.isOpen).toBe(false)
  })
})

describe('a payment refused for good', () => {
  it('flags the case, supervises the department, stops the case paying, and lets the department reject it', () => {
    const { fulfilment } = open({ autoVerify: true })
    expect(refused(fulfilment, 'reject', HR, { reason: 'x' })).toMatchObject({
      code: 'invalid_transition', message: 'the case is verified and its payment is under way',
    })
    expect(eventTypesOf(fulfilment.paymentRefused('the account is closed', TUE))).toEqual(['payment_refused', 'supervision_opened'])
    const view = fulfilment.view(TUE)
    expect(view).toMatchObject({ status: 'verified', flags: ['payment_refused'], paymentRefusal: { at: TUE, reason: 'the account is closed' } })
    expect(view.supervisions).toEqual([expect.objectContaining({ organizationId: 'gz-hr', reason: 'the payment was refused: the account is closed' })])
    expect(fulfilment.work).toBeUndefined()
    fulfilment.paymentRefused('again', TUE)
    expect(fulfilment.view(TUE).flags).toEqual(['payment_refused'])
    act(fulfilment, 'reject', HR, { reason: '账户已注销' })
    expect(fulfilment.isOpen).toBe(false)
  })
})

describe('the statuses', () => {
  it('are open until completed, declined or rejected', () => {
    expect(ENDED_STATUSES).toEqual(['completed', 'declined', 'rejected'])
    for (const status of OPEN_STATUSES) expect(isOpenFulfilment({ status })).toBe(true)
    for (const status of ENDED_STATUSES) expect(isOpenFulfilment({ status })).toBe(false)
  })

  it('no one but a department verifies or rejects, and no one acts on an ended case', () => {
    const { fulfilment } = open({ autoVerify: true })
    expect(refused(fulfilment, 'reject', ADMIN, { reason: 'x' })?.code).toBe('forbidden')
    fulfilment.paid({ reference: 'r', paidAt: TUE }, TUE)
    expect(refused(fulfilment, 'reject', HR, { reason: 'x' })?.code).toBe('invalid_transition')
  })
})
