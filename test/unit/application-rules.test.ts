import { describe, expect, it } from 'vitest'
import { SUSPENSION_REASONS } from '../../src/domain/application/actions.ts'
import {
  ApplicationCase, type ApplicationState, isOpenApplication, JOINT_HANDLING, revocationGrounds, STATUTORY_PAUSES, SYSTEM_ACTOR,
} from '../../src/domain/application/application-case.ts'
import { WorkingCalendar } from '../../src/domain/calendar.ts'
import type { CaseView, RecordedEvent } from '../../src/domain/case-view.ts'
import { addWorkingDays } from '../../src/domain/deadline-clock.ts'
import type { Actor } from '../../src/domain/roles.ts'
import type { Guide, Material } from '../../src/domain/service-item.ts'
import { refusalOf } from '../support/tiny-case.ts'
import { calendarWith, newApplication, testGuide } from '../support/time-skipping.ts'

// The application's rules of DOMAIN rules 5, 6, 10, 12, 19, 29, 30, 35 and 36, as cases started
// under the current rules follow them, and what a case started under the first rules keeps.

const DEPT: Actor = { organizationId: 'gz-amr', role: 'department' }
const HR: Actor = { organizationId: 'gz-hr', role: 'department' }
const WINDOW: Actor = { organizationId: 'gz-center', role: 'window' }

const MON = '2026-03-02T02:00:00.000Z' // Monday 10:00 in Guangzhou
const TUE = '2026-03-03T04:00:00.000Z'
const WED = '2026-03-04T04:00:00.000Z'
const NEXT_TUE = '2026-03-10T04:00:00.000Z'
const calendar = WorkingCalendar.from(calendarWith())
/** The end of the n-th working day after Monday 2 March: what a limit of n from MON comes to. */
const fromMon = (n: number) => addWorkingDays(calendar, MON, n).dueAt

const cmd = (action: string, actor: Actor, params: Record<string, unknown> = {}) => ({ action, actor, params })
const types = (recorded: RecordedEvent[]) => recorded.map((r) => r.event.type)
const deadlineOf = (view: CaseView, key: string) => view.deadlines.find((d) => d.key === key)
const extend = (workingDays: number) => cmd('extend', DEPT, { workingDays, approvedBy: 'Director Wang', reason: 'complex' })
const ask = (orgs = ['gz-hr']) => cmd('request_opinions', DEPT, { organizationIds: orgs, within: { workingDays: 3 } })

const FORM: Material = { code: 'form', name: 'Form', required: true }
const PHOTO: Material = { code: 'photo', name: 'Photo', required: true }
const EXTRA: Material = { code: 'extra', name: 'Extra', required: false }
const ID_CARD: Material = { code: 'id-card', name: 'Identity card', required: true, sharedSource: 'resident-id' }
const LEASE: Material = { code: 'lease', name: 'Lease', required: true, deferrable: true }

function submit(guide: Guide = testGuide(), materials?: ApplicationState['submission']['materials'], rulesVersion?: number) {
  const base = newApplication('A-1').submission
  return ApplicationCase.submit({
    id: 'A-1', guide, actor: WINDOW, calendar: calendarWith(), at: MON,
    submission: materials ? { ...base, materials } : base, ...(rulesVersion ? { rulesVersion } : {}),
  }).application
}
function walk(application: ApplicationCase, steps: Array<[string, Actor, Record<string, unknown>?, string?]>): ApplicationCase {
  for (const [action, actor, params, at] of steps) application.apply(cmd(action, actor, params), at ?? MON)
  return application
}
const accepted = (guide?: Guide) => walk(submit(guide), [['accept', DEPT]])

describe('extension', () => {
  it('rule 10: refuses an extension once the statutory deadline is missed', () => {
    const application = accepted()
    const missed = application.advance(fromMon(20))
    expect(missed.map((r) => r.event.data.key)).toContain('statutory')
    expect(refusalOf(() => application.check(extend(1)))).toEqual({
      code: 'invalid_transition', message: 'the statutory deadline has passed; an extension is granted only before it', paths: [],
    })
    // A millisecond before, it is still granted.
    const inTime = accepted()
    inTime.advance(new Date(Date.parse(fromMon(20)) - 1).toISOString())
    expect(refusalOf(() => inTime.check(extend(1)))).toBeUndefined()
  })

  it('rule 10: grants at most one extension; a second is refused before its parameters are weighed', () => {
    const application = accepted()
    application.apply(extend(2), TUE)
    for (const workingDays of [1, 10, 11]) {
      expect(refusalOf(() => application.check(extend(workingDays)))?.code).toBe('invalid_transition')
    }
    expect(application.book.get('statutory')?.spec.extensionWorkingDays).toBe(2)
  })

  it('rule 10: moves an open promise with the statutory deadline; a promise already missed stays missed where it fell', () => {
    const open = accepted()
    open.apply(extend(5), TUE)
    expect(deadlineOf(open.view(TUE), 'promised')).toMatchObject({ state: 'running', dueAt: fromMon(10) })
    expect(deadlineOf(open.view(TUE), 'statutory')).toMatchObject({ state: 'running', dueAt: fromMon(25) })

    const late = accepted()
    late.advance(fromMon(5))
    late.apply(extend(5), NEXT_TUE)
    const view = late.view(NEXT_TUE)
    expect(deadlineOf(view, 'promised')).toMatchObject({ state: 'missed', dueAt: fromMon(5) })
    expect(deadlineOf(view, 'statutory')).toMatchObject({ state: 'running', dueAt: fromMon(25) })
    expect(late.book.get('promised')?.spec.extensionWorkingDays).toBeUndefined()
  })
})

