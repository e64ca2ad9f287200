import { Type } from 'typebox'
import { actionOf, Strict, Text } from '../case/action.ts'
import { supervisionActions } from '../case/supervision.ts'
import { LimitSchema } from '../limit-schema.ts'
import { Refusal } from '../refusal.ts'
import type { ComplaintCase } from './complaint-case.ts'
import { handleKey, OPEN_STATUSES, replyKey, signKey } from './terms.ts'

/** Rule 27: the owner acts through its hotline or its window. */
const OWNER_ROLES = ['hotline', 'window'] as const

const action = actionOf<ComplaintCase>()

const supervision = supervisionActions({ supervise: OPEN_STATUSES, respond: OPEN_STATUSES })

/**
 * Every action on a work order (API.md "Complaints"), whole: who may take it, what it takes, in
 * which statuses, what the order must allow besides, and what it does. The same parser reads the
 * parameters at the HTTP edge and in the workflow's Update validator (case/action.ts).
 */
export const COMPLAINT_ACTIONS = {
  dispatch: action({
    roles: OWNER_ROLES, params: Strict({ toOrganizationId: Text(100), within: Type.Optional(LimitSchema) }),
    allowedIn: ['received', 'dispatched'],
    check(kase, { toOrganizationId }, actor) {
      kase.requireOwner(actor, 'dispatch')
      if (toOrganizationId === kase.state.ownerOrganizationId) {
        throw new Refusal('unprocessable', 'the owner does not dispatch a work order to itself; it may respond to it directly')
      }
      if (toOrganizationId === kase.currentDispatch?.organizationId) {
        throw new Refusal('conflict', `the work order is already dispatched to ${toOrganizationId}`)
      }
    },
    apply(kase, { toOrganizationId, within }, actor, at) {
      // A re-dispatch takes the order from the unit that had it: its clocks stop.
      kase.settleDispatch('cancelled', at)
      const n = kase.dispatchTo(toOrganizationId, at)
      if (within) kase.book.start('handle', handleKey(n), { limit: within, startAt: at })
      kase.record('dispatched', actor, at, { toOrganizationId, dispatch: n, ...(within ? { within } : {}) })
    },
  }),
  sign: action({
    roles: ['department'], params: Strict({}), allowedIn: ['dispatched'], handlerOnly: ['department'],
    check(kase) {
      if (kase.currentDispatch!.signedAt !== undefined) throw new Refusal('invalid_transition', 'the work order has been signed for already')
    },
    apply(kase, _params, actor, at) {
      const dispatch = kase.currentDispatch!
      dispatch.signedAt = at
      const n = kase.state.dispatches.length
      kase.book.settle(signKey(n), 'met', at)
      kase.record('signed', actor, at, { dispatch: n })
    },
  }),
  return: action({
    roles: ['department'], params: Strict({ reason: Text() }), allowedIn: ['dispatched'], handlerOnly: ['department'],
    apply(kase, { reason }, actor, at) {
      const n = kase.state.dispatches.length
      Object.assign(kase.currentDispatch!, { returnedAt: at, returnReason: reason })
      kase.settleDispatch('cancelled', at)
      // Rule 28 (退单): not its competence; back to the owner.
      kase.backToOwner()
      kase.record('returned', actor, at, { dispatch: n, reason })
    },
  }),
  respond: action({
    roles: ['department', ...OWNER_ROLES], params: Strict({ answer: Text(10_000) }), allowedIn: ['received', 'dispatched'],
    handlerOnly: ['department'],
    check(kase, _params, actor) {
      if (actor.role === 'department') return
      kase.requireOwner(actor, 'respond to')
      if (kase.state.status === 'dispatched') {
        throw new Refusal('invalid_transition', `the work order is dispatched to ${kase.state.handlingOrganizationId}, which responds`)
      }
    },
    apply(kase, { answer }, actor, at) {
      const { state } = kase
      state.answer = { text: answer, by: actor.organizationId, at }
      // An answer is the surest acknowledgement: a sign deadline still running is met by it (the
      // owner answers only when no dispatch is in force: nothing is left running then).
      kase.settleDispatch('met', at)
      state.status = 'responded'
      kase.record('responded', actor, at, { answer })
    },
  }),
  reply: action({
    roles: OWNER_ROLES, params: Strict({ message: Text(10_000) }), allowedIn: ['responded'],
    check: (kase, _params, actor) => kase.requireOwner(actor, 'reply to'),
    apply(kase, { message }, actor, at) {
      const { state } = kase
      state.reply = { message, at }
      state.status = 'replied'
      kase.book.settle(replyKey(kase.replyRound), 'met', at)
      kase.record('replied', actor, at, { message })
    },
  }),
  callback: action({
    roles: OWNER_ROLES, params: Strict({ satisfied: Type.Boolean(), note: Type.Optional(Text()) }), allowedIn: ['replied'],
    check: (kase, _params, actor) => kase.requireOwner(actor, 'call back on'),
    apply(kase, { satisfied, note }, actor, at) {
      const { state } = kase
      state.callbacks.push({ satisfied, at, ...(note ? { note } : {}) })
      kase.record('called_back', actor, at, { satisfied, ...(note ? { note } : {}) })
      if (satisfied) {
        state.status = 'closed'
        state.closure = { via: 'callback', by: actor.organizationId, at, ...(note ? { note } : {}) }
        kase.book.cancelAll(at)
        kase.record('closed', actor, at, { via: 'callback' })
        return
      }
      // Rule 28's closed loop: back to whoever answered it, with a new reply deadline beside the old.
      if (!state.flags.includes('reopened')) state.flags.push('reopened')
      const round = kase.replyRound + 1
      const key = kase.startReply(round, at)
      const handler = state.answer!.by === state.ownerOrganizationId ? undefined : state.answer!.by
      if (handler) {
        const n = kase.dispatchTo(handler, at)
        kase.record('reopened', actor, at, { round, replyKey: key, toOrganizationId: handler, dispatch: n })
      } else {
        kase.backToOwner()
        kase.record('reopened', actor, at, { round, replyKey: key })
      }
    },
  }),
  close: action({
    roles: OWNER_ROLES, params: Strict({ note: Text() }), allowedIn: ['replied'],
    check: (kase, _params, actor) => kase.requireOwner(actor, 'close'),
    apply(kase, { note }, actor, at) {
      const { state } = kase
      state.status = 'closed'
      state.closure = { via: 'close', by: actor.organizationId, at, note }
      kase.book.cancelAll(at)
      kase.record('closed', actor, at, { via: 'close', note })
    },
  }),
  ...supervision,
  // The owner owes the reply (rule 27): a missed one opens a record on it, which its hotline or
  // window answers. Each answers only the records on its own organisation (the kernel's check).
  respond_supervision: { ...supervision.respond_supervision, roles: [...supervision.respond_supervision.roles, ...OWNER_ROLES] },
}

export type ComplaintAction = keyof typeof COMPLAINT_ACTIONS
