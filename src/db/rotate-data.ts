import type { PoolClient } from 'pg'
import type { Database } from './client.ts'
import { BENEFICIARY_FIELDS, type PersonalData } from './personal-data.ts'

/** A table whose JSON columns hold sealed personal fields (or whose text columns are sealed values), walked in primary-key order. */
interface SealedTable {
  table: string
  key: readonly string[]
  columns: readonly string[]
  /** The personal fields of its documents; PersonalData's own when not given. */
  fields?: ReadonlySet<string>
  /** Its columns are text, each one sealed value (PersonalData.sealText), not JSON documents. */
  text?: true
  /**
   * case_events refuses UPDATE (migration 0001). Rotation lifts its triggers inside each batch's
   * transaction, so they are back however the batch ends (DDL is transactional in Postgres) and
   * nothing else can write the table meanwhile (the ALTER holds its lock to the commit). The other
   * way, sealing events under a key that never rotates, would make the old key unretirable, which
   * is what rotation is for; and the hash chain is over the events in clear, so it still verifies.
   * Needs the table's owner: the role that ran the migrations.
   */
  appendOnly?: boolean
}

const SEALED_TABLES: readonly SealedTable[] = [
  { table: 'cases', key: ['id'], columns: ['view'] },
  { table: 'case_events', key: ['case_id', 'seq'], columns: ['data', 'view'], appendOnly: true },
  { table: 'notification_outbox', key: ['id'], columns: ['notice'] },
  { table: 'campaign_lines', key: ['campaign_id', 'line'], columns: ['beneficiary'], fields: BENEFICIARY_FIELDS },
  { table: 'payments', key: ['case_id'], columns: ['beneficiary_id'], text: true },
]

/** A blind index as PersonalData.subjectIndex makes it: `<key id>.<HMAC-SHA256 in base64url>`. */
const BLIND_INDEX = '^[A-Za-z0-9_-]{1,64}\\.[A-Za-z0-9_-]{43}$'

export interface RotationProgress {
  /** A table, or `shared_materials` for the blind indexes. */
  step: string
  done: number
  total: number
}

export interface RotationReport {
  /** Rows rewritten per table (sealed under an older key, or still in clear). */
  rewritten: Record<string, number>
  /** Subjects of shared materials left under an older key: no case names their identity number. */
  unindexed: number
}

/**
 * `banjian keys rotate-data`: every sealed personal field re-sealed under the current data key,
 * fields still in clear (rows from before encryption) sealed, and fulfilment claims and shared
 * materials' subjects indexed under the current key, in batches of `batchSize` rows per transaction, by primary key.
 * Run it after every process has the new key first in BANJIAN_DATA_KEYS; once it reports nothing
 * left under the old key, that key can be dropped. Running it again changes nothing.
 */
export async function rotateDataKeys(database: Database, options: { batchSize?: number; onProgress?: (progress: RotationProgress) => void } = {})
  : Promise<RotationReport> {
  const { batchSize = 500, onProgress } = options
  const rewritten: Record<string, number> = {}
  for (const table of SEALED_TABLES) {
    rewritten[table.table] = await resealTable(database, table, batchSize, onProgress)
  }
  rewritten['cases.person_index'] = await reindexPeople(database, batchSize, onProgress)
  rewritten['fulfilment_claims'] = await reindexClaims(database, batchSize, onProgress)
  const { reindexed, unindexed } = await reindexSubjects(database, batchSize, onProgress)
  rewritten['shared_materials'] = reindexed
  return { rewritten, unindexed }
}

