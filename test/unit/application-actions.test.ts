import { describe, expect, it } from 'vitest'
import { isApplicationAction, opinionKey } from '../../src/domain/application/actions.ts'
import {
  APPLICATION_STATUSES, ApplicationCase, type ApplicationState, caseLimits, isOpenApplication, SYSTEM_ACTOR,
} from '../../src/domain/application/application-case.ts'
import type { CaseView, RecordedEvent } from '../../src/domain/case-view.ts'
import { DEFAULT_LIMIT_SETTINGS } from '../../src/domain/limit-settings.ts'
import type { Actor } from '../../src/domain/roles.ts'
import type { Guide } from '../../src/domain/service-item.ts'
import { refusalOf } from '../support/tiny-case.ts'
import { calendarWith, newApplication, testGuide } from '../support/time-skipping.ts'

// Every action of an application, its rules and its effects (src/domain/application), one
// describe per action; application-case.test.ts has the first steps, the property test the
// refusals under arbitrary input.

const DEPT: Actor = { organizationId: 'gz-amr', role: 'department' }
const HR: Actor = { organizationId: 'gz-hr', role: 'department' }
const TAX: Actor = { organizationId: 'gz-tax', role: 'department' }
const WINDOW: Actor = { organizationId: 'gz-center', role: 'window' }
const SUPERVISOR: Actor = { organizationId: 'gz', role: 'supervisor' }

const MON = '2026-03-02T02:00:00.000Z' // Monday 10:00 in Guangzhou
const TUE = '2026-03-03T04:00:00.000Z'
const WED = '2026-03-04T04:00:00.000Z'
const NEXT_TUE = '2026-03-10T04:00:00.000Z'

const cmd = (action: string, actor: Actor, params: Record<string, unknown> = {}) => ({ action, actor, params })
const types = (recorded: RecordedEvent[]) => recorded.map((r) => r.event.type)
const deadlineOf = (view: CaseView, key: string) => view.deadlines.find((d) => d.key === key)

const TWO_MATERIALS = [
  { code: 'form', name: 'Form', required: true }, { code: 'photo', name: 'Photo', required: true }, { code: 'extra', name: 'Extra', required: false },
]

function submit(guide: Guide = testGuide(), submission: Partial<ReturnType<typeof newApplication>['submission']> = {}, at = MON) {
  return ApplicationCase.submit({
    id: 'A-1', guide, actor: WINDOW, calendar: calendarWith(), at, submission: { ...newApplication('A-1').submission, ...submission },
  })
}
/** The case after each step, applied at MON unless the step says otherwise. */
function walk(steps: Array<[string, Actor, Record<string, unknown>?, string?]>, guide?: Guide): ApplicationCase {
  const { application } = submit(guide)
  for (const [action, actor, params, at] of steps) application.apply(cmd(action, actor, params), at ?? MON)
  return application
}
const accepted = (guide?: Guide) => walk([['accept', DEPT]], guide)
const approved = () => walk([['accept', DEPT], ['approve', DEPT]])
const issued = () => walk([['accept', DEPT], ['approve', DEPT], ['issue_result', DEPT]])
const delivered = () => walk([['accept', DEPT], ['approve', DEPT], ['issue_result', DEPT], ['deliver', WINDOW, { method: 'mail' }, TUE]])

describe('submission', () => {
  it('takes the handler from the guide, the receiver from the actor, and lists only required materials missing', () => {
    const guide = testGuide({ materials: TWO_MATERIALS })
    const { application, recorded } = submit(guide, { materials: [{ code: 'photo', ref: 'doc://p', source: 'shared' }], submittedOnBehalfBy: 'agent-7' })
    expect(application.state).toMatchObject({
      id: 'A-1', status: 'submitted', handlingOrganizationId: 'gz-amr', receivedBy: 'gz-center', missingMaterials: ['form'], flags: [],
      overdue: false, seq: 1, createdAt: MON, updatedAt: MON, limits: caseLimits(), supplementRequests: [], opinions: [], supervisions: [],
    })
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['submitted', WINDOW, {
      serviceItemCode: 'ITEM-1', serviceItemVersion: 1, materials: [{ code: 'photo', source: 'shared' }], missingMaterials: ['form'],
      submittedOnBehalfBy: 'agent-7',
    }]])
    expect(submit().recorded[0]!.event.data).not.toHaveProperty('submittedOnBehalfBy')
  })

  it('rule 18: records who submitted on the applicant\'s behalf, in the first event and the view; nothing when nobody did', () => {
    const helped = submit(undefined, { submittedOnBehalfBy: 'agent-7' })
    expect(helped.recorded[0]!.event.data).toMatchObject({ submittedOnBehalfBy: 'agent-7' })
    expect(helped.recorded[0]!.view.submittedOnBehalfBy).toBe('agent-7')
    expect(helped.application.view(TUE).submittedOnBehalfBy).toBe('agent-7')
    const alone = submit()
    expect(alone.recorded[0]!.event.data).not.toHaveProperty('submittedOnBehalfBy')
    expect(alone.application.view(MON)).not.toHaveProperty('submittedOnBehalfBy')
  })

  it('flags a green-channel or urgent application as priority', () => {
    expect(submit(undefined, { priority: { greenChannel: true, urgent: false } }).application.state.flags).toEqual(['priority'])
    expect(submit(undefined, { priority: { greenChannel: false, urgent: true } }).application.state.flags).toEqual(['priority'])
    expect(submit().application.view(MON).flags).toEqual([])
  })

  it('takes the limits it is given, or the defaults', () => {
    const limits = caseLimits({ ...DEFAULT_LIMIT_SETTINGS, 'rating.default': { duration: 'P1D' } })
    const { application } = ApplicationCase.submit({
      id: 'A-2', guide: testGuide(), actor: WINDOW, calendar: calendarWith(), at: MON, submission: newApplication('A-2').submission, limits,
    })
    expect(application.state.limits.ratingDefault).toEqual({ duration: 'P1D' })
  })

  it('starts the acceptance clock with the guide\'s warning', () => {
    const { application } = submit(testGuide({ warnBefore: { workingDays: 2 } }))
    expect(deadlineOf(application.view(MON), 'acceptance')).toMatchObject({
      kind: 'acceptance', dueAt: '2026-03-09T16:00:00.000Z', warnAt: '2026-03-05T16:00:00.000Z', state: 'running',
    })
  })

  it('is refused with text that cannot be stored anywhere in it, at its path', () => {
    const unsafe = (input: Partial<Parameters<typeof ApplicationCase.checkSubmission>[0]>) => refusalOf(() => ApplicationCase.checkSubmission({
      guide: testGuide(), submission: newApplication('A-1').submission, actor: WINDOW, ...input,
    }))
    const submission = newApplication('A-1').submission
    expect(unsafe({ submission: { ...submission, applicant: { ...submission.applicant, name: 'a\u0000' } } }))
      .toMatchObject({ code: 'validation_failed', paths: ['/submission/applicant/name'] })
    expect(unsafe({ guide: testGuide({ name: '\ud800' }) })?.paths).toEqual(['/guide/name'])
    expect(unsafe({ actor: { organizationId: '\udc00', role: 'window' } })?.message).toMatch(/^the application: \/actor\/organizationId /)
    // What pre-review found comes from the city's data exchange, and is checked as what the window sent.
    expect(unsafe({ preReviewed: [{ code: 'form', ref: 'elicence://\u0000', source: 'shared' }] })?.paths).toEqual(['/preReviewed/0/ref'])
    expect(unsafe({ preReviewed: [{ code: 'form', ref: 'elicence://1', source: 'shared' }] })).toBeUndefined()
    expect(unsafe({})).toBeUndefined()
    expect(refusalOf(() => submit(undefined, { channel: '\u0000' }))?.paths).toEqual(['/submission/channel'])
  })

  it('resumes from its state: numbering and deadlines go on', () => {
    const before = accepted()
    const state = JSON.parse(JSON.stringify(before.state)) as ApplicationState
    const resumed = ApplicationCase.resume(state, calendarWith())
    expect(resumed.view(MON)).toEqual(before.view(MON))
    expect(resumed.apply(cmd('approve', DEPT), TUE).map((r) => r.event.seq)).toEqual([3])
  })
})

