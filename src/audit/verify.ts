import type { Client, HistoryAndWorkflowId } from '@temporalio/client'
import type { DataConverter } from '@temporalio/common'
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js'
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker'
import { and, asc, count, eq, inArray, like, or, sql, type SQL } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import type { PersonalData } from '../db/personal-data.ts'
import { eventHash, GENESIS_HASH } from '../db/hash-chain.ts'
import { caseEvents, cases, workflowHistories } from '../db/schema.ts'
import type { Actor } from '../domain/roles.ts'
import { DataKeyError } from '../infra/data-keys.ts'
import { WORKFLOWS_PATH } from '../infra/temporal.ts'
import { watchWorkflowId } from '../workflows/deadline-watch/contract.ts'
import { checkReadSide, type ReadSideReport } from './read-side-lag.ts'

/** Rows read per query: enough to be quick, few enough that a million cases never sit in memory. */
const HISTORY_BATCH = 50
const EVENT_BATCH = 2000

export interface AuditReport {
  histories: { checked: number; failed: Array<{ workflowId: string; runId: string; error: string }> }
  chains: { cases: number; events: number; broken: Array<{ caseId: string; seq: number; problem: string }> }
  /** Each case's read side against its workflow; only when a Temporal client was given. */
  readSide?: ReadSideReport
}

export interface AuditProgress {
  phase: 'histories' | 'chains' | 'read side'
  /** Histories replayed, events checked, or cases compared with their workflows. */
  done: number
  total: number
}

export interface VerifyOptions {
  database: Database
  /** A prebuilt workflow bundle (tests build one per run); default: bundle WORKFLOWS_PATH now. */
  workflowBundle?: ReplayWorkerOptions['workflowBundle']
  /**
   * What the histories' payloads were encoded with: the encryption codec under the keys that
   * sealed them (dataConverterFor). Histories from before encryption replay with it too.
   */
  dataConverter: DataConverter
  /** Only this case: its runs, its deadline watches' runs and its hash chain. */
  caseId?: string
  /** The cluster the cases run on: with it, every case's read side is compared with its workflow. */
  client?: Client
  /** How long a projection in flight may take before its case counts as lagging (default 2 s). */
  settleMs?: number
  onProgress?: (progress: AuditProgress) => void
}

/**
 * Replays every archived workflow history against the current workflow code (determinism),
 * checks every case's hash chain and, given a Temporal client, that no case's read side lags its
 * workflow. Reports what failed; throws only when it cannot check at all.
 * Replay needs a Temporal Runtime: the caller installs one, or the SDK's default is used.
 */
export async function verifyAudit(options: VerifyOptions): Promise<AuditReport> {
  const { client, database, caseId, settleMs } = options
  const report: AuditReport = {
    histories: await replayArchivedHistories(options),
    chains: await checkHashChains(options),
  }
  if (client) {
    const onProgress = options.onProgress
    report.readSide = await checkReadSide({
      client, database, ...(caseId === undefined ? {} : { caseId }), ...(settleMs === undefined ? {} : { settleMs }),
      ...(onProgress ? { onProgress: (done: number, total: number) => onProgress({ phase: 'read side', done, total }) } : {}),
    })
  }
  return report
}

/** True when nothing in the report failed. */
export function auditPassed(report: AuditReport): boolean {
  const readSide = report.readSide
  return report.histories.failed.length === 0 && report.chains.broken.length === 0
    && (readSide === undefined || (readSide.lagging.length === 0 && readSide.unverified.length === 0))
}

/** Histories of one case: its own runs and those of its deadline watches (`<case id>~<key>`). */
function historiesOf(caseId: string | undefined): SQL | undefined {
  if (caseId === undefined) return undefined
  const watchPrefix = watchWorkflowId(caseId, '').replace(/[\\%_]/g, (c) => `\\${c}`)
  return or(eq(workflowHistories.workflowId, caseId), like(workflowHistories.workflowId, `${watchPrefix}%`))
}

interface ArchivedRun { workflowId: string; runId: string }

