import { ApplicationFailure } from '@temporalio/activity'
import { sql } from 'drizzle-orm'
import type { Database, Tx } from '../db/client.ts'
import { eventHash, GENESIS_HASH } from '../db/hash-chain.ts'
import { deadlinesWrite } from '../db/deadlines.ts'
import { storeIssuedCertificates } from '../db/e-licences.ts'
import { noticesWrite } from '../db/notifications.ts'
import { summaryContributions, summaryWrites, type Contribution } from '../db/summary.ts'
import { supervisionsWrite } from '../db/supervisions.ts'
import { together } from '../db/together.ts'
import type { PersonalData } from '../db/personal-data.ts'
import { caseEvents, cases } from '../db/schema.ts'
import { isPending, priorityRank, type CaseView, type RecordedEvent } from '../domain/case-view.ts'
import { kindDefinition } from '../domain/kinds.ts'
import type { Actor } from '../domain/roles.ts'

export interface RecordCaseEventsInput {
  caseId: string
  recorded: RecordedEvent[]
}

/** An escalation filed about a case whose workflow has ended (API.md "Escalations"). */
export interface EscalationOnEndedCase {
  caseId: string
  escalationId: string
  actor: Actor
  at: string
}

/**
 * Writes a case's new events and its current view in one transaction, with what they cause there:
 * e-licences from issued results (rule 37) and the applicant's notices (the outbox). Idempotent:
 * events the read side already has are skipped, so a retried or repeated call changes nothing.
 */
export function createProjectionActivities(deps: { database: Database }) {
  return {
    async recordCaseEvents({ caseId, recorded }: RecordCaseEventsInput): Promise<{ lastSeq: number }> {
      if (recorded.length === 0) throw ApplicationFailure.nonRetryable('no events to record', 'validation_failed')
      try {
        return await writeEvents(deps.database, caseId, recorded)
      } catch (err) {
        const state = sqlState(err)
        // A data exception is the same on every attempt: retrying would hang the case for good.
        if (state?.startsWith('22')) {
          throw ApplicationFailure.nonRetryable(`case ${caseId}: Postgres cannot store these events (SQLSTATE ${state})`, 'unstorable')
        }
        throw err
      }
    },

    /**
     * `escalation_filed` on a case whose workflow has ended, which writes nothing more: appended to
     * its read side here, after its last event, with its last view plus the escalation and the hash
     * chain continued. Once per escalation: a retry finds it there and changes nothing.
     */
    async recordEscalationOnEndedCase({ caseId, escalationId, actor, at }: EscalationOnEndedCase): Promise<'recorded' | 'already' | 'no_case'> {
      return deps.database.db.transaction(async (tx) => {
        const [current] = await tx.select({ lastSeq: cases.lastSeq, view: cases.view }).from(cases)
          .where(sql`${cases.id} = ${caseId}`).for('update')
        if (!current) return 'no_case'
        const last = deps.database.personal.open(current.view as CaseView)
        if (last.escalations?.includes(escalationId)) return 'already'
        const seq = current.lastSeq + 1
        const view: CaseView = { ...last, version: seq, updatedAt: at, escalations: [...(last.escalations ?? []), escalationId] }
        await writeEventsIn(tx, deps.database.personal, caseId, [{ event: { seq, at, type: 'escalation_filed', actor, data: { escalationId } }, view }])
        return 'recorded'
      })
    },
  }
}

export type ProjectionActivities = ReturnType<typeof createProjectionActivities>

/** The events the read side does not have yet, then the case's row, in one transaction. */
function writeEvents(database: Database, caseId: string, recorded: RecordedEvent[]): Promise<{ lastSeq: number }> {
  return database.db.transaction((tx) => writeEventsIn(tx, database.personal, caseId, recorded))
}

/**
 * writeEvents inside a transaction the caller holds (an escalation on an ended case reads the row
 * first). Events are hashed in clear and stored with their personal fields sealed, so the chain
 * holds across key rotations; what the events cause (licences, notices) is derived from them in clear.
 */
