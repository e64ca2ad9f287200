import { Client, Connection } from '@temporalio/client'
import type { Duration } from '@temporalio/common'
import { loadClientConnectConfig } from '@temporalio/envconfig'
import { NativeConnection, type NativeConnectionOptions, Worker, type WorkerOptions } from '@temporalio/worker'
import { fileURLToPath } from 'node:url'
import { createActivities, type ActivityDeps } from '../activities/index.ts'
import { APPLICATION_QUEUE } from '../workflows/application/contract.ts'
import { CALENDAR_QUEUE } from '../workflows/calendar-propagation/contract.ts'
import { COMPLAINT_QUEUE } from '../workflows/complaint/contract.ts'
import { ESCALATION_QUEUE } from '../workflows/escalation/contract.ts'

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url))

export interface TemporalTarget {
  address: string
  namespace: string
  /** Options from @temporalio/envconfig (TLS, API key, headers) for an external cluster. */
  connectOptions?: Pick<NativeConnectionOptions, 'tls' | 'apiKey' | 'metadata'>
}

/** The cluster named by the standard TEMPORAL_* variables or profile (@temporalio/envconfig). */
export function externalTarget(temporalEnv: Record<string, string>): TemporalTarget {
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars: temporalEnv })
  const { tls, apiKey, metadata } = connectionOptions
  return {
    address: connectionOptions.address ?? 'localhost:7233',
    namespace: namespace ?? 'default',
    connectOptions: { tls, apiKey, metadata },
  }
}

/** Task queues per workflow kind, under one prefix (tests use a prefix per test). */
export function taskQueues(prefix: string) {
  return {
    applications: `${prefix}-${APPLICATION_QUEUE}`,
    escalations: `${prefix}-${ESCALATION_QUEUE}`,
    complaints: `${prefix}-${COMPLAINT_QUEUE}`,
    calendar: `${prefix}-${CALENDAR_QUEUE}`,
  }
}
export type TaskQueues = ReturnType<typeof taskQueues>

export async function connectClient(target: TemporalTarget, options: { connectTimeout?: Duration } = {}): Promise<Client> {
  const connection = await Connection.connect({ ...target.connectOptions, ...options, address: target.address })
  return new Client({ connection, namespace: target.namespace })
}

export interface WorkerSetup {
  target: TemporalTarget
  queues: TaskQueues
  deps: ActivityDeps
  /** A prebuilt bundle (tests bundle once per run); default bundles from source at start. */
  workflowBundle?: WorkerOptions['workflowBundle']
}

/** One worker per workflow kind's task queue, sharing one connection. */
export async function createWorkers(setup: WorkerSetup): Promise<{ workers: Worker[]; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ ...setup.target.connectOptions, address: setup.target.address })
  const activities = createActivities(setup.deps)
  const code = setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }
  const workers = await Promise.all(Object.values(setup.queues).map((taskQueue) => Worker.create({
    connection,
    namespace: setup.target.namespace,
    taskQueue,
    activities,
    ...code,
  })))
  return { workers, connection }
}
