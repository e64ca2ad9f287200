import type { Database } from '../db/client.ts'
import { createTableSharedData, type SharedDataSource } from '../db/shared-data.ts'
import type { PaymentAdapter } from '../payments/adapter.ts'
import { type CalendarSignal, createCalendarPropagationActivities } from './calendar-propagation.ts'
import { createFulfilmentActivities } from './fulfilment.ts'
import { createOrganizationTreeActivities } from './organization-tree.ts'
import { createPaymentActivities } from './payments.ts'
import { createProjectionActivities } from './projection.ts'
import { createReportActivities } from './reports.ts'
import { createSharedDataActivities } from './shared-data.ts'

export interface ActivityDeps {
  database: Database
  /** Default: the shared_materials table. */
  sharedData?: SharedDataSource
  /** Default: a signal through the worker's own client. */
  signalCalendar?: CalendarSignal
  /** Default: the ledger in Postgres (src/payments/ledger.ts). */
  payments?: PaymentAdapter
}

/** All activities, built from their dependencies (tests swap one dependency, not a module). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createProjectionActivities(deps),
    ...createOrganizationTreeActivities(deps),
    ...createSharedDataActivities(deps.sharedData ?? createTableSharedData(deps.database)),
    ...createCalendarPropagationActivities(deps),
    ...createPaymentActivities({ database: deps.database, payments: deps.payments }),
    ...createFulfilmentActivities(deps),
    ...createReportActivities(deps),
  }
}
export type Activities = ReturnType<typeof createActivities>
