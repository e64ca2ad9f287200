// The deadlines of one case as the workflow keeps them: started, paused, resumed, extended,
// settled, and the instants at which the case must wake up to warn or mark one missed.
import { describe, expect, it } from 'vitest'
import { WorkingCalendar, type CalendarData, type CalendarDay } from '../../src/domain/calendar.ts'
import { DeadlineBook } from '../../src/domain/deadline-book.ts'
import type { DeadlineSpec } from '../../src/domain/deadline-clock.ts'

// Pinned data: 2026 published, Monday–Friday but for one holiday on Monday 9 March; 2027 not in the
// data, so unpublished (Monday–Friday, provisional).
const HOLIDAY: CalendarDay = { date: '2026-03-09', working: false, name: 'test holiday' }
const data = (days: CalendarDay[] = [HOLIDAY], with2027 = false): CalendarData => ({
  version: 1,
  years: [{ year: 2026, published: true, days }, ...(with2027 ? [{ year: 2027, published: true, days: [] }] : [])],
})
const calendar = () => WorkingCalendar.from(data())
const ms = (iso: string) => Date.parse(iso)

const MONDAY = '2026-03-02T10:00:00+08:00'
/** 5 working days from Monday 2 March: 3, 4, 5, 6 and (the 9th a holiday) Tuesday 10 March. */
const fiveDays: DeadlineSpec = { limit: { workingDays: 5 }, startAt: MONDAY }
const DUE = '2026-03-10T16:00:00.000Z'
/** The end of the working day before the due day: Friday 6 March. */
const WARN = '2026-03-06T16:00:00.000Z'
/** Thursday 5 March: three working days after the start. */
const SETTLED = '2026-03-05T10:00:00+08:00'

function bookWith(...keys: string[]): DeadlineBook {
  const book = new DeadlineBook(calendar())
  for (const key of keys) book.start('acceptance', key, fiveDays)
  return book
}

describe('starting a deadline', () => {
  it('computes its due and warning instants on the case calendar', () => {
    const book = new DeadlineBook(calendar())
    const d = book.start('acceptance', 'acceptance', fiveDays)
    expect(d).toEqual({
      kind: 'acceptance', key: 'acceptance', spec: fiveDays, state: 'running', warned: false,
      dueAt: DUE, warnAt: WARN, provisional: false,
    })
    expect(book.items).toEqual([d])
    expect(book.get('acceptance')).toBe(d)
    expect(book.get('other')).toBeUndefined()
  })

  it('marks a deadline reaching into an unpublished year as provisional', () => {
    const book = new DeadlineBook(calendar())
    const d = book.start('result', 'result', { limit: { workingDays: 5 }, startAt: '2026-12-28T10:00:00+08:00' })
    expect(d).toMatchObject({ dueAt: '2027-01-04T16:00:00.000Z', provisional: true })
    expect(book.hasProvisional).toBe(true)
  })

  it('restarts a deadline under the same key in place, clearing its warning', () => {
    const book = bookWith('a', 'b')
    book.advance(ms(WARN))
    const restarted = book.start('acceptance', 'a', { limit: { workingDays: 1 }, startAt: '2026-03-10T09:00:00+08:00' })
    expect(book.items.map((d) => d.key)).toEqual(['a', 'b'])
    expect(book.items[0]).toBe(restarted)
    expect(restarted).toMatchObject({ state: 'running', warned: false, dueAt: '2026-03-11T16:00:00.000Z' })
    expect(book.items[1]).toMatchObject({ warned: true })
  })

  it('leaves a deadline watched elsewhere out of the case timers', () => {
    const book = new DeadlineBook(calendar())
    const external = book.start('opinion', 'opinion:gz-hr', fiveDays, { external: true })
    const own = book.start('acceptance', 'acceptance', { ...fiveDays, limit: { workingDays: 8 } })
    expect(external.external).toBe(true)
    expect(own).not.toHaveProperty('external')
    expect(book.nextWakeMs()).toBe(ms(own.warnAt))
    expect(book.advance(ms(DUE))).toEqual([])
    expect(external.state).toBe('running')
    expect(book.start('opinion', 'x', fiveDays, { external: false })).not.toHaveProperty('external')
  })
})