/** Streams archived histories, in key order, a batch at a time; `pending` learns which run is next. */
async function* archivedHistories(database: Database, caseId: string | undefined,
  pending: ArchivedRun[], report: AuditReport['histories']): AsyncGenerator<HistoryAndWorkflowId> {
  let after: ArchivedRun | undefined
  for (;;) {
    const rows = await database.db.select({
      workflowId: workflowHistories.workflowId, runId: workflowHistories.runId, history: workflowHistories.history,
    }).from(workflowHistories)
      .where(and(historiesOf(caseId),
        after ? sql`(${workflowHistories.workflowId}, ${workflowHistories.runId}) > (${after.workflowId}, ${after.runId})` : undefined))
      .orderBy(asc(workflowHistories.workflowId), asc(workflowHistories.runId))
      .limit(HISTORY_BATCH)
    for (const { workflowId, runId, history } of rows) {
      let parsed: ReturnType<typeof historyFromJSON>
      try {
        parsed = historyFromJSON(history)
        if (!parsed.events?.length) throw new Error('the history has no events')
      } catch (err) {
        report.checked++
        report.failed.push({ workflowId, runId, error: `unreadable history: ${errorText(err)}` })
        continue
      }
      pending.push({ workflowId, runId })
      yield { workflowId, history: parsed }
    }
    if (rows.length < HISTORY_BATCH) return
    after = rows[rows.length - 1]!
  }
}

/** Replays each archived history through one replay worker running the current workflow code. */
async function replayArchivedHistories(options: VerifyOptions): Promise<AuditReport['histories']> {
  const { database, caseId, onProgress } = options
  const [{ total } = { total: 0 }] = await database.db.select({ total: count() }).from(workflowHistories).where(historiesOf(caseId))
  const report: AuditReport['histories'] = { checked: 0, failed: [] }
  onProgress?.({ phase: 'histories', done: 0, total })
  if (total === 0) return report
  const code = options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }
  // Replay is one history at a time, in the order given: results line up with `pending`.
  const pending: ArchivedRun[] = []
  const histories = archivedHistories(database, caseId, pending, report)
  const replay = { ...code, dataConverter: options.dataConverter, replayName: 'banjian-audit' }
  for await (const result of Worker.runReplayHistories(replay, histories)) {
    const run = pending.shift() ?? { workflowId: result.workflowId, runId: result.runId }
    report.checked++
    if (result.error) report.failed.push({ ...run, error: `${result.error.name}: ${result.error.message}` })
    onProgress?.({ phase: 'histories', done: report.checked, total })
  }
  return report
}

interface EventRow {
  caseId: string
  seq: number
  at: string
  type: string
  actor: Actor
  data: Record<string, unknown>
  prevHash: string
  hash: string
}

interface CaseRow { lastSeq: number; lastHash: string }

/** Where one case's chain stands while its events stream past, and its row in cases (if any). */
interface ChainState { caseId: string; lastSeq: number; lastHash: string; row: CaseRow | undefined }

/**
 * Walks case_events in (case, seq) order, a page at a time: seq runs 1..n without gaps, each
 * prev_hash is the previous event's hash (GENESIS_HASH first), each hash is recomputed from the
 * event, and the case's last_seq and last_hash are its last event's.
 */
async function checkHashChains(options: VerifyOptions): Promise<AuditReport['chains']> {
  const { database, caseId, onProgress } = options
  const report: AuditReport['chains'] = { cases: 0, events: 0, broken: [] }
  const only = caseId === undefined ? undefined : eq(caseEvents.caseId, caseId)
  const [{ total } = { total: 0 }] = await database.db.select({ total: count() }).from(caseEvents).where(only)
  onProgress?.({ phase: 'chains', done: 0, total })
  let state: ChainState | undefined
  let after: { caseId: string; seq: number } | undefined
  for (;;) {
    const rows: EventRow[] = await database.db.select({
      caseId: caseEvents.caseId, seq: caseEvents.seq, at: caseEvents.at, type: caseEvents.type, actor: caseEvents.actor,
      data: caseEvents.data, prevHash: caseEvents.prevHash, hash: caseEvents.hash,
    }).from(caseEvents)
      .where(and(only, after ? sql`(${caseEvents.caseId}, ${caseEvents.seq}) > (${after.caseId}, ${after.seq})` : undefined))
      .orderBy(asc(caseEvents.caseId), asc(caseEvents.seq))
      .limit(EVENT_BATCH)
    const caseRows = await caseRowsOf(database, rows)
    for (const row of rows) {
      if (state?.caseId !== row.caseId) {
        if (state) finishChain(state, report)
        state = { caseId: row.caseId, lastSeq: 0, lastHash: GENESIS_HASH, row: caseRows.get(row.caseId) }
        report.cases++
      }
      checkEvent(state, row, database.personal, report)
      report.events++
    }
    onProgress?.({ phase: 'chains', done: report.events, total })
    if (rows.length < EVENT_BATCH) break
    const last = rows[rows.length - 1]!
    after = { caseId: last.caseId, seq: last.seq }
  }
  if (state) finishChain(state, report)
  await findCasesWithoutEvents(database, caseId, report)
  return report
}

