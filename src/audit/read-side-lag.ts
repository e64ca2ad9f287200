import { type Client, type WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client'
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common'
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js'
import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { caseEvents, cases, workflowHistories } from '../db/schema.ts'
import type { CaseView, RecordedEvent } from '../domain/case-view.ts'
import { viewQuery } from '../workflows/application/contract.ts'

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>

/** Where a workflow's own sequence was read: its live state, its history, or its archived history. */
export type SequenceSource = 'query' | 'history' | 'archive'

export interface ReadSideReport {
  /** Cases compared with their workflows. */
  cases: number
  /** Cases whose last event in Postgres is not the workflow's last (behind, or even ahead). */
  lagging: Array<{ caseId: string; readSeq: number; workflowSeq: number; source: SequenceSource }>
  /** Cases whose workflow could not be found, live or archived: nothing to compare with. */
  unverified: Array<{ caseId: string; problem: string }>
}

export interface ReadSideOptions {
  database: Database
  client: Client
  caseId?: string
  /** How long a running case's query may take before its history is read instead (no worker polling). */
  queryTimeoutMs?: number
  /** A projection in flight is not a lag: a case behind is looked at again after this long. */
  settleMs?: number
  onProgress?: (done: number, total: number) => void
}

const BATCH = 200
const CONCURRENCY = 8

/**
 * Compares each case's read side (cases.last_seq, the last event in case_events) with its
 * workflow's own sequence: a running workflow's view `version` by query, a closed one's from its
 * history (or the archived history once the cluster has let it go). A case whose projection keeps
 * failing while its workflow moves on is reported here, though its hash chain is whole.
 */
export async function checkReadSide(options: ReadSideOptions): Promise<ReadSideReport> {
  const { database, caseId } = options
  const report: ReadSideReport = { cases: 0, lagging: [], unverified: [] }
  const behind: ReadSideReport['lagging'] = []
  const only = caseId === undefined ? undefined : eq(cases.id, caseId)
  const [{ total } = { total: 0 }] = await database.db.select({ total: count() }).from(cases).where(only)
  options.onProgress?.(0, total)
  let after: string | undefined
  for (;;) {
    const rows = await database.db.select({ id: cases.id, lastSeq: cases.lastSeq }).from(cases)
      .where(and(only, after === undefined ? undefined : sql`${cases.id} > ${after}`))
      .orderBy(asc(cases.id)).limit(BATCH)
    for (let i = 0; i < rows.length; i += CONCURRENCY) {
      await Promise.all(rows.slice(i, i + CONCURRENCY).map(async (row) => {
        report.cases++
        const found = await workflowSequence(options, row.id)
        if ('problem' in found) report.unverified.push({ caseId: row.id, problem: found.problem })
        else if (found.seq !== row.lastSeq && !(await filedAfterItEnded(database, row.id, found, row.lastSeq))) {
          behind.push({ caseId: row.id, readSeq: row.lastSeq, workflowSeq: found.seq, source: found.source })
        }
      }))
      options.onProgress?.(report.cases, total)
    }
    if (rows.length < BATCH) break
    after = rows[rows.length - 1]!.id
  }
  if (behind.length === 0) return report
  await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 2000))
  const now = await database.db.select({ id: cases.id, lastSeq: cases.lastSeq }).from(cases)
    .where(inArray(cases.id, behind.map((b) => b.caseId)))
  const readSeq = new Map(now.map((r) => [r.id, r.lastSeq]))
  for (const lag of behind) {
    const current = readSeq.get(lag.caseId) ?? 0
    if (current !== lag.workflowSeq) report.lagging.push({ ...lag, readSeq: current })
  }
  report.lagging.sort((a, b) => a.caseId.localeCompare(b.caseId))
  return report
}

/**
 * Whether the read side is ahead of an ended workflow only by escalations filed about the case
 * since (API.md "Escalations"): those the escalation's workflow appends itself, since a closed
 * case's workflow records nothing more.
 */
async function filedAfterItEnded(database: Database, caseId: string, found: { seq: number; source: SequenceSource }, readSeq: number) {
  if (found.source === 'query' || readSeq <= found.seq) return false
  const later = await database.db.select({ type: caseEvents.type }).from(caseEvents)
    .where(and(eq(caseEvents.caseId, caseId), sql`${caseEvents.seq} > ${found.seq}`))
  return later.length === readSeq - found.seq && later.every((e) => e.type === 'escalation_filed')
}