describe('the view', () => {
  it('carries the application\'s own fields, and its optional ones only once they exist', () => {
    const view = submit().application.view(MON)
    expect(view).toMatchObject({
      kind: 'application', serviceItemCode: 'ITEM-1', serviceItemVersion: 1, channel: 'window', applicant: newApplication('A-1').submission.applicant,
      priority: { greenChannel: false, urgent: false }, materials: [{ code: 'form', ref: 'doc://form', source: 'applicant' }],
      missingMaterials: [], supplementRequests: [], opinions: [], supervisions: [],
    })
    for (const key of ['submittedOnBehalfBy', 'decision', 'suspension', 'extension', 'result', 'rating', 'rectification']) {
      expect(view).not.toHaveProperty(key)
    }
    const later = delivered()
    later.apply(cmd('rate', WINDOW, { score: 1 }), WED)
    expect(Object.keys(later.view(WED))).toEqual(expect.arrayContaining(['decision', 'result', 'rating', 'rectification']))
  })

  it('is a copy: changing it changes nothing in the case', () => {
    const { application } = submit()
    const view = application.view(MON)
    view.materials!.push({ code: 'x', ref: 'y', source: 'shared' })
    view.applicant!.name = 'someone else'
    expect(application.view(MON).materials).toHaveLength(1)
    expect(application.state.submission.applicant.name).toBe('李四')
  })
})

describe('decided on the spot', () => {
  it('an instant item: accepted by whoever received it and approved at once', () => {
    const { recorded } = submit(testGuide({ processing: 'instant' }))
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([
      ['submitted', WINDOW, expect.any(Object)],
      ['accepted', WINDOW, { clockStart: MON }],
      ['approved', WINDOW, { note: 'instant item, decided on the spot' }],
    ])
    expect(recorded[2]!.view.decision).toEqual({ outcome: 'approved', at: MON, note: 'instant item, decided on the spot' })
  })

  it('an item whose rule holds over the application: by the system', () => {
    const rule = { and: [{ in: ['form', { var: 'materials' }] }, { '==': [{ var: 'channel' }, 'window'] }, { '!': { var: 'priority.urgent' } }] }
    const { application, recorded } = submit(testGuide({ autoApprove: rule }))
    expect(recorded.slice(1).map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([
      ['accepted', SYSTEM_ACTOR, { clockStart: MON }],
      ['approved', SYSTEM_ACTOR, { note: 'approved automatically by the item\'s rule' }],
    ])
    expect(deadlineOf(application.view(MON), 'result')).toMatchObject({ state: 'running', dueAt: '2026-03-16T16:00:00.000Z' })
  })

  it('not when the rule does not hold, cannot be evaluated, or a material is missing', () => {
    expect(submit(testGuide({ autoApprove: { '==': [{ var: 'channel' }, 'online'] } })).application.state.status).toBe('submitted')
    expect(submit(testGuide({ autoApprove: { no_such_op: [1] } })).application.state.status).toBe('submitted')
    const missing = submit(testGuide({ autoApprove: { '==': [1, 1] } }), { materials: [] })
    expect(types(missing.recorded)).toEqual(['submitted'])
    expect(submit(testGuide({ autoApprove: { '==': [1, 1] } })).application.state.status).toBe('approved')
  })
})

describe('accept', () => {
  it('meets the acceptance deadline and starts the promised and statutory clocks from now', () => {
    const { application } = submit()
    const recorded = application.apply(cmd('accept', WINDOW), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['accepted', WINDOW, { clockStart: TUE }]])
    const view = application.view(TUE)
    expect(view.status).toBe('accepted')
    expect(deadlineOf(view, 'acceptance')).toMatchObject({ state: 'met', settledAt: TUE, workingDaysUsed: 1 })
    expect(deadlineOf(view, 'promised')).toMatchObject({ kind: 'promised', state: 'running', dueAt: '2026-03-10T16:00:00.000Z' })
    expect(deadlineOf(view, 'statutory')).toMatchObject({ kind: 'statutory', state: 'running', dueAt: '2026-03-31T16:00:00.000Z' })
  })

  it('only while submitted', () => {
    const waiting = walk([['request_supplement', WINDOW, { missing: ['form'], note: 'sign' }]])
    expect(refusalOf(() => waiting.check(cmd('accept', DEPT)))).toMatchObject({ code: 'invalid_transition', message: 'cannot accept a case that is supplement_requested' })
  })
})