describe('open and settled deadlines', () => {
  it('counts running and paused deadlines as open, and settles only those', () => {
    const book = bookWith('running', 'paused', 'met', 'missed')
    book.pause(['paused'], '2026-03-03T10:00:00+08:00')
    book.settle('met', 'met', SETTLED)
    book.get('missed')!.state = 'missed'
    expect(['running', 'paused', 'met', 'missed', 'unknown'].map((k) => book.isOpen(k))).toEqual([true, true, false, false, false])

    book.settle('missed', 'met', SETTLED)
    book.settle('met', 'cancelled', SETTLED)
    book.settle('paused', 'cancelled', SETTLED)
    book.settle('unknown', 'met', SETTLED)
    expect(book.items.map((d) => d.state)).toEqual(['running', 'cancelled', 'met', 'missed'])
  })

  it('cancels every open deadline when the case ends, and nothing already settled', () => {
    const book = bookWith('running', 'paused', 'met', 'missed')
    book.pause(['paused'], '2026-03-03T10:00:00+08:00')
    book.settle('met', 'met', SETTLED)
    book.get('missed')!.state = 'missed'
    book.cancelAll(SETTLED)
    expect(book.items.map((d) => d.state)).toEqual(['cancelled', 'cancelled', 'met', 'missed'])
    expect(book.nextWakeMs()).toBeUndefined()
  })
})

describe('settling', () => {
  it('records when a deadline settled and the working days it took, pauses left out', () => {
    const book = bookWith('met', 'cancelled', 'paused')
    book.pause(['paused'], '2026-03-03T10:00:00+08:00')
    book.resume(['paused'], '2026-03-04T10:00:00+08:00')
    book.settle('met', 'met', SETTLED)
    book.settle('cancelled', 'cancelled', '2026-03-02T18:00:00+08:00')
    book.settle('paused', 'met', SETTLED)
    // 3, 4 and 5 March; on the start day, none; the 3rd paused, so two.
    expect(book.items.map((d) => [d.state, d.settledAt, d.workingDaysUsed])).toEqual([
      ['met', SETTLED, 3], ['cancelled', '2026-03-02T18:00:00+08:00', 0], ['met', SETTLED, 2],
    ])
  })

  it('counts working days used only for working-day limits', () => {
    const book = new DeadlineBook(calendar())
    const d = book.start('reply', 'hours', { limit: { duration: 'PT48H' }, startAt: MONDAY })
    book.settle('hours', 'met', SETTLED)
    expect(d).toMatchObject({ state: 'met', settledAt: SETTLED })
    expect(d).not.toHaveProperty('workingDaysUsed')
  })

  it('keeps the first settlement when settled again', () => {
    const book = bookWith('a')
    book.settle('a', 'met', SETTLED)
    book.settle('a', 'cancelled', '2026-03-10T10:00:00+08:00')
    book.cancelAll('2026-03-10T10:00:00+08:00')
    expect(book.get('a')).toMatchObject({ state: 'met', settledAt: SETTLED, workingDaysUsed: 3 })
  })

  it('settles every open deadline at the instant the case ends', () => {
    const book = bookWith('a', 'b')
    book.pause(['b'], '2026-03-03T10:00:00+08:00')
    book.cancelAll(SETTLED)
    // b, paused since the 3rd, loses the 3rd and 4th: a pause ends with the day before it ends.
    expect(book.items.map((d) => [d.state, d.settledAt, d.workingDaysUsed])).toEqual([
      ['cancelled', SETTLED, 3], ['cancelled', SETTLED, 1],
    ])
  })
})

