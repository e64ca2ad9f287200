import { describe, expect, it } from 'vitest'
import { type CalendarData, WorkingCalendar } from '../../src/domain/calendar.ts'
import { SYSTEM_ACTOR } from '../../src/domain/case/core.ts'
import type { RecordedEvent } from '../../src/domain/case-view.ts'
import { calendarWith } from '../support/time-skipping.ts'
import { CHIEF, DESK, HANDLER, OTHER_DEPT, refusalOf, TINY_AT, TinyCase, tinyCommand as command } from '../support/tiny-case.ts'

// The case kernel (src/domain/case/core.ts) through a kind written for the test: what every kind
// gets from it without writing a line of its own.

const TUESDAY_NOON = '2026-03-03T04:00:00.000Z'
const WEDNESDAY_NOON = '2026-03-04T04:00:00.000Z'
const THURSDAY_NOON = '2026-03-05T04:00:00.000Z'
/** Two working days from Monday: Wednesday 24:00 Guangzhou, warned from Tuesday 24:00. */
const DUE = '2026-03-04T16:00:00.000Z'
const WARN = '2026-03-03T16:00:00.000Z'

const types = (recorded: RecordedEvent[]) => recorded.map((r) => r.event.type)

function withClock(key = 'step-1', within: Record<string, unknown> = { workingDays: 2 }, external = false) {
  const kase = TinyCase.open()
  kase.apply(command('clock', HANDLER, { key, within, ...(external ? { external } : {}) }), TINY_AT)
  return kase
}

describe('the kernel refuses a command', () => {
  it('from a role the action does not name: forbidden, before the status is looked at', () => {
    const kase = TinyCase.open({ status: 'done' })
    expect(refusalOf(() => kase.check(command('note', CHIEF, { text: 'hi' }))))
      .toEqual({ code: 'forbidden', message: 'role supervisor may not note', paths: [] })
  })

  it('in a status the action is not allowed in: invalid_transition', () => {
    const kase = TinyCase.open({ status: 'done' })
    expect(refusalOf(() => kase.check(command('note', DESK, { text: 'hi' }))))
      .toEqual({ code: 'invalid_transition', message: 'cannot note a case that is done', paths: [] })
    // Another department's status problem is still a status problem.
    expect(refusalOf(() => kase.check(command('note', OTHER_DEPT, { text: 'hi' })))?.code).toBe('invalid_transition')
  })

  it('from a department that does not handle the case, when the action is handler-only; a window anywhere may', () => {
    const kase = TinyCase.open()
    expect(refusalOf(() => kase.check(command('note', OTHER_DEPT, { text: 'hi' }))))
      .toEqual({ code: 'forbidden', message: 'organisation gz-hr does not handle this case', paths: [] })
    // Before the kind's own check: a stranger learns nothing of the case's state.
    expect(refusalOf(() => kase.check(command('note', OTHER_DEPT, { text: 'no' })))?.code).toBe('forbidden')
    expect(refusalOf(() => kase.check(command('note', HANDLER, { text: 'hi' })))).toBeUndefined()
    expect(refusalOf(() => kase.check(command('note', { organizationId: 'elsewhere', role: 'window' }, { text: 'hi' })))).toBeUndefined()
    // Without handlerOnly any department with the role may.
    expect(refusalOf(() => kase.check(command('clock', OTHER_DEPT, { key: 'k', within: { workingDays: 1 } })))).toBeUndefined()
  })

  it('with the kind\'s own check, and requireHandler is there for kinds to call', () => {
    const kase = TinyCase.open()
    expect(refusalOf(() => kase.check(command('note', DESK, { text: 'no' })))).toEqual({ code: 'conflict', message: 'the case says no', paths: [] })
    expect(refusalOf(() => kase.requireHandler(OTHER_DEPT))?.code).toBe('forbidden')
    expect(refusalOf(() => kase.requireHandler(HANDLER))).toBeUndefined()
    expect(refusalOf(() => kase.requireHandler(CHIEF))).toBeUndefined()
  })

  it('whose parameters do not parse, before anything else, with /params paths', () => {
    const kase = TinyCase.open({ status: 'done' })
    expect(refusalOf(() => kase.check(command('note', CHIEF, { text: '' }))))
      .toMatchObject({ code: 'validation_failed', paths: ['/params/text'] })
  })

  it('and apply refuses exactly as check does, changing nothing and recording nothing', () => {
    const kase = withClock()
    const before = JSON.stringify(kase.state)
    for (const cmd of [command('note', DESK, { text: 'no' }), command('note', CHIEF, { text: 'x' }), command('hold', HANDLER, { x: 1 })]) {
      const checked = refusalOf(() => kase.check(cmd))
      expect(checked).toBeDefined()
      expect(refusalOf(() => kase.apply(cmd, TUESDAY_NOON))).toEqual(checked)
    }
    expect(JSON.stringify(kase.state)).toBe(before)
    expect(kase.apply(command('note', DESK, { text: 'fine' }), TUESDAY_NOON).map((r) => r.event.seq)).toEqual([2])
  })

  it('check alone applies nothing', () => {
    const kase = TinyCase.open()
    kase.check(command('hold', HANDLER))
    expect(kase.state.status).toBe('open')
    expect(kase.apply(command('hold', HANDLER), TINY_AT).map((r) => r.event.seq)).toEqual([1])
  })
})