describe('deemed acceptance', () => {
  it('when the acceptance limit passes: by the system, the clocks counted from when the materials arrived', () => {
    const application = walk([
      ['request_supplement', WINDOW, { missing: ['form'], note: 'sign' }], ['supplement', WINDOW, { materials: [{ code: 'form', ref: 'doc://2' }] }, TUE],
    ])
    const recorded = application.advance('2026-03-10T16:00:00.000Z')
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['deemed_accepted', SYSTEM_ACTOR, { clockStart: TUE }]])
    const view = application.view('2026-03-10T16:00:00.000Z')
    expect(view.status).toBe('accepted')
    expect(view.overdue).toBe(false)
    expect(view.supervisions).toEqual([])
    // The department let the acceptance limit pass: for on-time reports that step was missed.
    expect(deadlineOf(view, 'acceptance')).toMatchObject({ state: 'missed' })
    expect(deadlineOf(view, 'promised')?.dueAt).toBe('2026-03-10T16:00:00.000Z')
  })
})

describe('who may act on a case', () => {
  it('a department only while it handles the case, for every action that names handling', () => {
    const handlerOnly: Array<[ApplicationCase, string, Record<string, unknown>]> = [
      [submit().application, 'accept', {}],
      [submit().application, 'reject', { reason: 'x' }],
      [submit().application, 'request_supplement', { missing: ['form'], note: 'x' }],
      [accepted(), 'transfer', { toOrganizationId: 'gz-tax', reason: 'x' }],
      [accepted(), 'request_opinions', { organizationIds: ['gz-tax'], within: { workingDays: 1 } }],
      [accepted(), 'suspend', { reason: 'hearing', note: 'x' }],
      [walk([['accept', DEPT], ['suspend', DEPT, { reason: 'hearing', note: 'x' }]]), 'resume', {}],
      [accepted(), 'extend', { workingDays: 1, approvedBy: 'x', reason: 'x' }],
      [accepted(), 'approve', {}],
      [accepted(), 'deny', { reason: 'x' }],
      [approved(), 'issue_result', {}],
    ]
    for (const [application, action, params] of handlerOnly) {
      expect(refusalOf(() => application.check(cmd(action, HR, params)))).toEqual({
        code: 'forbidden', message: 'organisation gz-hr does not handle this case', paths: [],
      })
      expect(refusalOf(() => application.check(cmd(action, DEPT, params)))).toBeUndefined()
    }
  })
})

describe('reject', () => {
  it('rule 7: ends the case with the reason and cancels its deadlines, from submitted or waiting for a supplement', () => {
    const { application } = submit()
    const recorded = application.apply(cmd('reject', DEPT, { reason: 'not our item' }), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['rejected', DEPT, { reason: 'not our item' }]])
    expect(application.state.decision).toEqual({ outcome: 'rejected', note: 'not our item', at: TUE })
    // Only the rating period (rule 29) runs on.
    expect(application.view(TUE).deadlines.map((d) => [d.key, d.state, d.settledAt])).toEqual([['acceptance', 'cancelled', TUE], ['rating', 'running', undefined]])
    const waiting = walk([['request_supplement', WINDOW, { missing: ['form'], note: 'sign' }]])
    expect(waiting.apply(cmd('reject', WINDOW, { reason: 'gave up' }), TUE).map((r) => r.view.status)).toEqual(['rejected'])
    expect(refusalOf(() => accepted().check(cmd('reject', DEPT, { reason: 'x' })))?.code).toBe('invalid_transition')
    expect(refusalOf(() => submit().application.check(cmd('reject', HR, { reason: 'x' })))?.code).toBe('forbidden')
  })

  it('rule 7: is refused without a written reason, and nothing is recorded', () => {
    const { application } = submit()
    const before = JSON.stringify(application.state)
    for (const params of [{}, { reason: '' }, { reason: ' \t\n\u3000' }]) {
      expect(refusalOf(() => application.apply(cmd('reject', DEPT, params), TUE))).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('reason') })
    }
    expect(JSON.stringify(application.state)).toBe(before)
  })
})

