import { Type } from 'typebox'
import { actionOf, Strict, Text } from '../case/action.ts'
import { supervisionActions } from '../case/supervision.ts'
import { Refusal } from '../refusal.ts'
import type { FulfilmentCase } from './fulfilment-case.ts'
import { OPEN_STATUSES } from './terms.ts'

const action = actionOf<FulfilmentCase>()

const supervision = supervisionActions({ supervise: OPEN_STATUSES, respond: OPEN_STATUSES })

/** Only a confirm-mode case asks the beneficiary (意愿确认). */
function requireConfirmMode(kase: FulfilmentCase, what: string): void {
  if (kase.state.policy.mode !== 'confirm') {
    throw new Refusal('invalid_transition', `policy ${kase.state.policy.code} is ${kase.state.policy.mode}: nobody is asked to ${what}`)
  }
}

/**
 * Every action on a fulfilment case (API.md "Policy fulfilment"), whole. The window acts on the
 * beneficiary's behalf; the policy's department verifies and rejects. Payment is no action: the
 * case pays by itself once verified (its workflow's own work), exactly once.
 */
export const FULFILMENT_ACTIONS = {
  confirm: action({
    roles: ['window'], params: Strict({ account: Text(100) }), allowedIn: ['notified'],
    check: (kase) => requireConfirmMode(kase, 'confirm'),
    apply(kase, { account }, actor, at) {
      const { state } = kase
      state.payee = { ...state.payee, account }
      state.confirmation = { at, by: actor.organizationId }
      state.status = 'confirmed'
      kase.book.settle('confirm', 'met', at)
      kase.record('confirmed', actor, at, {})
      kase.awaitVerification(at)
    },
  }),
  decline: action({
    roles: ['window'], params: Strict({ reason: Type.Optional(Text()) }), allowedIn: ['notified'],
    check: (kase) => requireConfirmMode(kase, 'decline'),
    apply: (kase, { reason }, actor, at) => kase.end('declined', actor, at, reason ?? 'the beneficiary declined'),
  }),
  verify: action({
    roles: ['department'], params: Strict({ note: Type.Optional(Text()) }), allowedIn: ['notified', 'submitted', 'confirmed'],
    handlerOnly: ['department'],
    check(kase) {
      // A confirm-mode case is verified once the beneficiary has said yes.
      if (kase.state.status === 'notified' && kase.state.policy.mode === 'confirm') {
        throw new Refusal('invalid_transition', 'the beneficiary has not confirmed yet')
      }
    },
    apply: (kase, { note }, actor, at) => kase.verify(actor, at, { automatic: false, ...(note ? { note } : {}) }),
  }),
  reject: action({
    roles: ['department'], params: Strict({ reason: Text() }),
    allowedIn: ['notified', 'submitted', 'confirmed', 'verified', 'budget_exhausted'],
    handlerOnly: ['department'],
    check(kase) {
      // A verified case is paying: only one whose payment was refused may still be rejected.
      if (kase.state.status === 'verified' && !kase.state.paymentRefusal) {
        throw new Refusal('invalid_transition', 'the case is verified and its payment is under way')
      }
    },
    apply: (kase, { reason }, actor, at) => kase.end('rejected', actor, at, reason),
  }),
  ...supervision,
}

export type FulfilmentAction = keyof typeof FULFILMENT_ACTIONS
