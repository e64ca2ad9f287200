import { type Client, type WorkflowExecutionInfo, WorkflowNotFoundError } from '@temporalio/client'
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js'
import { eq, inArray, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Database } from '../db/client.ts'
import { workflowArchiveProgress, workflowHistories } from '../db/schema.ts'
import { repeatEvery, type Repeating } from '../infra/repeat.ts'

/** Visibility's names for the statuses a run closes with (a paused run is still open). */
const CLOSED_STATUSES = ['Completed', 'Failed', 'Canceled', 'Terminated', 'ContinuedAsNew', 'TimedOut']
/** Visibility is eventually consistent: each round looks this far back past the last one. */
const DEFAULT_OVERLAP_MS = 60 * 60_000
const BATCH = 100
const FETCH_CONCURRENCY = 4

export interface ArchiveOptions {
  client: Client
  database: Database
  /** Only runs closed at or after this instant; default: where the last whole round got to, less the overlap. */
  since?: Date
  overlapMs?: number
  /** A visibility clause ANDed to the query: tests share a namespace and narrow it (`TaskQueue = '…'`). */
  where?: string
  signal?: AbortSignal
}

export interface ArchiveCounts {
  /** Closed runs visibility listed since the lower bound. */
  listed: number
  /** Histories this round inserted. */
  archived: number
  /** Already archived (by an earlier round, or another worker at the same time). */
  skipped: number
  /** Listed as closed, but the cluster no longer has the history (retention got there first). */
  missing: number
}

/**
 * Archives the history of every closed run that visibility lists and Postgres does not hold yet.
 * Idempotent: inserts never overwrite, so repeated or concurrent rounds never duplicate a row.
 */
export async function archiveClosedHistories(options: ArchiveOptions): Promise<ArchiveCounts> {
  const { client, database, signal } = options
  const scope = archiveScope(client, options.where)
  const startedAt = new Date()
  const since = options.since ?? await resumePoint(database, scope, options.overlapMs ?? DEFAULT_OVERLAP_MS)
  const run = async () => {
    const counts: ArchiveCounts = { listed: 0, archived: 0, skipped: 0, missing: 0 }
    let batch: WorkflowExecutionInfo[] = []
    for await (const info of client.workflow.list({ query: closedRunsQuery(since, options.where) })) {
      signal?.throwIfAborted()
      if (!info.closeTime) continue
      counts.listed++
      batch.push(info)
      if (batch.length === BATCH) {
        addCounts(counts, await archiveBatch(client, database, batch, signal))
        batch = []
      }
    }
    if (batch.length > 0) addCounts(counts, await archiveBatch(client, database, batch, signal))
    return counts
  }
  const counts = signal ? await client.withAbortSignal(signal, run) : await run()
  // An explicit `since` may start after the recorded point: a round from there proves nothing before it.
  if (!options.since) await recordProgress(database, scope, startedAt)
  return counts
}

/** One progress row per namespace and filter, so a narrowed archiver never vouches for the rest. */
function archiveScope(client: Client, where: string | undefined): string {
  return where ? `${client.options.namespace} ${where}` : client.options.namespace
}

/** The last whole round's start less the overlap; everything when no round has finished yet. */
async function resumePoint(database: Database, scope: string, overlapMs: number): Promise<Date | undefined> {
  const [row] = await database.db.select({ through: workflowArchiveProgress.archivedThrough })
    .from(workflowArchiveProgress).where(eq(workflowArchiveProgress.scope, scope))
  return row ? new Date(new Date(row.through).getTime() - overlapMs) : undefined
}

/** Moves the progress forward only (two workers finishing out of order never move it back). */
async function recordProgress(database: Database, scope: string, through: Date): Promise<void> {
  await database.db.insert(workflowArchiveProgress).values({ scope, archivedThrough: through.toISOString() })
    .onConflictDoUpdate({
      target: workflowArchiveProgress.scope,
      set: {
        archivedThrough: sql`greatest(${workflowArchiveProgress.archivedThrough}, excluded.archived_through)`,
        updatedAt: sql`now()`,
      },
    })
}

/** The visibility query for runs closed since `since` (all closed runs without it). */
export function closedRunsQuery(since: Date | undefined, where?: string): string {
  const clauses = [`ExecutionStatus IN (${CLOSED_STATUSES.map((s) => `'${s}'`).join(', ')})`]
  if (since) clauses.push(`CloseTime >= '${since.toISOString()}'`)
  if (where) clauses.push(`(${where})`)
  return clauses.join(' AND ')
}

/** Fetches and inserts the runs of one batch that are not archived yet. */
async function archiveBatch(client: Client, database: Database, batch: WorkflowExecutionInfo[],
  signal: AbortSignal | undefined): Promise<ArchiveCounts> {
  const counts: ArchiveCounts = { listed: 0, archived: 0, skipped: 0, missing: 0 }
  const held = await database.db.select({ workflowId: workflowHistories.workflowId, runId: workflowHistories.runId })
    .from(workflowHistories).where(inArray(workflowHistories.runId, batch.map((info) => info.runId)))
  const archived = new Set(held.map((row) => `${row.workflowId}\n${row.runId}`))
  const fresh = batch.filter((info) => !archived.has(`${info.workflowId}\n${info.runId}`))
  counts.skipped += batch.length - fresh.length
  for (let i = 0; i < fresh.length; i += FETCH_CONCURRENCY) {
    signal?.throwIfAborted()
    const outcomes = await Promise.all(fresh.slice(i, i + FETCH_CONCURRENCY).map((info) => archiveRun(client, database, info)))
    for (const outcome of outcomes) counts[outcome]++
  }
  return counts
}

/** One run's history into Postgres; 'skipped' when someone else inserted it first. */
async function archiveRun(client: Client, database: Database, info: WorkflowExecutionInfo): Promise<'archived' | 'skipped' | 'missing'> {
  let json: string
  try {
    json = historyToJSON(await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory())
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'missing'
    throw err
  }
  const history = JSON.parse(json) as { events?: unknown[] }
  const inserted = await database.db.insert(workflowHistories).values({
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.type,
    status: info.status.name,
    closeTime: info.closeTime!.toISOString(),
    eventCount: history.events?.length ?? 0,
    history,
  }).onConflictDoNothing().returning({ runId: workflowHistories.runId })
  return inserted.length > 0 ? 'archived' : 'skipped'
}

function addCounts(into: ArchiveCounts, more: ArchiveCounts): void {
  into.listed += more.listed
  into.archived += more.archived
  into.skipped += more.skipped
  into.missing += more.missing
}

/**
 * Archives now and then every `intervalMs`, one round at a time. A failed round is logged and the
 * next one starts where the last whole one did.
 */
export function startArchiveLoop(options: Omit<ArchiveOptions, 'since' | 'signal'> & { intervalMs: number; log: Logger }): Repeating {
  const { intervalMs, log, ...archive } = options
  return repeatEvery(intervalMs, async (signal) => {
    try {
      const counts = await archiveClosedHistories({ ...archive, signal })
      log[counts.archived > 0 || counts.missing > 0 ? 'info' : 'debug'](counts, 'archived closed workflow histories')
    } catch (err) {
      if (!signal.aborted) log.error({ err }, 'archiving workflow histories failed; the next round retries')
    }
  }, { startNow: true })
}