describe('request_supplement and supplement', () => {
  const guide = testGuide({ materials: TWO_MATERIALS })

  it('names what is missing, meets the acceptance deadline and waits for the applicant', () => {
    const { application } = submit(guide, { materials: [] })
    const recorded = application.apply(cmd('request_supplement', DEPT, { missing: ['form', 'photo'], note: 'both, signed' }), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([
      ['supplement_requested', DEPT, { missing: ['form', 'photo'], note: 'both, signed' }],
    ])
    expect(application.state).toMatchObject({ status: 'supplement_requested', flags: [], supplementRequests: [{ missing: ['form', 'photo'], note: 'both, signed', at: TUE }] })
    expect(deadlineOf(application.view(TUE), 'acceptance')).toMatchObject({ state: 'met', settledAt: TUE })
  })

  it('refuses an empty or repeated list of materials', () => {
    const { application } = submit(guide)
    expect(refusalOf(() => application.check(cmd('request_supplement', DEPT, { missing: [], note: 'x' })))?.paths).toEqual(['/params/missing'])
    expect(refusalOf(() => application.check(cmd('request_supplement', DEPT, { missing: ['form', 'form'], note: 'x' })))?.paths).toEqual(['/params/missing'])
    application.apply(cmd('request_supplement', DEPT, { missing: ['form', 'photo'], note: 'x' }), MON)
    expect(refusalOf(() => application.check(cmd('supplement', WINDOW, { materials: [] })))?.paths).toEqual(['/params/materials'])
    expect(refusalOf(() => application.check(cmd('supplement', WINDOW, { materials: [{ code: 'form' }] })))?.paths).toEqual(['/params/materials/0'])
  })

  it('refuses a material the guide does not list', () => {
    const { application } = submit(guide)
    expect(refusalOf(() => application.check(cmd('request_supplement', DEPT, { missing: ['form', 'passport', 'visa'], note: 'x' }))))
      .toEqual({ code: 'validation_failed', message: 'not materials of ITEM-1: passport, visa', paths: [] })
    application.apply(cmd('request_supplement', DEPT, { missing: ['form', 'photo'], note: 'x' }), MON)
    expect(refusalOf(() => application.check(cmd('supplement', WINDOW, { materials: [{ code: 'passport', ref: 'r' }] })))?.message)
      .toBe('not materials of ITEM-1: passport')
    expect(refusalOf(() => application.check(cmd('supplement', DEPT, { materials: [{ code: 'form', ref: 'r' }] })))?.code).toBe('forbidden')
  })

  it('merges the supplement by code, lists what is still missing and runs the acceptance limit again', () => {
    const { application } = submit(guide, { materials: [{ code: 'form', ref: 'doc://old', source: 'shared' }] })
    expect(application.state.missingMaterials).toEqual(['photo'])
    application.apply(cmd('request_supplement', WINDOW, { missing: ['photo'], note: 'x' }), MON)
    const recorded = application.apply(cmd('supplement', WINDOW, { materials: [{ code: 'form', ref: 'doc://new' }, { code: 'extra', ref: 'doc://e' }] }), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.data])).toEqual([['supplemented', { materials: ['form', 'extra'], missingMaterials: ['photo'] }]])
    expect(application.state.submission.materials).toEqual([
      { code: 'form', ref: 'doc://new', source: 'applicant' }, { code: 'extra', ref: 'doc://e', source: 'applicant' },
    ])
    expect(application.state.status).toBe('submitted')
    expect(deadlineOf(application.view(TUE), 'acceptance')).toMatchObject({ state: 'running', dueAt: '2026-03-10T16:00:00.000Z' })
    application.apply(cmd('request_supplement', WINDOW, { missing: ['photo'], note: 'the photo' }), TUE)
    const last = application.apply(cmd('supplement', WINDOW, { materials: [{ code: 'photo', ref: 'doc://p' }] }), WED)
    expect(last[0]!.event.data).toEqual({ materials: ['photo'], missingMaterials: [] })
    expect(application.state.missingMaterials).toEqual([])
  })

  it('rule 6: a later notice is flagged once, however often the promise is broken', () => {
    const application = walk([['request_supplement', WINDOW, { missing: ['photo'], note: 'first' }], ['supplement', WINDOW, { materials: [{ code: 'photo', ref: 'r' }] }]], guide)
    const second = application.apply(cmd('request_supplement', WINDOW, { missing: ['form'], note: 'and this' }), TUE)
    expect(second[0]!.event.data).toEqual({ missing: ['form'], note: 'and this', violation: 'one_time_notice', namedLate: ['form'] })
    expect(second[0]!.view.flags).toEqual(['one_time_notice_violation'])
    application.apply(cmd('supplement', WINDOW, { materials: [{ code: 'photo', ref: 'r2' }] }), TUE)
    application.apply(cmd('request_supplement', WINDOW, { missing: ['form'], note: 'third' }), WED)
    expect(application.state.flags).toEqual(['one_time_notice_violation'])
    expect(application.state.supplementRequests.map((r) => r.note)).toEqual(['first', 'and this', 'third'])
  })
})

describe('transfer', () => {
  it('hands the case to another organisation, which then handles it', () => {
    const application = accepted()
    const recorded = application.apply(cmd('transfer', DEPT, { toOrganizationId: 'gz-hr', reason: 'competent' }), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['transferred', DEPT, { from: 'gz-amr', to: 'gz-hr', reason: 'competent' }]])
    expect(recorded[0]!.view.handlingOrganizationId).toBe('gz-hr')
    expect(refusalOf(() => application.check(cmd('approve', DEPT)))?.code).toBe('forbidden')
    expect(refusalOf(() => application.check(cmd('approve', HR)))).toBeUndefined()
    // A supervisor may move a case it does not handle.
    expect(application.apply(cmd('transfer', SUPERVISOR, { toOrganizationId: 'gz-tax', reason: 'no' }), TUE)[0]!.event.data).toMatchObject({ from: 'gz-hr' })
  })

  it('is refused to the organisation already handling it, by a stranger, and once decided', () => {
    expect(refusalOf(() => accepted().check(cmd('transfer', DEPT, { toOrganizationId: 'gz-amr', reason: 'x' }))))
      .toEqual({ code: 'conflict', message: 'the case is already handled by gz-amr', paths: [] })
    expect(refusalOf(() => accepted().check(cmd('transfer', HR, { toOrganizationId: 'gz-hr', reason: 'x' })))?.code).toBe('forbidden')
    expect(refusalOf(() => approved().check(cmd('transfer', DEPT, { toOrganizationId: 'gz-hr', reason: 'x' })))?.code).toBe('invalid_transition')
    for (const app of [submit().application, walk([['request_supplement', WINDOW, { missing: ['form'], note: 'x' }]]),
      walk([['accept', DEPT], ['suspend', DEPT, { reason: 'testing', note: 'lab' }]])]) {
      expect(refusalOf(() => app.check(cmd('transfer', DEPT, { toOrganizationId: 'gz-hr', reason: 'x' })))).toBeUndefined()
    }
  })
})