describe('suspension (Art. 45)', () => {
  it('stops the clock of the named running deadlines only', () => {
    const book = bookWith('a', 'b', 'c')
    book.settle('c', 'met', SETTLED)
    book.pause(['a', 'c'], '2026-03-04T10:00:00+08:00')
    expect(book.items.map((d) => d.state)).toEqual(['paused', 'running', 'met'])
    expect(book.get('a')!.spec.pauses).toEqual([{ from: '2026-03-04T10:00:00+08:00' }])
    expect(book.get('b')!.spec.pauses).toBeUndefined()
    expect(book.get('c')!.spec.pauses).toBeUndefined()
  })

  it('moves the due date by the working days paused, once resumed', () => {
    const book = bookWith('a')
    book.pause(['a'], '2026-03-04T10:00:00+08:00')
    // Paused as of the day it started: no working day lost yet.
    expect(book.get('a')).toMatchObject({ dueAt: DUE, state: 'paused' })
    book.resume(['a'], '2026-03-06T10:00:00+08:00')
    // 4 and 5 March were paused: two more working days, to Thursday 12 March.
    expect(book.get('a')).toMatchObject({
      state: 'running', dueAt: '2026-03-12T16:00:00.000Z', warnAt: '2026-03-11T16:00:00.000Z',
      spec: { ...fiveDays, pauses: [{ from: '2026-03-04T10:00:00+08:00', to: '2026-03-06T10:00:00+08:00' }] },
    })
  })

  it('recomputes a paused deadline as if it resumed at the instant of the pause', () => {
    const book = bookWith('a')
    book.pause(['a'], '2026-03-04T10:00:00+08:00')
    // Paused again without a resume: nothing changes, the deadline is not running.
    book.pause(['a'], '2026-03-05T10:00:00+08:00')
    expect(book.get('a')!.spec.pauses).toHaveLength(1)
    expect(book.nextWakeMs()).toBeUndefined()
    expect(book.advance(ms('2026-04-01T00:00:00Z'))).toEqual([])
    // As of the 5th, the 4th is lost: due on the 11th, with the 6th, 10th and 11th left.
    expect(book.views('2026-03-05T10:00:00+08:00')[0]).toMatchObject({ state: 'paused', workingDaysLeft: 3 })
  })

  it('resumes only paused deadlines, and closes only the open pause', () => {
    const book = bookWith('a', 'b')
    book.pause(['a'], '2026-03-03T10:00:00+08:00')
    book.resume(['a'], '2026-03-04T10:00:00+08:00')
    book.pause(['a'], '2026-03-05T10:00:00+08:00')
    book.resume(['a', 'b'], '2026-03-06T10:00:00+08:00')
    expect(book.get('a')!.spec.pauses).toEqual([
      { from: '2026-03-03T10:00:00+08:00', to: '2026-03-04T10:00:00+08:00' },
      { from: '2026-03-05T10:00:00+08:00', to: '2026-03-06T10:00:00+08:00' },
    ])
    expect(book.get('b')).toMatchObject({ state: 'running', dueAt: DUE })
    expect(book.get('b')!.spec.pauses).toBeUndefined()
    // 3 and 5 March paused: due two working days later.
    expect(book.get('a')!.dueAt).toBe('2026-03-12T16:00:00.000Z')
  })

  it('keeps a warning already given when the resume leaves the warning instant behind it', () => {
    const book = bookWith('a')
    expect(book.advance(ms(WARN))).toHaveLength(1)
    book.pause(['a'], '2026-03-07T10:00:00+08:00')
    book.resume(['a'], '2026-03-11T10:00:00+08:00')
    // 10 March (the 9th is a holiday) was paused: due Wednesday 11th, warning at the end of the 10th.
    expect(book.get('a')).toMatchObject({ dueAt: '2026-03-11T16:00:00.000Z', warnAt: '2026-03-10T16:00:00.000Z', warned: true })
    expect(book.nextWakeMs()).toBe(ms('2026-03-11T16:00:00.000Z'))
  })

  it('warns again after a resume when a calendar correction during the suspension moved the warning ahead', () => {
    const book = bookWith('a')
    book.advance(ms(WARN))
    book.pause(['a'], '2026-03-07T10:00:00+08:00')
    // Corrected while suspended: 5 and 6 March were holidays too.
    const corrected = [{ date: '2026-03-05', working: false }, { date: '2026-03-06', working: false }, HOLIDAY]
    book.recalendar(WorkingCalendar.from(data(corrected)), '2026-03-08T09:00:00+08:00')
    expect(book.get('a')).toMatchObject({ warnAt: '2026-03-11T16:00:00.000Z', warned: true })
    book.resume(['a'], '2026-03-08T12:00:00+08:00')
    // 3, 4, 10, 11 and 12 March: due on the 12th, warned again at the end of the 11th.
    expect(book.get('a')).toMatchObject({ dueAt: '2026-03-12T16:00:00.000Z', warnAt: '2026-03-11T16:00:00.000Z', warned: false })
    expect(book.nextWakeMs()).toBe(ms('2026-03-11T16:00:00.000Z'))
  })

  it('keeps a warning given at the very instant of a resume that changed nothing', () => {
    const book = bookWith('a')
    book.advance(ms(WARN))
    book.pause(['a'], WARN)
    book.resume(['a'], WARN)
    expect(book.get('a')).toMatchObject({ warnAt: WARN, warned: true })
  })
})

