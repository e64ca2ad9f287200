import type { Supervision } from '../case-view.ts'
import { LimitSchema } from '../limit-schema.ts'
import { Refusal } from '../refusal.ts'
import { actionOf, Strict, Text } from './action.ts'
import type { CaseCore, CoreState } from './core.ts'

type AnyCase = CaseCore<CoreState>
const action = actionOf<AnyCase>()

/**
 * What `organizationId` must answer on this case, oldest first: every unanswered order or levelled
 * record on it, whichever level it sits at. On a case started before levels only its handling
 * department may answer (respond_supervision's check), so this is the order on it, as it always
 * was; an automatic record there has no level and is answered by no one.
 */
export function owedAnswers(kase: AnyCase, organizationId: string): Supervision[] {
  return kase.state.supervisions.filter((s) => !s.respondedAt && s.organizationId === organizationId
    && (s.kind === 'order' || s.level !== undefined))
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
        const order: Supervision = { id, kind: 'order', organizationId: state.handlingOrganizationId, reason: note, openedAt: at,
          orderedBy: actor.organizationId, deadlineKey: `supervision:${id}` }
        state.supervisions.push(order)
        const { dueAt } = kase.book.start('supervision', `supervision:${id}`, { limit: respondWithin, startAt: at })
        // With levels every record names its own deadline and when its answer is due (GET /v1/supervisions).
        if (state.supervision) Object.assign(order, { respondKey: order.deadlineKey, dueAt })
        kase.record('supervision_ordered', actor, at, { id, organizationId: state.handlingOrganizationId, note, respondWithin })
      },
    }),
    // A department answers for itself; with levels, a record may sit on a district or city
    // government, whose staff hold supervisor keys, so they answer the records on their own.
    respond_supervision: action({
      roles: ['department', 'supervisor'],
      params: Strict({ note: Text() }),
      allowedIn: allowedIn.respond,
      check(kase, _params, actor) {
        if (!kase.state.supervision) {
          if (actor.role !== 'department') throw new Refusal('forbidden', `role ${actor.role} may not respond_supervision`)
          kase.requireHandler(actor)
        }
        if (owedAnswers(kase, actor.organizationId).length === 0) {
          throw new Refusal('invalid_transition', kase.state.supervision
            ? `no supervision record awaits an answer from ${actor.organizationId}`
            : 'no supervision order is open')
        }
      },
      apply(kase, { note }, actor, at) {
        // One record per answer, the oldest first, as orders always were.
        const record = owedAnswers(kase, actor.organizationId)[0]!
        Object.assign(record, { respondedAt: at, response: note })
        kase.book.settle(record.respondKey ?? record.deadlineKey!, 'met', at)
        kase.record('supervision_responded', actor, at, { id: record.id, note })
      },
    }),
  }
}