describe('opinions', () => {
  const ask = (app: ApplicationCase, orgs: string[], at = MON) => app.apply(cmd('request_opinions', DEPT, { organizationIds: orgs, within: { workingDays: 3 } }), at)

  it('are asked of other organisations, each with an external deadline it owes', () => {
    const application = accepted()
    const recorded = ask(application, ['gz-hr', 'gz-tax'])
    expect(recorded.map((r) => [r.event.type, r.event.data])).toEqual([
      ['opinions_requested', { organizationIds: ['gz-hr', 'gz-tax'], within: { workingDays: 3 }, jointHandling: { statutoryLimit: { workingDays: 45 } } }],
    ])
    expect(application.state.opinions).toEqual([{ organizationId: 'gz-hr', requestedAt: MON }, { organizationId: 'gz-tax', requestedAt: MON }])
    expect(application.externalDeadlines.map((d) => [d.kind, d.key, d.dueAt])).toEqual([
      ['opinion', 'opinion:gz-hr', '2026-03-05T16:00:00.000Z'], ['opinion', 'opinion:gz-tax', '2026-03-05T16:00:00.000Z'],
    ])
    expect(application.view(MON).deadlines.filter((d) => d.kind === 'opinion').map((d) => d.organizationId)).toEqual(['gz-hr', 'gz-tax'])
    expect(opinionKey('gz-hr')).toBe('opinion:gz-hr')
  })

  it('are not asked of the handler itself, nor twice of one still to answer, nor before acceptance', () => {
    const application = accepted()
    expect(refusalOf(() => application.check(cmd('request_opinions', DEPT, { organizationIds: ['gz-hr', 'gz-amr'], within: { workingDays: 1 } }))))
      .toEqual({ code: 'validation_failed', message: 'the handling organisation does not give itself an opinion', paths: [] })
    ask(application, ['gz-hr', 'gz-tax'])
    expect(refusalOf(() => application.check(cmd('request_opinions', DEPT, { organizationIds: ['gz-x', 'gz-tax', 'gz-hr'], within: { workingDays: 1 } }))))
      .toEqual({ code: 'conflict', message: 'opinions already requested from gz-tax, gz-hr', paths: [] })
    application.apply(cmd('give_opinion', HR, { opinion: 'fine', agree: true }), TUE)
    expect(ask(application, ['gz-hr'], WED)[0]!.view.opinions?.filter((o) => o.organizationId === 'gz-hr')).toHaveLength(2)
    expect(refusalOf(() => submit().application.check(cmd('request_opinions', DEPT, { organizationIds: ['gz-hr'], within: { workingDays: 1 } })))?.code)
      .toBe('invalid_transition')
  })

  it('are given by the organisation asked, which meets its deadline', () => {
    const application = accepted()
    ask(application, ['gz-tax', 'gz-hr'])
    expect(refusalOf(() => application.check(cmd('give_opinion', { organizationId: 'gz-police', role: 'department' }, { opinion: 'x', agree: true }))))
      .toEqual({ code: 'invalid_transition', message: 'no opinion is awaited from gz-police', paths: [] })
    const recorded = application.apply(cmd('give_opinion', HR, { opinion: 'no objection', agree: false }), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([
      ['opinion_given', HR, { organizationId: 'gz-hr', opinion: 'no objection', agree: false }],
    ])
    expect(application.state.opinions).toEqual([
      { organizationId: 'gz-tax', requestedAt: MON }, { organizationId: 'gz-hr', requestedAt: MON, opinion: 'no objection', agree: false, givenAt: TUE },
    ])
    expect(deadlineOf(application.view(TUE), 'opinion:gz-hr')).toMatchObject({ state: 'met', settledAt: TUE })
    expect(deadlineOf(application.view(TUE), 'opinion:gz-tax')).toMatchObject({ state: 'running' })
    expect(refusalOf(() => application.check(cmd('give_opinion', HR, { opinion: 'again', agree: true })))?.code).toBe('invalid_transition')
  })

  it('may be asked again once given; the decision then waits for the new one, given into its own entry', () => {
    const application = accepted()
    ask(application, ['gz-hr'])
    application.apply(cmd('give_opinion', HR, { opinion: 'first', agree: true }), MON)
    ask(application, ['gz-hr'], TUE)
    expect(refusalOf(() => application.check(cmd('approve', DEPT)))?.message).toBe('waiting for opinions from gz-hr')
    application.apply(cmd('give_opinion', HR, { opinion: 'second', agree: false }), WED)
    expect(application.state.opinions.map((o) => [o.opinion, o.givenAt])).toEqual([['first', MON], ['second', WED]])
    expect(refusalOf(() => application.check(cmd('approve', DEPT)))).toBeUndefined()
    expect(refusalOf(() => application.check(cmd('request_opinions', DEPT, { organizationIds: [], within: { workingDays: 1 } })))?.paths)
      .toEqual(['/params/organizationIds'])
    expect(refusalOf(() => application.check(cmd('request_opinions', DEPT, { organizationIds: ['gz-tax', 'gz-tax'], within: { workingDays: 1 } })))?.paths)
      .toEqual(['/params/organizationIds'])
  })

  it('may be given while suspended', () => {
    const application = accepted()
    ask(application, ['gz-hr'])
    application.apply(cmd('suspend', DEPT, { reason: 'hearing', note: 'x' }), MON)
    expect(refusalOf(() => application.check(cmd('give_opinion', HR, { opinion: 'ok', agree: true })))).toBeUndefined()
  })

  it('hold the decision while awaited; one missed opens supervision on its organisation and no longer holds it', () => {
    const application = accepted()
    ask(application, ['gz-hr', 'gz-tax'])
    expect(refusalOf(() => application.check(cmd('approve', DEPT))))
      .toEqual({ code: 'invalid_transition', message: 'waiting for opinions from gz-hr, gz-tax', paths: [] })
    expect(refusalOf(() => application.check(cmd('deny', DEPT, { reason: 'x' })))?.message).toBe('waiting for opinions from gz-hr, gz-tax')
    application.apply(cmd('give_opinion', TAX, { opinion: 'ok', agree: true }), TUE)
    const missed = application.markExternal('opinion:gz-hr', 'missed', '2026-03-05T16:00:00.000Z')
    expect(missed.map((r) => [r.event.type, r.event.data])).toEqual([
      ['deadline_missed', { kind: 'opinion', key: 'opinion:gz-hr', dueAt: '2026-03-05T16:00:00.000Z' }],
      // Level 1, with its own answer due in 3 working days (setting supervision.respond); no
      // supervisor, since the case has not looked gz-hr up in the tree.
      ['supervision_opened', { id: 'S1', organizationId: 'gz-hr', deadlineKey: 'opinion:gz-hr', level: 1, dueAt: '2026-03-11T16:00:00.000Z' }],
    ])
    expect(refusalOf(() => application.check(cmd('approve', DEPT)))).toBeUndefined()
  })
})

describe('suspend and resume', () => {
  it('pause the promised and the statutory clock, not the others, and move both by the working days paused', () => {
    const application = accepted()
    application.apply(cmd('request_opinions', DEPT, { organizationIds: ['gz-hr'], within: { workingDays: 3 } }), MON)
    const before = application.view(MON)
    const suspended = application.apply(cmd('suspend', DEPT, { reason: 'testing', note: 'to the lab' }), TUE)
    expect(suspended.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['suspended', DEPT, { reason: 'testing', note: 'to the lab', statutoryPaused: true }]])
    expect(application.state.suspension).toEqual({ reason: 'testing', note: 'to the lab', since: TUE })
    const during = application.view(WED)
    expect(during.deadlines.map((d) => [d.key, d.state])).toEqual([
      ['acceptance', 'met'], ['promised', 'paused'], ['statutory', 'paused'], ['opinion:gz-hr', 'running'],
    ])
    const resumed = application.apply(cmd('resume', DEPT, { note: 'results in' }), NEXT_TUE)
    expect(resumed.map((r) => [r.event.type, r.event.data])).toEqual([['resumed', { since: TUE, note: 'results in' }]])
    expect(application.state.status).toBe('accepted')
    expect(application.state).not.toHaveProperty('suspension')
    const after = application.view(NEXT_TUE)
    // Tuesday to the next Tuesday: five working days paused.
    expect(deadlineOf(before, 'promised')?.dueAt).toBe('2026-03-09T16:00:00.000Z')
    expect(deadlineOf(after, 'promised')).toMatchObject({ state: 'running', dueAt: '2026-03-16T16:00:00.000Z' })
    // Joint handling began with the opinions: 45 working days from acceptance, then 50.
    expect(deadlineOf(before, 'statutory')?.dueAt).toBe('2026-05-08T16:00:00.000Z')
    expect(deadlineOf(after, 'statutory')?.dueAt).toBe('2026-05-14T16:00:00.000Z')
    expect(deadlineOf(after, 'opinion:gz-hr')?.dueAt).toBe(deadlineOf(before, 'opinion:gz-hr')?.dueAt)
  })

  it('for any of the special procedures', () => {
    for (const reason of ['hearing', 'tender', 'auction', 'inspection', 'testing', 'quarantine', 'appraisal', 'expert_review', 'public_notice', 'other']) {
      expect(refusalOf(() => accepted().check(cmd('suspend', DEPT, { reason, note: 'x' })))).toBeUndefined()
    }
  })

  it('suspend only once accepted, for a listed reason; resume only when suspended, its note optional', () => {
    expect(refusalOf(() => submit().application.check(cmd('suspend', DEPT, { reason: 'testing', note: 'x' })))?.code).toBe('invalid_transition')
    expect(refusalOf(() => accepted().check(cmd('suspend', DEPT, { reason: 'holiday', note: 'x' })))?.paths).toEqual(['/params/reason'])
    expect(refusalOf(() => accepted().check(cmd('resume', DEPT)))?.code).toBe('invalid_transition')
    const application = walk([['accept', DEPT], ['suspend', DEPT, { reason: 'expert_review', note: 'x' }]])
    expect(refusalOf(() => application.check(cmd('suspend', DEPT, { reason: 'other', note: 'again' })))?.code).toBe('invalid_transition')
    expect(refusalOf(() => application.check(cmd('resume', HR)))?.code).toBe('forbidden')
    expect(application.apply(cmd('resume', DEPT), TUE)[0]!.event.data).toEqual({ since: MON })
  })
})

