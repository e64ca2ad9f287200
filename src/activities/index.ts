import type { Database } from '../db/client.ts'
import { type CalendarSignal, createCalendarPropagationActivities } from './calendar-propagation.ts'
import { createOrganizationTreeActivities } from './organization-tree.ts'
import { createProjectionActivities } from './projection.ts'
import { createSharedDataActivities, createTableSharedData, type SharedDataSource } from './shared-data.ts'

export interface ActivityDeps {
  database: Database
  /** Default: the shared_materials table. */
  sharedData?: SharedDataSource
  /** Default: a signal through the worker's own client. */
  signalCalendar?: CalendarSignal
}

/** All activities, built from their dependencies (tests swap one dependency, not a module). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createProjectionActivities(deps),
    ...createOrganizationTreeActivities(deps),
    ...createSharedDataActivities(deps.sharedData ?? createTableSharedData(deps.database)),
    ...createCalendarPropagationActivities(deps),
  }
}
export type Activities = ReturnType<typeof createActivities>
