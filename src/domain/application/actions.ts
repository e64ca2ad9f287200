import { Type, type Static } from 'typebox'
import { actionOf, Strict, Text } from '../case/action.ts'
import { ratingActions } from '../case/rating.ts'
import { supervisionActions } from '../case/supervision.ts'
import { LimitSchema } from '../limit-schema.ts'
import { Refusal } from '../refusal.ts'
import type { ApplicationCase } from './application-case.ts'
import { ENDED_STATUSES, JOINT_HANDLING, STATUTORY_PAUSES } from './terms.ts'

/** Art. 45's special procedures (STATUTORY_PAUSES), then those that stop only the promised clock. */
export const SUSPENSION_REASONS = [...STATUTORY_PAUSES, 'public_notice', 'other'] as const
export const DELIVERY_METHODS = ['window', 'mail', 'electronic'] as const

const OPEN = ['submitted', 'supplement_requested', 'accepted', 'suspended'] as const
const DECIDED = ['approved', 'denied', 'result_issued'] as const
/** An approval stands in these: it may be revoked (rules 35, 36). */
const APPROVED = ['approved', 'result_issued', 'completed'] as const
/** Accepted and not yet ended: deferred materials arrive, a commitment is checked. */
const SINCE_ACCEPTANCE = ['accepted', 'suspended', ...APPROVED] as const

const action = actionOf<ApplicationCase>()

/** A material code the item's guide does not list. */
function refuseUnknownMaterials(app: ApplicationCase, codes: string[]): void {
  const known = new Set(app.state.guide.materials.map((m) => m.code))
  const unknown = codes.filter((code) => !known.has(code))
  if (unknown.length > 0) throw new Refusal('validation_failed', `not materials of ${app.state.guide.code}: ${unknown.join(', ')}`)
}

/**
 * Rule 19: materials the government holds (attached from shared data, or listed by the guide with
 * a shared source) are never asked of the applicant.
 */
function heldByGovernment(app: ApplicationCase, codes: string[]): string[] {
  const { guide, submission } = app.state
  return codes.filter((code) => submission.materials.some((m) => m.code === code && m.source === 'shared')
    || guide.materials.some((m) => m.code === code && m.sharedSource !== undefined))
}

/** Rule 6: codes a later notice names although the first could have named them. */
function namedTooLate(app: ApplicationCase, missing: string[]): string[] {
  const { supplementRequests, oneTimeNotice } = app.state
  const first = supplementRequests[0]!.missing
  const { couldName, arrivedSince } = oneTimeNotice ?? { couldName: [], arrivedSince: [] }
  return missing.filter((code) => !first.includes(code) && couldName.includes(code) && !arrivedSince.includes(code))
}

/** Rule 35: deferred codes are the item's deferrable materials, not yet handed in. */
function refuseUndeferrable(app: ApplicationCase, codes: string[]): void {
  refuseUnknownMaterials(app, codes)
  const { guide, submission } = app.state
  const fixed = codes.filter((code) => !guide.materials.some((m) => m.code === code && m.deferrable === true))
  if (fixed.length > 0) throw new Refusal('unprocessable', `not deferrable under ${guide.code}: ${fixed.join(', ')}`)
  const given = codes.filter((code) => submission.materials.some((m) => m.code === code))
  if (given.length > 0) throw new Refusal('unprocessable', `already handed in, nothing to defer: ${given.join(', ')}`)
}

/**
 * Every action on an application (API.md "Applications"), whole: who may take it, what it takes,
 * in which statuses, what the case must allow besides, and what it does. The same parser reads
 * the parameters at the HTTP edge and in the workflow's Update validator (case/action.ts).
 */