describe('joint handling', () => {
  it('rule 10: recomputes the statutory limit to 45 working days from acceptance, keeping its pause and extension', () => {
    const application = walk(accepted(), [
      ['extend', DEPT, { workingDays: 3, approvedBy: 'Director Wang', reason: 'complex' }],
      ['suspend', DEPT, { reason: 'testing', note: 'lab' }, TUE], ['resume', DEPT, {}, NEXT_TUE],
    ])
    // 20 + 3 + the five working days paused, Tuesday 3 to Monday 9 March.
    expect(deadlineOf(application.view(NEXT_TUE), 'statutory')?.dueAt).toBe(fromMon(28))
    const recorded = application.apply(ask(['gz-hr', 'gz-tax']), NEXT_TUE)
    expect(recorded[0]!.event.data).toEqual({
      organizationIds: ['gz-hr', 'gz-tax'], within: { workingDays: 3 }, jointHandling: { statutoryLimit: { workingDays: 45 } },
    })
    const view = application.view(NEXT_TUE)
    expect(view.jointHandling).toEqual({ since: NEXT_TUE })
    // Recomputed, not restarted: still counted from acceptance (Monday), pause and extension kept.
    expect(deadlineOf(view, 'statutory')).toMatchObject({ state: 'running', dueAt: fromMon(45 + 3 + 5) })
    expect(application.book.get('statutory')?.spec).toMatchObject({ startAt: MON, limit: { workingDays: 45 }, extensionWorkingDays: 3 })
    // The promise is the department's own and does not move.
    expect(deadlineOf(view, 'promised')?.dueAt).toBe(fromMon(5 + 3 + 5))
  })

  it('rule 10: happens once; opinions asked again change nothing more', () => {
    const application = walk(accepted(), [['request_opinions', DEPT, { organizationIds: ['gz-hr'], within: { workingDays: 1 } }],
      ['give_opinion', HR, { opinion: 'ok', agree: true }]])
    const again = application.apply(ask(['gz-tax']), TUE)
    expect(again[0]!.event.data).not.toHaveProperty('jointHandling')
    expect(application.state.jointHandling).toEqual({ since: MON })
    expect(deadlineOf(application.view(TUE), 'statutory')?.dueAt).toBe(fromMon(45))
  })

  it('rule 10: allows an extension of up to 15 working days, not 10, and an item\'s longer limits stay', () => {
    const joint = walk(accepted(), [['request_opinions', DEPT, { organizationIds: ['gz-hr'], within: { workingDays: 3 } }]])
    expect(refusalOf(() => joint.check(extend(16)))).toEqual({ code: 'unprocessable', message: 'at most 15 working days of extension for ITEM-1', paths: [] })
    joint.apply(extend(15), TUE)
    expect(deadlineOf(joint.view(TUE), 'statutory')?.dueAt).toBe(fromMon(60))
    expect(JOINT_HANDLING).toEqual({ statutoryWorkingDays: 45, maxExtensionWorkingDays: 15 })

    const long = walk(accepted(testGuide({ statutoryLimit: { workingDays: 60 }, maxExtensionWorkingDays: 20 })), [['request_opinions', DEPT,
      { organizationIds: ['gz-hr'], within: { workingDays: 3 } }]])
    expect(deadlineOf(long.view(MON), 'statutory')?.dueAt).toBe(fromMon(60))
    expect(refusalOf(() => long.check(extend(20)))).toBeUndefined()
    expect(refusalOf(() => long.check(extend(21)))?.message).toBe('at most 20 working days of extension for ITEM-1')
    // An item whose limit is already 45 working days keeps its deadline as it was: nothing to recompute.
    const even = accepted(testGuide({ statutoryLimit: { workingDays: 45 } }))
    expect(even.apply(ask(['gz-hr']), MON)[0]!.event.data).not.toHaveProperty('jointHandling')
    expect(deadlineOf(even.view(MON), 'statutory')?.dueAt).toBe(fromMon(45))
  })

  it('rule 10: leaves a statutory deadline already missed as it ended', () => {
    const application = accepted()
    application.advance(fromMon(20))
    application.apply(ask(), fromMon(20))
    expect(deadlineOf(application.view(fromMon(20)), 'statutory')).toMatchObject({ state: 'missed', dueAt: fromMon(20) })
  })
})

describe('suspension', () => {
  it('rule 12: Art. 45\'s special procedures stop both clocks; a public notice or another reason stops only the promise', () => {
    expect([...SUSPENSION_REASONS]).toEqual([...STATUTORY_PAUSES, 'public_notice', 'other'])
    expect(STATUTORY_PAUSES).toEqual(['hearing', 'tender', 'auction', 'inspection', 'testing', 'quarantine', 'appraisal', 'expert_review'])
    for (const reason of SUSPENSION_REASONS) {
      const application = accepted()
      const [suspended] = application.apply(cmd('suspend', DEPT, { reason, note: 'x' }), TUE)
      const statutory = (STATUTORY_PAUSES as readonly string[]).includes(reason)
      expect(suspended!.event.data).toEqual({ reason, note: 'x', statutoryPaused: statutory })
      const during = application.view(WED)
      expect([reason, deadlineOf(during, 'promised')?.state, deadlineOf(during, 'statutory')?.state])
        .toEqual([reason, 'paused', statutory ? 'paused' : 'running'])
      application.apply(cmd('resume', DEPT), NEXT_TUE)
      const after = application.view(NEXT_TUE)
      expect([reason, deadlineOf(after, 'promised')?.dueAt, deadlineOf(after, 'statutory')?.dueAt])
        .toEqual([reason, fromMon(10), statutory ? fromMon(25) : fromMon(20)])
    }
  })
})