describe('extension (延期)', () => {
  it('adds working days to the limit, cumulatively', () => {
    const book = bookWith('a')
    book.extend('a', 2, '2026-03-05T10:00:00+08:00')
    expect(book.get('a')).toMatchObject({ dueAt: '2026-03-12T16:00:00.000Z', spec: { extensionWorkingDays: 2 } })
    book.extend('a', 1, '2026-03-05T11:00:00+08:00')
    expect(book.get('a')).toMatchObject({ dueAt: '2026-03-13T16:00:00.000Z', spec: { extensionWorkingDays: 3 } })
    book.extend('missing', 5, '2026-03-05T11:00:00+08:00')
    expect(book.items).toHaveLength(1)
  })

  it('clears a warning the extension moved into the future, and only that', () => {
    const book = bookWith('a')
    book.advance(ms(WARN))
    book.extend('a', 1, '2026-03-07T10:00:00+08:00')
    expect(book.get('a')).toMatchObject({ warnAt: '2026-03-10T16:00:00.000Z', warned: false })

    const late = bookWith('a')
    late.advance(ms(WARN))
    late.extend('a', 1, '2026-03-11T10:00:00+08:00')
    expect(late.get('a')).toMatchObject({ warnAt: '2026-03-10T16:00:00.000Z', warned: true })

    const same = bookWith('a')
    same.advance(ms(WARN))
    same.extend('a', 0, WARN)
    expect(same.get('a')).toMatchObject({ warnAt: WARN, warned: true })
  })
})

describe('extending or relimiting only what is open', () => {
  it('rule 10: an extension leaves a met, missed or cancelled deadline as it ended', () => {
    const book = bookWith('missed', 'met', 'cancelled')
    book.settle('met', 'met', SETTLED)
    book.settle('cancelled', 'cancelled', SETTLED)
    book.advance(ms(DUE))
    expect(book.items.map((d) => d.state)).toEqual(['missed', 'met', 'cancelled'])
    const missed = { ...book.get('missed')! }
    const before = JSON.stringify(book.items.slice(1))
    for (const key of ['missed', 'met', 'cancelled']) book.extend(key, 5, SETTLED)
    expect(book.get('missed')).toEqual(missed)
    expect(JSON.stringify(book.items.slice(1))).toBe(before)
  })

  it('rule 10: a new limit counts from the deadline\'s own start, keeps its pauses and extension, and warns again when moved ahead', () => {
    const book = bookWith('a')
    book.pause(['a'], '2026-03-03T10:00:00+08:00')
    book.resume(['a'], '2026-03-04T10:00:00+08:00')
    book.extend('a', 1, '2026-03-04T10:00:00+08:00')
    book.advance(ms('2026-03-11T16:00:00.000Z'))
    expect(book.get('a')).toMatchObject({ warned: true, dueAt: '2026-03-12T16:00:00.000Z' })
    book.relimit('a', { workingDays: 7 }, '2026-03-12T10:00:00+08:00')
    // 7 + 1 extended + 1 paused (the 3rd) working days after Monday 2 March, the 9th a holiday.
    expect(book.get('a')).toMatchObject({
      state: 'running', warned: false, dueAt: '2026-03-16T16:00:00.000Z',
      spec: { startAt: MONDAY, limit: { workingDays: 7 }, extensionWorkingDays: 1, pauses: [{ from: '2026-03-03T10:00:00+08:00', to: '2026-03-04T10:00:00+08:00' }] },
    })
  })

  it('rule 10: a new limit leaves a deadline that has ended, or none, alone', () => {
    const book = bookWith('missed', 'met')
    book.settle('met', 'met', SETTLED)
    book.advance(ms(DUE))
    expect(book.items.map((d) => d.state)).toEqual(['missed', 'met'])
    const before = JSON.stringify(book.items)
    book.relimit('missed', { workingDays: 45 }, SETTLED)
    book.relimit('met', { workingDays: 45 }, SETTLED)
    book.relimit('none', { workingDays: 45 }, SETTLED)
    expect(JSON.stringify(book.items)).toBe(before)
  })
})

