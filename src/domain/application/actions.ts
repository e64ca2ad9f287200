import { Type, type Static } from 'typebox'
import { actionOf, Strict, Text } from '../case/action.ts'
import { ratingActions } from '../case/rating.ts'
import { supervisionActions } from '../case/supervision.ts'
import { LimitSchema } from '../limit-schema.ts'
import { Refusal } from '../refusal.ts'
import type { ApplicationCase } from './application-case.ts'

export const SUSPENSION_REASONS = ['hearing', 'inspection', 'testing', 'appraisal', 'expert_review', 'public_notice', 'other'] as const
export const DELIVERY_METHODS = ['window', 'mail', 'electronic'] as const

const OPEN = ['submitted', 'supplement_requested', 'accepted', 'suspended'] as const
const DECIDED = ['approved', 'denied', 'result_issued'] as const

const action = actionOf<ApplicationCase>()

/** A material code the item's guide does not list. */
function refuseUnknownMaterials(app: ApplicationCase, codes: string[]): void {
  const known = new Set(app.state.guide.materials.map((m) => m.code))
  const unknown = codes.filter((code) => !known.has(code))
  if (unknown.length > 0) throw new Refusal('validation_failed', `not materials of ${app.state.guide.code}: ${unknown.join(', ')}`)
}

/**
 * Every action on an application (API.md "Applications"), whole: who may take it, what it takes,
 * in which statuses, what the case must allow besides, and what it does. The same parser reads
 * the parameters at the HTTP edge and in the workflow's Update validator (case/action.ts).
 */