async function workflowSequence(options: ReadSideOptions, caseId: string):
  Promise<{ seq: number; source: SequenceSource } | { problem: string }> {
  const { client, database } = options
  const handle = client.workflow.getHandle(caseId)
  try {
    const { status } = await handle.describe()
    if (status.name === 'RUNNING') {
      const live = await queried(client, handle, options.queryTimeoutMs ?? 5000)
      if (live !== undefined) return { seq: live, source: 'query' }
    }
    const seq = await sequenceInHistory(await handle.fetchHistory(), client.options.loadedDataConverter.payloadCodecs)
    return seq === undefined ? { problem: 'its workflow history records no event' } : { seq, source: 'history' }
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err
  }
  const [archived] = await database.db.select({ history: workflowHistories.history }).from(workflowHistories)
    .where(eq(workflowHistories.workflowId, caseId)).orderBy(desc(workflowHistories.closeTime)).limit(1)
  const seq = archived ? await sequenceInHistory(historyFromJSON(archived.history), client.options.loadedDataConverter.payloadCodecs) : undefined
  if (seq === undefined) return { problem: 'neither Temporal nor the archive holds its workflow' }
  return { seq, source: 'archive' }
}

/** The running case's own version, or undefined when no worker answers in time. */
async function queried(client: Client, handle: WorkflowHandle, timeoutMs: number): Promise<number | undefined> {
  try {
    const view: CaseView = await client.withDeadline(Date.now() + timeoutMs, () => handle.query(viewQuery))
    return view.version
  } catch {
    // Still being created, or no worker polling: the history says as much.
    return undefined
  }
}

/**
 * The workflow's sequence as its history records it: every event it recorded went to the
 * projection activity `recordCaseEvents`, either scheduled with the events as input (cases started
 * before issue 13) or run as a local activity, whose marker holds what it answered, the read
 * side's `lastSeq` after the write. A run carried on by continue-as-new starts with the sequence
 * in its input. A history's payloads are as stored (encrypted): `codecs` are the client's, which open them.
 */
export async function sequenceInHistory(history: History, codecs: readonly PayloadCodec[]): Promise<number | undefined> {
  let seq: number | undefined
  const atLeast = (n: number) => {
    seq = Math.max(seq ?? 0, n)
  }
  const read = async <T>(payload: Payload): Promise<T> => defaultPayloadConverter.fromPayload<T>(await decoded(payload, codecs))
  for (const event of history.events ?? []) {
    const started = event.workflowExecutionStartedEventAttributes
    const first = started?.input?.payloads?.[0]
    if (first) {
      const input = await read<{ kind?: string; state?: { seq?: unknown } }>(first)
      if (input.kind === 'continued' && typeof input.state?.seq === 'number') atLeast(input.state.seq)
    }
    const scheduled = event.activityTaskScheduledEventAttributes
    const payload = scheduled?.activityType?.name === 'recordCaseEvents' ? scheduled.input?.payloads?.[0] : undefined
    if (payload) {
      const { recorded } = await read<{ recorded: RecordedEvent[] }>(payload)
      for (const { event: recordedEvent } of recorded) atLeast(recordedEvent.seq)
    }
    const lastSeq = await projectedByLocalActivity(event.markerRecordedEventAttributes, read)
    if (lastSeq !== undefined) atLeast(lastSeq)
  }
  return seq
}

/** A stored payload as its writer made it: the codecs undone, last first (as the SDK decodes). */
async function decoded(payload: Payload, codecs: readonly PayloadCodec[]): Promise<Payload> {
  let current = payload
  for (const codec of [...codecs].reverse()) [current] = await codec.decode([current]) as [Payload]
  return current
}

type Marker = NonNullable<History['events']>[number]['markerRecordedEventAttributes']

/** The `lastSeq` a local `recordCaseEvents` answered, from its marker (core's `core_local_activity`); else undefined. */
async function projectedByLocalActivity(marker: Marker, read: <T>(payload: Payload) => Promise<T>): Promise<number | undefined> {
  if (marker?.markerName !== 'core_local_activity') return undefined
  const data = marker.details?.['data']?.payloads?.[0]
  const result = marker.details?.['result']?.payloads?.[0]
  if (!data || !result) return undefined
  if ((await read<{ activity_type?: string }>(data)).activity_type !== 'recordCaseEvents') return undefined
  const { lastSeq } = await read<{ lastSeq?: unknown }>(result)
  return typeof lastSeq === 'number' ? lastSeq : undefined
}