describe('the one-time notice', () => {
  const two = testGuide({ materials: [FORM, PHOTO, EXTRA] })

  it('rule 5: the first notice must name every material pre-review listed missing', () => {
    const application = submit(two, [])
    expect(application.state.missingMaterials).toEqual(['form', 'photo'])
    expect(refusalOf(() => application.check(cmd('request_supplement', DEPT, { missing: ['form'], note: 'x' })))).toEqual({
      code: 'unprocessable', message: 'a one-time notice names every missing material; it leaves out photo', paths: [],
    })
    expect(refusalOf(() => application.check(cmd('request_supplement', DEPT, { missing: ['extra'], note: 'x' })))?.message)
      .toBe('a one-time notice names every missing material; it leaves out form, photo')
    // More than the missing ones is fine: a material handed in may be defective.
    expect(refusalOf(() => application.check(cmd('request_supplement', DEPT, { missing: ['extra', 'photo', 'form'], note: 'x' })))).toBeUndefined()
    // Nothing missing: any notice is a first one.
    expect(refusalOf(() => submit(two, [{ code: 'form', ref: 'r', source: 'applicant' }, { code: 'photo', ref: 'r', source: 'applicant' }])
      .check(cmd('request_supplement', DEPT, { missing: ['photo'], note: 'blurred' })))).toBeUndefined()
  })

  it('rule 5: only the first notice must name every missing material; a later one names what it finds', () => {
    const application = walk(submit(two, []), [['request_supplement', DEPT, { missing: ['form', 'photo'], note: 'first' }],
      ['supplement', WINDOW, { materials: [{ code: 'form', ref: 'f' }] }]])
    expect(application.state.missingMaterials).toEqual(['photo'])
    expect(refusalOf(() => application.check(cmd('request_supplement', DEPT, { missing: ['form'], note: 'the form is unsigned' })))).toBeUndefined()
  })

  it('rule 6: a later notice naming a material the first could have named is a violation', () => {
    // Present at the first notice (the form) and not named by it.
    const application = walk(submit(two), [['request_supplement', DEPT, { missing: ['photo'], note: 'first' }],
      ['supplement', WINDOW, { materials: [{ code: 'photo', ref: 'p' }] }]])
    const [second] = application.apply(cmd('request_supplement', DEPT, { missing: ['photo', 'form'], note: 'second' }), TUE)
    expect(second!.event.data).toEqual({ missing: ['photo', 'form'], note: 'second', violation: 'one_time_notice', namedLate: ['form'] })
    expect(second!.view.flags).toEqual(['one_time_notice_violation'])
    // Missing at the first notice and not named by it (the first named more than was missing).
    const missingThen = walk(submit(two, []), [['request_supplement', DEPT, { missing: ['form', 'photo'], note: 'first' }],
      ['supplement', WINDOW, { materials: [{ code: 'form', ref: 'f' }] }]])
    expect(missingThen.apply(cmd('request_supplement', DEPT, { missing: ['photo'], note: 'again' }), TUE)[0]!.view.flags).toEqual([])
  })

  it('rule 6: naming what the first notice named, or what arrived with a supplement, is no violation', () => {
    const application = walk(submit(two), [['request_supplement', DEPT, { missing: ['photo'], note: 'first' }],
      // A new photo, a new form (replacing the one handed in) and the optional extra arrive.
      ['supplement', WINDOW, { materials: [{ code: 'photo', ref: 'p' }, { code: 'form', ref: 'f2' }, { code: 'extra', ref: 'e' }] }]])
    const [second] = application.apply(cmd('request_supplement', DEPT, { missing: ['photo', 'form', 'extra'], note: 'all new ones' }), TUE)
    expect(second!.event.data).toEqual({ missing: ['photo', 'form', 'extra'], note: 'all new ones' })
    expect(application.state.flags).toEqual([])
    // An optional material neither handed in nor missing then could not have been named either.
    const optional = walk(submit(two), [['request_supplement', DEPT, { missing: ['photo'], note: 'first' }],
      ['supplement', WINDOW, { materials: [{ code: 'photo', ref: 'p' }] }]])
    expect(optional.apply(cmd('request_supplement', DEPT, { missing: ['extra'], note: 'the extra after all' }), TUE)[0]!.view.flags).toEqual([])
  })
})

