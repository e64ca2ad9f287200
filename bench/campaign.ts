// Campaign throughput (免申即享 at city scale): N beneficiaries streamed through the NDJSON endpoint
// into an API process, evaluated and opened as fulfilment cases by a separate worker process, as
// a city runs them (`banjian start --role api` and `--role worker`), on a fresh Temporal dev server
// and a fresh Postgres database. Every tenth beneficiary is ineligible, so `eligible` is known.
// Measured: the upload (request start → 202, the body streamed from a generator), the evaluation
// (202 → evaluated = total), the cases created (202 → casesCreated = eligible) against bare
// workflows started by the client on the same dev server (in a namespace of their own) in the
// same run (200 starts in flight, the campaign's own window), the time until every case is `notified` (a confirm-mode policy, so
// cases stop there and nothing is paid), the peak RSS of the API and worker processes, and where
// a page's time went (read back from the campaign's runs: each activity's wait and run).
// Usage: node --import tsx bench/campaign.ts [N]                (default 100000)
//        node --import tsx bench/campaign.ts --sizes 10000,100000
//        (each size a whole fresh run; the peaks of the sizes compared at the end: memory must not
//        grow with the campaign)
// Needs Postgres in DATABASE_URL or TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
// where it creates a database of its own and drops it at the end.
import { Client } from '@temporalio/client'
import { msToTs, tsToMs } from '@temporalio/common/lib/time.js'
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker'
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { parseConfig } from '../src/config.ts'
import type { CampaignProgress } from '../src/db/campaigns.ts'
import { campaignWorkflowId } from '../src/workflows/fulfilment/contract.ts'
import type { bareWorkflow } from './bare-workflow.ts'
import { cleanUp, cpuMeter, onCleanUp, rssSampler, startProcesses, until, wasInterrupted } from './processes.ts'

const DEFAULT_N = 100_000
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'
const NAMESPACE = 'bench'
/**
 * The baseline's namespace on the same dev server: the worker's history archiver lists every closed
 * run of its own namespace, and must not spend the campaign's time archiving the baseline's.
 */
const BARE_NAMESPACE = 'bench-bare'
const POLICY = 'BENCH-CAMPAIGN'
/** The campaign's sliding window of case starts (START_WINDOW, src/activities/fulfilment.ts): the baseline's concurrency. */
const BASELINE_CONCURRENCY = 200
const BASELINE_MAX = 5_000
const BASELINE_WARM_UP = 200
const BARE_WORKFLOW_PATH = fileURLToPath(new URL('./bare-workflow.ts', import.meta.url))
/**
 * How often progress is read. GET /v1/campaigns counts the campaign's paid cases and the notified
 * count scans the cases' index, both in proportion to the campaign: a big one is read less often,
 * so that the bench does not load the Postgres it measures.
 */
const pollMsOf = (n: number) => (n > 20_000 ? 1000 : 250)
/** Before the last page, the notified cases are counted only this often (for the progress line). */
const PROGRESS_MS = 10_000
/** A run in which nothing moves for this long is stuck: it fails with the evidence. */
const STALL_MS = 5 * 60_000
/** Lines per chunk of the streamed body. */
const LINES_PER_CHUNK = 200

const eligibleAt = (i: number) => i % 10 !== 9
const eligibleOf = (n: number) => n - Math.floor(n / 10)

// ---- the command line -------------------------------------------------------------------------

function sizesOf(argv: string[]): number[] {
  const positive = (text: string | undefined) => {
    const n = Number(text)
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`a size must be a positive integer, got ${text}`)
    return n
  }
  const at = argv.indexOf('--sizes')
  if (at !== -1) return (argv[at + 1] ?? '').split(',').map((s) => positive(s.trim()))
  const inline = argv.find((a) => a.startsWith('--sizes='))
  if (inline) return inline.slice('--sizes='.length).split(',').map((s) => positive(s.trim()))
  return [argv[0] === undefined ? DEFAULT_N : positive(argv[0])]
}

// ---- one run ----------------------------------------------------------------------------------

type Progress = Pick<CampaignProgress, 'status' | 'total' | 'invalid' | 'evaluated' | 'duplicates' | 'eligible' | 'ineligible' | 'casesCreated' | 'errors'>

