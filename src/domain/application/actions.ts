import { Type, type Static, type TObject } from 'typebox'
import type { Role } from '../roles.ts'

/**
 * Every action on an application: who may take it and what it takes (API.md "Applications").
 * The API validates parameters against these schemas; the workflow decides whether the case's
 * state allows the action.
 */
export const APPLICATION_ACTIONS = {
  accept: { roles: ['window', 'department'], params: Type.Object({}, { additionalProperties: false }) },
} as const satisfies Record<string, { roles: readonly Role[]; params: TObject }>

export type ApplicationAction = keyof typeof APPLICATION_ACTIONS
export type ActionParams<A extends ApplicationAction> = Static<(typeof APPLICATION_ACTIONS)[A]['params']>

export function isApplicationAction(name: string): name is ApplicationAction {
  return Object.hasOwn(APPLICATION_ACTIONS, name)
}
