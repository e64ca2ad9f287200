import { describe, expect, it } from 'vitest'
import { owedAnswers } from '../../src/domain/case/supervision.ts'
import type { RecordedEvent } from '../../src/domain/case-view.ts'
import type { Actor } from '../../src/domain/roles.ts'
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
    expect(owedAnswers(kase, HANDLER.organizationId).map((s) => s.id)).toEqual(['S1'])
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
    expect(owedAnswers(kase, HANDLER.organizationId)).toEqual([])
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
    expect(owedAnswers(moved, OTHER_DEPT.organizationId)).toEqual([])
    // Nor does gz-amr answer it: it no longer handles the case.
    expect(refusalOf(() => moved.check(command('respond_supervision', HANDLER, { note: 'x' })))?.code).toBe('forbidden')
    expect(refusalOf(() => moved.check(command('respond_supervision', OTHER_DEPT, { note: 'x' })))?.code).toBe('invalid_transition')
  })

  it('is taken by the handling department only, also after the service ended', () => {
    const kase = ordered()
    expect(refusalOf(() => kase.check(command('respond_supervision', OTHER_DEPT, { note: 'x' })))?.code).toBe('forbidden')
    expect(refusalOf(() => kase.check(command('respond_supervision', CHIEF, { note: 'x' }))))
      .toEqual({ code: 'forbidden', message: 'role supervisor may not respond_supervision', paths: [] })
    kase.state.status = 'done'
    expect(refusalOf(() => kase.check(command('respond_supervision', HANDLER, { note: 'x' })))).toBeUndefined()
    expect(refusalOf(() => kase.check(command('respond_supervision', HANDLER, { note: '' })))?.paths).toEqual(['/params/note'])
  })
})

