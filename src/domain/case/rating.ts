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
/** Who gives a rating: the applicant, or staff entering it for the applicant (rule 29). */
export const RATERS = ['applicant', 'staff'] as const

/**
 * The rules a case follows, by version, fixed when it is created: a case keeps the rules it was
 * started under, so that replaying its history gives the commands it gave then. Version 2 (issue
 * 9): rejected and withdrawn cases are rated too, a dissatisfied call-back opens a second
 * rectification, and the application's acceptance, deadline and notice rules of that issue.
 * Absent: version 1, the rules before.
 */
export const CURRENT_RULES = 2
export const rulesOf = (state: { rulesVersion?: number }): number => state.rulesVersion ?? 1

/** Limits that are not per item, read from settings when the case is created. */
export interface CaseLimits {
  ratingDefault: Limit
  rectification: Limit
  /** To hand in materials deferred at acceptance (容缺); absent in cases created before it existed. */
  deferredMaterials?: Limit
  /** To answer a supervision record before the next level opens; absent in cases created before levels. */
  supervisionRespond?: Limit
}

/** The limits a case takes from the settings (defaults: DOMAIN rules 29, 30 and 35). */
export function caseLimits(settings: LimitSettings = DEFAULT_LIMIT_SETTINGS): CaseLimits {
  return {
    ratingDefault: settings['rating.default'],
    rectification: settings['rating.rectification'],
    deferredMaterials: settings['application.deferred'],
    supervisionRespond: settings['supervision.respond'],
  }
}

type Rectification = NonNullable<CaseView['rectification']>

/** A case that is rated (好差评) once it ends, with rectification and call-back after a bad rating. */
export interface RatedState extends CoreState {
  limits: CaseLimits
  rating?: NonNullable<CaseView['rating']>
  rectification?: Rectification
  /** The rules the case follows (see CURRENT_RULES); absent: 1. */
  rulesVersion?: number
}

type RatedCase = CaseCore<RatedState>
const action = actionOf<RatedCase>()

/** Starts the rating period (DOMAIN rule 29) once the service has ended. */
export function startRatingPeriod(kase: RatedCase, at: string): void {
  kase.book.start('rating', 'rating', { limit: kase.state.limits.ratingDefault, startAt: at })
}

/** How a rating was given: by whom and through which channel (absent for the default rating). */
export interface RatingSource { by?: (typeof RATERS)[number]; channel?: string; comment?: string }

/** Records a rating; 1 or 2 opens a rectification with its deadline and a call-back (rule 30). */
export function rate(kase: RatedCase, score: number, defaulted: boolean, actor: Actor, at: string, source: RatingSource = {}): void {
  const { state } = kase
  const level = RATING_LEVELS[score - 1]!
  const given = {
    ...(source.by ? { by: source.by } : {}), ...(source.channel ? { channel: source.channel } : {}),
    ...(source.comment ? { comment: source.comment } : {}),
  }
  state.rating = { score, level, at, defaulted, ...given }
  kase.book.settle('rating', 'met', at)
  kase.record('rated', actor, at, { score, level, defaulted, ...given })
  if (score <= 2) openRectification(kase, 1, at)
}

/** Nobody rated within the period: the default score, by the system (rule 29). */
export function rateByDefault(kase: RatedCase, at: string): void {
  rate(kase, DEFAULT_SCORE, true, SYSTEM_ACTOR, at)
}

/** Whether a rated case still waits for something: its rating, or the call-back after a rectification. */
export function awaitsRating(state: Pick<RatedState, 'rating' | 'rectification'>): boolean {
  return !state.rating || (state.rectification !== undefined && state.rectification.callBack === undefined)
}

/** The deadline of a rectification round: the first keeps its old key, so running cases keep theirs. */
export const rectificationKey = (round: number): string => (round === 1 ? 'rectification' : `rectification:${round}`)

function openRectification(kase: RatedCase, round: number, at: string): void {
  const { state } = kase
  const previous = state.rectification
  state.rectification = round === 1 ? { openedAt: at }
    : { openedAt: at, round, previousRounds: [...(previous?.previousRounds ?? []), withoutHistory(previous!)] }
  kase.book.start('rectification', rectificationKey(round), { limit: state.limits.rectification, startAt: at }, { external: true })
  kase.record('rectification_opened', SYSTEM_ACTOR, at, { organizationId: state.handlingOrganizationId, ...(round > 1 ? { round } : {}) })
}

function withoutHistory(rectification: Rectification): Omit<Rectification, 'previousRounds'> {
  const { previousRounds: _, ...round } = rectification
  return round
}

/**
 * Rule 30's follow-up of a dissatisfied call-back (rules version 2): the first round's failure
 * opens a second rectification on the same organisation; the second's opens a supervision record
 * on it (its supervisors take it from there), and the rating's loop ends.
 */
function followUpDissatisfaction(kase: RatedCase, at: string): void {
  const { state } = kase
  const round = state.rectification?.round ?? 1
  if (round === 1) {
    openRectification(kase, 2, at)
    return
  }
  const id = `S${state.supervisions.length + 1}`
  const reason = 'dissatisfied after a second rectification'
  state.supervisions.push({ id, kind: 'automatic', organizationId: state.handlingOrganizationId, reason, openedAt: at })
  kase.record('supervision_opened', SYSTEM_ACTOR, at, { id, organizationId: state.handlingOrganizationId, reason })
}

/**
 * `rate`, `rectify` and `call_back`: the kind says in which statuses a service counts as ended. A
 * rating is taken once the rating period has started.
 */
export function ratingActions(endedIn: readonly string[]) {
  return {
    rate: action({
      roles: ['window'],
      params: Strict({
        score: Type.Integer({ minimum: 1, maximum: 5 }), comment: Type.Optional(Text()),
        by: Type.Optional(Type.Enum(RATERS)), channel: Type.Optional(Text(50)),
      }),
      allowedIn: endedIn,
      check(kase) {
        if (kase.state.rating) throw new Refusal('invalid_transition', 'the case has been rated already')
        if (!kase.book.get('rating')) throw new Refusal('invalid_transition', 'the case has no rating period')
      },
      apply(kase, { score, comment, by, channel }, actor, at) {
        rate(kase, score, false, actor, at, { by: by ?? 'applicant', ...(channel ? { channel } : {}), ...(comment ? { comment } : {}) })
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
        const rectification = kase.state.rectification!
        kase.state.rectification = { ...rectification, rectifiedAt: at, note }
        kase.book.settle(rectificationKey(rectification.round ?? 1), 'met', at)
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
        if (!satisfied && rulesOf(kase.state) >= 2) followUpDissatisfaction(kase, at)
      },
    }),
  }
}