export const APPLICATION_ACTIONS = {
  accept: action({
    roles: ['window', 'department'],
    params: Strict({
      deferred: Type.Optional(Type.Array(Text(100), { minItems: 1, maxItems: 200, uniqueItems: true })),
      commitment: Type.Optional(Strict({ text: Text(), verifyWithin: LimitSchema })),
    }),
    allowedIn: ['submitted'], handlerOnly: ['department'],
    check(app, { deferred, commitment }) {
      if (deferred) refuseUndeferrable(app, deferred)
      if (commitment && app.state.guide.commitmentAllowed !== true) {
        throw new Refusal('unprocessable', `${app.state.guide.code} does not take a written commitment in place of proof`)
      }
    },
    apply: (app, { deferred, commitment }, actor, at) => app.acceptAt(at, 'accepted', actor, at, {
      ...(deferred ? { deferred } : {}), ...(commitment ? { commitment } : {}),
    }),
  }),
  revoke: action({
    roles: ['department'], params: Strict({ reason: Text() }), allowedIn: APPROVED, handlerOnly: ['department'],
    check(app) {
      if (app.revocationGrounds().length === 0) {
        throw new Refusal('invalid_transition', 'nothing to revoke: no deferred material is overdue and no commitment was found false')
      }
    },
    apply(app, { reason }, actor, at) {
      const grounds = app.revocationGrounds()
      app.state.status = 'revoked'
      app.state.revocation = { reason, grounds, at }
      for (const key of ['result', 'deferred_materials', 'verification']) app.book.settle(key, 'cancelled', at)
      // Every ended service is rated (rule 29); a delivered one already is being.
      if (!app.book.get('rating')) app.startRatingPeriod(at)
      app.record('revoked', actor, at, { reason, grounds })
    },
  }),
  check_commitment: action({
    roles: ['department'], params: Strict({ holds: Type.Boolean(), note: Text() }), allowedIn: SINCE_ACCEPTANCE,
    handlerOnly: ['department'],
    check(app) {
      const { commitment } = app.state
      if (!commitment) throw new Refusal('invalid_transition', 'the case was not accepted on a written commitment')
      if (commitment.check) throw new Refusal('invalid_transition', 'the commitment has been checked already')
    },
    apply(app, { holds, note }, actor, at) {
      app.state.commitment = { ...app.state.commitment!, check: { holds, note, at } }
      app.book.settle('verification', 'met', at)
      app.record('commitment_checked', actor, at, { holds, note })
    },
  }),
  reject: action({
    roles: ['window', 'department'], params: Strict({ reason: Text() }), allowedIn: ['submitted', 'supplement_requested'],
    handlerOnly: ['department'],
    apply(app, { reason }, actor, at) {
      app.state.status = 'rejected'
      app.state.decision = { outcome: 'rejected', note: reason, at }
      app.book.cancelAll(at)
      if (app.rules >= 2) app.startRatingPeriod(at)
      app.record('rejected', actor, at, { reason })
    },
  }),
  request_supplement: action({
    roles: ['window', 'department'],
    params: Strict({ missing: Type.Array(Text(100), { minItems: 1, maxItems: 200, uniqueItems: true }), note: Text() }),
    allowedIn: ['submitted'], handlerOnly: ['department'],
    check(app, { missing }) {
      refuseUnknownMaterials(app, missing)
      if (app.rules < 2) return
      const held = heldByGovernment(app, missing)
      if (held.length > 0) throw new Refusal('unprocessable', `held in shared data, never asked for again: ${held.join(', ')}`)
      if (app.state.supplementRequests.length > 0) return
      // Rule 5: the first notice names every material missing, at once (all that may be asked for).
      const unnamed = app.state.missingMaterials.filter((code) => !missing.includes(code) && heldByGovernment(app, [code]).length === 0)
      if (unnamed.length > 0) throw new Refusal('unprocessable', `a one-time notice names every missing material; it leaves out ${unnamed.join(', ')}`)
    },
    apply(app, { missing, note }, actor, at) {
      const { state } = app
      const first = state.supplementRequests.length === 0
      let violation: boolean
      let late: string[] = []
      if (app.rules < 2) {
        violation = !first
      } else {
        // Rule 6: a later notice breaks the promise only by naming what the first could have named.
        if (first) {
          state.oneTimeNotice = { couldName: [...new Set([...state.submission.materials.map((m) => m.code), ...state.missingMaterials])], arrivedSince: [] }
        }
        late = first ? [] : namedTooLate(app, missing)
        violation = late.length > 0
      }
      if (violation && !state.flags.includes('one_time_notice_violation')) state.flags.push('one_time_notice_violation')
      state.supplementRequests.push({ missing, note, at })
      state.status = 'supplement_requested'
      app.book.settle('acceptance', 'met', at)
      app.record('supplement_requested', actor, at, {
        missing, note, ...(violation ? { violation: 'one_time_notice', ...(late.length > 0 ? { namedLate: late } : {}) } : {}),
      })
    },
  }),
  supplement: action({
    roles: ['window'],
    params: Strict({ materials: Type.Array(Strict({ code: Text(100), ref: Text(1000) }), { minItems: 1, maxItems: 200 }) }),
    // After acceptance: the materials deferred then (rule 35).
    allowedIn: ['supplement_requested', ...SINCE_ACCEPTANCE],
    check(app, { materials }) {
      const codes = materials.map((m) => m.code)
      refuseUnknownMaterials(app, codes)
      if (app.state.status === 'supplement_requested') return
      const outstanding = app.outstandingDeferred()
      if (outstanding.length === 0) {
        throw new Refusal('invalid_transition', 'no supplement is awaited: none was requested and no deferred material is outstanding')
      }
      const other = codes.filter((code) => !outstanding.includes(code))
      if (other.length > 0) throw new Refusal('unprocessable', `not deferred materials still outstanding: ${other.join(', ')}`)
    },
    apply(app, { materials }, actor, at) {
      const { state } = app
      const codes = materials.map((m) => m.code)
      const byCode = new Map(state.submission.materials.map((m) => [m.code, m]))
      for (const m of materials) byCode.set(m.code, { code: m.code, ref: m.ref, source: 'applicant' })
      state.submission = { ...state.submission, materials: [...byCode.values()] }
      state.missingMaterials = state.missingMaterials.filter((code) => !byCode.has(code))
      if (state.status !== 'supplement_requested') {
        state.deferredMaterials = state.deferredMaterials!.map((m) => (codes.includes(m.code) ? { ...m, receivedAt: at } : m))
        const outstanding = app.outstandingDeferred()
        // A deadline already missed stays missed: a late material still counts, the miss too.
        if (outstanding.length === 0) app.book.settle('deferred_materials', 'met', at)
        app.record('supplemented', actor, at, { materials: codes, missingMaterials: state.missingMaterials, deferredOutstanding: outstanding })
        return
      }
      if (state.oneTimeNotice) {
        state.oneTimeNotice = { ...state.oneTimeNotice, arrivedSince: [...new Set([...state.oneTimeNotice.arrivedSince, ...codes])] }
      }
      state.status = 'submitted'
      // The acceptance limit runs again from the day the supplement arrived.
      app.startAcceptanceClock(at)
      app.record('supplemented', actor, at, { materials: codes, missingMaterials: state.missingMaterials })
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
      const { state } = app
      for (const organizationId of organizationIds) {
        state.opinions.push({ organizationId, requestedAt: at })
        app.book.start('opinion', opinionKey(organizationId), { limit: within, startAt: at }, { external: true })
      }
      // Rule 10: joint handling has 45 working days from acceptance. The statutory deadline is
      // recomputed from its own start, pauses and extension kept, not restarted; a missed one stays missed.
      let joint: { statutoryLimit: { workingDays: number } } | undefined
      if (app.rules >= 2 && !state.jointHandling) {
        state.jointHandling = { since: at }
        const limit = app.book.get('statutory')?.spec.limit
        if (limit && 'workingDays' in limit && limit.workingDays < JOINT_HANDLING.statutoryWorkingDays) {
          joint = { statutoryLimit: { workingDays: JOINT_HANDLING.statutoryWorkingDays } }
          app.book.relimit('statutory', joint.statutoryLimit, at)
        }
      }
      app.record('opinions_requested', actor, at, { organizationIds, within, ...(joint ? { jointHandling: joint } : {}) })
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
      // Rule 12: time in Art. 45's special procedures is not counted; any other suspension (public
      // notice, other) stops only the department's own promise. Resuming resumes what was paused.
      const statutory = app.rules < 2 || (STATUTORY_PAUSES as readonly string[]).includes(reason)
      app.book.pause(statutory ? ['promised', 'statutory'] : ['promised'], at)
      app.record('suspended', actor, at, { reason, note, ...(app.rules >= 2 ? { statutoryPaused: statutory } : {}) })
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
      // Rule 10: an extension is granted before the statutory limit runs out, not to excuse it.
      if (app.rules >= 2 && app.book.get('statutory')?.state === 'missed') {
        throw new Refusal('invalid_transition', 'the statutory deadline has passed; an extension is granted only before it')
      }
      if (!('workingDays' in guide.statutoryLimit)) throw new Refusal('unprocessable', 'only working-day limits can be extended')
      const max = app.maxExtensionWorkingDays
      if (workingDays > max) throw new Refusal('unprocessable', `at most ${max} working days of extension for ${guide.code}`)
    },
    apply(app, { workingDays, approvedBy, reason }, actor, at) {
      app.state.extension = { workingDays, approvedBy, reason, at }
      app.book.extend('statutory', workingDays, at)
      // Decision: the promise moves with the extension, by the same working days, while it is
      // still open. The applicant is told the new date and the reason (rule 10), and the department
      // is held to that renewed promise, which stays within the extended statutory limit. A promise
      // already missed stays missed, at the instant it was missed: an extension does not undo it.
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
      if (app.rules >= 2) app.startRatingPeriod(at)
      app.record('withdrawn', actor, at, { reason })
    },
  }),
  ...ratingActions(ENDED_STATUSES),
  ...supervisionActions({ supervise: [...OPEN, ...DECIDED], respond: [...OPEN, ...DECIDED, ...ENDED_STATUSES] }),
}

export type ApplicationAction = keyof typeof APPLICATION_ACTIONS
export type ActionParams<A extends ApplicationAction> = Static<(typeof APPLICATION_ACTIONS)[A]['params']>

export function isApplicationAction(name: string): name is ApplicationAction {
  return Object.hasOwn(APPLICATION_ACTIONS, name)
}

export const opinionKey = (organizationId: string) => `opinion:${organizationId}`