describe('extend', () => {
  const extend = (workingDays: number) => cmd('extend', DEPT, { workingDays, approvedBy: 'Director Wang', reason: 'complex' })

  it('moves the promised and statutory due dates by the working days approved', () => {
    const application = accepted()
    const recorded = application.apply(extend(10), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.data])).toEqual([['extended', { workingDays: 10, approvedBy: 'Director Wang', reason: 'complex' }]])
    expect(application.state.extension).toEqual({ workingDays: 10, approvedBy: 'Director Wang', reason: 'complex', at: TUE })
    const view = application.view(TUE)
    expect(deadlineOf(view, 'promised')?.dueAt).toBe('2026-03-23T16:00:00.000Z')
    expect(deadlineOf(view, 'statutory')?.dueAt).toBe('2026-04-14T16:00:00.000Z')
  })

  it('once, within the item\'s maximum, and only for working-day limits', () => {
    const application = accepted()
    for (const workingDays of [0, 366]) expect(refusalOf(() => application.check(extend(workingDays)))?.paths).toEqual(['/params/workingDays'])
    expect(refusalOf(() => application.check(extend(11))))
      .toEqual({ code: 'unprocessable', message: 'at most 10 working days of extension for ITEM-1', paths: [] })
    application.apply(extend(1), TUE)
    expect(refusalOf(() => application.check(extend(1))))
      .toEqual({ code: 'invalid_transition', message: 'the case was extended once already; a second extension is not allowed', paths: [] })
    const hours = accepted(testGuide({ promisedLimit: { duration: 'PT2H' }, statutoryLimit: { duration: 'P1D' } }))
    expect(refusalOf(() => hours.check(extend(1))))
      .toEqual({ code: 'unprocessable', message: 'only working-day limits can be extended', paths: [] })
    const suspended = walk([['accept', DEPT], ['suspend', DEPT, { reason: 'hearing', note: 'x' }]])
    expect(refusalOf(() => suspended.check(extend(2)))).toBeUndefined()
    expect(refusalOf(() => approved().check(extend(2)))?.code).toBe('invalid_transition')
  })
})

