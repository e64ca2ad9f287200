import { describe, expect, it } from 'vitest'
import { SYSTEM_ACTOR } from '../../src/domain/case/core.ts'
import {
  awaitsRating, caseLimits, CURRENT_RULES, DEFAULT_SCORE, RATERS, RATING_LEVELS, rateByDefault, rulesOf,
} from '../../src/domain/case/rating.ts'
import { DEFAULT_LIMIT_SETTINGS } from '../../src/domain/limit-settings.ts'
import { CHIEF, DESK, HANDLER, OTHER_DEPT, refusalOf, TINY_AT, TinyCase, tinyCommand as command } from '../support/tiny-case.ts'

// Rating (好差评), rectification and call-back (src/domain/case/rating.ts), as any kind that ends
// in a service gets them: here through the test kind, whose service ends in `done`.

const LATER = '2026-03-03T04:00:00.000Z'
const MUCH_LATER = '2026-03-04T04:00:00.000Z'

function finished(limits = caseLimits()) {
  const kase = TinyCase.open({ limits })
  kase.apply(command('finish', HANDLER), TINY_AT)
  return kase
}

function rectified() {
  const kase = finished()
  kase.apply(command('rate', DESK, { score: 1 }), LATER)
  kase.apply(command('rectify', HANDLER, { note: 'fixed the counter' }), MUCH_LATER)
  return kase
}

describe('the rating period', () => {
  it('starts when the service ends and lasts the configured limit (7 days by default)', () => {
    expect(caseLimits()).toEqual({
      ratingDefault: { duration: 'P7D' }, rectification: { workingDays: 15 }, deferredMaterials: { workingDays: 5 }, supervisionRespond: { workingDays: 3 },
    })
    const rating = finished().view(TINY_AT).deadlines.find((d) => d.key === 'rating')
    expect(rating).toMatchObject({ kind: 'rating', state: 'running', dueAt: '2026-03-09T02:00:00.000Z' })
    const short = finished(caseLimits({ ...DEFAULT_LIMIT_SETTINGS, 'rating.default': { duration: 'P3D' }, 'rating.rectification': { workingDays: 2 } }))
    expect(short.state.limits).toMatchObject({ ratingDefault: { duration: 'P3D' }, rectification: { workingDays: 2 } })
    expect(short.view(TINY_AT).deadlines.find((d) => d.key === 'rating')?.dueAt).toBe('2026-03-05T02:00:00.000Z')
  })

  it('ends in the default score 3, "basically satisfied", by the system, when the kind says so', () => {
    const kase = finished()
    kase.hook = ({ deadline, change }, at) => {
      if (deadline.kind !== 'rating') return 'default'
      if (change === 'missed') rateByDefault(kase, at)
      return 'handled'
    }
    const recorded = kase.advance('2026-03-09T02:00:00.000Z')
    expect(DEFAULT_SCORE).toBe(3)
    expect(recorded.map((r) => r.event)).toEqual([{
      seq: 2, at: '2026-03-09T02:00:00.000Z', type: 'rated', actor: SYSTEM_ACTOR,
      data: { score: 3, level: 'basically_satisfied', defaulted: true },
    }])
    expect(kase.state.rating).toEqual({ score: 3, level: 'basically_satisfied', at: '2026-03-09T02:00:00.000Z', defaulted: true })
    expect(kase.isOpen).toBe(false)
  })
})