// Levels (API.md "What every case kind shares"): a case started with the supervision settings.
describe('supervision that climbs the organisation tree', () => {
  // gz (the city) ⊃ gz-yx (a district) ⊃ gz-yx-amr (a department) ⊃ gz-yx-amr-1 (its office).
  const TREE = { 'gz-yx-amr-1': 'gz-yx-amr', 'gz-yx-amr': 'gz-yx', 'gz-yx': 'gz', gz: null }
  const OFFICE: Actor = { organizationId: 'gz-yx-amr-1', role: 'department' }
  const BUREAU: Actor = { organizationId: 'gz-yx-amr', role: 'department' }
  const DISTRICT: Actor = { organizationId: 'gz-yx', role: 'supervisor' }
  const MONDAY_NIGHT = '2026-03-02T16:00:00.000Z' // the end of Monday 2 March in Guangzhou

  function levelled(parents: Record<string, string | null> = { ...TREE }) {
    const kase = TinyCase.open({ handlingOrganizationId: OFFICE.organizationId, supervision: { respondWithin: { workingDays: 2 }, parents } })
    kase.apply(command('clock', OFFICE, { key: 'k', within: { duration: 'PT1H' } }), TINY_AT)
    return kase
  }
  const dueOf = (kase: TinyCase, key: string) => kase.book.get(key)!.dueAt
  /** Events but the warnings a deadline gives before it falls due. */
  const beyondWarnings = (recorded: RecordedEvent[]) => recorded.filter((r) => r.event.type !== 'deadline_warned')
  const records = (kase: TinyCase) => kase.state.supervisions.map((s) => [s.id, s.level, s.organizationId, s.supervisorOrganizationId])

  it('rule 32: a missed step opens level 1 on whoever owed it, watched by its parent, with its own deadline', () => {
    const kase = levelled()
    const missed = beyondWarnings(kase.advance('2026-03-02T03:00:00.000Z'))
    expect(missed.map((r) => [r.event.type, r.event.data])).toEqual([
      ['deadline_missed', { kind: 'step', key: 'k', dueAt: '2026-03-02T03:00:00.000Z' }],
      ['supervision_opened', {
        id: 'S1', organizationId: 'gz-yx-amr-1', deadlineKey: 'k', level: 1, supervisorOrganizationId: 'gz-yx-amr',
        dueAt: '2026-03-04T16:00:00.000Z',
      }],
    ])
    expect(kase.state.supervisions).toEqual([{
      id: 'S1', kind: 'automatic', organizationId: 'gz-yx-amr-1', reason: 'step deadline missed', openedAt: '2026-03-02T03:00:00.000Z',
      deadlineKey: 'k', level: 1, supervisorOrganizationId: 'gz-yx-amr', respondKey: 'supervision:S1', dueAt: '2026-03-04T16:00:00.000Z',
    }])
    // The record's answer is a deadline of the case like any other, owed by the supervised organisation.
    expect(kase.view(TINY_AT).deadlines.find((d) => d.key === 'supervision:S1')).toMatchObject({
      kind: 'supervision', state: 'running', dueAt: '2026-03-04T16:00:00.000Z', organizationId: 'gz-yx-amr-1',
    })
  })

  it('rule 22: an unanswered record opens the next level on the parent, and so on up to the root', () => {
    const kase = levelled()
    kase.advance('2026-03-02T03:00:00.000Z')
    const second = beyondWarnings(kase.advance(dueOf(kase, 'supervision:S1')))
    expect(second.map((r) => [r.event.type, r.event.data])).toEqual([
      ['deadline_missed', { kind: 'supervision', key: 'supervision:S1', dueAt: '2026-03-04T16:00:00.000Z' }],
      ['supervision_opened', {
        // Opened at midnight ending Wednesday, so Thursday is its start day: Friday and Monday count.
        id: 'S2', organizationId: 'gz-yx-amr', deadlineKey: 'supervision:S1', level: 2, supervisorOrganizationId: 'gz-yx',
        dueAt: '2026-03-09T16:00:00.000Z',
      }],
    ])
    expect(kase.state.supervisions[1]!.reason).toBe('level 1 supervision unanswered by gz-yx-amr-1')
    kase.advance(dueOf(kase, 'supervision:S2'))
    expect(records(kase)).toEqual([
      ['S1', 1, 'gz-yx-amr-1', 'gz-yx-amr'], ['S2', 2, 'gz-yx-amr', 'gz-yx'], ['S3', 3, 'gz-yx', 'gz'],
    ])
    // Level 4 sits on the city itself, the root: nobody above watches it, and its miss opens nothing more.
    kase.advance(dueOf(kase, 'supervision:S3'))
    expect(kase.state.supervisions[3]).toMatchObject({ id: 'S4', level: 4, organizationId: 'gz' })
    expect(kase.state.supervisions[3]).not.toHaveProperty('supervisorOrganizationId')
    // Nobody is above the root, so its miss needs no look-up of the tree.
    expect(kase.unplacedBy(Date.parse(dueOf(kase, 'supervision:S4')))).toEqual([])
    const last = beyondWarnings(kase.advance(dueOf(kase, 'supervision:S4')))
    expect(last.map((r) => r.event.type)).toEqual(['deadline_missed'])
    expect(kase.state.supervisions).toHaveLength(4)
    expect(kase.nextWakeMs()).toBeUndefined()
    expect(kase.state.overdue).toBe(true)
  })

  it('stops at an organisation the tree does not place under anyone', () => {
    const kase = levelled({ 'gz-yx-amr-1': null })
    kase.advance('2026-03-02T03:00:00.000Z')
    expect(kase.state.supervisions[0]).not.toHaveProperty('supervisorOrganizationId')
    expect(beyondWarnings(kase.advance(dueOf(kase, 'supervision:S1'))).map((r) => r.event.type)).toEqual(['deadline_missed'])
  })

  it('an answer in time meets the record\'s deadline, so nothing climbs', () => {
    const kase = levelled()
    kase.advance('2026-03-02T03:00:00.000Z')
    const answered = kase.apply(command('respond_supervision', OFFICE, { note: 'done now' }), MONDAY_NIGHT)
    expect(answered.map((r) => [r.event.type, r.event.data])).toEqual([['supervision_responded', { id: 'S1', note: 'done now' }]])
    expect(kase.state.supervisions[0]).toMatchObject({ respondedAt: MONDAY_NIGHT, response: 'done now' })
    expect(kase.book.get('supervision:S1')).toMatchObject({ state: 'met', settledAt: MONDAY_NIGHT })
    expect(kase.advance(NEXT_WEEK)).toEqual([])
    expect(kase.state.supervisions).toHaveLength(1)
  })

  it('each level answers its own record: a department above the handler, a government\'s supervisor', () => {
    const kase = levelled()
    kase.advance('2026-03-02T03:00:00.000Z')
    kase.advance(dueOf(kase, 'supervision:S1'))
    kase.advance(dueOf(kase, 'supervision:S2'))
    // The bureau does not handle the case, and still answers the record on it.
    expect(refusalOf(() => kase.check(command('respond_supervision', BUREAU, { note: 'x' })))).toBeUndefined()
    kase.apply(command('respond_supervision', BUREAU, { note: 'on it' }), NEXT_WEEK)
    expect(kase.state.supervisions.map((s) => s.respondedAt !== undefined)).toEqual([false, true, false])
    kase.apply(command('respond_supervision', DISTRICT, { note: 'we chased it' }), NEXT_WEEK)
    expect(kase.state.supervisions.map((s) => s.respondedAt !== undefined)).toEqual([false, true, true])
    expect(refusalOf(() => kase.check(command('respond_supervision', DISTRICT, { note: 'again' }))))
      .toEqual({ code: 'invalid_transition', message: 'no supervision record awaits an answer from gz-yx', paths: [] })
    expect(refusalOf(() => kase.check(command('respond_supervision', OTHER_DEPT, { note: 'x' })))?.message)
      .toBe('no supervision record awaits an answer from gz-hr')
  })

  it('answers an order and a record on the same organisation one at a time, oldest first', () => {
    const kase = levelled()
    kase.advance('2026-03-02T03:00:00.000Z')
    kase.apply(command('supervise', CHIEF, { note: 'why?', respondWithin: { workingDays: 1 } }), '2026-03-02T03:00:00.000Z')
    expect(kase.state.supervisions[1]).toMatchObject({ kind: 'order', respondKey: 'supervision:S2', dueAt: MONDAY_NIGHT.replace('02T', '03T') })
    expect(kase.apply(command('respond_supervision', OFFICE, { note: 'a' }), TINY_AT)[0]!.event.data).toEqual({ id: 'S1', note: 'a' })
    expect(kase.apply(command('respond_supervision', OFFICE, { note: 'b' }), TINY_AT)[0]!.event.data).toEqual({ id: 'S2', note: 'b' })
    expect(kase.book.get('supervision:S2')?.state).toBe('met')
  })

  it('says which organisations it must place in the tree before acting on what falls due', () => {
    const kase = levelled({})
    kase.apply(command('clock', OFFICE, { key: 'later', within: { workingDays: 5 } }), TINY_AT)
    kase.owners.later = 'gz-hr'
    expect(kase.unplacedBy(Date.parse(TINY_AT))).toEqual([])
    // Only the step due by then; the later one's owner is not asked for yet.
    expect(kase.unplacedBy(Date.parse('2026-03-02T03:00:00.000Z'))).toEqual(['gz-yx-amr-1'])
    expect(kase.unplacedBy(Number.POSITIVE_INFINITY)).toEqual(['gz-hr', 'gz-yx-amr-1'])
    kase.place({ 'gz-yx-amr-1': 'gz-yx-amr' })
    expect(kase.unplacedBy(Date.parse('2026-03-02T03:00:00.000Z'))).toEqual([])
    kase.advance('2026-03-02T03:00:00.000Z')
    // The open record's miss will open level 2 on its supervisor: that one's parent is wanted next.
    expect(kase.unplacedBy(Date.parse(dueOf(kase, 'supervision:S1')))).toEqual(['gz-yx-amr'])
    kase.place({ 'gz-yx-amr': null })
    expect(kase.unplacedBy(Date.parse(dueOf(kase, 'supervision:S1')))).toEqual([])
    kase.apply(command('respond_supervision', OFFICE, { note: 'ok' }), TINY_AT)
    // Settled deadlines want nothing.
    expect(kase.unplacedBy(Number.POSITIVE_INFINITY)).toEqual(['gz-hr'])
  })

  it('leaves a case without levels as it was: single-level records, nothing to look up', () => {
    const kase = TinyCase.open()
    kase.apply(command('clock', HANDLER, { key: 'k', within: { duration: 'PT1H' } }), TINY_AT)
    expect(kase.unplacedBy(Number.POSITIVE_INFINITY)).toEqual([])
    kase.place({ 'gz-amr': 'gz' })
    expect(kase.state.supervision).toBeUndefined()
    const missed = kase.advance(NEXT_WEEK)
    expect(missed.at(-1)!.event.data).toEqual({ id: 'S1', organizationId: 'gz-amr', deadlineKey: 'k' })
    expect(kase.state.supervisions[0]).not.toHaveProperty('level')
    expect(kase.book.items.map((d) => d.key)).toEqual(['k'])
    kase.apply(command('supervise', CHIEF, { note: 'why?', respondWithin: { workingDays: 1 } }), NEXT_WEEK)
    expect(kase.state.supervisions[1]).not.toHaveProperty('dueAt')
    expect(kase.state.supervisions[1]).not.toHaveProperty('respondKey')
  })
})