interface RunResult {
  n: number
  eligible: number
  baseline: number
  uploadSeconds: number
  evaluatedSeconds: number
  createdSeconds: number
  /** From the first page's cases counted to the last's: the rate once the campaign runs. */
  steadyCreated: { cases: number; seconds: number }
  notifiedSeconds: number
  bareStartSeconds: number
  bareDrainSeconds: number
  peakKiB: Record<'api' | 'worker' | 'temporal', number>
  /** CPU seconds per process: over the baseline (warm-up excluded: start to completed) and over the campaign (202 to the last notified). */
  cpu: { baseline: Record<string, number>; campaign: Record<string, number> }
  final: Progress
  problems: string[]
  pages: PageTimes
}

/** Where a campaign's pages spent their time, from its runs' histories: seconds per page, means. */
interface PageTimes {
  pages: number
  /** Per activity: waiting for a worker (scheduled → started) and running (started → completed). */
  activities: Record<string, { waited: number; ran: number }>
  /** From one run's first event to the next run's: the whole of a page. */
  page: number
}

/**
 * Reads the campaign's runs (one per page: it continues as new after each) back from the last, and
 * averages, per page, how long each activity waited for a worker and ran, and the page's whole time.
 */
async function pageTimes(client: Client, campaignId: string): Promise<PageTimes> {
  const activities: Record<string, { waited: number; ran: number }> = {}
  const starts: number[] = []
  let runId: string | undefined
  for (;;) {
    const events = (await client.workflow.getHandle(campaignWorkflowId(campaignId), runId).fetchHistory()).events ?? []
    const scheduled = new Map<string, { name: string; at: number; startedAt?: number }>()
    for (const e of events) {
      const id = String(e.eventId)
      if (e.activityTaskScheduledEventAttributes) {
        scheduled.set(id, { name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at: tsToMs(e.eventTime) })
      } else if (e.activityTaskStartedEventAttributes) {
        scheduled.get(String(e.activityTaskStartedEventAttributes.scheduledEventId))!.startedAt = tsToMs(e.eventTime)
      } else if (e.activityTaskCompletedEventAttributes) {
        const s = scheduled.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId))!
        const sum = activities[s.name] ??= { waited: 0, ran: 0 }
        sum.waited += (s.startedAt ?? s.at) - s.at
        sum.ran += tsToMs(e.eventTime) - (s.startedAt ?? s.at)
      }
    }
    starts.push(tsToMs(events[0]!.eventTime), tsToMs(events[events.length - 1]!.eventTime))
    const previous = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId
    if (!previous) break
    runId = previous
  }
  const pages = starts.length / 2
  const perPage = (seconds: number) => seconds / 1000 / pages
  return {
    pages,
    activities: Object.fromEntries(Object.entries(activities).map(([name, t]) => [name, { waited: perPage(t.waited), ran: perPage(t.ran) }])),
    page: perPage(Math.max(...starts) - Math.min(...starts)),
  }
}

/** The NDJSON body, a chunk of lines at a time, never the whole of it. */
async function* ndjson(n: number): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder()
  let chunk: string[] = []
  for (let i = 0; i < n; i++) {
    chunk.push(JSON.stringify({
      id: `91440101${String(i).padStart(10, '0')}`, type: 'enterprise', name: `企业${i}`,
      attributes: { eligible: eligibleAt(i), employees: 10 + (i % 90) },
    }))
    if (chunk.length === LINES_PER_CHUNK) {
      yield encoder.encode(`${chunk.join('\n')}\n`)
      chunk = []
    }
  }
  if (chunk.length > 0) yield encoder.encode(`${chunk.join('\n')}\n`)
}