describe('a new calendar', () => {
  it('recomputes open deadlines on it and leaves settled ones as they ended', () => {
    const book = bookWith('open', 'paused', 'met')
    book.pause(['paused'], '2026-03-03T10:00:00+08:00')
    book.settle('met', 'met', SETTLED)
    // The holiday is withdrawn: Monday 9 March is a working day after all.
    book.recalendar(WorkingCalendar.from(data([])), '2026-03-03T10:00:00+08:00')
    expect(book.get('open')!.dueAt).toBe('2026-03-09T16:00:00.000Z')
    expect(book.get('paused')!.dueAt).toBe('2026-03-09T16:00:00.000Z')
    expect(book.get('met')!.dueAt).toBe(DUE)
    // Views count on the new calendar too.
    expect(book.views('2026-03-06T10:00:00+08:00')[0]!.workingDaysLeft).toBe(1)
  })

  it('rule 15: makes a deadline final once its year is published, so the case is no longer provisional', () => {
    const book = new DeadlineBook(calendar())
    book.start('result', 'late', { limit: { workingDays: 5 }, startAt: '2026-12-28T10:00:00+08:00' })
    book.start('result', 'early', fiveDays)
    expect(book.hasProvisional).toBe(true)
    book.recalendar(WorkingCalendar.from(data([HOLIDAY], true)), '2026-12-29T10:00:00+08:00')
    expect(book.get('late')!.provisional).toBe(false)
    expect(book.hasProvisional).toBe(false)
  })

  it('counts only open deadlines as provisional', () => {
    const book = new DeadlineBook(calendar())
    book.start('result', 'late', { limit: { workingDays: 5 }, startAt: '2026-12-28T10:00:00+08:00' })
    book.pause(['late'], '2026-12-29T10:00:00+08:00')
    expect(book.hasProvisional).toBe(true)
    book.settle('late', 'met', SETTLED)
    expect(book.hasProvisional).toBe(false)
  })
})

describe('waking up', () => {
  it('wakes at the earliest warning, then at the due instant of a warned deadline', () => {
    const book = new DeadlineBook(calendar())
    book.start('acceptance', 'a', fiveDays)
    book.start('result', 'b', { limit: { workingDays: 8 }, startAt: MONDAY })
    expect(book.nextWakeMs()).toBe(ms(WARN))
    expect(book.advance(ms(WARN))).toEqual([{ deadline: book.get('a'), change: 'warned' }])
    // a now wakes at its due instant (10 March), b at its warning (12 March).
    expect(book.nextWakeMs()).toBe(ms(DUE))
    book.settle('a', 'met', SETTLED)
    expect(book.nextWakeMs()).toBe(ms(book.get('b')!.warnAt))
    expect(new DeadlineBook(calendar()).nextWakeMs()).toBeUndefined()
  })

  it('finds the earliest whatever the order the deadlines were started in', () => {
    const book = new DeadlineBook(calendar())
    book.start('result', 'late', { limit: { workingDays: 8 }, startAt: MONDAY })
    book.start('acceptance', 'early', fiveDays)
    book.start('result', 'later', { limit: { workingDays: 9 }, startAt: MONDAY })
    expect(book.nextWakeMs()).toBe(ms(WARN))
  })

  it('warns at the warning instant and marks missed at the due instant, not a millisecond before', () => {
    const book = bookWith('a')
    expect(book.advance(ms(WARN) - 1)).toEqual([])
    expect(book.advance(ms(WARN)).map((t) => t.change)).toEqual(['warned'])
    expect(book.advance(ms(WARN) + 1)).toEqual([])
    expect(book.advance(ms(DUE) - 1)).toEqual([])
    expect(book.advance(ms(DUE))).toEqual([{ deadline: book.get('a'), change: 'missed' }])
    expect(book.get('a')!).toMatchObject({ state: 'missed', settledAt: DUE })
    expect(book.advance(ms(DUE) + 1)).toEqual([])
    expect(book.nextWakeMs()).toBeUndefined()
  })

  it('warns and marks missed in one step when the case wakes up late', () => {
    const book = bookWith('a', 'b')
    book.settle('b', 'met', SETTLED)
    const changes = book.advance(ms('2026-04-01T00:00:00Z'))
    expect(changes.map((t) => [t.deadline.key, t.change])).toEqual([['a', 'warned'], ['a', 'missed']])
    expect(book.get('b')).toMatchObject({ state: 'met', warned: false })
  })
})

