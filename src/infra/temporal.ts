import { Client, Connection } from '@temporalio/client'
import type { DataConverter, Duration } from '@temporalio/common'
import { loadClientConnectConfig } from '@temporalio/envconfig'
import {
  bundleWorkflowCode, type BundleOptions, type Logger, NativeConnection, type NativeConnectionOptions, Worker, type WorkerOptions,
} from '@temporalio/worker'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FAILURE_CONVERTER_PATH } from './payload-encryption.ts'
import { createActivities, type ActivityDeps } from '../activities/index.ts'
import { APPLICATION_QUEUE } from '../workflows/application/contract.ts'
import { CALENDAR_QUEUE } from '../workflows/calendar-propagation/contract.ts'
import { COMPLAINT_QUEUE } from '../workflows/complaint/contract.ts'
import { ESCALATION_QUEUE } from '../workflows/escalation/contract.ts'
import { CAMPAIGN_QUEUE, FULFILMENT_QUEUE } from '../workflows/fulfilment/contract.ts'

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url))

/** A module of the domain, by its path from `src/domain`. */
const domainModule = (path: string): string => fileURLToPath(new URL(`../domain/${path}`, import.meta.url))

/**
 * Modules whose code runs once per worker thread, shared by every workflow in it, instead of once
 * per workflow: each workflow otherwise evaluates every module it imports afresh (the SDK's
 * per-workflow isolation). TypeBox, which the Update validators parse with, was most of a new
 * case's CPU in the workflow thread; the domain's own modules (the case kinds, the calendar, the
 * rules and json-logic-js under them, and what they import) were most of the rest. Only modules
 * whose state no workflow can tell from none belong here: a shared module's state would leak
 * between workflows. The SDK freezes what they export, so one that changed an exported value would
 * fail loudly in every workflow test; the one cache among them (WorkingCalendar.from's) keeps
 * immutable indexes by the data they index; and the domain may not import the workflow API
 * (test/unit/boundaries.test.ts).
 */
export const SHARED_WORKFLOW_MODULES = [
  'typebox', 'typebox/value',
  ...[
    'application/application-case.ts', 'complaint/complaint-case.ts', 'complaint/terms.ts',
    'escalation/escalation-case.ts', 'fulfilment/fulfilment-case.ts', 'fulfilment/terms.ts',
    'case/core.ts', 'case/action.ts', 'case-view.ts', 'calendar.ts', 'refusal.ts', 'roles.ts',
  ].map(domainModule),
]

/** TypeBox's counters, the one thing in it that changes as it runs: replaced in the bundle (see the replacement). */
const TYPEBOX_METRICS = join(dirname(createRequire(import.meta.url).resolve('typebox')), 'system/memory/metrics.mjs')
const TYPEBOX_METRICS_STAND_IN = fileURLToPath(new URL('../workflows/typebox-metrics.ts', import.meta.url))

/** How every workflow bundle is built: the service's and the tests' alike. */
export function workflowBundleOptions(logger?: Logger): BundleOptions {
  // A TypeBox that has moved or renamed its counters would otherwise fail in every workflow, later.
  if (!existsSync(TYPEBOX_METRICS)) throw new Error(`TypeBox's counters are not at ${TYPEBOX_METRICS}: see src/workflows/typebox-metrics.ts`)
  return {
    workflowsPath: WORKFLOWS_PATH,
    // Its messages encoded for the codec to encrypt, as the worker's and the client's are.
    failureConverterPath: FAILURE_CONVERTER_PATH,
    preloadModules: SHARED_WORKFLOW_MODULES,
    webpackConfigHook: (config) => ({
      ...config,
      resolve: { ...config.resolve, alias: { ...config.resolve?.alias, [TYPEBOX_METRICS]: TYPEBOX_METRICS_STAND_IN } },
    }),
    ...(logger ? { logger } : {}),
  }
}

/** Workflow code for a worker: the prebuilt bundle given, or one built now from source. */
async function workflowCode(bundle: WorkerOptions['workflowBundle'] | undefined): Promise<NonNullable<WorkerOptions['workflowBundle']>> {
  return bundle ?? { code: (await bundleWorkflowCode(workflowBundleOptions(QUIET_BUNDLER))).code }
}

/** Webpack's report of a bundle built at start says nothing an operator needs; its warnings do. */
export const QUIET_BUNDLER: Logger = {
  log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined,
  warn: (message, meta) => console.warn(message, meta ?? ''), error: (message, meta) => console.error(message, meta ?? ''),
}

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
    fulfilments: `${prefix}-${FULFILMENT_QUEUE}`,
    campaigns: `${prefix}-${CAMPAIGN_QUEUE}`,
    calendar: `${prefix}-${CALENDAR_QUEUE}`,
  }
}
export type TaskQueues = ReturnType<typeof taskQueues>

/** A client whose payloads go through `dataConverter` (see dataConverterFor): required, so none is made without it. */
export async function connectClient(target: TemporalTarget, dataConverter: DataConverter,
  options: { connectTimeout?: Duration } = {}): Promise<Client> {
  const connection = await Connection.connect({ ...target.connectOptions, ...options, address: target.address })
  return new Client({ connection, namespace: target.namespace, dataConverter })
}

export interface WorkerSetup {
  target: TemporalTarget
  queues: TaskQueues
  deps: ActivityDeps
  /** The clients' data converter (dataConverterFor): a worker that could not open their payloads would fail every task. */
  dataConverter: DataConverter
  /** A prebuilt bundle (tests bundle once per run); default: bundled from source at start, once for every queue. */
  workflowBundle?: WorkerOptions['workflowBundle']
  /**
   * Workflows kept in memory by this process, shared out among its queues' workers (default
   * DEFAULT_WORKFLOW_CACHE). Each Worker otherwise sizes its cache from the whole heap, as if it
   * were alone: five queues in one process would cache five heaps' worth, and a campaign's open
   * cases would grow the process without bound.
   */
  cachedWorkflows?: number
}

export const DEFAULT_WORKFLOW_CACHE = 2000
/** Workflows the campaigns queue's worker keeps: a campaign is one small workflow, and few run at once. */
export const CAMPAIGN_WORKFLOW_CACHE = 10

/** Each queue's worker's share of the process's workflow cache: the campaigns queue's few, the rest in equal parts. */
export function workflowCacheShares(queues: TaskQueues, cachedWorkflows = DEFAULT_WORKFLOW_CACHE): Map<string, number> {
  const caseQueues = Object.values(queues).filter((q) => q !== queues.campaigns)
  const share = Math.max(10, Math.floor((cachedWorkflows - CAMPAIGN_WORKFLOW_CACHE) / caseQueues.length))
  return new Map([...caseQueues.map((q): [string, number] => [q, share]), [queues.campaigns, CAMPAIGN_WORKFLOW_CACHE]])
}

/** One worker per workflow kind's task queue, sharing one connection. */
export async function createWorkers(setup: WorkerSetup): Promise<{ workers: Worker[]; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ ...setup.target.connectOptions, address: setup.target.address })
  const activities = createActivities(setup.deps)
  // Bundled once for every queue's worker.
  const workflowBundle = await workflowCode(setup.workflowBundle)
  const shares = workflowCacheShares(setup.queues, setup.cachedWorkflows)
  const workers = await Promise.all([...shares].map(([taskQueue, maxCachedWorkflows]) => Worker.create({
    connection,
    namespace: setup.target.namespace,
    taskQueue,
    activities,
    workflowBundle,
    maxCachedWorkflows,
    dataConverter: setup.dataConverter,
  })))
  return { workers, connection }
}