async function runSize(n: number, adminUrl: string): Promise<RunResult> {
  const eligible = eligibleOf(n)
  const baseline = Math.min(Math.ceil(n / 2), BASELINE_MAX)
  const tag = randomBytes(5).toString('hex')
  const problems: string[] = []

  const adminKey = `bench-admin-${randomBytes(8).toString('hex')}`
  const prefix = `bench${tag}`
  // One API (it migrates the database) and one worker, ready once it polls the fulfilment queue;
  // the dev server's store on disk, as `banjian start` keeps it. In memory, 61,200 open cases took
  // the dev server past 22 GiB and the machine out of memory.
  const run = await startProcesses({
    adminUrl, apis: 1, workers: 1, namespace: NAMESPACE, taskQueuePrefix: prefix, adminKey, readyQueue: 'fulfilments',
    storeOnDisk: true, logLevel: 'warn',
  })
  const { server, client, databaseUrl, evidence } = run
  const [api, worker] = [run.apis[0]!.banjian, run.workers[0]!.banjian]
  const baseUrl = run.apis[0]!.url
  const temporalPid = server.pid
  const sampler = rssSampler({ api: api.child.pid!, worker: worker.child.pid!, ...(temporalPid ? { temporal: temporalPid } : {}) })
  onCleanUp('RSS sampler', async () => sampler.stop())
  const cpu = cpuMeter({ api: api.child.pid, worker: worker.child.pid, temporal: temporalPid })

  const http = async (key: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined, text }
  }
  const expect = async (status: number, key: string, method: string, path: string, body?: unknown) => {
    const answer = await http(key, method, path, body)
    if (answer.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${answer.status}: ${answer.text}`)
    return answer.body
  }

  // Organisations, keys and a confirm-mode policy: its cases stop at `notified`, nothing is paid.
  for (const [id, kind, parentId] of [['gz', 'government', 'root'], ['gz-hr', 'department', 'gz']]) {
    await expect(200, adminKey, 'PUT', `/v1/organizations/${id}`, { name: id, kind, parentId })
  }
  const reviewer = (await expect(201, adminKey, 'POST', '/v1/api-keys', { organizationId: 'gz', role: 'supervisor' })).key as string
  const hr = (await expect(201, adminKey, 'POST', '/v1/api-keys', { organizationId: 'gz-hr', role: 'department' })).key as string
  await expect(200, adminKey, 'PUT', `/v1/policies/${POLICY}`, {
    name: '稳岗补贴 (benchmark)', departmentId: 'gz-hr', mode: 'confirm',
    eligibility: { '==': [{ var: 'eligible' }, true] }, amount: 100,
    confirmWithin: { workingDays: 5 }, payWithin: { workingDays: 10 },
  })
  await expect(200, reviewer, 'POST', `/v1/policies/${POLICY}/review`, { approved: true, note: 'benchmark policy' })
  await expect(200, adminKey, 'POST', `/v1/policies/${POLICY}/publish`)

  // The baseline: bare workflows started by the client on the same dev server, a worker in this process.
  const bareQueue = `${prefix}-bare`
  await client.workflowService.registerNamespace({ namespace: BARE_NAMESPACE, workflowExecutionRetentionPeriod: msToTs('24h') })
  const bareClient = new Client({ connection: client.connection, namespace: BARE_NAMESPACE })
  // A new namespace is served once the dev server's namespace cache has it: a first start proves it.
  await until('the baseline namespace being served', () => bareClient.workflow.start<typeof bareWorkflow>('bareWorkflow', {
    taskQueue: bareQueue, workflowId: 'bare-probe', workflowIdConflictPolicy: 'USE_EXISTING',
  }).then(() => true, () => false), (served) => served, 60_000, evidence, 1000)
  const bareConnection = await NativeConnection.connect({ address: server.address })
  const bareWorker = await Worker.create({ connection: bareConnection, namespace: BARE_NAMESPACE, taskQueue: bareQueue, workflowsPath: BARE_WORKFLOW_PATH })
  const bareRunning = bareWorker.run()
  let bareStopped = false
  const stopBare = async () => {
    if (bareStopped) return
    bareStopped = true
    bareWorker.shutdown()
    await Promise.allSettled([bareRunning])
    await bareConnection.close()
  }
  onCleanUp('bare worker', stopBare)
  const startBare = async (label: string, count: number) => {
    let next = 0
    const began = performance.now()
    await Promise.all(Array.from({ length: Math.min(BASELINE_CONCURRENCY, count) }, async () => {
      while (next < count) {
        const i = next++
        await bareClient.workflow.start<typeof bareWorkflow>('bareWorkflow', { taskQueue: bareQueue, workflowId: `bare-${label}-${i}` })
      }
    }))
    return (performance.now() - began) / 1000
  }
  const bareRunningCount = async () =>
    (await bareClient.workflow.count(`TaskQueue = '${bareQueue}' AND ExecutionStatus = 'Running'`)).count
  await startBare('warm', BASELINE_WARM_UP)
  await until('the warm-up completing', bareRunningCount, (c) => c === 0, 300_000, evidence)
  process.stderr.write(`N=${n}: ${baseline} bare workflow starts...\n`)
  const baselineCpu = await cpu()
  const bareStartSeconds = await startBare('run', baseline)
  const drainBegan = performance.now()
  await until('the bare workflows completing', bareRunningCount, (c) => c === 0, 900_000, evidence, pollMsOf(n))
  const bareDrainSeconds = (performance.now() - drainBegan) / 1000
  const baselineCpuUsed = await baselineCpu()
  // Gone before the campaign: its polls and its workflow thread take no CPU from the campaign.
  await stopBare()

  // The upload: streamed from a generator, timed from the request's start to the 202.
  process.stderr.write(`N=${n}: uploading...\n`)
  const uploadBegan = performance.now()
  const response = await fetch(`${baseUrl}/v1/policies/${POLICY}/campaigns`, {
    method: 'POST', duplex: 'half', body: ReadableStream.from(ndjson(n)),
    headers: { authorization: `Bearer ${hr}`, 'content-type': 'application/x-ndjson', 'idempotency-key': `bench-${tag}` },
  })
  const uploadText = await response.text()
  const accepted = performance.now()
  if (response.status !== 202) throw new Error(`the upload answered ${response.status}: ${uploadText}`)
  const campaignId = (JSON.parse(uploadText) as { id: string }).id
  const campaignCpu = await cpu()
  const uploadSeconds = (accepted - uploadBegan) / 1000

  // Progress, polled from the 202: evaluated, cases created, cases notified.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 })
  onCleanUp('bench pool', () => pool.end())
  const notifiedCount = async () => (await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM cases WHERE kind = \'fulfilment\' AND status = \'notified\'')).rows[0]!.n
  let progress: Progress | undefined
  let notified = 0
  let evaluatedAt: number | undefined
  let createdAt: number | undefined
  let notifiedAt: number | undefined
  let firstCreated: { at: number; cases: number } | undefined
  let lastChange = performance.now()
  let lastSeen = ''
  let lastReport = 0
  const pollMs = pollMsOf(n)
  while (evaluatedAt === undefined || createdAt === undefined || notifiedAt === undefined) {
    const answer = await http(hr, 'GET', `/v1/campaigns/${campaignId}`)
    if (answer.status !== 200) throw new Error(`GET /v1/campaigns/${campaignId} answered ${answer.status}: ${answer.text}`)
    progress = answer.body as Progress
    // Every case can be notified only once the last page is evaluated: counted at every poll from then on.
    const lastPage = progress.evaluated >= n
    if (lastPage || performance.now() - lastReport > PROGRESS_MS) notified = await notifiedCount()
    const now = performance.now()
    if (evaluatedAt === undefined && progress.evaluated >= progress.total - progress.invalid && progress.total === n) evaluatedAt = now
    if (firstCreated === undefined && progress.casesCreated > 0) firstCreated = { at: now, cases: progress.casesCreated }
    if (createdAt === undefined && progress.casesCreated >= eligible) createdAt = now
    if (notifiedAt === undefined && notified >= eligible) notifiedAt = now
    if (progress.status === 'failed') throw new Error(`the campaign failed: ${answer.text}\n${evidence()}`)
    const seen = `${progress.evaluated}/${progress.casesCreated}/${notified}`
    if (seen !== lastSeen) {
      lastSeen = seen
      lastChange = now
    } else if (now - lastChange > STALL_MS) {
      throw new Error(`the campaign is stuck: nothing moved for ${STALL_MS / 1000} s\nGET /v1/campaigns/${campaignId}: ${answer.text}\n`
        + `notified cases: ${notified}\n${evidence()}`)
    }
    if (now - lastReport > 10_000) {
      lastReport = now
      process.stderr.write(`N=${n}: ${((now - accepted) / 1000).toFixed(0)} s: evaluated ${progress.evaluated}/${n}, `
        + `cases created ${progress.casesCreated}/${eligible}, notified ${notified}/${eligible}; RSS ${sampler.latest()}\n`)
    }
    await sleep(pollMs)
  }
  const campaignCpuUsed = await campaignCpu()
  const peaks = await sampler.peaks()

  // What the campaign must have done: every eligible beneficiary a case, none twice, none more.
  const final = (await expect(200, hr, 'GET', `/v1/campaigns/${campaignId}`)) as Progress
  const expected = { status: 'completed', total: n, invalid: 0, evaluated: n, duplicates: 0, eligible, ineligible: n - eligible, casesCreated: eligible }
  for (const [field, value] of Object.entries(expected)) {
    const got = final[field as keyof Progress]
    if (got !== value) problems.push(`campaign ${field} = ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`)
  }
  const { rows: [counts] } = await pool.query<{ cases: number; notified: number; claims: number }>(
    `SELECT (SELECT count(*)::int FROM cases WHERE kind = 'fulfilment') AS cases,
            (SELECT count(*)::int FROM cases WHERE kind = 'fulfilment' AND status = 'notified') AS notified,
            (SELECT count(*)::int FROM fulfilment_claims) AS claims`)
  for (const [field, value] of Object.entries(counts!)) {
    if (value !== eligible) problems.push(`${field} = ${value}, expected ${eligible}`)
  }

  const at = (t: number) => (t - accepted) / 1000
  return {
    n, eligible, baseline, uploadSeconds,
    evaluatedSeconds: at(evaluatedAt), createdSeconds: at(createdAt), notifiedSeconds: at(notifiedAt),
    steadyCreated: firstCreated && createdAt > firstCreated.at
      ? { cases: eligible - firstCreated.cases, seconds: (createdAt - firstCreated.at) / 1000 }
      : { cases: eligible, seconds: at(createdAt) },
    bareStartSeconds, bareDrainSeconds,
    peakKiB: { api: peaks.api ?? 0, worker: peaks.worker ?? 0, temporal: peaks.temporal ?? 0 },
    cpu: { baseline: baselineCpuUsed, campaign: campaignCpuUsed },
    final, problems, pages: await pageTimes(client, campaignId),
  }
}

// ---- the report -------------------------------------------------------------------------------

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`

function report(r: RunResult): number {
  const created = r.eligible / r.createdSeconds
  const bare = r.baseline / r.bareStartSeconds
  const completed = r.baseline / (r.bareStartSeconds + r.bareDrainSeconds)
  const rows: Array<[label: string, value: string, detail: string]> = [
    ['upload (NDJSON streamed, request → 202)', `${(r.n / r.uploadSeconds).toFixed(1)} lines/s`, `${r.uploadSeconds.toFixed(1)} s`],
    ['evaluation (202 → evaluated = total)', `${(r.n / r.evaluatedSeconds).toFixed(1)} lines/s`, `${r.evaluatedSeconds.toFixed(1)} s`],
    ['cases created (202 → casesCreated = eligible)', `${created.toFixed(1)} cases/s`,
      `${r.createdSeconds.toFixed(1)} s; after the first page ${(r.steadyCreated.cases / r.steadyCreated.seconds).toFixed(1)}/s`],
    [`bare workflows (client start, ${BASELINE_CONCURRENCY} in flight)`, `${bare.toFixed(1)} starts/s`,
      `${r.baseline} in ${r.bareStartSeconds.toFixed(1)} s, all completed ${r.bareDrainSeconds.toFixed(1)} s later`],
    ['bare workflows (start → completed)', `${completed.toFixed(1)} wf/s`,
      'started and run to completion by a worker in the bench process'],
    ['every case notified (202 → last notified)', `${r.notifiedSeconds.toFixed(1)} s`, `${(r.eligible / r.notifiedSeconds).toFixed(1)} cases/s`],
    ['peak RSS (VmHWM)', `API ${mib(r.peakKiB.api)}`, `worker ${mib(r.peakKiB.worker)}; temporal dev server ${mib(r.peakKiB.temporal)}`],
  ]
  const width = Math.max(...rows.map(([label]) => label.length)) + 1
  const valueWidth = Math.max(...rows.map(([, value]) => value.length))
  console.log(`campaign: N=${r.n} eligible=${r.eligible} baseline M=${r.baseline} cores=${availableParallelism()} (after ${BASELINE_WARM_UP} warm-up bare workflows)`)
  for (const [label, value, detail] of rows) console.log(`  ${`${label}:`.padEnd(width)} ${value.padStart(valueWidth)}   ${detail}`)
  const perUnit = (used: Record<string, number>, count: number) =>
    Object.entries(used).map(([name, seconds]) => `${name} ${((seconds * 1000) / count).toFixed(1)}`).join(', ')
  console.log(`  CPU ms per case (202 → notified): ${perUnit(r.cpu.campaign, r.eligible)}`)
  console.log(`  CPU ms per bare workflow (start → completed): ${perUnit(r.cpu.baseline, r.baseline)}`)
  // What the CPU allows: cases are created as fast as they can be started, and then run (to
  // `notified`) at the rate their CPU per case permits, waiting in their task queue till then.
  const cores = availableParallelism()
  const machineMs = ((r.cpu.campaign.machine ?? 0) * 1000) / r.eligible
  const temporalMs = ((r.cpu.campaign.temporal ?? 0) * 1000) / r.eligible
  const ceiling = (ms: number) => `${((cores * 1000) / ms).toFixed(1)} cases/s, ${((cores * 1000) / ms / bare).toFixed(3)} of the bare starts`
  console.log(`  the machine was busy ${((100 * (r.cpu.campaign.machine ?? 0)) / (cores * r.notifiedSeconds)).toFixed(0)}% of its ${cores} cores `
    + `(202 → notified); at ${machineMs.toFixed(1)} ms of CPU per case (Postgres included) they run at most ${ceiling(machineMs)}, to notified`)
  console.log(`  the dev server alone spends ${temporalMs.toFixed(1)} ms of CPU per case: with nothing else running, it would run at most ${ceiling(temporalMs)}`)
  const pageParts = Object.entries(r.pages.activities)
    .map(([name, t]) => `${name} ${t.ran.toFixed(2)} (after ${t.waited.toFixed(2)} waiting for a worker)`).join(', ')
  console.log(`  a page (${r.pages.pages} of them), seconds each: ${r.pages.page.toFixed(2)} in all; ${pageParts}`)
  if (r.problems.length > 0) console.log(`  PROBLEMS: ${r.problems.join('; ')}`)
  else console.log(`  checked: campaign completed, ${r.eligible} claims and cases, all notified, ${r.n - r.eligible} ineligible, no duplicates`)
  console.log(`  (cases created/bare workflows started and completed: ${(created / completed).toFixed(3)})`)
  const ratio = created / bare
  console.log(`  ratio cases created/bare workflow starts: ${ratio.toFixed(3)} (target ≥ 0.8)`)
  return ratio
}

// ---- main -------------------------------------------------------------------------------------

const sizes = sizesOf(process.argv.slice(2))
const adminUrl = parseConfig().DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? DEFAULT_DATABASE_URL
Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] })

let failed = false
const results: RunResult[] = []
for (const n of sizes) {
  try {
    const result = await runSize(n, adminUrl)
    results.push(result)
    report(result)
    if (result.problems.length > 0) failed = true
  } catch (err) {
    failed = true
    // Interrupted: the run fails as its processes go; the clean-up says why.
    if (!wasInterrupted()) console.error(`N=${n}:`, err)
  } finally {
    await cleanUp()
  }
  if (failed) break
}

if (results.length > 1) {
  console.log('campaign memory by size (peak RSS, VmHWM):')
  for (const r of results) console.log(`  N=${String(r.n).padStart(7)}: API ${mib(r.peakKiB.api).padStart(8)}   worker ${mib(r.peakKiB.worker).padStart(8)}`)
  for (const role of ['api', 'worker'] as const) {
    const peaks = results.map((r) => r.peakKiB[role])
    const growth = Math.max(...peaks) / Math.min(...peaks)
    console.log(`  ${role} largest/smallest peak: ${growth.toFixed(3)} (target ≤ 1.2)`)
  }
}
process.exit(failed ? 1 : 0)