async function resealTable(database: Database, spec: SealedTable, batchSize: number, onProgress?: (progress: RotationProgress) => void)
  : Promise<number> {
  const { table, key, columns } = spec
  const keyList = key.join(', ')
  const total = Number((await database.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n ?? 0)
  onProgress?.({ step: table, done: 0, total })
  let after: unknown[] | undefined
  let done = 0
  let rewritten = 0
  for (;;) {
    const batch = await inTransaction(database, async (client) => {
      const { rows } = await client.query<Record<string, unknown>>(
        `SELECT ${keyList}, ${columns.join(', ')} FROM ${table}
         ${after ? `WHERE (${keyList}) > (${key.map((_, i) => `$${i + 1}`).join(', ')})` : ''}
         ORDER BY ${keyList} LIMIT ${batchSize} FOR UPDATE`, after ?? [])
      const stale = rows.filter((row) => columns.some((column) => !isCurrent(database.personal, spec, row[column])))
      if (stale.length > 0) {
        if (spec.appendOnly) await client.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`)
        for (const row of stale) {
          const values = columns.map((column) => resealed(database.personal, spec, row[column]))
          await client.query(
            `UPDATE ${table} SET ${columns.map((c, i) => `${c} = $${i + 1}${spec.text ? '' : '::jsonb'}`).join(', ')}
             WHERE (${keyList}) = (${key.map((_, i) => `$${columns.length + i + 1}`).join(', ')})`,
            [...values, ...key.map((k) => row[k])])
        }
        if (spec.appendOnly) await client.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`)
      }
      return { rows, stale: stale.length }
    })
    done += batch.rows.length
    rewritten += batch.stale
    onProgress?.({ step: table, done, total })
    const last = batch.rows[batch.rows.length - 1]
    if (batch.rows.length < batchSize || !last) return rewritten
    after = key.map((k) => last[k])
  }
}

function isCurrent(personal: PersonalData, spec: SealedTable, value: unknown): boolean {
  if (!spec.text) return personal.isCurrent(value, spec.fields)
  return value === null || personal.isCurrentText(value as string)
}

/** A column's value sealed under the current key, as its UPDATE takes it. */
function resealed(personal: PersonalData, spec: SealedTable, value: unknown): string | null {
  if (!spec.text) return JSON.stringify(personal.reseal(value, spec.fields))
  return value === null ? null : personal.sealText(personal.openText(value as string))
}

/**
 * One person's cases are found by a blind index of their identity number (cases.person_index):
 * made again under the current key from the case's view, also for cases projected before the
 * index existed (null there).
 */
async function reindexPeople(database: Database, batchSize: number, onProgress?: (progress: RotationProgress) => void): Promise<number> {
  const { personal } = database
  const step = 'cases.person_index'
  const total = Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM cases')).rows[0]?.n ?? 0)
  onProgress?.({ step, done: 0, total })
  let after = ''
  let done = 0
  let rewritten = 0
  for (;;) {
    const { rows } = await database.pool.query<{ id: string; view: unknown; person_index: string | null }>(
      'SELECT id, view, person_index FROM cases WHERE id > $1 ORDER BY id LIMIT $2', [after, batchSize])
    const moves = rows.map((row) => ({ id: row.id, from: row.person_index, to: personal.personIndex(personal.open(row.view)) }))
      .filter((move) => move.to !== move.from)
    if (moves.length > 0) {
      await database.pool.query(
        `UPDATE cases c SET person_index = m.person_index FROM unnest($1::text[], $2::text[]) AS m(id, person_index)
          WHERE c.id = m.id`, [moves.map((m) => m.id), moves.map((m) => m.to)])
      rewritten += moves.length
    }
    done += rows.length
    onProgress?.({ step, done, total })
    const last = rows[rows.length - 1]
    if (rows.length < batchSize || !last) return rewritten
    after = last.id
  }
}

/**
 * Fulfilment claims are found by a blind index of policy and beneficiary beside the beneficiary
 * sealed: a claim under an older key is indexed and sealed again from its sealed id; a claim from
 * before claims were sealed (its id in clear, nothing sealed) is indexed and sealed from that id.
 * Walked by the claim's key, which the walk changes: a claim met again is current and skipped.
 */
async function reindexClaims(database: Database, batchSize: number, onProgress?: (progress: RotationProgress) => void): Promise<number> {
  const { personal } = database
  const total = Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM fulfilment_claims')).rows[0]?.n ?? 0)
  onProgress?.({ step: 'fulfilment_claims', done: 0, total })
  let after: [string, string] | undefined
  let done = 0
  let rewritten = 0
  for (;;) {
    const rows = await inTransaction(database, async (client) => {
      const { rows } = await client.query<{ policy_code: string; beneficiary_id: string; beneficiary_sealed: string | null }>(
        `SELECT policy_code, beneficiary_id, beneficiary_sealed FROM fulfilment_claims
         ${after ? 'WHERE (policy_code, beneficiary_id) > ($1, $2)' : ''}
         ORDER BY policy_code, beneficiary_id LIMIT ${batchSize} FOR UPDATE`, after ?? [])
      for (const row of rows) {
        const id = row.beneficiary_sealed === null ? row.beneficiary_id : personal.openText(row.beneficiary_sealed)
        const index = personal.claimIndex(row.policy_code, id)
        if (index === row.beneficiary_id && row.beneficiary_sealed !== null && personal.isCurrentText(row.beneficiary_sealed)) continue
        await client.query(
          'UPDATE fulfilment_claims SET beneficiary_id = $3, beneficiary_sealed = $4 WHERE policy_code = $1 AND beneficiary_id = $2',
          [row.policy_code, row.beneficiary_id, index, personal.sealText(id)])
        rewritten++
      }
      return rows
    })
    done += rows.length
    onProgress?.({ step: 'fulfilment_claims', done: Math.min(done, total), total })
    const last = rows[rows.length - 1]
    if (rows.length < batchSize || !last) return rewritten
    after = [last.policy_code, last.beneficiary_id]
  }
}