describe('reports from a child workflow watching an external deadline', () => {
  it('marks a warning once, and a miss', () => {
    const book = new DeadlineBook(calendar())
    const d = book.start('opinion', 'opinion', fiveDays, { external: true })
    expect(book.mark('opinion', 'warned')).toEqual({ deadline: d, change: 'warned' })
    expect(d.warned).toBe(true)
    expect(book.mark('opinion', 'warned')).toBeUndefined()
    expect(d.state).toBe('running')
    expect(book.mark('opinion', 'missed')).toEqual({ deadline: d, change: 'missed' })
    expect(d.state).toBe('missed')
    expect(book.mark('opinion', 'missed')).toBeUndefined()
  })

  it('ignores reports about unknown or settled deadlines', () => {
    const book = new DeadlineBook(calendar())
    book.start('opinion', 'opinion', fiveDays, { external: true })
    book.settle('opinion', 'met', SETTLED)
    expect(book.mark('opinion', 'missed')).toBeUndefined()
    expect(book.mark('opinion', 'warned')).toBeUndefined()
    expect(book.get('opinion')).toMatchObject({ state: 'met', warned: false })
    expect(book.mark('nobody', 'warned')).toBeUndefined()
  })

  it('misses a deadline directly, without a warning first', () => {
    const book = new DeadlineBook(calendar())
    const d = book.start('opinion', 'opinion', fiveDays, { external: true })
    expect(book.mark('opinion', 'missed')).toEqual({ deadline: d, change: 'missed' })
    // Missed when it fell due, however late the watcher's report arrives.
    expect(d).toMatchObject({ state: 'missed', warned: false, settledAt: d.dueAt })
  })
})

describe('views', () => {
  it('show each deadline, with the working days left for open working-day limits only', () => {
    const book = bookWith('days')
    book.start('reply', 'hours', { limit: { duration: 'PT48H' }, startAt: MONDAY })
    book.start('acceptance', 'met', fiveDays)
    book.settle('met', 'met', SETTLED)
    book.start('acceptance', 'paused', fiveDays)
    book.pause(['paused'], '2026-03-03T10:00:00+08:00')
    const [days, hours, met, paused] = book.views('2026-03-05T10:00:00+08:00')
    // The 6th and the 10th are left (the 9th is a holiday).
    expect(days).toStrictEqual({
      kind: 'acceptance', key: 'days', dueAt: DUE, warnAt: WARN, state: 'running', provisional: false, warned: false,
      startedAt: fiveDays.startAt, workingDaysLeft: 2,
    })
    expect(hours).toStrictEqual({
      kind: 'reply', key: 'hours', dueAt: '2026-03-04T02:00:00.000Z', warnAt: '2026-03-03T16:24:00.000Z',
      state: 'running', provisional: false, warned: false, startedAt: MONDAY,
    })
    expect(met).toStrictEqual({
      kind: 'acceptance', key: 'met', dueAt: DUE, warnAt: WARN, state: 'met', provisional: false, warned: false,
      startedAt: fiveDays.startAt, settledAt: SETTLED, workingDaysUsed: 3,
    })
    // Paused since the 3rd: as of the 5th, the 3rd and 4th do not count, so it is due on the 12th.
    expect(paused).toMatchObject({ state: 'paused', workingDaysLeft: 4 })
  })
})