describe('shared data', () => {
  it('rule 19: a supplement request naming a material attached from shared data, or one the guide holds in shared data, is refused', () => {
    const guide = testGuide({ materials: [FORM, ID_CARD, PHOTO] })
    const attached = submit(guide, [{ code: 'form', ref: 'f', source: 'applicant' }, { code: 'photo', ref: 'elicence://p', source: 'shared' },
      { code: 'id-card', ref: 'elicence://id', source: 'shared' }])
    expect(refusalOf(() => attached.check(cmd('request_supplement', DEPT, { missing: ['photo', 'form'], note: 'x' })))).toEqual({
      code: 'unprocessable', message: 'held in shared data, never asked for again: photo', paths: [],
    })
    expect(refusalOf(() => attached.check(cmd('request_supplement', DEPT, { missing: ['id-card'], note: 'x' })))?.message)
      .toBe('held in shared data, never asked for again: id-card')
    expect(refusalOf(() => attached.check(cmd('request_supplement', DEPT, { missing: ['id-card', 'form', 'photo'], note: 'x' })))?.message)
      .toBe('held in shared data, never asked for again: id-card, photo')
    // Not found in shared data: listed missing, yet never asked of the applicant, so the first
    // notice need not name it.
    const notFound = submit(guide, [{ code: 'photo', ref: 'p', source: 'applicant' }])
    expect(notFound.state.missingMaterials).toEqual(['form', 'id-card'])
    expect(refusalOf(() => notFound.check(cmd('request_supplement', DEPT, { missing: ['form', 'id-card'], note: 'x' })))?.code).toBe('unprocessable')
    expect(notFound.apply(cmd('request_supplement', DEPT, { missing: ['form'], note: 'x' }), MON)[0]!.view.status).toBe('supplement_requested')
  })
})

