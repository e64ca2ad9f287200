// Bulk-generates realistic case rows straight into the read side (`cases` and `organizations`),
// for list benchmarks and query-plan work. Rows are generated inside Postgres
// (INSERT ... SELECT generate_series) in chunks; nothing goes through Temporal, so seeded cases
// have a view but no events (their history is empty); the summary counters are rebuilt from them.
// Usage: node --import tsx scripts/seed-cases.ts --count 1000000 [--schema name] [--seed n]
// Postgres from DATABASE_URL or TEST_DATABASE_URL; the schema is created and migrated if needed.
import cliProgress from 'cli-progress'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { PoolClient } from 'pg'
import { parseConfig } from '../src/config.ts'
import { openDatabase, quoteIdent, type Database } from '../src/db/client.ts'
import { applyMigrations } from '../src/db/migrate.ts'
import { rebuildSummaryCounters, summaryCountersMissing } from '../src/db/summary.ts'
import { Keyring } from '../src/infra/data-keys.ts'
import type { OrganizationKind } from '../src/domain/roles.ts'

export const DEFAULT_SEED_SCHEMA = 'bench_cases'

interface SeedOrganization { id: string; name: string; kind: OrganizationKind; parentId: string | null; path: string }

/** Department types with their share of the work: market regulation and social security are busiest. */
const COMMON_DEPARTMENTS: Array<[string, string, number]> = [
  ['amr', '市场监督管理局', 16], ['hrss', '人力资源和社会保障局', 10], ['psb', '公安局', 8], ['tax', '税务局', 6],
  ['hud', '住房和城乡建设局', 5], ['hc', '卫生健康局', 4], ['ca', '民政局', 4], ['tb', '交通运输局', 3], ['edu', '教育局', 3],
  ['nr', '规划和自然资源局', 2], ['ee', '生态环境局', 2], ['com', '商务局', 1.5], ['ctb', '文化广电旅游体育局', 1],
  ['just', '司法局', 1], ['fin', '财政局', 0.5],
]
const CITY_ONLY_DEPARTMENTS: Array<[string, string, number]> = [
  ['dr', '发展和改革委员会', 0.8], ['it', '工业和信息化局', 0.6], ['st', '科学技术局', 0.5], ['ag', '农业农村局', 0.5],
  ['wa', '水务局', 0.6], ['em', '应急管理局', 0.7], ['fo', '林业和园林局', 0.3], ['ur', '城市管理和综合执法局', 0.9],
  ['ha', '医疗保障局', 1.2], ['va', '退役军人事务局', 0.3], ['sp', '体育局', 0.2], ['stat', '统计局', 0.1],
  ['au', '审计局', 0.1], ['port', '港务局', 0.2], ['cad', '人民防空办公室', 0.2], ['erc', '民族宗教事务委员会', 0.1],
  ['fao', '外事办公室', 0.2], ['arch', '档案局', 0.1], ['gsdm', '政务服务和数据管理局', 0.4], ['hf', '住房公积金管理中心', 1.5],
]
/** The eleven districts and how much of the city's work each sees. */
const DISTRICTS: Array<[string, string, number]> = [
  ['tianhe', '天河区', 1.6], ['baiyun', '白云区', 1.5], ['panyu', '番禺区', 1.4], ['haizhu', '海珠区', 1.2],
  ['yuexiu', '越秀区', 1.1], ['huangpu', '黄埔区', 1], ['liwan', '荔湾区', 0.8], ['huadu', '花都区', 0.8],
  ['zengcheng', '增城区', 0.7], ['nansha', '南沙区', 0.6], ['conghua', '从化区', 0.3],
]
const CITY_WEIGHT = 2

