import { Type } from 'typebox'
import type { CaseView } from '../case-view.ts'
import type { Limit } from '../limit.ts'
import { DEFAULT_LIMIT_SETTINGS, type LimitSettings } from '../limit-settings.ts'
import { Refusal } from '../refusal.ts'
import type { Actor } from '../roles.ts'
import { actionOf, Strict, Text } from './action.ts'
import { type CaseCore, type CoreState, SYSTEM_ACTOR } from './core.ts'

export const RATING_LEVELS = ['very_dissatisfied', 'dissatisfied', 'basically_satisfied', 'satisfied', 'very_satisfied'] as const
/** DOMAIN rule 29: no rating within the period counts as "basically satisfied". */
export const DEFAULT_SCORE = 3

/** Limits that are not per item, read from settings when the case is created. */
export interface CaseLimits {
  ratingDefault: Limit
  rectification: Limit
}

/** The limits a case takes from the settings (defaults: DOMAIN rules 29 and 30). */
export function caseLimits(settings: LimitSettings = DEFAULT_LIMIT_SETTINGS): CaseLimits {
  return { ratingDefault: settings['rating.default'], rectification: settings['rating.rectification'] }
}

/** A case that is rated (好差评) once it ends, with rectification and call-back after a bad rating. */
export interface RatedState extends CoreState {
  limits: CaseLimits
  rating?: NonNullable<CaseView['rating']>
  rectification?: NonNullable<CaseView['rectification']>
}

type RatedCase = CaseCore<RatedState>
const action = actionOf<RatedCase>()

/** Starts the rating period (DOMAIN rule 29) once the service has ended. */
export function startRatingPeriod(kase: RatedCase, at: string): void {
  kase.book.start('rating', 'rating', { limit: kase.state.limits.ratingDefault, startAt: at })
}

/** Records a rating; 1 or 2 opens a rectification with its deadline and a call-back (rule 30). */
export function rate(kase: RatedCase, score: number, defaulted: boolean, actor: Actor, at: string, comment?: string): void {
  const { state } = kase
  const level = RATING_LEVELS[score - 1]!
  state.rating = { score, level, at, defaulted, ...(comment ? { comment } : {}) }
  kase.book.settle('rating', 'met', at)
  kase.record('rated', actor, at, { score, level, defaulted, ...(comment ? { comment } : {}) })
  if (score <= 2) {
    state.rectification = { openedAt: at }
    kase.book.start('rectification', 'rectification', { limit: state.limits.rectification, startAt: at }, { external: true })
    kase.record('rectification_opened', SYSTEM_ACTOR, at, { organizationId: state.handlingOrganizationId })
  }
}

/** Nobody rated within the period: the default score, by the system (rule 29). */
export function rateByDefault(kase: RatedCase, at: string): void {
  rate(kase, DEFAULT_SCORE, true, SYSTEM_ACTOR, at)
}

/** Whether a rated case still waits for something: its rating, or the call-back after a rectification. */
export function awaitsRating(state: Pick<RatedState, 'rating' | 'rectification'>): boolean {
  return !state.rating || (state.rectification !== undefined && state.rectification.callBack === undefined)
}

/** `rate`, `rectify` and `call_back`: the kind says in which statuses a service counts as ended. */
export function ratingActions(endedIn: readonly string[]) {
  return {
    rate: action({
      roles: ['window'],
      params: Strict({ score: Type.Integer({ minimum: 1, maximum: 5 }), comment: Type.Optional(Text()) }),
      allowedIn: endedIn,
      check(kase) {
        if (kase.state.rating) throw new Refusal('invalid_transition', 'the case has been rated already')
      },
      apply(kase, { score, comment }, actor, at) {
        rate(kase, score, false, actor, at, comment)
      },
    }),
    rectify: action({
      roles: ['department'],
      params: Strict({ note: Text() }),
      allowedIn: endedIn,
      handlerOnly: ['department'],
      check(kase) {
        const { rectification } = kase.state
        if (!rectification || rectification.rectifiedAt) throw new Refusal('invalid_transition', 'no rectification is open')
      },
      apply(kase, { note }, actor, at) {
        kase.state.rectification = { ...kase.state.rectification!, rectifiedAt: at, note }
        kase.book.settle('rectification', 'met', at)
        kase.record('rectified', actor, at, { note })
      },
    }),
    call_back: action({
      roles: ['window', 'supervisor'],
      params: Strict({ satisfied: Type.Boolean(), note: Type.Optional(Text()) }),
      allowedIn: endedIn,
      check(kase) {
        const { rectification } = kase.state
        if (!rectification?.rectifiedAt || rectification.callBack) {
          throw new Refusal('invalid_transition', 'a call-back follows a rectification, once')
        }
      },
      apply(kase, { satisfied, note }, actor, at) {
        kase.state.rectification = { ...kase.state.rectification!, callBack: { satisfied, at, ...(note ? { note } : {}) } }
        kase.record('called_back', actor, at, { satisfied, ...(note ? { note } : {}) })
      },
    }),
  }
}