async function writeEventsIn(tx: Tx, personal: PersonalData, caseId: string, recorded: RecordedEvent[]): Promise<{ lastSeq: number }> {
  // The row's summary figures as they stand, to take away once the row has moved on.
  const [current] = await tx
    .select({
      lastSeq: cases.lastSeq, lastHash: cases.lastHash, organizations: cases.organizations, completedAt: cases.completedAt,
      contributions: summaryContributions,
    })
    .from(cases).where(sql`${cases.id} = ${caseId}`).for('update')
  let lastSeq = current?.lastSeq ?? 0
  let prevHash = current?.lastHash ?? GENESIS_HASH
  const fresh = recorded.filter((r) => r.event.seq > lastSeq)
  if (fresh.length === 0) return { lastSeq }
  const rows = fresh.map(({ event, view }) => {
    if (event.seq !== lastSeq + 1) {
      // Retryable: an earlier batch has not landed yet.
      throw new Error(`case ${caseId}: event ${event.seq} arrived before ${lastSeq + 1}`)
    }
    const hash = eventHash(prevHash, caseId, event)
    const row = { caseId, seq: event.seq, at: event.at, type: event.type, actor: event.actor, ...personal.seal({ data: event.data, view }), prevHash, hash }
    lastSeq = event.seq
    prevHash = hash
    return row
  })
  const view = fresh[fresh.length - 1]!.view
  const organizations = [...new Set([
    ...(current?.organizations ?? []), ...participantsOf(view),
  ])]
  const completedAt = completionOf(current?.completedAt ?? null, fresh)
  const row = {
    ...indexColumns(view), lastSeq, lastHash: prevHash, organizations, completedAt, view: personal.seal(view), personIndex: personal.personIndex(view),
  }
  // Each round trip inside this locked transaction is paid by every command's latency (issue 13):
  // the events (one insert for the batch) and the row in one statement, what follows from them in
  // a second. The events are written whether the row moves or not, as they always were.
  const { rows: advanced } = await tx.execute<{ contributions: Contribution[] | null }>(sql`WITH events AS (${
    tx.insert(caseEvents).values(rows).onConflictDoNothing().getSQL()
  }) ${
    tx.insert(cases).values({ id: caseId, ...row }).onConflictDoUpdate({
      target: cases.id,
      set: row,
      setWhere: sql`${cases.lastSeq} < ${lastSeq}`,
    }).returning({ contributions: summaryContributions.as('contributions') }).getSQL()
  }`)
  if (advanced.length > 0) {
    // Reads the case's guide first: on its own, and only for an issued result.
    await storeIssuedCertificates(tx, personal, fresh)
    const follow = together([
      ...summaryWrites(tx, current?.contributions ?? [], advanced[0]!.contributions ?? []),
      await deadlinesWrite(tx, caseId, fresh),
      supervisionsWrite(tx, caseId, view),
      noticesWrite(tx, personal, caseId, fresh),
    ])
    if (follow) await tx.execute(follow)
  }
  return { lastSeq }
}

/** Postgres's SQLSTATE of an error, also when drizzle wraps it (as its `cause`). */
function sqlState(err: unknown): string | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code
  }
  return undefined
}

/** The columns lists filter and sort on, derived from the view. */
function indexColumns(view: CaseView) {
  const running = view.deadlines.filter(isPending)
  const nextDueAt = running.map((d) => d.dueAt).sort()[0] ?? 'infinity'
  return {
    kind: view.kind,
    status: view.status,
    serviceItemCode: view.serviceItemCode ?? null,
    handlingOrganizationId: view.handlingOrganizationId,
    receivedBy: view.receivedBy,
    priorityRank: priorityRank(view.priority),
    overdue: view.overdue,
    warned: view.warned,
    open: isOpen(view),
    provisional: running.some((d) => d.provisional),
    nextDueAt,
    flags: view.flags,
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  }
}

/**
 * When the case's service ended: kept from the row while it stays ended, else the first fresh
 * event that shows it ended after the last one that did not (a reopened case ends anew); null
 * while it has not ended.
 */
function completionOf(stored: string | null, fresh: readonly RecordedEvent[]): string | null {
  const ended = (r: RecordedEvent) => hasEnded(r.view)
  if (!ended(fresh[fresh.length - 1]!)) return null
  const lastUnended = fresh.findLastIndex((r) => !ended(r))
  if (lastUnended === -1 && stored !== null) return stored
  return fresh[lastUnended + 1]!.event.at
}

function hasEnded(view: CaseView): boolean {
  const definition = kindDefinition(view.kind)
  if (!definition) throw new Error(`case ${view.id}: no kind ${view.kind}`)
  return definition.hasEnded(view)
}

/** The kind says what "open" means (a completed application awaiting its call-back still is). */
function isOpen(view: CaseView): boolean {
  const definition = kindDefinition(view.kind)
  if (!definition) throw new Error(`case ${view.id}: no kind ${view.kind}`)
  return definition.isOpen(view)
}

/** The kind says who takes part; the handling organisation always does. */
function participantsOf(view: CaseView): string[] {
  return [view.handlingOrganizationId, ...(kindDefinition(view.kind)?.participants(view) ?? [])]
}