/** The organisation tree: root, the city government, 200 departments (35 city, 15 in each district), service centres, 12345. */
export function seedOrganizations(): { organizations: SeedOrganization[]; departments: Array<{ id: string; weight: number }> } {
  const organizations: SeedOrganization[] = []
  const departments: Array<{ id: string; weight: number }> = []
  const add = (id: string, name: string, kind: OrganizationKind, parent: SeedOrganization | null) => {
    const org = { id, name, kind, parentId: parent?.id ?? null, path: `${parent?.path ?? '/'}${id}/` }
    organizations.push(org)
    return org
  }
  const root = add('root', 'Root', 'government', null)
  const city = add('gz', '广州市人民政府', 'government', root)
  add('gz-sm', '广州市政务服务管理办公室', 'service-management', city)
  add('gz-center', '广州市政务服务中心', 'service-center', city)
  add('gz-12345', '广州12345政务服务便民热线', 'hotline', city)
  for (const [slug, name, weight] of [...COMMON_DEPARTMENTS, ...CITY_ONLY_DEPARTMENTS]) {
    departments.push({ id: add(`gz-${slug}`, `广州市${name}`, 'department', city).id, weight: weight * CITY_WEIGHT })
  }
  for (const [district, districtName, districtWeight] of DISTRICTS) {
    const government = add(`gz-${district}`, `广州市${districtName}人民政府`, 'government', city)
    add(`gz-${district}-center`, `${districtName}政务服务中心`, 'service-center', government)
    for (const [slug, name, weight] of COMMON_DEPARTMENTS) {
      departments.push({ id: add(`gz-${district}-${slug}`, `${districtName}${name}`, 'department', government).id, weight: weight * districtWeight })
    }
  }
  return { organizations, departments }
}

/** Uniform in [0, 1), a pure function of the row number and a stream number: reseeding reproduces the data. */
const u = (stream: number) => `((hashint8extended(g.i, $7::bigint * 64 + ${stream}) & 2147483647)::float8 / 2147483648.0)`
const iso = (instant: string) => `to_char((${instant}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
const days = (n: string) => `(${n}) * interval '1 day'`
const pick = (values: string[], uniform: string) =>
  `(ARRAY[${values.map((v) => `'${v}'`).join(',')}])[1 + floor(${uniform} * ${values.length})::int]`

const OPEN_STATUSES: Record<string, string[]> = {
  application: ['submitted', 'submitted', 'submitted', 'supplement_requested', 'accepted', 'accepted', 'accepted', 'accepted',
    'accepted', 'suspended', 'approved', 'result_issued'],
  complaint: ['received', 'dispatched', 'dispatched', 'responded'],
  escalation: ['received', 'accepted', 'assigned', 'assigned', 'responded'],
  fulfilment: ['notified', 'notified', 'confirmed', 'verified'],
}
const CLOSED_STATUSES: Record<string, string[]> = {
  application: ['completed', 'completed', 'completed', 'completed', 'completed', 'completed', 'completed', 'completed', 'rejected', 'withdrawn'],
  complaint: ['closed'],
  escalation: ['closed'],
  fulfilment: ['paid', 'completed', 'completed', 'declined', 'rejected'],
}
const byKind = (statuses: Record<string, string[]>, uniform: string) =>
  `CASE kind ${Object.entries(statuses).map(([kind, values]) => `WHEN '${kind}' THEN ${pick(values, uniform)}`).join(' ')} END`

const deadline = (kind: string, due: string, warn: string, state: string, warned: string, workingDaysLeft = 'NULL') =>
  `jsonb_build_object('kind', ${kind}, 'key', ${kind}, 'dueAt', ${iso(due)}, 'warnAt', ${iso(warn)}, 'state', ${state},
    'provisional', false, 'warned', ${warned}, 'workingDaysLeft', ${workingDaysLeft})`

/**
 * One chunk of rows i = $1..$2 (each subquery level is computed once per row: OFFSET 0 keeps the
 * planner from inlining, and so repeating, the expressions of the levels below). Phases (share of all rows): 4% open and overdue (the main deadline
 * missed, a supervision deadline running), 1% closed late, 7.7% warned (due within three days),
 * 47.3% open, 40% closed on time. Parameters: $3 departments, $4 their cumulative weights,
 * $5 service centres, $6 now, $7 seed.
 */
const CHUNK_SQL = `
INSERT INTO cases (id, kind, status, last_seq, last_hash, service_item_code, handling_organization_id, received_by,
  priority_rank, overdue, warned, open, provisional, next_due_at, flags, organizations, view, created_at, updated_at, completed_at)
