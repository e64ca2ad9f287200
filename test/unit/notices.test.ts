import { describe, expect, it } from 'vitest'
import type { CaseView, RecordedEvent } from '../../src/domain/case-view.ts'
import { noticeOf } from '../../src/domain/notices.ts'

const APPLICANT = { type: 'person' as const, name: '张三', idNumber: '440106199001011234' }
const AT = '2026-03-03T02:00:00.000Z'
const STATUTORY_DUE = '2026-04-01T16:00:00.000Z'

const view = (overrides: Partial<CaseView> = {}): CaseView => ({
  id: 'A1', kind: 'application', status: 'accepted', version: 3, channel: 'window', receivedBy: 'gz-center',
  handlingOrganizationId: 'gz-amr', priority: { greenChannel: false, urgent: false },
  deadlines: [{ kind: 'statutory', key: 'statutory', dueAt: STATUTORY_DUE, warnAt: STATUTORY_DUE, state: 'running', provisional: false, warned: false }],
  overdue: false, warned: false, flags: [], createdAt: AT, updatedAt: AT,
  applicant: APPLICANT, serviceItemCode: 'ITEM-1',
  ...overrides,
} as CaseView)

const recorded = (type: string, data: Record<string, unknown>, v: CaseView = view()): RecordedEvent =>
  ({ event: { seq: 4, at: AT, type, actor: { organizationId: 'gz-amr', role: 'department' }, data }, view: v }) as RecordedEvent

describe('notices to applicants', () => {
  it('rule 12: tell of a suspension, and whether the statutory clock stops with it', () => {
    const art45 = noticeOf('A1', recorded('suspended', { reason: 'inspection', note: 'site visit', statutoryPaused: true }))
    expect(art45).toEqual({
      id: 'A1:4', caseId: 'A1', seq: 4, type: 'suspended', at: AT, recipient: APPLICANT, serviceItemCode: 'ITEM-1',
      details: { reason: 'inspection', note: 'site visit', statutoryPaused: true },
      text: 'Application A1 is suspended (inspection): site visit; the time limit stands still meanwhile.',
    })
    expect(noticeOf('A1', recorded('suspended', { reason: 'public_notice', statutoryPaused: false }))?.text)
      .toBe('Application A1 is suspended (public_notice); the promised time limit stands still meanwhile, the statutory one runs on.')
    // Cases under the first rules record no statutoryPaused: every suspension stopped both clocks.
    const old = noticeOf('A1', recorded('suspended', { reason: 'other' }))
    expect(old?.text).toBe('Application A1 is suspended (other); the time limit stands still meanwhile.')
    // Only the facts the event has: no key for a note or a flag it did not record.
    expect(old?.details).toStrictEqual({ reason: 'other' })
    expect(noticeOf('A1', recorded('suspended', {}))?.text).toBe('Application A1 is suspended (); the time limit stands still meanwhile.')
  })

  it('rule 10: tell of the extension, its reason and the new statutory due date', () => {
    const notice = noticeOf('A1', recorded('extended', { workingDays: 10, reason: 'complex', approvedBy: 'Director Chen' }))
    expect(notice?.details).toStrictEqual({ workingDays: 10, reason: 'complex', newDueAt: STATUTORY_DUE })
    // The statutory deadline's date, whichever deadlines come before it.
    const promised = { ...view().deadlines[0]!, kind: 'promised', key: 'promised', dueAt: AT }
    expect(noticeOf('A1', recorded('extended', { workingDays: 10, reason: 'complex' }, view({ deadlines: [promised, ...view().deadlines] })))?.details)
      .toStrictEqual({ workingDays: 10, reason: 'complex', newDueAt: STATUTORY_DUE })
    expect(notice?.text).toBe('The time limit of application A1 is extended by 10 working days: complex.')
    expect(noticeOf('A1', recorded('extended', { workingDays: 5, reason: 'r' }, view({ deadlines: [] })))?.details).toStrictEqual({ workingDays: 5, reason: 'r' })
  })

  it('rule 7: tell of a refusal with its written reason', () => {
    expect(noticeOf('A1', recorded('rejected', { reason: 'not competent', extra: 1 }))).toMatchObject({
      type: 'rejected', details: { reason: 'not competent' }, text: 'Application A1 is not accepted: not competent.',
    })
    expect(noticeOf('A1', recorded('denied', { reason: 'conditions not met' }))).toMatchObject({
      type: 'denied', details: { reason: 'conditions not met' }, text: 'Application A1 is refused: conditions not met.',
    })
  })

  it('tell that the result is ready, where, and with which certificate', () => {
    expect(noticeOf('A1', recorded('result_issued', { certificateNo: 'GZ-1' }))).toMatchObject({
      details: { certificateNo: 'GZ-1', collectAt: 'gz-center' }, text: 'The result of application A1 is ready (certificate GZ-1).',
    })
    const plain = noticeOf('A1', recorded('result_issued', {}))
    expect(plain?.details).toStrictEqual({ collectAt: 'gz-center' })
    expect(plain?.text).toBe('The result of application A1 is ready.')
  })

  it('are owed for no other event, by no other kind, and not without an applicant', () => {
    for (const type of ['submitted', 'accepted', 'delivered', 'approved']) expect(noticeOf('A1', recorded(type, {}))).toBeUndefined()
    expect(noticeOf('A1', recorded('rejected', { reason: 'r' }, view({ kind: 'escalation' } as Partial<CaseView>)))).toBeUndefined()
    const { applicant: _, ...withoutApplicant } = view()
    expect(noticeOf('A1', recorded('rejected', { reason: 'r' }, withoutApplicant as CaseView))).toBeUndefined()
    // No item code, none in the notice.
    expect(noticeOf('A1', recorded('rejected', { reason: 'r' }, view({ serviceItemCode: undefined })))).not.toHaveProperty('serviceItemCode')
  })
})