describe('approve and deny', () => {
  it('rule 11: decide, meet the processing clocks and start the result limit', () => {
    const application = accepted()
    const recorded = application.apply(cmd('approve', DEPT, { note: 'all in order' }), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['approved', DEPT, { note: 'all in order' }]])
    expect(application.state.decision).toEqual({ outcome: 'approved', at: TUE, note: 'all in order' })
    const view = application.view(TUE)
    expect(deadlineOf(view, 'promised')).toMatchObject({ state: 'met', settledAt: TUE })
    expect(deadlineOf(view, 'statutory')).toMatchObject({ state: 'met', settledAt: TUE })
    expect(deadlineOf(view, 'result')).toMatchObject({ kind: 'result', state: 'running', dueAt: '2026-03-17T16:00:00.000Z' })
    expect(approved().state.decision).toEqual({ outcome: 'approved', at: MON })
    expect(accepted().apply(cmd('approve', DEPT), TUE)[0]!.event.data).toEqual({})
    expect(approved().apply(cmd('issue_result', DEPT), TUE)).toHaveLength(1)
  })

  it('deny records the reason', () => {
    const application = accepted()
    const recorded = application.apply(cmd('deny', DEPT, { reason: 'not eligible' }), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.data])).toEqual([['denied', { reason: 'not eligible' }]])
    expect(application.state.decision).toEqual({ outcome: 'denied', at: TUE, note: 'not eligible' })
    expect(application.state.status).toBe('denied')
  })

  it('only once accepted, by the handler', () => {
    expect(refusalOf(() => submit().application.check(cmd('approve', DEPT)))?.code).toBe('invalid_transition')
    expect(refusalOf(() => accepted().check(cmd('approve', HR)))?.code).toBe('forbidden')
    expect(refusalOf(() => accepted().check(cmd('deny', WINDOW, { reason: 'x' })))?.code).toBe('forbidden')
  })
})

describe('issue_result and deliver', () => {
  it('issue the result, with a certificate number when given', () => {
    const application = approved()
    const recorded = application.apply(cmd('issue_result', DEPT, { certificateNo: 'C-42' }), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.data])).toEqual([['result_issued', { certificateNo: 'C-42' }]])
    expect(application.state).toMatchObject({ status: 'result_issued', result: { issuedAt: TUE, certificateNo: 'C-42' } })
    const plain = approved()
    expect(plain.apply(cmd('issue_result', DEPT), TUE)[0]!.event.data).toEqual({})
    expect(plain.state.result).toEqual({ issuedAt: TUE })
    expect(refusalOf(() => accepted().check(cmd('issue_result', DEPT)))?.code).toBe('invalid_transition')
    expect(refusalOf(() => approved().check(cmd('issue_result', HR)))?.code).toBe('forbidden')
  })

  it('deliver completes the case, meets the result limit and starts the rating period', () => {
    const application = issued()
    const recorded = application.apply(cmd('deliver', WINDOW, { method: 'electronic' }), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['delivered', WINDOW, { method: 'electronic' }]])
    expect(application.state).toMatchObject({ status: 'completed', result: { issuedAt: MON, deliveredAt: TUE, method: 'electronic' } })
    const view = application.view(TUE)
    expect(deadlineOf(view, 'result')).toMatchObject({ state: 'met', settledAt: TUE })
    expect(deadlineOf(view, 'rating')).toMatchObject({ kind: 'rating', state: 'running', dueAt: '2026-03-10T04:00:00.000Z' })
    expect(application.isOpen).toBe(true)
  })

  it('deliver a denial too, by a window only', () => {
    const denied = walk([['accept', DEPT], ['deny', DEPT, { reason: 'no' }]])
    expect(refusalOf(() => denied.check(cmd('deliver', DEPT, { method: 'mail' })))?.code).toBe('forbidden')
    expect(denied.apply(cmd('deliver', WINDOW, { method: 'window' }), TUE)[0]!.view.status).toBe('completed')
    expect(refusalOf(() => approved().check(cmd('deliver', WINDOW, { method: 'mail' })))?.code).toBe('invalid_transition')
    expect(refusalOf(() => issued().check(cmd('deliver', WINDOW, { method: 'pigeon' })))?.paths).toEqual(['/params/method'])
  })
})