/** The cases rows of one page of events, in one query. */
async function caseRowsOf(database: Database, rows: EventRow[]): Promise<Map<string, CaseRow>> {
  const ids = [...new Set(rows.map((r) => r.caseId))]
  if (ids.length === 0) return new Map()
  const found = await database.db.select({ id: cases.id, lastSeq: cases.lastSeq, lastHash: cases.lastHash }).from(cases)
    .where(inArray(cases.id, ids))
  return new Map(found.map(({ id, ...row }) => [id, row]))
}

/** One event against the chain so far; then the chain goes on from the event as stored. */
function checkEvent(state: ChainState, row: EventRow, personal: PersonalData, report: AuditReport['chains']): void {
  const broken = (seq: number, problem: string) => report.broken.push({ caseId: row.caseId, seq, problem })
  const expected = state.lastSeq + 1
  if (row.seq !== expected) {
    broken(expected, row.seq - 1 === expected ? `event ${expected} is missing (the next is ${row.seq})`
      : `events ${expected}..${row.seq - 1} are missing (the next is ${row.seq})`)
  } else if (row.prevHash !== state.lastHash) {
    broken(row.seq, `prev_hash does not match the hash of ${row.seq === 1 ? 'the genesis' : `event ${row.seq - 1}`}`)
  }
  // The chain is over the event in clear: personal fields are opened first, under whichever key sealed them.
  try {
    const event = { seq: row.seq, at: row.at, type: row.type, actor: row.actor, data: personal.open(row.data) }
    if (eventHash(row.prevHash, row.caseId, event) !== row.hash) broken(row.seq, 'hash does not match the event\'s content')
  } catch (err) {
    if (!(err instanceof DataKeyError)) throw err
    broken(row.seq, `its personal data does not open: ${err.message}`)
  }
  state.lastSeq = row.seq
  state.lastHash = row.hash
}

/** The case row must exist and name the chain's last event. */
function finishChain(state: ChainState, report: AuditReport['chains']): void {
  const broken = (problem: string) => report.broken.push({ caseId: state.caseId, seq: state.lastSeq, problem })
  if (!state.row) broken('the case has events but no row in cases')
  else if (state.row.lastSeq !== state.lastSeq) broken(`cases.last_seq is ${state.row.lastSeq}, the last event is ${state.lastSeq}`)
  else if (state.row.lastHash !== state.lastHash) broken('cases.last_hash does not match the hash of the last event')
}

/** Cases whose every event is gone: nothing in the walk above would have met them. */
async function findCasesWithoutEvents(database: Database, caseId: string | undefined, report: AuditReport['chains']): Promise<void> {
  let after: string | undefined
  for (;;) {
    const rows = await database.db.select({ id: cases.id, lastSeq: cases.lastSeq }).from(cases)
      .where(and(
        caseId === undefined ? undefined : eq(cases.id, caseId),
        after === undefined ? undefined : sql`${cases.id} > ${after}`,
        sql`NOT EXISTS (SELECT 1 FROM ${caseEvents} WHERE ${caseEvents.caseId} = ${cases.id})`,
      ))
      .orderBy(asc(cases.id)).limit(EVENT_BATCH)
    for (const row of rows) {
      report.cases++
      report.broken.push({ caseId: row.id, seq: 1, problem: `the case has no events (cases.last_seq is ${row.lastSeq})` })
    }
    if (rows.length < EVENT_BATCH) return
    after = rows[rows.length - 1]!.id
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
