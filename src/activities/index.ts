import type { Database } from '../db/client.ts'
import { createProjectionActivities } from './projection.ts'

export interface ActivityDeps {
  database: Database
}

/** All activities, built from their dependencies (tests swap one dependency, not a module). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createProjectionActivities(deps),
  }
}
export type Activities = ReturnType<typeof createActivities>