describe('deferred materials (容缺受理)', () => {
  const guide = testGuide({ materials: [FORM, LEASE, { ...PHOTO, deferrable: true }] })
  const deferredAccept = (deferred = ['lease']) => walk(submit(guide), [['accept', DEPT, { deferred }]])

  it('rule 35: acceptance may defer deferrable materials still outstanding, with a deadline of their own beside the clocks', () => {
    const application = submit(guide)
    expect(application.state.missingMaterials).toEqual(['lease', 'photo'])
    const [accepted] = application.apply(cmd('accept', DEPT, { deferred: ['lease', 'photo'] }), MON)
    expect(accepted!.event.data).toEqual({ clockStart: MON, deferred: ['lease', 'photo'] })
    expect(accepted!.view.deferredMaterials).toEqual([{ code: 'lease' }, { code: 'photo' }])
    expect(accepted!.view.deadlines.map((d) => [d.key, d.state, d.dueAt])).toEqual([
      ['acceptance', 'met', expect.any(String)], ['promised', 'running', fromMon(5)], ['statutory', 'running', fromMon(20)],
      // The setting application.deferred: 5 working days by default.
      ['deferred_materials', 'running', fromMon(5)],
    ])
  })

  it('rule 35: takes the deferral limit from the case\'s settings', () => {
    const application = ApplicationCase.submit({
      id: 'A-2', guide, actor: WINDOW, calendar: calendarWith(), at: MON, submission: newApplication('A-2').submission,
      limits: { ratingDefault: { duration: 'P7D' }, rectification: { workingDays: 15 }, deferredMaterials: { workingDays: 2 } },
    }).application
    application.apply(cmd('accept', DEPT, { deferred: ['lease'] }), MON)
    expect(deadlineOf(application.view(MON), 'deferred_materials')?.dueAt).toBe(fromMon(2))
  })

  it('rule 35: only the item\'s deferrable materials, not yet handed in, may be deferred', () => {
    const application = submit(guide, [{ code: 'form', ref: 'f', source: 'applicant' }, { code: 'photo', ref: 'p', source: 'applicant' }])
    const accept = (params: Record<string, unknown>) => refusalOf(() => application.check(cmd('accept', DEPT, params)))
    expect(accept({ deferred: ['form'] })).toEqual({ code: 'unprocessable', message: 'not deferrable under ITEM-1: form', paths: [] })
    expect(accept({ deferred: ['photo'] })).toEqual({ code: 'unprocessable', message: 'already handed in, nothing to defer: photo', paths: [] })
    const both = submit(testGuide({ materials: [FORM, EXTRA, { ...LEASE, deferrable: false }, { ...PHOTO, deferrable: true }, { ...ID_CARD, deferrable: true }] }),
      [{ code: 'form', ref: 'f', source: 'applicant' }, { code: 'photo', ref: 'p', source: 'applicant' }, { code: 'id-card', ref: 'i', source: 'applicant' }])
    expect(refusalOf(() => both.check(cmd('accept', DEPT, { deferred: ['extra', 'lease'] })))?.message).toBe('not deferrable under ITEM-1: extra, lease')
    expect(refusalOf(() => both.check(cmd('accept', DEPT, { deferred: ['photo', 'id-card'] })))?.message)
      .toBe('already handed in, nothing to defer: photo, id-card')
    expect(accept({ deferred: ['deed'] })?.code).toBe('validation_failed')
    expect(accept({ deferred: [] })?.paths).toEqual(['/params/deferred'])
    expect(accept({ deferred: ['lease', 'lease'] })?.paths).toEqual(['/params/deferred'])
    expect(accept({ deferred: ['lease'] })).toBeUndefined()
  })

  it('rule 35: the deferred material arriving by supplement meets its deadline, whatever the status', () => {
    const application = walk(deferredAccept(['lease', 'photo']), [['approve', DEPT]])
    const [first] = application.apply(cmd('supplement', WINDOW, { materials: [{ code: 'lease', ref: 'doc://lease' }] }), TUE)
    expect(first!.event.data).toEqual({ materials: ['lease'], missingMaterials: ['photo'], deferredOutstanding: ['photo'] })
    expect(first!.view.status).toBe('approved')
    expect(deadlineOf(first!.view, 'deferred_materials')?.state).toBe('running')
    const [last] = application.apply(cmd('supplement', WINDOW, { materials: [{ code: 'photo', ref: 'doc://photo' }] }), WED)
    expect([last!.event.type, last!.event.data]).toEqual(['supplemented', { materials: ['photo'], missingMaterials: [], deferredOutstanding: [] }])
    expect(last!.view.deferredMaterials).toEqual([{ code: 'lease', receivedAt: TUE }, { code: 'photo', receivedAt: WED }])
    expect(last!.view.missingMaterials).toEqual([])
    expect(deadlineOf(last!.view, 'deferred_materials')).toMatchObject({ state: 'met', settledAt: WED })
    expect(last!.view.materials).toContainEqual({ code: 'lease', ref: 'doc://lease', source: 'applicant' })
  })

  it('rule 35: a supplement after acceptance is only for deferred materials still outstanding', () => {
    expect(refusalOf(() => accepted().check(cmd('supplement', WINDOW, { materials: [{ code: 'form', ref: 'f' }] })))).toEqual({
      code: 'invalid_transition', message: 'no supplement is awaited: none was requested and no deferred material is outstanding', paths: [],
    })
    expect(refusalOf(() => deferredAccept().check(cmd('supplement', WINDOW, { materials: [{ code: 'form', ref: 'f' }] })))).toEqual({
      code: 'unprocessable', message: 'not deferred materials still outstanding: form', paths: [],
    })
    expect(refusalOf(() => deferredAccept().check(cmd('supplement', WINDOW, { materials: [{ code: 'form', ref: 'f' }, { code: 'photo', ref: 'p' }] })))
      ?.message).toBe('not deferred materials still outstanding: form, photo')
  })

  it('rule 35: a deferred material that never comes is the applicant\'s miss: no overdue mark, and the approval may be revoked', () => {
    const application = walk(deferredAccept(), [['approve', DEPT]])
    expect(refusalOf(() => application.check(cmd('revoke', DEPT, { reason: 'x' })))?.code).toBe('invalid_transition')
    const missed = application.advance(fromMon(5))
    expect(missed.map((r) => [r.event.type, r.event.data])).toContainEqual(['deferred_materials_missed', { outstanding: ['lease'] }])
    const view = application.view(fromMon(5))
    expect(view).toMatchObject({ overdue: false, supervisions: [] })
    expect(revocationGrounds(view)).toEqual(['deferred_materials_missing'])
    const [revoked] = application.apply(cmd('revoke', DEPT, { reason: 'the lease never came' }), NEXT_TUE)
    expect([revoked!.event.type, revoked!.event.actor, revoked!.event.data])
      .toEqual(['revoked', DEPT, { reason: 'the lease never came', grounds: ['deferred_materials_missing'] }])
    expect(revoked!.view).toMatchObject({ status: 'revoked', revocation: { reason: 'the lease never came', grounds: ['deferred_materials_missing'], at: NEXT_TUE } })
    expect(deadlineOf(revoked!.view, 'result')).toMatchObject({ state: 'cancelled', settledAt: NEXT_TUE })
    expect(deadlineOf(revoked!.view, 'deferred_materials')?.state).toBe('missed')
    // An ended service: rated, then closed.
    expect(deadlineOf(revoked!.view, 'rating')?.state).toBe('running')
    expect(application.isOpen).toBe(true)
    expect(refusalOf(() => application.check(cmd('revoke', DEPT, { reason: 'again' })))?.code).toBe('invalid_transition')
    application.apply(cmd('rate', WINDOW, { score: 4 }), NEXT_TUE)
    expect(application.isOpen).toBe(false)
  })

  it('rule 35: nothing to revoke while the material may still come, once it came late, or without an approval', () => {
    const expected = { code: 'invalid_transition', message: 'nothing to revoke: no deferred material is overdue and no commitment was found false', paths: [] }
    const running = walk(deferredAccept(), [['approve', DEPT]])
    expect(refusalOf(() => running.check(cmd('revoke', DEPT, { reason: 'x' })))).toEqual(expected)
    const late = walk(deferredAccept(), [['approve', DEPT]])
    late.advance(fromMon(5))
    late.apply(cmd('supplement', WINDOW, { materials: [{ code: 'lease', ref: 'doc://late' }] }), NEXT_TUE)
    expect(refusalOf(() => late.check(cmd('revoke', DEPT, { reason: 'x' })))).toEqual(expected)
    // The miss stays on record.
    expect(deadlineOf(late.view(NEXT_TUE), 'deferred_materials')?.state).toBe('missed')
    const plain = walk(submit(), [['accept', DEPT], ['approve', DEPT]])
    expect(refusalOf(() => plain.check(cmd('revoke', DEPT, { reason: 'x' })))).toEqual(expected)
    const undecided = deferredAccept()
    undecided.advance(fromMon(5))
    expect(refusalOf(() => undecided.check(cmd('revoke', DEPT, { reason: 'x' })))?.message).toBe('cannot revoke a case that is accepted')
    expect(refusalOf(() => walk(deferredAccept(), [['approve', DEPT]]).check(cmd('revoke', HR, { reason: 'x' })))?.code).toBe('forbidden')
  })

  it('rule 35: the warning before the deferral ends is only a warning', () => {
    const application = deferredAccept()
    const { warnAt } = application.book.get('deferred_materials')!
    const recorded = application.advance(warnAt).map((r) => [r.event.type, r.event.data.key])
    expect(recorded).toContainEqual(['deadline_warned', 'deferred_materials'])
    expect(recorded.map(([type]) => type)).not.toContain('deferred_materials_missed')
    expect(application.state.deferredMaterials).toEqual([{ code: 'lease' }])
  })

  it('rule 35: a denial leaves nothing deferred to wait for', () => {
    const application = walk(deferredAccept(), [['deny', DEPT, { reason: 'no' }]])
    expect(deadlineOf(application.view(MON), 'deferred_materials')).toMatchObject({ state: 'cancelled', settledAt: MON })
  })

  it('rule 35: a case stays open while deferred materials are awaited, or while an approval may be revoked', () => {
    const application = walk(deferredAccept(), [['approve', DEPT], ['issue_result', DEPT], ['deliver', WINDOW, { method: 'mail' }],
      ['rate', WINDOW, { score: 5 }]])
    expect(application.isOpen).toBe(true)
    application.advance(fromMon(5))
    expect(application.isOpen).toBe(true)
    const rating = deadlineOf(application.view(NEXT_TUE), 'rating')
    application.apply(cmd('revoke', DEPT, { reason: 'no lease' }), NEXT_TUE)
    expect(application.state.status).toBe('revoked')
    expect(application.isOpen).toBe(false)
    // The service was rated when it was delivered: the revocation starts no second rating period.
    expect(deadlineOf(application.view(NEXT_TUE), 'rating')).toEqual(rating)
    const done = walk(deferredAccept(), [['approve', DEPT], ['issue_result', DEPT], ['deliver', WINDOW, { method: 'mail' }],
      ['rate', WINDOW, { score: 5 }], ['supplement', WINDOW, { materials: [{ code: 'lease', ref: 'l' }] }]])
    expect(done.isOpen).toBe(false)
  })
})

