import type { RecordedEvent } from '../../src/domain/case-view.ts'
import type { Actor } from '../../src/domain/roles.ts'

// What the kinds' unit tests share: who acts, and when. The organisations are those of the test
// directory's tree (test/support/system.ts); the instants are a week of March 2026, which has no
// holiday, so working days there are Monday to Friday whatever calendar a test pins.

export const AMR: Actor = { organizationId: 'gz-amr', role: 'department' }
export const HR: Actor = { organizationId: 'gz-hr', role: 'department' }
export const CITY_SUPERVISOR: Actor = { organizationId: 'gz', role: 'supervisor' }
export const AUDITOR: Actor = { organizationId: 'root', role: 'auditor' }
export const ADMIN: Actor = { organizationId: 'root', role: 'admin' }

/** Monday 2 March 2026 to Thursday 5 March, each at 10:00 in Guangzhou. */
export const MON = '2026-03-02T02:00:00.000Z'
export const TUE = '2026-03-03T02:00:00.000Z'
export const WED = '2026-03-04T02:00:00.000Z'
export const THU = '2026-03-05T02:00:00.000Z'

/** The end of a working day (24:00 in Guangzhou, 16:00 UTC), when a deadline of whole working days falls. */
export const endOfDay = (date: string) => `${date}T16:00:00.000Z`

/** The types of recorded events, in order. */
export const eventTypesOf = (recorded: readonly RecordedEvent[]) => recorded.map((r) => r.event.type)