export const APPLICATION_ACTIONS = {
  accept: action({
    roles: ['window', 'department'], params: Strict({}), allowedIn: ['submitted'], handlerOnly: ['department'],
    apply: (app, _params, actor, at) => app.acceptAt(at, 'accepted', actor, at),
  }),
  reject: action({
    roles: ['window', 'department'], params: Strict({ reason: Text() }), allowedIn: ['submitted', 'supplement_requested'],
    handlerOnly: ['department'],
    apply(app, { reason }, actor, at) {
      app.state.status = 'rejected'
      app.state.decision = { outcome: 'rejected', note: reason, at }
      app.book.cancelAll(at)
      app.record('rejected', actor, at, { reason })
    },
  }),
  request_supplement: action({
    roles: ['window', 'department'],
    params: Strict({ missing: Type.Array(Text(100), { minItems: 1, maxItems: 200, uniqueItems: true }), note: Text() }),
    allowedIn: ['submitted'], handlerOnly: ['department'],
    check: (app, { missing }) => refuseUnknownMaterials(app, missing),
    apply(app, { missing, note }, actor, at) {
      const { state } = app
      // DOMAIN rule 6: everything missing is named at once; a second notice breaks that promise.
      const violation = state.supplementRequests.length > 0
      if (violation && !state.flags.includes('one_time_notice_violation')) state.flags.push('one_time_notice_violation')
      state.supplementRequests.push({ missing, note, at })
      state.status = 'supplement_requested'
      app.book.settle('acceptance', 'met', at)
      app.record('supplement_requested', actor, at, { missing, note, ...(violation ? { violation: 'one_time_notice' } : {}) })
    },
  }),
  supplement: action({
    roles: ['window'],
    params: Strict({ materials: Type.Array(Strict({ code: Text(100), ref: Text(1000) }), { minItems: 1, maxItems: 200 }) }),
    allowedIn: ['supplement_requested'],
    check: (app, { materials }) => refuseUnknownMaterials(app, materials.map((m) => m.code)),
    apply(app, { materials }, actor, at) {
      const { state } = app
      const byCode = new Map(state.submission.materials.map((m) => [m.code, m]))
      for (const m of materials) byCode.set(m.code, { code: m.code, ref: m.ref, source: 'applicant' })
      state.submission = { ...state.submission, materials: [...byCode.values()] }
      state.missingMaterials = state.missingMaterials.filter((code) => !byCode.has(code))
      state.status = 'submitted'
      // The acceptance limit runs again from the day the supplement arrived.
      app.startAcceptanceClock(at)
      app.record('supplemented', actor, at, { materials: materials.map((m) => m.code), missingMaterials: state.missingMaterials })
    },
  }),
  transfer: action({
    roles: ['department', 'supervisor'], params: Strict({ toOrganizationId: Text(100), reason: Text() }), allowedIn: OPEN,
    handlerOnly: ['department'],
    check(app, { toOrganizationId }) {
      if (toOrganizationId === app.state.handlingOrganizationId) throw new Refusal('conflict', `the case is already handled by ${toOrganizationId}`)
    },
    apply(app, { toOrganizationId, reason }, actor, at) {
      const from = app.state.handlingOrganizationId
      app.state.handlingOrganizationId = toOrganizationId
      app.record('transferred', actor, at, { from, to: toOrganizationId, reason })
    },
  }),
  request_opinions: action({
    roles: ['department'],
    params: Strict({ organizationIds: Type.Array(Text(100), { minItems: 1, maxItems: 50, uniqueItems: true }), within: LimitSchema }),
    allowedIn: ['accepted'], handlerOnly: ['department'],
    check(app, { organizationIds }) {
      if (organizationIds.includes(app.state.handlingOrganizationId)) {
        throw new Refusal('validation_failed', 'the handling organisation does not give itself an opinion')
      }
      const pending = organizationIds.filter((org) => app.pendingOpinion(org))
      if (pending.length > 0) throw new Refusal('conflict', `opinions already requested from ${pending.join(', ')}`)
    },
    apply(app, { organizationIds, within }, actor, at) {
      for (const organizationId of organizationIds) {
        app.state.opinions.push({ organizationId, requestedAt: at })
        app.book.start('opinion', opinionKey(organizationId), { limit: within, startAt: at }, { external: true })
      }
      app.record('opinions_requested', actor, at, { organizationIds, within })
    },
  }),
  give_opinion: action({
    roles: ['department'], params: Strict({ opinion: Text(), agree: Type.Boolean() }), allowedIn: ['accepted', 'suspended'],
    check(app, _params, actor) {
      if (!app.pendingOpinion(actor.organizationId)) throw new Refusal('invalid_transition', `no opinion is awaited from ${actor.organizationId}`)
    },
    apply(app, { opinion, agree }, actor, at) {
      const entry = app.state.opinions.find((o) => o.organizationId === actor.organizationId && !o.givenAt)!
      Object.assign(entry, { opinion, agree, givenAt: at })
      app.book.settle(opinionKey(actor.organizationId), 'met', at)
      app.record('opinion_given', actor, at, { organizationId: actor.organizationId, opinion, agree })
    },
  }),
  suspend: action({
    roles: ['department'], params: Strict({ reason: Type.Enum(SUSPENSION_REASONS), note: Text() }), allowedIn: ['accepted'],
    handlerOnly: ['department'],
    apply(app, { reason, note }, actor, at) {
      app.state.status = 'suspended'
      app.state.suspension = { reason, note, since: at }
      // Art. 45: time in special procedures is not counted.
      app.book.pause(['promised', 'statutory'], at)
      app.record('suspended', actor, at, { reason, note })
    },
  }),
  resume: action({
    roles: ['department'], params: Strict({ note: Type.Optional(Text()) }), allowedIn: ['suspended'], handlerOnly: ['department'],
    apply(app, { note }, actor, at) {
      const since = app.state.suspension?.since
      app.state.status = 'accepted'
      delete app.state.suspension
      app.book.resume(['promised', 'statutory'], at)
      app.record('resumed', actor, at, { since, ...(note ? { note } : {}) })
    },
  }),
  extend: action({
    roles: ['department'],
    params: Strict({ workingDays: Type.Integer({ minimum: 1, maximum: 365 }), approvedBy: Text(200), reason: Text() }),
    allowedIn: ['accepted', 'suspended'], handlerOnly: ['department'],
    check(app, { workingDays }) {
      const { guide, extension } = app.state
      if (extension) throw new Refusal('invalid_transition', 'the case was extended once already; a second extension is not allowed')
      if (!('workingDays' in guide.statutoryLimit)) throw new Refusal('unprocessable', 'only working-day limits can be extended')
      if (workingDays > guide.maxExtensionWorkingDays) {
        throw new Refusal('unprocessable', `at most ${guide.maxExtensionWorkingDays} working days of extension for ${guide.code}`)
      }
    },
    apply(app, { workingDays, approvedBy, reason }, actor, at) {
      app.state.extension = { workingDays, approvedBy, reason, at }
      app.book.extend('statutory', workingDays, at)
      app.book.extend('promised', workingDays, at)
      app.record('extended', actor, at, { workingDays, approvedBy, reason })
    },
  }),
  approve: action({
    roles: ['department'], params: Strict({ note: Type.Optional(Text()) }), allowedIn: ['accepted'], handlerOnly: ['department'],
    check: (app) => app.refuseWhileAwaitingOpinions(),
    apply: (app, { note }, actor, at) => app.decide(true, actor, at, note),
  }),
  deny: action({
    roles: ['department'], params: Strict({ reason: Text() }), allowedIn: ['accepted'], handlerOnly: ['department'],
    check: (app) => app.refuseWhileAwaitingOpinions(),
    apply: (app, { reason }, actor, at) => app.decide(false, actor, at, reason),
  }),
  issue_result: action({
    roles: ['department'], params: Strict({ certificateNo: Type.Optional(Text(200)) }), allowedIn: ['approved'],
    handlerOnly: ['department'],
    apply(app, { certificateNo }, actor, at) {
      app.state.status = 'result_issued'
      app.state.result = { ...app.state.result, issuedAt: at, ...(certificateNo ? { certificateNo } : {}) }
      app.record('result_issued', actor, at, certificateNo ? { certificateNo } : {})
    },
  }),
  deliver: action({
    roles: ['window'], params: Strict({ method: Type.Enum(DELIVERY_METHODS) }), allowedIn: ['result_issued', 'denied'],
    apply(app, { method }, actor, at) {
      app.state.status = 'completed'
      app.state.result = { ...app.state.result, deliveredAt: at, method }
      app.book.settle('result', 'met', at)
      app.startRatingPeriod(at)
      app.record('delivered', actor, at, { method })
    },
  }),
  withdraw: action({
    roles: ['window'], params: Strict({ reason: Text() }), allowedIn: OPEN,
    apply(app, { reason }, actor, at) {
      app.state.status = 'withdrawn'
      app.book.cancelAll(at)
      app.record('withdrawn', actor, at, { reason })
    },
  }),
  ...ratingActions(['completed']),
  ...supervisionActions({ supervise: [...OPEN, ...DECIDED], respond: [...OPEN, ...DECIDED, 'completed'] }),
}

export type ApplicationAction = keyof typeof APPLICATION_ACTIONS
export type ActionParams<A extends ApplicationAction> = Static<(typeof APPLICATION_ACTIONS)[A]['params']>

export function isApplicationAction(name: string): name is ApplicationAction {
  return Object.hasOwn(APPLICATION_ACTIONS, name)
}

export const opinionKey = (organizationId: string) => `opinion:${organizationId}`