describe('acceptance on a written commitment (告知承诺制)', () => {
  const guide = testGuide({ commitmentAllowed: true })
  const commitment = { text: 'I hold the licence required', verifyWithin: { workingDays: 10 } }
  const committed = () => walk(submit(guide), [['accept', DEPT, { commitment }]])

  it('rule 36: acceptance takes a commitment where the item allows it, and a verification deadline runs', () => {
    const [accepted] = submit(guide).apply(cmd('accept', DEPT, { commitment }), MON)
    expect(accepted!.event.data).toEqual({ clockStart: MON, commitment })
    expect(accepted!.view.commitment).toEqual({ ...commitment, at: MON })
    expect(deadlineOf(accepted!.view, 'verification')).toMatchObject({ kind: 'verification', state: 'running', dueAt: fromMon(10) })
    expect(refusalOf(() => submit().check(cmd('accept', DEPT, { commitment })))).toEqual({
      code: 'unprocessable', message: 'ITEM-1 does not take a written commitment in place of proof', paths: [],
    })
    // The parser explains a limit inside the commitment as it does one at the top, and says what else is wrong.
    const bad = refusalOf(() => submit(guide).check(cmd('accept', DEPT, { commitment: { text: '', verifyWithin: { duration: 'P1.5W2D' } } })))
    expect(bad?.paths).toEqual(['/params/commitment/verifyWithin/duration', '/params/commitment/text'])
    expect(bad?.message).toMatch(/only the last component may have a fraction/)
  })

  it('rule 36: a commitment found false after the approval lets the department revoke it', () => {
    const application = walk(committed(), [['approve', DEPT]])
    const [checked] = application.apply(cmd('check_commitment', DEPT, { holds: false, note: 'no licence on record' }), TUE)
    expect([checked!.event.type, checked!.event.data]).toEqual(['commitment_checked', { holds: false, note: 'no licence on record' }])
    expect(checked!.view.commitment?.check).toEqual({ holds: false, note: 'no licence on record', at: TUE })
    expect(deadlineOf(checked!.view, 'verification')).toMatchObject({ state: 'met', settledAt: TUE })
    const [revoked] = application.apply(cmd('revoke', DEPT, { reason: 'false commitment' }), WED)
    expect(revoked!.event.data).toEqual({ reason: 'false commitment', grounds: ['commitment_false'] })
  })

  it('rules 35 and 36: revoking ends what still runs for the approval, whichever ground it is on', () => {
    const both = testGuide({ commitmentAllowed: true, materials: [FORM, LEASE] })
    const approvedOnBoth = () => walk(submit(both, [{ code: 'form', ref: 'f', source: 'applicant' }]),
      [['accept', DEPT, { commitment, deferred: ['lease'] }], ['approve', DEPT]])
    // A false commitment, while the lease may still come: its deadline is cancelled with the approval.
    const onCommitment = approvedOnBoth()
    onCommitment.apply(cmd('check_commitment', DEPT, { holds: false, note: 'no licence' }), TUE)
    const [first] = onCommitment.apply(cmd('revoke', DEPT, { reason: 'false commitment' }), WED)
    expect(deadlineOf(first!.view, 'deferred_materials')).toMatchObject({ state: 'cancelled', settledAt: WED })
    // The lease never came, while the commitment is still to be checked: the check is cancelled.
    const onLease = approvedOnBoth()
    onLease.advance(fromMon(5))
    const [second] = onLease.apply(cmd('revoke', DEPT, { reason: 'no lease' }), fromMon(6))
    expect(second!.event.data).toEqual({ reason: 'no lease', grounds: ['deferred_materials_missing'] })
    expect(deadlineOf(second!.view, 'verification')).toMatchObject({ state: 'cancelled', settledAt: fromMon(6) })
    expect(deadlineOf(second!.view, 'rating')).toMatchObject({ state: 'running' })
  })

  it('rule 36: a denial leaves no commitment to check', () => {
    const application = walk(committed(), [['deny', DEPT, { reason: 'no' }]])
    expect(deadlineOf(application.view(MON), 'verification')).toMatchObject({ state: 'cancelled', settledAt: MON })
  })

  it('rule 36: a commitment that holds leaves nothing to revoke; it is checked once, and only when given', () => {
    const application = walk(committed(), [['check_commitment', DEPT, { holds: true, note: 'verified' }], ['approve', DEPT]])
    expect(refusalOf(() => application.check(cmd('revoke', DEPT, { reason: 'x' })))?.code).toBe('invalid_transition')
    expect(refusalOf(() => application.check(cmd('check_commitment', DEPT, { holds: false, note: 'again' }))))
      .toEqual({ code: 'invalid_transition', message: 'the commitment has been checked already', paths: [] })
    expect(refusalOf(() => accepted().check(cmd('check_commitment', DEPT, { holds: true, note: 'x' }))))
      .toEqual({ code: 'invalid_transition', message: 'the case was not accepted on a written commitment', paths: [] })
    expect(refusalOf(() => committed().check(cmd('check_commitment', HR, { holds: true, note: 'x' })))?.code).toBe('forbidden')
  })

  it('rule 36: an unchecked commitment is the department\'s overdue step', () => {
    const application = walk(committed(), [['approve', DEPT]])
    const missed = application.advance(fromMon(10))
    expect(missed.map((r) => [r.event.type, r.event.data.key])).toContainEqual(['deadline_missed', 'verification'])
    const view = application.view(fromMon(10))
    expect(view.overdue).toBe(true)
    expect(view.supervisions).toContainEqual(expect.objectContaining({ deadlineKey: 'verification', organizationId: 'gz-amr' }))
  })
})