describe('rate', () => {
  it('maps scores 1 to 5 onto the five levels', () => {
    expect(RATING_LEVELS).toEqual(['very_dissatisfied', 'dissatisfied', 'basically_satisfied', 'satisfied', 'very_satisfied'])
    for (const score of [1, 2, 3, 4, 5]) {
      const kase = finished()
      const [rated] = kase.apply(command('rate', DESK, { score }), LATER)
      expect(rated!.event.data).toEqual({ score, level: RATING_LEVELS[score - 1], defaulted: false, by: 'applicant' })
    }
  })

  it('records the rating with its comment and meets the rating deadline; 3 and up open nothing', () => {
    const kase = finished()
    const recorded = kase.apply(command('rate', DESK, { score: 4, comment: 'quick' }), LATER)
    expect(recorded.map((r) => r.event)).toEqual([{
      seq: 2, at: LATER, type: 'rated', actor: DESK, data: { score: 4, level: 'satisfied', defaulted: false, comment: 'quick', by: 'applicant' },
    }])
    expect(kase.state.rating).toEqual({ score: 4, level: 'satisfied', at: LATER, defaulted: false, comment: 'quick', by: 'applicant' })
    expect(kase.view(LATER).deadlines.find((d) => d.key === 'rating')).toMatchObject({ state: 'met', settledAt: LATER })
    expect(kase.state.rectification).toBeUndefined()
    expect(kase.isOpen).toBe(false)
    expect(finished().apply(command('rate', DESK, { score: 3 }), LATER).map((r) => r.event.type)).toEqual(['rated'])
  })

  it('of 1 or 2 opens a rectification on the handling organisation, watched as an external deadline', () => {
    const kase = finished()
    const recorded = kase.apply(command('rate', DESK, { score: 2 }), LATER)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([
      ['rated', DESK, { score: 2, level: 'dissatisfied', defaulted: false, by: 'applicant' }],
      ['rectification_opened', SYSTEM_ACTOR, { organizationId: 'gz-amr' }],
    ])
    expect(recorded[1]!.view.rectification).toEqual({ openedAt: LATER })
    expect(kase.externalDeadlines.map((d) => [d.kind, d.key, d.dueAt])).toEqual([['rectification', 'rectification', '2026-03-24T16:00:00.000Z']])
    expect(kase.isOpen).toBe(true)
  })

  it('is refused before the service ended, twice, from a department, and outside 1 to 5', () => {
    expect(refusalOf(() => TinyCase.open().check(command('rate', DESK, { score: 5 })))?.code).toBe('invalid_transition')
    const kase = finished()
    expect(refusalOf(() => kase.check(command('rate', HANDLER, { score: 5 })))?.code).toBe('forbidden')
    for (const score of [0, 6, 2.5]) expect(refusalOf(() => kase.check(command('rate', DESK, { score })))?.paths).toEqual(['/params/score'])
    expect(refusalOf(() => kase.check(command('rate', DESK, { score: 5, comment: '' })))?.paths).toEqual(['/params/comment'])
    kase.apply(command('rate', DESK, { score: 5 }), LATER)
    expect(refusalOf(() => kase.check(command('rate', DESK, { score: 1 }))))
      .toEqual({ code: 'invalid_transition', message: 'the case has been rated already', paths: [] })
  })
})

describe('rectify', () => {
  it('is taken by the handling department once a rectification is open, and meets its deadline', () => {
    const kase = finished()
    kase.apply(command('rate', DESK, { score: 1 }), LATER)
    expect(refusalOf(() => kase.check(command('rectify', OTHER_DEPT, { note: 'x' })))?.code).toBe('forbidden')
    expect(refusalOf(() => kase.check(command('rectify', DESK, { note: 'x' })))?.code).toBe('forbidden')
    const recorded = kase.apply(command('rectify', HANDLER, { note: 'fixed the counter' }), MUCH_LATER)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['rectified', HANDLER, { note: 'fixed the counter' }]])
    expect(kase.state.rectification).toEqual({ openedAt: LATER, rectifiedAt: MUCH_LATER, note: 'fixed the counter' })
    expect(kase.view(MUCH_LATER).deadlines.find((d) => d.key === 'rectification'))
      .toMatchObject({ state: 'met', settledAt: MUCH_LATER, workingDaysUsed: 1 })
    // Still open: the call-back is awaited.
    expect(kase.isOpen).toBe(true)
  })

  it('is refused with no rectification open, and a second time', () => {
    const good = finished()
    good.apply(command('rate', DESK, { score: 5 }), LATER)
    const expected = { code: 'invalid_transition', message: 'no rectification is open', paths: [] }
    expect(refusalOf(() => good.check(command('rectify', HANDLER, { note: 'x' })))).toEqual(expected)
    expect(refusalOf(() => rectified().check(command('rectify', HANDLER, { note: 'again' })))).toEqual(expected)
  })
})