describe('the kernel records events', () => {
  it('numbered from the case\'s last one, each with the actor, the time and the case as it stood right after it', () => {
    const kase = TinyCase.open()
    const first = kase.apply(command('note', DESK, { text: 'one' }), TINY_AT)
    const second = kase.apply(command('hold', HANDLER), TUESDAY_NOON)
    expect(first).toEqual([expect.objectContaining({
      event: { seq: 1, at: TINY_AT, type: 'noted', actor: DESK, data: { text: 'one' } },
    })])
    expect(first[0]!.view).toMatchObject({ version: 1, status: 'open', updatedAt: TINY_AT })
    expect(second[0]!.event).toMatchObject({ seq: 2, at: TUESDAY_NOON, type: 'held' })
    expect(second[0]!.view).toMatchObject({ version: 2, status: 'held', updatedAt: TUESDAY_NOON, createdAt: TINY_AT })
    expect(kase.state).toMatchObject({ seq: 2, updatedAt: TUESDAY_NOON })
  })

  it('hands each event over once', () => {
    const kase = TinyCase.open({ seq: 41 })
    kase.record('custom', CHIEF, TINY_AT, { a: 1 })
    expect(kase.advance(TINY_AT).map((r) => [r.event.seq, r.event.type])).toEqual([[42, 'custom']])
    expect(kase.advance(TINY_AT)).toEqual([])
  })

  it('in a view of the fields every kind shares', () => {
    const kase = TinyCase.open({ flags: ['priority'], id: 'T-9', receivedBy: 'gz-desk-2' })
    const view = kase.view(TINY_AT)
    expect(view).toEqual({
      id: 'T-9', status: 'open', version: 0, receivedBy: 'gz-desk-2', handlingOrganizationId: 'gz-amr', deadlines: [], overdue: false,
      warned: false, flags: ['priority'], createdAt: TINY_AT, updatedAt: TINY_AT, supervisions: [],
      kind: 'complaint', channel: 'hotline', priority: { greenChannel: false, urgent: false },
    })
    view.flags.push('changed')
    expect(kase.state.flags).toEqual(['priority'])
  })
})

