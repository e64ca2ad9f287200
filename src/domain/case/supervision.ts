import type { Supervision } from '../case-view.ts'
import { LimitSchema } from '../limit-schema.ts'
import { Refusal } from '../refusal.ts'
import { actionOf, Strict, Text } from './action.ts'
import type { CaseCore, CoreState } from './core.ts'

type AnyCase = CaseCore<CoreState>
const action = actionOf<AnyCase>()

/** The supervision order (督办) still awaiting an answer from the handling organisation. */
export function openOrder(kase: AnyCase): Supervision | undefined {
  const { supervisions, handlingOrganizationId } = kase.state
  return supervisions.find((s) => s.kind === 'order' && !s.respondedAt && s.organizationId === handlingOrganizationId)
}

/**
 * `supervise` and `respond_supervision`, shared by every kind (API.md "What every case kind
 * shares"); the kind says in which of its statuses each may be taken.
 */
export function supervisionActions(allowedIn: { supervise: readonly string[]; respond: readonly string[] }) {
  return {
    supervise: action({
      roles: ['supervisor'],
      params: Strict({ note: Text(), respondWithin: LimitSchema }),
      allowedIn: allowedIn.supervise,
      apply(kase, { note, respondWithin }, actor, at) {
        const { state } = kase
        const id = `S${state.supervisions.length + 1}`
        state.supervisions.push({ id, kind: 'order', organizationId: state.handlingOrganizationId, reason: note, openedAt: at,
          orderedBy: actor.organizationId, deadlineKey: `supervision:${id}` })
        kase.book.start('supervision', `supervision:${id}`, { limit: respondWithin, startAt: at })
        kase.record('supervision_ordered', actor, at, { id, organizationId: state.handlingOrganizationId, note, respondWithin })
      },
    }),
    respond_supervision: action({
      roles: ['department'],
      params: Strict({ note: Text() }),
      allowedIn: allowedIn.respond,
      handlerOnly: ['department'],
      check(kase) {
        if (!openOrder(kase)) throw new Refusal('invalid_transition', 'no supervision order is open')
      },
      apply(kase, { note }, actor, at) {
        const order = openOrder(kase)!
        Object.assign(order, { respondedAt: at, response: note })
        kase.book.settle(order.deadlineKey!, 'met', at)
        kase.record('supervision_responded', actor, at, { id: order.id, note })
      },
    }),
  }
}