describe('call_back', () => {
  it('follows a rectification, by a window or a supervisor, and closes the case', () => {
    const kase = rectified()
    const recorded = kase.apply(command('call_back', CHIEF, { satisfied: false, note: 'still slow' }), MUCH_LATER)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['called_back', CHIEF, { satisfied: false, note: 'still slow' }]])
    expect(kase.state.rectification?.callBack).toEqual({ satisfied: false, at: MUCH_LATER, note: 'still slow' })
    expect(kase.isOpen).toBe(false)
    const plain = rectified()
    expect(plain.apply(command('call_back', DESK, { satisfied: true }), MUCH_LATER)[0]!.event.data).toEqual({ satisfied: true })
    expect(plain.state.rectification?.callBack).toEqual({ satisfied: true, at: MUCH_LATER })
    expect(refusalOf(() => rectified().check(command('call_back', HANDLER, { satisfied: true })))?.code).toBe('forbidden')
  })

  it('is refused before the rectification and a second time', () => {
    const expected = { code: 'invalid_transition', message: 'a call-back follows a rectification, once', paths: [] }
    const finishedOnly = finished()
    expect(refusalOf(() => finishedOnly.check(command('call_back', DESK, { satisfied: true })))).toEqual(expected)
    finishedOnly.apply(command('rate', DESK, { score: 1 }), LATER)
    expect(refusalOf(() => finishedOnly.check(command('call_back', DESK, { satisfied: true })))).toEqual(expected)
    const kase = rectified()
    kase.apply(command('call_back', DESK, { satisfied: true }), MUCH_LATER)
    expect(refusalOf(() => kase.check(command('call_back', DESK, { satisfied: true })))).toEqual(expected)
  })
})