SELECT id, kind, status, version, last_hash, item, dept, received_by, rank, overdue, warned, open, false,
  CASE WHEN open THEN due ELSE 'infinity'::timestamptz END, flags, orgs,
  jsonb_strip_nulls(jsonb_build_object(
    'id', id, 'kind', kind, 'status', status, 'version', version,
    'serviceItemCode', item, 'serviceItemVersion', CASE WHEN item IS NOT NULL THEN 1 END,
    'applicant', CASE WHEN kind IN ('application', 'fulfilment') THEN CASE WHEN u_applicant < 0.85
      THEN jsonb_build_object('type', 'person', 'name', '申请人' || i, 'idNumber', '4401' || lpad((i % 100000000000000)::text, 14, '0'))
      ELSE jsonb_build_object('type', 'enterprise', 'name', '广州市样例' || i || '有限公司', 'idNumber', '914401' || lpad((i % 1000000000000)::text, 12, '0'))
    END END,
    'channel', channel, 'receivedBy', received_by, 'handlingOrganizationId', dept,
    'priority', jsonb_build_object('greenChannel', green, 'urgent', urgent),
    'deadlines', CASE phase
      WHEN 'overdue_open' THEN jsonb_build_array(
        ${deadline('main_kind', 'missed', "missed - interval '3 days'", "'missed'", 'true')},
        ${deadline("'supervision'", 'due', "due - interval '1 day'", "'running'", 'warned')})
      WHEN 'overdue_closed' THEN jsonb_build_array(${deadline('main_kind', 'due', "due - interval '3 days'", "'missed'", 'true')})
      WHEN 'closed' THEN jsonb_build_array(${deadline('main_kind', 'due', "due - interval '3 days'", "'met'", 'false')})
      ELSE jsonb_build_array(${deadline('main_kind', 'due', "due - interval '3 days'",
        "CASE WHEN status = 'suspended' THEN 'paused' ELSE 'running' END", 'warned',
        "CASE WHEN kind = 'application' THEN floor(extract(epoch FROM due - $6::timestamptz) / 86400 * 5 / 7)::int END")})
    END,
    'overdue', overdue, 'warned', warned, 'flags', to_jsonb(flags),
    'supervisions', CASE WHEN overdue THEN jsonb_build_array(jsonb_build_object('id', 'sup-1', 'kind', 'automatic',
      'organizationId', dept, 'reason', main_kind || ' deadline missed',
      'openedAt', ${iso("CASE phase WHEN 'overdue_open' THEN missed ELSE due END")}, 'deadlineKey', main_kind)) END,
    'createdAt', ${iso('created')}, 'updatedAt', ${iso('updated')})),
  created, updated, CASE WHEN open THEN NULL ELSE updated END