describe('deadlines in the kernel', () => {
  it('wake the runner at the warning, then at the due time; a closed case never', () => {
    const kase = withClock()
    expect(kase.nextWakeMs()).toBe(Date.parse(WARN))
    kase.advance(WEDNESDAY_NOON)
    expect(kase.nextWakeMs()).toBe(Date.parse(DUE))
    const closed = withClock()
    closed.state.status = 'done'
    closed.state.rating = { score: 5, level: 'very_satisfied', at: TINY_AT, defaulted: false }
    expect(closed.nextWakeMs()).toBeUndefined()
    expect(TinyCase.open().nextWakeMs()).toBeUndefined()
  })

  it('rule 31: record deadline_warned by the system when a warning comes, and nothing before it', () => {
    const kase = withClock()
    expect(kase.advance(TUESDAY_NOON)).toEqual([])
    const warned = kase.advance(WEDNESDAY_NOON)
    expect(warned.map((r) => r.event)).toEqual([{
      seq: 2, at: WEDNESDAY_NOON, type: 'deadline_warned', actor: SYSTEM_ACTOR, data: { kind: 'step', key: 'step-1', dueAt: DUE },
    }])
    expect(SYSTEM_ACTOR).toEqual({ organizationId: 'system', role: 'admin' })
    expect(warned[0]!.view).toMatchObject({ warned: true, overdue: false, supervisions: [] })
    expect(kase.advance(WEDNESDAY_NOON)).toEqual([])
  })

  it('rule 32: make the case overdue when missed and open an automatic supervision on whoever owed the step', () => {
    const kase = withClock()
    kase.advance(WEDNESDAY_NOON)
    const missed = kase.advance(THURSDAY_NOON)
    expect(missed.map((r) => r.event)).toEqual([
      { seq: 3, at: THURSDAY_NOON, type: 'deadline_missed', actor: SYSTEM_ACTOR, data: { kind: 'step', key: 'step-1', dueAt: DUE } },
      { seq: 4, at: THURSDAY_NOON, type: 'supervision_opened', actor: SYSTEM_ACTOR, data: { id: 'S1', organizationId: 'gz-amr', deadlineKey: 'step-1' } },
    ])
    // The missed event's view is overdue but has no supervision yet; the next one has it.
    expect(missed[0]!.view).toMatchObject({ overdue: true, supervisions: [] })
    expect(missed[1]!.view.supervisions).toEqual([{
      id: 'S1', kind: 'automatic', organizationId: 'gz-amr', reason: 'step deadline missed', openedAt: THURSDAY_NOON, deadlineKey: 'step-1',
    }])
    expect(kase.state.overdue).toBe(true)
  })

  it('number supervisions on from those already open, and open them on the kind\'s owner of the step', () => {
    const kase = withClock('ask:gz-tax')
    kase.owners['ask:gz-tax'] = 'gz-tax'
    kase.apply(command('supervise', CHIEF, { note: 'hurry', respondWithin: { workingDays: 5 } }), TINY_AT)
    const missed = kase.advance(THURSDAY_NOON)
    expect(types(missed)).toEqual(['deadline_warned', 'deadline_missed', 'supervision_opened'])
    expect(missed[2]!.event.data).toEqual({ id: 'S2', organizationId: 'gz-tax', deadlineKey: 'ask:gz-tax' })
    expect(kase.view(THURSDAY_NOON).deadlines.find((d) => d.key === 'ask:gz-tax')?.organizationId).toBe('gz-tax')
  })

  it('leave a deadline event to the kind when it says it handled it', () => {
    const kase = withClock()
    const seen: string[] = []
    kase.hook = ({ deadline, change }) => {
      seen.push(`${deadline.key} ${change}`)
      return 'handled'
    }
    expect(kase.advance(THURSDAY_NOON)).toEqual([])
    expect(seen).toEqual(['step-1 warned', 'step-1 missed'])
    expect(kase.state.overdue).toBe(false)
    const other = withClock()
    other.hook = () => 'default'
    expect(types(other.advance(THURSDAY_NOON))).toEqual(['deadline_warned', 'deadline_missed', 'supervision_opened'])
  })

  it('watched by a child workflow are listed apart, never woken for, and act when the child reports', () => {
    const kase = withClock('ask:gz-hr', { workingDays: 2 }, true)
    kase.apply(command('clock', HANDLER, { key: 'own', within: { workingDays: 10 } }), TINY_AT)
    expect(kase.externalDeadlines.map((d) => d.key)).toEqual(['ask:gz-hr'])
    // Only the case's own deadline wakes it, and advancing past the external one changes nothing.
    expect(kase.nextWakeMs()).toBe(Date.parse('2026-03-13T16:00:00.000Z'))
    expect(kase.advance(THURSDAY_NOON)).toEqual([])
    kase.owners['ask:gz-hr'] = 'gz-hr'
    expect(kase.markExternal('ask:gz-hr', 'warned', WEDNESDAY_NOON).map((r) => [r.event.type, r.event.at])).toEqual([['deadline_warned', WEDNESDAY_NOON]])
    expect(kase.markExternal('ask:gz-hr', 'warned', WEDNESDAY_NOON)).toEqual([])
    const missed = kase.markExternal('ask:gz-hr', 'missed', THURSDAY_NOON)
    expect(types(missed)).toEqual(['deadline_missed', 'supervision_opened'])
    expect(missed[1]!.event.data).toMatchObject({ organizationId: 'gz-hr' })
    expect(kase.markExternal('no-such-key', 'missed', THURSDAY_NOON)).toEqual([])
    expect(kase.markExternal('ask:gz-hr', 'missed', THURSDAY_NOON)).toEqual([])
  })

  it('show as warned in the view only while running or paused', () => {
    const kase = withClock()
    kase.advance(WEDNESDAY_NOON)
    expect(kase.view(WEDNESDAY_NOON).warned).toBe(true)
    kase.apply(command('hold', HANDLER), WEDNESDAY_NOON)
    expect(kase.view(WEDNESDAY_NOON).deadlines[0]).toMatchObject({ state: 'paused', warned: true })
    expect(kase.view(WEDNESDAY_NOON).warned).toBe(true)
    kase.book.settle('step-1', 'met', WEDNESDAY_NOON)
    expect(kase.view(WEDNESDAY_NOON).warned).toBe(false)
    const missed = withClock()
    missed.advance(THURSDAY_NOON)
    expect(missed.view(THURSDAY_NOON)).toMatchObject({ warned: false, overdue: true })
  })

  it('say in the view who owes each step, when it settled and the working days it used', () => {
    const kase = withClock()
    kase.apply(command('clock', HANDLER, { key: 'quick', within: { duration: 'PT2H' } }), TINY_AT)
    kase.owners.quick = 'gz-tax'
    kase.book.settle('step-1', 'met', WEDNESDAY_NOON)
    kase.book.settle('quick', 'met', TUESDAY_NOON)
    const [step, quick] = kase.view(THURSDAY_NOON).deadlines
    expect(step).toMatchObject({ key: 'step-1', organizationId: 'gz-amr', state: 'met', settledAt: WEDNESDAY_NOON, workingDaysUsed: 2 })
    expect(quick).toMatchObject({ key: 'quick', organizationId: 'gz-tax', state: 'met', settledAt: TUESDAY_NOON })
    expect(quick).not.toHaveProperty('workingDaysUsed')
  })
})