describe('after a dissatisfied call-back (rules version 2)', () => {
  function rectifiedV2() {
    const kase = TinyCase.open({ rulesVersion: CURRENT_RULES })
    kase.apply(command('finish', HANDLER), TINY_AT)
    kase.apply(command('rate', DESK, { score: 1 }), LATER)
    kase.apply(command('rectify', HANDLER, { note: 'first fix' }), LATER)
    return kase
  }

  it('rule 30: a second rectification round opens, on the same organisation, with its own deadline', () => {
    const kase = rectifiedV2()
    const recorded = kase.apply(command('call_back', DESK, { satisfied: false, note: 'no better' }), MUCH_LATER)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([
      ['called_back', DESK, { satisfied: false, note: 'no better' }],
      ['rectification_opened', SYSTEM_ACTOR, { organizationId: 'gz-amr', round: 2 }],
    ])
    expect(kase.state.rectification).toEqual({
      openedAt: MUCH_LATER, round: 2,
      previousRounds: [{ openedAt: LATER, rectifiedAt: LATER, note: 'first fix', callBack: { satisfied: false, note: 'no better', at: MUCH_LATER } }],
    })
    expect(kase.externalDeadlines.map((d) => [d.key, d.state])).toEqual([['rectification', 'met'], ['rectification:2', 'running']])
    expect(kase.isOpen).toBe(true)
    kase.apply(command('rectify', HANDLER, { note: 'second fix' }), MUCH_LATER)
    expect(kase.view(MUCH_LATER).deadlines.find((d) => d.key === 'rectification:2')).toMatchObject({ state: 'met', settledAt: MUCH_LATER })
  })

  it('rule 30: dissatisfied after the second round: a supervision record on the organisation, and no third round', () => {
    const kase = rectifiedV2()
    kase.apply(command('call_back', DESK, { satisfied: false }), MUCH_LATER)
    kase.apply(command('rectify', HANDLER, { note: 'second fix' }), MUCH_LATER)
    const recorded = kase.apply(command('call_back', CHIEF, { satisfied: false }), MUCH_LATER)
    expect(recorded.map((r) => [r.event.type, r.event.data])).toEqual([
      ['called_back', { satisfied: false }],
      ['supervision_opened', { id: 'S1', organizationId: 'gz-amr', reason: 'dissatisfied after a second rectification' }],
    ])
    expect(kase.state.supervisions).toEqual([
      { id: 'S1', kind: 'automatic', organizationId: 'gz-amr', reason: 'dissatisfied after a second rectification', openedAt: MUCH_LATER },
    ])
    expect(kase.externalDeadlines.map((d) => d.key)).toEqual(['rectification', 'rectification:2'])
    expect(kase.isOpen).toBe(false)
    expect(refusalOf(() => kase.check(command('call_back', DESK, { satisfied: false })))?.code).toBe('invalid_transition')
  })

  it('rule 30: a satisfied call-back after either round closes the loop', () => {
    const first = rectifiedV2()
    expect(first.apply(command('call_back', DESK, { satisfied: true }), MUCH_LATER).map((r) => r.event.type)).toEqual(['called_back'])
    expect(first.isOpen).toBe(false)
    const second = rectifiedV2()
    second.apply(command('call_back', DESK, { satisfied: false }), MUCH_LATER)
    second.apply(command('rectify', HANDLER, { note: 'x' }), MUCH_LATER)
    expect(second.apply(command('call_back', DESK, { satisfied: true }), MUCH_LATER).map((r) => r.event.type)).toEqual(['called_back'])
    expect(second.state.supervisions).toEqual([])
    expect(second.isOpen).toBe(false)
    expect(rulesOf({})).toBe(1)
    expect(rulesOf({ rulesVersion: 2 })).toBe(2)
  })
})

describe('who rated', () => {
  it('rule 29: the applicant by default, or staff for them, through a channel when given', () => {
    const kase = finished()
    const [rated] = kase.apply(command('rate', DESK, { score: 5, by: 'staff', channel: 'app' }), LATER)
    expect(rated!.event.data).toEqual({ score: 5, level: 'very_satisfied', defaulted: false, by: 'staff', channel: 'app' })
    expect(kase.state.rating).toEqual({ score: 5, level: 'very_satisfied', at: LATER, defaulted: false, by: 'staff', channel: 'app' })
    expect(RATERS).toEqual(['applicant', 'staff'])
    expect(refusalOf(() => finished().check(command('rate', DESK, { score: 5, by: 'system' })))?.paths).toEqual(['/params/by'])
    expect(refusalOf(() => finished().check(command('rate', DESK, { score: 5, channel: 'x'.repeat(51) })))?.paths).toEqual(['/params/channel'])
  })

  it('rule 29: only once the rating period has begun', () => {
    const kase = TinyCase.open({ status: 'done' })
    expect(refusalOf(() => kase.check(command('rate', DESK, { score: 5 }))))
      .toEqual({ code: 'invalid_transition', message: 'the case has no rating period', paths: [] })
  })
})

describe('awaitsRating', () => {
  it('until rated, and after a rectification until the call-back', () => {
    const rating = { score: 1, level: 'very_dissatisfied', at: LATER, defaulted: false }
    expect(awaitsRating({})).toBe(true)
    expect(awaitsRating({ rating })).toBe(false)
    expect(awaitsRating({ rating, rectification: { openedAt: LATER } })).toBe(true)
    expect(awaitsRating({ rating, rectification: { openedAt: LATER, rectifiedAt: LATER } })).toBe(true)
    expect(awaitsRating({ rating, rectification: { openedAt: LATER, rectifiedAt: LATER, callBack: { satisfied: true, at: LATER } } })).toBe(false)
  })
})
