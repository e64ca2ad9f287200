import type { Database } from '../db/client.ts'
import { createProjectionActivities } from './projection.ts'
import { createSharedDataActivities, createTableSharedData, type SharedDataSource } from './shared-data.ts'

export interface ActivityDeps {
  database: Database
  /** Default: the shared_materials table. */
  sharedData?: SharedDataSource
}

/** All activities, built from their dependencies (tests swap one dependency, not a module). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createProjectionActivities(deps),
    ...createSharedDataActivities(deps.sharedData ?? createTableSharedData(deps.database)),
  }
}
export type Activities = ReturnType<typeof createActivities>