FROM (
  SELECT *, phase IN ('open', 'warned', 'overdue_open') AS open, phase LIKE 'overdue%' AS overdue,
    (CASE kind WHEN 'application' THEN 'A' WHEN 'complaint' THEN 'C' WHEN 'fulfilment' THEN 'F' ELSE 'E' END)
      || to_char(created AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-S' || lpad(i::text, 9, '0') AS id,
    CASE phase WHEN 'warned' THEN true WHEN 'overdue_open' THEN due - interval '1 day' <= $6::timestamptz ELSE false END AS warned,
    CASE WHEN phase IN ('open', 'warned', 'overdue_open') THEN ${byKind(OPEN_STATUSES, 'u_status')}
      ELSE ${byKind(CLOSED_STATUSES, 'u_status')} END AS status,
    CASE WHEN phase IN ('open', 'warned', 'overdue_open') THEN 1 + floor(u_version * 5)::int ELSE 4 + floor(u_version * 6)::int END
      + CASE WHEN phase LIKE 'overdue%' THEN 2 ELSE 0 END AS version,
    CASE WHEN phase IN ('open', 'warned', 'overdue_open') THEN date_trunc('second', created + (u_updated * ($6::timestamptz - created)))
      WHEN phase = 'overdue_closed' THEN due + ${days('1 + floor(u_updated * 10)')}
      ELSE date_trunc('second', created + u_updated * (due - created)) END AS updated
  FROM (
    SELECT *,
      CASE phase
        WHEN 'open' THEN date_trunc('second', $6::timestamptz + interval '3 days' + ${days('power(u_due, 1.5) * 120')})
        WHEN 'warned' THEN date_trunc('second', $6::timestamptz + ${days('u_due * 3')})
        WHEN 'overdue_open' THEN date_trunc('second', $6::timestamptz + ${days('u_due * 15')})
        ELSE created + ${days('5 + floor(u_due * 20)')}
      END AS due
    FROM (
      SELECT *,
        CASE phase
          WHEN 'overdue_open' THEN missed - ${days('3 + floor(u_created * 20)')}
          WHEN 'open' THEN date_trunc('second', $6::timestamptz - ${days('u_created * 45')})
          WHEN 'warned' THEN date_trunc('second', $6::timestamptz - ${days('u_created * 45')})
          ELSE date_trunc('second', $6::timestamptz - ${days('40 + u_created * 330')})
        END AS created,
        CASE kind WHEN 'application' THEN 'promised' WHEN 'fulfilment' THEN 'pay' ELSE 'handle' END AS main_kind,
        CASE kind WHEN 'application' THEN 'SI-' || dept || '-' || lpad((1 + floor(u_item * 8))::text, 2, '0') END AS item,
        CASE kind WHEN 'complaint' THEN 'gz-12345' WHEN 'fulfilment' THEN dept ELSE ($5::text[])[1 + floor(u_center * cardinality($5::text[]))::int] END AS received_by,
        CASE kind WHEN 'application' THEN ${pick(['window', 'window', 'online', 'online', 'app', 'kiosk'], 'u_channel')}
          WHEN 'complaint' THEN ${pick(['hotline', 'hotline', 'web', 'app'], 'u_channel')}
          WHEN 'fulfilment' THEN 'campaign' ELSE 'window' END AS channel,
        (CASE WHEN green THEN 0 ELSE 1 END + CASE WHEN urgent THEN 0 ELSE 1 END)::smallint AS rank,
        CASE WHEN green OR urgent THEN ARRAY['priority'] ELSE ARRAY[]::text[] END
          || CASE WHEN kind = 'application' AND u_flag < 0.01 THEN ARRAY['one_time_notice_violation'] ELSE ARRAY[]::text[] END AS flags,
        CASE WHEN u_transfer < 0.06 AND prev <> dept THEN ARRAY[prev, dept] ELSE ARRAY[dept] END AS orgs,
        md5(i::text || 'a') || md5(i::text || 'b') AS last_hash
      FROM (
        SELECT *,
          date_trunc('second', $6::timestamptz - ${days('1 + u_missed * 60')}) AS missed
        FROM (
          SELECT g.i,
            ($3::text[])[width_bucket(${u(1)}, $4::float8[])] AS dept,
            ($3::text[])[width_bucket(${u(2)}, $4::float8[])] AS prev,
            (ARRAY['application', 'complaint', 'fulfilment', 'escalation'])[width_bucket(${u(3)}, ARRAY[0, 0.80, 0.90, 0.97])] AS kind,
            (ARRAY['overdue_open', 'overdue_closed', 'warned', 'open', 'closed'])[width_bucket(${u(4)}, ARRAY[0, 0.04, 0.05, 0.127, 0.60])] AS phase,
            ${u(5)} < 0.03 AS green, ${u(6)} < 0.04 AS urgent,
            ${u(7)} AS u_status, ${u(8)} AS u_due, ${u(9)} AS u_created, ${u(10)} AS u_updated, ${u(11)} AS u_missed,
            ${u(12)} AS u_version, ${u(13)} AS u_item, ${u(14)} AS u_center, ${u(15)} AS u_channel, ${u(16)} AS u_flag,
            ${u(17)} AS u_transfer, ${u(18)} AS u_applicant
          FROM generate_series($1::bigint, $2::bigint) AS g(i)
        OFFSET 0) s1
      OFFSET 0) s2
    OFFSET 0) s3
  OFFSET 0) s4
OFFSET 0) s5`

export interface SeedOptions {
  /** The table holds at least this many rows afterwards (existing rows count; only the missing ones are generated). */
  count: number
  /** Rows per INSERT statement. */
  chunkSize?: number
  /** The instant overdue and warned are relative to; default: now. */
  now?: Date
  seed?: number
  /** Spread cases over only the this many busiest departments (small seeds that still need busy queues). */
  departments?: number
  /** Show progress bars on stderr. */
  progress?: boolean
}

export interface SeedResult {
  existing: number
  inserted: number
  seconds: number
  tableBytes: number
  totalBytes: number
  /** Whether the indexes were dropped for the load and rebuilt after it. */
  rebuiltIndexes: boolean
}

/** Fills `cases` (and the organisation tree) of the database's schema, which must be migrated. */
export async function seedCases(database: Database, options: SeedOptions): Promise<SeedResult> {
  const began = performance.now()
  const { organizations, departments: all } = seedOrganizations()
  const departments = [...all].sort((a, b) => b.weight - a.weight).slice(0, options.departments ?? all.length)
  const chunkSize = options.chunkSize ?? 25_000
  const client = await database.pool.connect()
  try {
    await client.query(`INSERT INTO organizations (id, name, kind, parent_id, path)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT (id) DO NOTHING`, [
      organizations.map((o) => o.id), organizations.map((o) => o.name), organizations.map((o) => o.kind),
      organizations.map((o) => o.parentId), organizations.map((o) => o.path),
    ])
    const { rows: [counted] } = await client.query<{ n: string; last: string }>(
      "SELECT count(*) AS n, coalesce(max(substring(id FROM '-S([0-9]+)$')::bigint), 0) AS last FROM cases")
    const existing = Number(counted?.n ?? 0)
    const missing = Math.max(0, options.count - existing)
    // Seeded ids end in the row number: new rows continue after the last one, so no id repeats.
    const firstRow = Number(counted?.last ?? 0) + 1
    // Rebuilding an index costs as much as the whole table; maintaining it costs per new row.
    const rebuildIndexes = missing >= 50_000 && missing > existing
    if (missing > 0) {
      const total = departments.reduce((sum, d) => sum + d.weight, 0)
      let cumulative = 0
      const thresholds = departments.map((d) => {
        const lower = cumulative / total
        cumulative += d.weight
        return lower
      })
      const centers = organizations.filter((o) => o.kind === 'service-center').map((o) => o.id)
      // One transaction: a failed or interrupted seed leaves the schema as it was, indexes included.
      await client.query('BEGIN')
      try {
        await client.query("SET LOCAL synchronous_commit = off; SET LOCAL maintenance_work_mem = '256MB'")
        const indexes = rebuildIndexes ? await dropIndexes(client) : []
        const bars = options.progress ? new cliProgress.MultiBar({
          format: '{task} [{bar}] {value}/{total} {duration}s', stream: process.stderr, hideCursor: true,
          // Piped to a file, still report every few seconds.
          noTTYOutput: true, notTTYSchedule: 5_000,
        }, cliProgress.Presets.shades_classic) : undefined
        const rowsBar = bars?.create(missing, 0, { task: 'cases  '.padEnd(8) })
        try {
          const lastRow = firstRow + missing - 1
          for (let first = firstRow; first <= lastRow; first += chunkSize) {
            const last = Math.min(lastRow, first + chunkSize - 1)
            await client.query(CHUNK_SQL, [
              first, last, departments.map((d) => d.id), thresholds, centers,
              (options.now ?? new Date()).toISOString(), options.seed ?? 1,
            ])
            rowsBar?.increment(last - first + 1)
          }
          rowsBar?.stop()
          const indexBar = bars?.create(indexes.length, 0, { task: 'indexes'.padEnd(8) })
          for (const definition of indexes) {
            await client.query(definition)
            indexBar?.increment()
          }
        } finally {
          bars?.stop()
        }
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK')
        throw err
      }
      await client.query('VACUUM (ANALYZE) cases')
      await client.query('ANALYZE organizations')
    }
    // Seeded rows bypass the projection, so the summary counters are recomputed from them; also
    // when a schema seeded before the counters existed is reused.
    if (missing > 0 || await summaryCountersMissing(database.db)) {
      await rebuildSummaryCounters(database.db)
      await client.query('ANALYZE summary_current; ANALYZE summary_flow')
    }
    const { rows: [size] } = await client.query<{ table: string; total: string }>(
      "SELECT pg_table_size('cases') AS table, pg_total_relation_size('cases') AS total")
    return {
      existing, inserted: missing, seconds: (performance.now() - began) / 1000,
      tableBytes: Number(size?.table ?? 0), totalBytes: Number(size?.total ?? 0), rebuiltIndexes: rebuildIndexes,
    }
  } finally {
    client.release()
  }
}

/**
 * Drops every index of `cases`, the primary key's too, and returns the statements that recreate
 * them: building an index once over all rows is several times cheaper than maintaining it per row.
 * Foreign keys into `cases` (deadlines, supervisions) depend on its primary key: they are dropped
 * first and recreated last.
 */
async function dropIndexes(client: PoolClient): Promise<string[]> {
  const { rows: references } = await client.query<{ name: string; table: string; definition: string }>(`
    SELECT quote_ident(conname) AS name, conrelid::regclass::text AS table, pg_get_constraintdef(oid) AS definition FROM pg_constraint
    WHERE confrelid = 'cases'::regclass AND contype = 'f'`)
  for (const { name, table } of references) await client.query(`ALTER TABLE ${table} DROP CONSTRAINT ${name}`)
  const { rows: constraints } = await client.query<{ name: string; definition: string }>(`
    SELECT quote_ident(conname) AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
    WHERE conrelid = 'cases'::regclass AND conindid <> 0`)
  for (const { name } of constraints) await client.query(`ALTER TABLE cases DROP CONSTRAINT ${name}`)
  const { rows: indexes } = await client.query<{ name: string; definition: string }>(`
    SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i WHERE i.indrelid = 'cases'::regclass`)
  for (const { name } of indexes) await client.query(`DROP INDEX ${name}`)
  return [
    ...constraints.map((c) => `ALTER TABLE cases ADD CONSTRAINT ${c.name} ${c.definition}`),
    ...indexes.map((i) => i.definition),
    ...references.map((r) => `ALTER TABLE ${r.table} ADD CONSTRAINT ${r.name} ${r.definition}`),
  ]
}

/** Opens the database on `schemaName`, creating and migrating the schema when needed. */
export async function openSeedDatabase(url: string, schemaName: string): Promise<Database> {
  // The seeded cases' synthetic identity numbers are left in clear (reads take them as rows from before encryption).
  const database = openDatabase({ url, schemaName, keyring: Keyring.generate() })
  try {
    await applyMigrations(database, schemaName)
  } catch (err) {
    await database.close()
    throw err
  }
  return database
}

export const formatBytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`

export function databaseUrlFromEnvironment(): string {
  const url = parseConfig().DATABASE_URL ?? process.env.TEST_DATABASE_URL
  if (!url) throw new Error('set DATABASE_URL or TEST_DATABASE_URL to a Postgres the seed may create a schema in')
  return url
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000000' },
      schema: { type: 'string', default: DEFAULT_SEED_SCHEMA },
      seed: { type: 'string', default: '1' },
    },
    strict: true,
  })
  const count = Number(values.count)
  const seed = Number(values.seed)
  if (!Number.isSafeInteger(count) || count <= 0) throw new Error(`--count must be a positive integer, got ${values.count}`)
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`)
  const schemaName = values.schema
  quoteIdent(schemaName)
  const database = await openSeedDatabase(databaseUrlFromEnvironment(), schemaName)
  try {
    const result = await seedCases(database, { count, seed, progress: true })
    console.log(`schema ${schemaName}: ${result.existing} rows were there, ${result.inserted} generated in ${result.seconds.toFixed(1)} s` +
      `${result.rebuiltIndexes ? ' (indexes rebuilt after the load)' : ''}`)
    console.log(`cases: table ${formatBytes(result.tableBytes)}, with indexes ${formatBytes(result.totalBytes)}`)
  } finally {
    await database.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