/**
 * Shared materials are found by a blind index of the holder's identity number, which cannot be
 * opened: subjects still in clear are indexed from themselves; subjects under an older key from
 * the identity numbers of the cases' applicants (where e-licences come from), a batch of cases at
 * a time. What neither reaches is counted: its key must stay listed until the source reloads it.
 */
async function reindexSubjects(database: Database, batchSize: number, onProgress?: (progress: RotationProgress) => void)
  : Promise<{ reindexed: number; unindexed: number }> {
  const { personal } = database
  const current = `${personal.keyring.current.id}.`
  let reindexed = 0
  for (;;) {
    // Each batch moves what it read out of the clear, so the next one starts from the top again.
    const clear = (await database.pool.query<{ subject: string }>(
      `SELECT DISTINCT subject FROM shared_materials WHERE subject !~ '${BLIND_INDEX}' ORDER BY subject LIMIT ${batchSize}`)).rows
    if (clear.length === 0) break
    reindexed += await inTransaction(database, (client) => moveSubjects(client, clear.map(({ subject }) => [subject, personal.subjectIndex(subject)])))
  }
  const total = Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM cases')).rows[0]?.n ?? 0)
  onProgress?.({ step: 'shared_materials', done: 0, total })
  let after = ''
  let done = 0
  for (;;) {
    const { rows } = await database.pool.query<{ id: string; view: unknown }>(
      'SELECT id, view FROM cases WHERE id > $1 ORDER BY id LIMIT $2', [after, batchSize])
    const moves = rows.flatMap(({ view }) => {
      const idNumber = applicantIdNumber(personal, view)
      if (idNumber === undefined) return []
      const to = personal.subjectIndex(idNumber)
      return personal.subjectIndexes(idNumber).filter((from) => from !== to).map((from): [string, string] => [from, to])
    }).filter(([from], i, all) => all.findIndex(([other]) => other === from) === i)
    if (moves.length > 0) reindexed += await inTransaction(database, (client) => moveSubjects(client, moves))
    done += rows.length
    onProgress?.({ step: 'shared_materials', done, total })
    const last = rows[rows.length - 1]
    if (rows.length < batchSize || !last) break
    after = last.id
  }
  const left = await database.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM shared_materials WHERE subject !~ '${BLIND_INDEX}' OR left(subject, ${current.length}) <> $1`, [current])
  return { reindexed, unindexed: Number(left.rows[0]?.n ?? 0) }
}

function applicantIdNumber(personal: PersonalData, view: unknown): string | undefined {
  const applicant = (view as { applicant?: { idNumber?: unknown } } | null)?.applicant
  if (typeof applicant?.idNumber !== 'string') return undefined
  return personal.open(applicant).idNumber as string
}

/** Each `[from, to]`: rows under `from` move to `to`, unless `to` already holds that source (the newer row stays). */
async function moveSubjects(client: PoolClient, moves: Array<[string, string]>): Promise<number> {
  const from = moves.map(([f]) => f)
  const to = moves.map(([, t]) => t)
  await client.query(
    `DELETE FROM shared_materials old USING unnest($1::text[], $2::text[]) AS m(from_subject, to_subject), shared_materials kept
     WHERE old.subject = m.from_subject AND kept.subject = m.to_subject AND kept.source = old.source`, [from, to])
  const moved = await client.query(
    `UPDATE shared_materials s SET subject = m.to_subject FROM unnest($1::text[], $2::text[]) AS m(from_subject, to_subject)
     WHERE s.subject = m.from_subject`, [from, to])
  return moved.rowCount ?? 0
}

async function inTransaction<T>(database: Database, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await database.pool.connect()
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}