describe('a new calendar', () => {
  /** The test calendar with 2027 not yet published: deadlines running into it are provisional. */
  const without2027 = (): CalendarData => {
    const data = calendarWith()
    return { ...data, years: data.years.map((y) => (y.year === 2027 ? { ...y, published: false } : y)) }
  }
  const LATE_DECEMBER = '2026-12-28T02:00:00.000Z'

  it('records deadlines_recomputed with each deadline\'s new due time when one moved', () => {
    const kase = withClock()
    const recorded = kase.recalendar(WorkingCalendar.from(calendarWith(['2026-03-03'], 7)), TINY_AT)
    expect(recorded.map((r) => r.event)).toEqual([{
      seq: 2, at: TINY_AT, type: 'deadlines_recomputed', actor: SYSTEM_ACTOR,
      data: { calendarVersion: 7, deadlines: [{ key: 'step-1', dueAt: '2026-03-05T16:00:00.000Z', provisional: false }] },
    }])
    expect(kase.view(TINY_AT).deadlines[0]!.dueAt).toBe('2026-03-05T16:00:00.000Z')
  })

  it('records nothing when nothing moved', () => {
    const kase = withClock()
    expect(kase.recalendar(WorkingCalendar.from(calendarWith(['2026-06-01'], 2)), TINY_AT)).toEqual([])
    expect(kase.state.seq).toBe(1)
  })

  it('records a deadline that stops being provisional though its due time stays', () => {
    const kase = new TinyCase(TinyCase.open({ createdAt: LATE_DECEMBER }).state, without2027())
    kase.apply(command('clock', HANDLER, { key: 'year-end', within: { workingDays: 5 } }), LATE_DECEMBER)
    const before = kase.view(LATE_DECEMBER).deadlines[0]!
    expect(before.provisional).toBe(true)
    const recorded = kase.recalendar(WorkingCalendar.from(calendarWith([], 2)), LATE_DECEMBER)
    expect(recorded.map((r) => r.event.data)).toEqual([{ calendarVersion: 2, deadlines: [{ key: 'year-end', dueAt: before.dueAt, provisional: false }] }])
  })
})