describe('rating every ended service', () => {
  it('rule 29: a rejected or withdrawn case is rated too, "basically satisfied" by default after the period', () => {
    for (const [action, params] of [['reject', { reason: 'not our item' }], ['withdraw', { reason: 'moved away' }]] as const) {
      const application = submit()
      application.apply(cmd(action, action === 'reject' ? DEPT : WINDOW, params), MON)
      expect([action, deadlineOf(application.view(MON), 'rating')?.state]).toEqual([action, 'running'])
      expect(application.isOpen).toBe(true)
      const recorded = application.advance('2026-03-09T02:00:00.000Z')
      expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([
        ['rated', SYSTEM_ACTOR, { score: 3, level: 'basically_satisfied', defaulted: true }],
      ])
      expect(application.isOpen).toBe(false)
    }
    const rated = walk(submit(), [['reject', DEPT, { reason: 'x' }], ['rate', WINDOW, { score: 1 }]])
    expect(types(rated.apply(cmd('rectify', DEPT, { note: 'explained better' }), TUE))).toEqual(['rectified'])
  })

  it('rule 29: a rating records who gave it, the applicant by default or staff for them, and the channel', () => {
    const application = walk(submit(), [['withdraw', WINDOW, { reason: 'x' }]])
    const [rated] = application.apply(cmd('rate', WINDOW, { score: 4, by: 'staff', channel: 'kiosk' }), TUE)
    expect(rated!.event.data).toEqual({ score: 4, level: 'satisfied', defaulted: false, by: 'staff', channel: 'kiosk' })
    expect(rated!.view.rating).toEqual({ score: 4, level: 'satisfied', defaulted: false, by: 'staff', channel: 'kiosk', at: TUE })
    const other = walk(submit(), [['withdraw', WINDOW, { reason: 'x' }]])
    expect(refusalOf(() => other.check(cmd('rate', WINDOW, { score: 4, by: 'neighbour' })))?.paths).toEqual(['/params/by'])
    expect(refusalOf(() => other.check(cmd('rate', WINDOW, { score: 4, channel: '' })))?.paths).toEqual(['/params/channel'])
  })
})

