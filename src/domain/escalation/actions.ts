import { Type } from 'typebox'
import { actionOf, Strict, Text } from '../case/action.ts'
import { supervisionActions } from '../case/supervision.ts'
import { LimitSchema } from '../limit-schema.ts'
import { Refusal } from '../refusal.ts'
import type { EscalationCase } from './escalation-case.ts'

const action = actionOf<EscalationCase>()

// An order goes to the assignee; a record (automatic, at any level) may be answered while the case runs.
const supervision = supervisionActions({
  supervise: ['assigned'], respond: ['received', 'accepted', 'assigned', 'responded', 'feedback_given', 'closed'],
})

/** "The owner's window or a supervisor": the owner check is the case's (requireOwnerDesk). */
const DESK_OR_SUPERVISOR = ['window', 'hotline', 'supervisor'] as const
/** "The owner's window": a window or the hotline of the owning organisation. */
const DESK = ['window', 'hotline'] as const

/**
 * Every action on an escalation (API.md "Escalations"), whole: who may take it, what it takes, in
 * which statuses, what the case must allow besides, and what it does (rule 22: accept, transfer,
 * supervise, give feedback). The same parser reads the parameters at the HTTP edge and in the
 * workflow's Update validator.
 */
export const ESCALATION_ACTIONS = {
  accept: action({
    roles: DESK_OR_SUPERVISOR, params: Strict({}), allowedIn: ['received'],
    check: (kase, _params, actor) => kase.requireOwnerDesk(actor),
    apply(kase, _params, actor, at) {
      kase.state.status = 'accepted'
      kase.book.settle('accept', 'met', at)
      kase.record('accepted', actor, at, {})
    },
  }),
  reject: action({
    roles: DESK_OR_SUPERVISOR, params: Strict({ reason: Text() }), allowedIn: ['received'],
    check: (kase, _params, actor) => kase.requireOwnerDesk(actor),
    apply(kase, { reason }, actor, at) {
      kase.state.status = 'rejected'
      kase.state.rejection = { reason, at }
      kase.book.cancelAll(at)
      kase.record('rejected', actor, at, { reason })
    },
  }),
  assign: action({
    roles: DESK_OR_SUPERVISOR, params: Strict({ toOrganizationId: Text(100), within: Type.Optional(LimitSchema) }),
    allowedIn: ['accepted', 'assigned'],
    check(kase, { toOrganizationId }, actor) {
      kase.requireOwnerDesk(actor)
      // Accepted, it has no assignee yet; reassigned, it goes to another one.
      if (toOrganizationId === kase.assignee) {
        throw new Refusal('conflict', `the escalation is already assigned to ${toOrganizationId}`)
      }
    },
    apply(kase, { toOrganizationId, within }, actor, at) {
      const from = kase.assignee
      kase.assign(toOrganizationId, within, at)
      kase.record('assigned', actor, at, { to: toOrganizationId, ...(from ? { from } : {}), ...(within ? { within } : {}) })
    },
  }),
  respond: action({
    roles: ['department'], params: Strict({ resolution: Text(), resolved: Type.Boolean() }), allowedIn: ['assigned'],
    // Only the current assignee (the handling organisation) answers.
    handlerOnly: ['department'],
    apply(kase, { resolution, resolved }, actor, at) {
      kase.state.status = 'responded'
      kase.state.response = { resolution, resolved, at }
      kase.book.settle(kase.handleKey, 'met', at)
      kase.record('responded', actor, at, { resolution, resolved })
    },
  }),
  feedback: action({
    roles: DESK, params: Strict({ message: Text() }), allowedIn: ['responded'],
    check: (kase, _params, actor) => kase.requireOwnerDesk(actor),
    apply(kase, { message }, actor, at) {
      kase.state.status = 'feedback_given'
      kase.state.feedback = { message, at }
      kase.book.settle(kase.feedbackKey, 'met', at)
      kase.record('feedback_given', actor, at, { message })
    },
  }),
  close: action({
    roles: DESK, params: Strict({ satisfied: Type.Boolean(), comment: Type.Optional(Text()) }), allowedIn: ['feedback_given'],
    check: (kase, _params, actor) => kase.requireOwnerDesk(actor),
    apply(kase, { satisfied, comment }, actor, at) {
      kase.state.status = 'closed'
      kase.state.closure = { satisfied, at, ...(comment ? { comment } : {}) }
      // What still runs (a supervision order's answer) ends with the case.
      kase.book.cancelAll(at)
      kase.record('closed', actor, at, { satisfied, ...(comment ? { comment } : {}) })
    },
  }),
  reopen: action({
    roles: DESK, params: Strict({ reason: Text() }), allowedIn: ['closed'],
    check(kase, _params, actor) {
      kase.requireOwnerDesk(actor)
      if (kase.state.reopenedAt !== undefined) throw new Refusal('invalid_transition', 'an escalation is reopened once; this one was already')
      if (kase.state.closure?.satisfied !== false) throw new Refusal('invalid_transition', 'only an escalation closed unsatisfied is reopened')
    },
    apply(kase, { reason }, actor, at) {
      const { state } = kase
      const last = state.assignments.at(-1)!
      state.reopenedAt = at
      // The answer, the feedback and the closure were about the last round; the history keeps them.
      delete state.response
      delete state.feedback
      delete state.closure
      kase.assign(last.organizationId, last.within, at)
      kase.book.start('feedback', kase.feedbackKey, { limit: state.limits.feedback, startAt: at })
      kase.record('reopened', actor, at, { reason, to: last.organizationId })
    },
  }),
  supervise: supervision.supervise,
  // The owner owes accepting and feedback (rule 27): a missed one opens a record on it, which its
  // window or hotline answers. Each answers only the records on its own organisation (the kernel's check).
  respond_supervision: { ...supervision.respond_supervision, roles: [...supervision.respond_supervision.roles, ...DESK] },
}

export type EscalationAction = keyof typeof ESCALATION_ACTIONS
