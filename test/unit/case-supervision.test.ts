import { describe, expect, it } from 'vitest'
import { openOrder } from '../../src/domain/case/supervision.ts'
import { CHIEF, DESK, HANDLER, OTHER_DEPT, refusalOf, TINY_AT, TinyCase, tinyCommand as command } from '../support/tiny-case.ts'

// Supervision orders (督办) and their answers (src/domain/case/supervision.ts), shared by every
// kind: here through the test kind, which allows orders while open or held.

const LATER = '2026-03-03T04:00:00.000Z'
const NEXT_WEEK = '2026-03-10T04:00:00.000Z'

function ordered(respondWithin: Record<string, unknown> = { workingDays: 2 }) {
  const kase = TinyCase.open()
  kase.apply(command('supervise', CHIEF, { note: 'why so slow?', respondWithin }), TINY_AT)
  return kase
}

describe('supervise', () => {
  it('rule 32: orders the handling organisation to answer within the limit given', () => {
    const kase = TinyCase.open()
    const recorded = kase.apply(command('supervise', CHIEF, { note: 'why so slow?', respondWithin: { workingDays: 2 } }), TINY_AT)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['supervision_ordered', CHIEF, {
      id: 'S1', organizationId: 'gz-amr', note: 'why so slow?', respondWithin: { workingDays: 2 },
    }]])
    expect(recorded[0]!.view.supervisions).toEqual([{
      id: 'S1', kind: 'order', organizationId: 'gz-amr', reason: 'why so slow?', openedAt: TINY_AT, orderedBy: 'gz', deadlineKey: 'supervision:S1',
    }])
    expect(kase.view(TINY_AT).deadlines).toEqual([expect.objectContaining({
      kind: 'supervision', key: 'supervision:S1', state: 'running', dueAt: '2026-03-04T16:00:00.000Z', organizationId: 'gz-amr',
    })])
    expect(openOrder(kase)?.id).toBe('S1')
  })

  it('numbers orders after every supervision record, automatic ones included', () => {
    const kase = ordered()
    kase.advance(NEXT_WEEK) // the first order's deadline is missed: S2 is opened automatically
    expect(kase.state.supervisions.map((s) => [s.id, s.kind])).toEqual([['S1', 'order'], ['S2', 'automatic']])
    kase.apply(command('supervise', CHIEF, { note: 'answer now', respondWithin: { duration: 'PT4H' } }), NEXT_WEEK)
    expect(kase.state.supervisions.map((s) => s.id)).toEqual(['S1', 'S2', 'S3'])
    expect(kase.book.get('supervision:S3')?.dueAt).toBe('2026-03-10T08:00:00.000Z')
  })

  it('is for supervisors only, in the statuses the kind names, with a limit that parses', () => {
    expect(refusalOf(() => TinyCase.open().check(command('supervise', DESK, { note: 'x', respondWithin: { workingDays: 1 } })))?.code).toBe('forbidden')
    expect(refusalOf(() => TinyCase.open({ status: 'done' }).check(command('supervise', CHIEF, { note: 'x', respondWithin: { workingDays: 1 } })))?.code)
      .toBe('invalid_transition')
    expect(refusalOf(() => TinyCase.open({ status: 'held' }).check(command('supervise', CHIEF, { note: 'x', respondWithin: { workingDays: 1 } }))))
      .toBeUndefined()
    expect(refusalOf(() => TinyCase.open().check(command('supervise', CHIEF, { note: 'x', respondWithin: { duration: 'P1.5W2D' } })))?.paths)
      .toEqual(['/params/respondWithin/duration'])
  })
})

describe('respond_supervision', () => {
  it('answers the open order, meets its deadline and closes it', () => {
    const kase = ordered()
    const recorded = kase.apply(command('respond_supervision', HANDLER, { note: 'short of staff' }), LATER)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['supervision_responded', HANDLER, { id: 'S1', note: 'short of staff' }]])
    expect(kase.state.supervisions[0]).toMatchObject({ respondedAt: LATER, response: 'short of staff' })
    expect(kase.view(LATER).deadlines[0]).toMatchObject({ key: 'supervision:S1', state: 'met', settledAt: LATER, workingDaysUsed: 1 })
    expect(openOrder(kase)).toBeUndefined()
    expect(refusalOf(() => kase.check(command('respond_supervision', HANDLER, { note: 'again' }))))
      .toEqual({ code: 'invalid_transition', message: 'no supervision order is open', paths: [] })
  })

  it('answers orders one at a time, oldest first', () => {
    const kase = ordered()
    kase.apply(command('supervise', CHIEF, { note: 'and this', respondWithin: { workingDays: 3 } }), TINY_AT)
    expect(kase.apply(command('respond_supervision', HANDLER, { note: 'a' }), LATER)[0]!.event.data).toEqual({ id: 'S1', note: 'a' })
    expect(kase.apply(command('respond_supervision', HANDLER, { note: 'b' }), LATER)[0]!.event.data).toEqual({ id: 'S2', note: 'b' })
  })

  it('is refused with no order, for an automatic record, and for an order to a former handler', () => {
    expect(refusalOf(() => TinyCase.open().check(command('respond_supervision', HANDLER, { note: 'x' })))?.message).toBe('no supervision order is open')
    const automatic = TinyCase.open()
    automatic.apply(command('clock', HANDLER, { key: 'k', within: { workingDays: 1 } }), TINY_AT)
    automatic.advance(NEXT_WEEK)
    expect(automatic.state.supervisions.map((s) => s.kind)).toEqual(['automatic'])
    expect(refusalOf(() => automatic.check(command('respond_supervision', HANDLER, { note: 'x' })))?.code).toBe('invalid_transition')
    // The case moved to gz-hr: the order was to gz-amr, so gz-hr has none to answer.
    const moved = ordered()
    moved.state.handlingOrganizationId = OTHER_DEPT.organizationId
    expect(openOrder(moved)).toBeUndefined()
    expect(refusalOf(() => moved.check(command('respond_supervision', OTHER_DEPT, { note: 'x' })))?.code).toBe('invalid_transition')
  })

  it('is taken by the handling department only, also after the service ended', () => {
    const kase = ordered()
    expect(refusalOf(() => kase.check(command('respond_supervision', OTHER_DEPT, { note: 'x' })))?.code).toBe('forbidden')
    expect(refusalOf(() => kase.check(command('respond_supervision', CHIEF, { note: 'x' })))?.code).toBe('forbidden')
    kase.state.status = 'done'
    expect(refusalOf(() => kase.check(command('respond_supervision', HANDLER, { note: 'x' })))).toBeUndefined()
    expect(refusalOf(() => kase.check(command('respond_supervision', HANDLER, { note: '' })))?.paths).toEqual(['/params/note'])
  })
})