describe('a case started under the first rules', () => {
  const v1 = (guide?: Guide, materials?: ApplicationState['submission']['materials']) => submit(guide, materials, 1)

  it('keeps them: no rating after rejection, both clocks paused for any reason, every later notice a violation, no joint limits', () => {
    const rejected = v1()
    rejected.apply(cmd('reject', DEPT, { reason: 'x' }), MON)
    expect(rejected.view(MON).deadlines.map((d) => d.key)).toEqual(['acceptance'])
    expect(rejected.isOpen).toBe(false)
    expect(refusalOf(() => rejected.check(cmd('rate', WINDOW, { score: 5 }))))
      .toEqual({ code: 'invalid_transition', message: 'the case has no rating period', paths: [] })

    const suspended = walk(v1(), [['accept', DEPT]])
    const [suspension] = suspended.apply(cmd('suspend', DEPT, { reason: 'other', note: 'x' }), MON)
    expect(deadlineOf(suspended.view(TUE), 'statutory')?.state).toBe('paused')
    // Its event says no more than the first rules' events did.
    expect([suspension!.event.type, suspension!.event.data]).toEqual(['suspended', { reason: 'other', note: 'x' }])

    const withdrawn = v1()
    withdrawn.apply(cmd('withdraw', WINDOW, { reason: 'moved away' }), MON)
    expect(withdrawn.view(MON).deadlines.map((d) => [d.key, d.state])).toEqual([['acceptance', 'cancelled']])

    const guide = testGuide({ materials: [FORM, PHOTO] })
    const noticed = walk(v1(guide, []), [['request_supplement', DEPT, { missing: ['form'], note: 'first' }],
      ['supplement', WINDOW, { materials: [{ code: 'form', ref: 'f' }] }]])
    expect(noticed.apply(cmd('request_supplement', DEPT, { missing: ['form'], note: 'again' }), TUE)[0]!.event.data)
      .toEqual({ missing: ['form'], note: 'again', violation: 'one_time_notice' })

    const joint = walk(v1(), [['accept', DEPT], ['request_opinions', DEPT, { organizationIds: ['gz-hr'], within: { workingDays: 3 } }]])
    expect(deadlineOf(joint.view(MON), 'statutory')?.dueAt).toBe(fromMon(20))
    expect(refusalOf(() => joint.check(extend(11)))?.code).toBe('unprocessable')
    joint.advance(fromMon(20))
    expect(refusalOf(() => joint.check(extend(10)))).toBeUndefined()
  })

  it('a case resumed from a state without a rules version follows the first rules', () => {
    const state = JSON.parse(JSON.stringify(submit().state)) as ApplicationState
    delete state.rulesVersion
    const resumed = ApplicationCase.resume(state, calendarWith())
    expect(resumed.rules).toBe(1)
    expect(submit().rules).toBe(2)
  })
})

describe('isOpenApplication', () => {
  it('reads a view: open after rejection only while a rating period runs, and while deferred materials or a check are awaited', () => {
    expect(isOpenApplication({ status: 'rejected' })).toBe(false)
    expect(isOpenApplication({ status: 'rejected', deadlines: [{ kind: 'rating', state: 'running' }] })).toBe(true)
    expect(isOpenApplication({ status: 'revoked', deadlines: [{ kind: 'rating', state: 'met' }],
      rating: { score: 3, level: 'basically_satisfied', at: MON, defaulted: true } })).toBe(false)
    for (const kind of ['deferred_materials', 'verification']) {
      const rating = { score: 5, level: 'very_satisfied', at: MON, defaulted: false }
      expect(isOpenApplication({ status: 'completed', rating, deadlines: [{ kind, state: 'paused' }] })).toBe(true)
      expect(isOpenApplication({ status: 'completed', rating, deadlines: [{ kind, state: 'met' }] })).toBe(false)
    }
    // Only those two keep an ended case open: any other deadline left pending in its view does not.
    expect(isOpenApplication({ status: 'withdrawn', deadlines: [{ kind: 'statutory', state: 'paused' }] })).toBe(false)
  })
})

describe('revocationGrounds', () => {
  const approved = { status: 'completed', decision: { outcome: 'approved', at: MON } }
  const deferredMissed = { deadlines: [{ kind: 'deferred_materials', state: 'missed' as const }] }
  const commitment = (holds?: boolean) => ({
    text: 'I hold the licence', verifyWithin: { workingDays: 5 }, at: MON,
    ...(holds === undefined ? {} : { check: { holds, note: 'checked', at: MON } }),
  })

  it('rules 35 and 36: a deferred material missing after its missed deadline, or a commitment found false', () => {
    expect(revocationGrounds({ ...approved, ...deferredMissed, deferredMaterials: [{ code: 'a', receivedAt: MON }, { code: 'b' }] }))
      .toEqual(['deferred_materials_missing'])
    expect(revocationGrounds({ ...approved, commitment: commitment(false) })).toEqual(['commitment_false'])
    expect(revocationGrounds({ ...approved, ...deferredMissed, deferredMaterials: [{ code: 'b' }], commitment: commitment(false) }))
      .toEqual(['deferred_materials_missing', 'commitment_false'])
  })

  it('none while materials came, the deadline missed is another, the check found it true or has not been made', () => {
    expect(revocationGrounds({ ...approved, ...deferredMissed, deferredMaterials: [{ code: 'a', receivedAt: MON }] })).toEqual([])
    expect(revocationGrounds({ ...approved, deadlines: [{ kind: 'result', state: 'missed' }], deferredMaterials: [{ code: 'b' }] })).toEqual([])
    expect(revocationGrounds({ ...approved, commitment: commitment(true) })).toEqual([])
    expect(revocationGrounds({ ...approved, commitment: commitment() })).toEqual([])
  })

  it('none on an application that was not approved, or is already revoked', () => {
    const grounds = { ...deferredMissed, deferredMaterials: [{ code: 'b' }], commitment: commitment(false) }
    expect(revocationGrounds({ status: 'rejected', decision: { outcome: 'rejected', at: MON }, ...grounds })).toEqual([])
    expect(revocationGrounds({ ...approved, status: 'revoked', ...grounds })).toEqual([])
    expect(revocationGrounds({ status: 'accepted', ...grounds })).toEqual([])
  })
})