describe('after delivery', () => {
  it('a rating is taken, and without one the default is recorded when the period ends; the warning passes silently', () => {
    const application = delivered()
    expect(application.nextWakeMs()).toBe(Date.parse('2026-03-08T18:24:00.000Z'))
    expect(application.advance('2026-03-09T00:00:00.000Z')).toEqual([])
    const recorded = application.advance('2026-03-10T04:00:00.000Z')
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([
      ['rated', SYSTEM_ACTOR, { score: 3, level: 'basically_satisfied', defaulted: true }],
    ])
    expect(application.isOpen).toBe(false)
    expect(application.nextWakeMs()).toBeUndefined()
  })

  it('a bad rating opens a rectification, and the case stays open until the call-back', () => {
    const application = delivered()
    expect(types(application.apply(cmd('rate', WINDOW, { score: 2 }), WED))).toEqual(['rated', 'rectification_opened'])
    expect(application.isOpen).toBe(true)
    application.apply(cmd('rectify', DEPT, { note: 'done' }), WED)
    application.apply(cmd('call_back', WINDOW, { satisfied: true }), WED)
    expect(application.isOpen).toBe(false)
  })

  it('a supervisor may order an answer until the case is completed', () => {
    const order = cmd('supervise', SUPERVISOR, { note: 'x', respondWithin: { workingDays: 1 } })
    const decided = [approved(), issued(), walk([['accept', DEPT], ['deny', DEPT, { reason: 'no' }]])]
    for (const application of [submit().application, accepted(), ...decided]) expect(refusalOf(() => application.check(order))).toBeUndefined()
    for (const application of decided) {
      application.apply(order, TUE)
      expect(refusalOf(() => application.check(cmd('respond_supervision', DEPT, { note: 'ok' })))).toBeUndefined()
    }
    const rejected = walk([['reject', DEPT, { reason: 'x' }]])
    expect(refusalOf(() => rejected.check(order))?.code).toBe('invalid_transition')
  })

  it('a supervision order is answered, but no new one is given', () => {
    const application = walk([['accept', DEPT], ['approve', DEPT], ['supervise', SUPERVISOR, { note: 'why?', respondWithin: { workingDays: 1 } }],
      ['issue_result', DEPT], ['deliver', WINDOW, { method: 'mail' }]])
    expect(refusalOf(() => application.check(cmd('supervise', SUPERVISOR, { note: 'x', respondWithin: { workingDays: 1 } })))?.code).toBe('invalid_transition')
    expect(types(application.apply(cmd('respond_supervision', DEPT, { note: 'sorry' }), TUE))).toEqual(['supervision_responded'])
  })
})

describe('other deadlines of an application', () => {
  it('rule 31: warn, and when missed make the case overdue with supervision on the handler', () => {
    const application = accepted()
    expect(types(application.advance('2026-03-06T16:00:00.000Z'))).toEqual(['deadline_warned'])
    const missed = application.advance('2026-03-09T16:00:00.000Z')
    expect(missed.map((r) => [r.event.type, r.event.data])).toEqual([
      ['deadline_missed', { kind: 'promised', key: 'promised', dueAt: '2026-03-09T16:00:00.000Z' }],
      ['supervision_opened', { id: 'S1', organizationId: 'gz-amr', deadlineKey: 'promised', level: 1, dueAt: '2026-03-13T16:00:00.000Z' }],
    ])
    expect(application.view('2026-03-09T16:00:00.000Z')).toMatchObject({ overdue: true, status: 'accepted' })
  })
})

describe('withdraw', () => {
  it('ends an open case at the applicant\'s wish and cancels every deadline', () => {
    const application = accepted()
    application.apply(cmd('request_opinions', DEPT, { organizationIds: ['gz-hr'], within: { workingDays: 3 } }), MON)
    const recorded = application.apply(cmd('withdraw', WINDOW, { reason: 'moved away' }), TUE)
    expect(recorded.map((r) => [r.event.type, r.event.actor, r.event.data])).toEqual([['withdrawn', WINDOW, { reason: 'moved away' }]])
    // Only the rating period (rule 29) runs on.
    expect(application.view(TUE).deadlines.map((d) => d.state)).toEqual(['met', 'cancelled', 'cancelled', 'cancelled', 'running'])
  })

  it('by a window, and not once decided', () => {
    expect(refusalOf(() => accepted().check(cmd('withdraw', DEPT, { reason: 'x' })))?.code).toBe('forbidden')
    expect(refusalOf(() => approved().check(cmd('withdraw', WINDOW, { reason: 'x' })))?.code).toBe('invalid_transition')
    const suspended = walk([['accept', DEPT], ['suspend', DEPT, { reason: 'hearing', note: 'x' }]])
    expect(refusalOf(() => suspended.check(cmd('withdraw', WINDOW, { reason: 'x' })))).toBeUndefined()
  })
})

describe('isOpenApplication', () => {
  it('is open in every status until rejected, withdrawn, or completed with nothing left to rate or call back', () => {
    const rating = { score: 2, level: 'dissatisfied', at: MON, defaulted: false }
    const open = APPLICATION_STATUSES.filter((status) => isOpenApplication({ status }))
    expect(open).toEqual(['submitted', 'supplement_requested', 'accepted', 'suspended', 'approved', 'denied', 'result_issued', 'completed'])
    expect(isOpenApplication({ status: 'completed', rating })).toBe(false)
    expect(isOpenApplication({ status: 'completed', rating, rectification: { openedAt: MON } })).toBe(true)
    expect(isOpenApplication({ status: 'approved', rating })).toBe(true)
  })

  it('knows its action names and nothing inherited', () => {
    expect(isApplicationAction('accept')).toBe(true)
    expect(isApplicationAction('respond_supervision')).toBe(true)
    expect(isApplicationAction('toString')).toBe(false)
    expect(isApplicationAction('fly')).toBe(false)
  })
})
