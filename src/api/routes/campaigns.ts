import { createHash, type Hash } from 'node:crypto'
import { type Readable, Stream, Transform } from 'node:stream'
import { parser } from 'stream-json'
import { pick } from 'stream-json/filters/pick.js'
import { streamArray } from 'stream-json/streamers/stream-array.js'
import chain from 'stream-chain'
import { Type } from 'typebox'
import { campaignProgress, latestPolicy, storeCampaign, type UploadEntry } from '../../db/campaigns.ts'
import type { App } from '../app.ts'
import { allow, principalOf } from '../auth.ts'
import { CatalogueCode } from '../reviewed-drafts.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { IdempotencyHeaders } from '../schemas/common.ts'
import { newCaseId } from './applications.ts'

const Code = CatalogueCode
/** A line longer than this is counted invalid, and never held whole. */
export const MAX_LINE_BYTES = 64 * 1024
const NDJSON = 'application/x-ndjson'

const CampaignProgress = Type.Object({
  id: Type.String(), policyCode: Type.String(), policyVersion: Type.Integer(),
  status: Type.Enum(['running', 'completed', 'failed']),
  total: Type.Integer(), invalid: Type.Integer(), evaluated: Type.Integer(), duplicates: Type.Integer(),
  eligible: Type.Integer(), ineligible: Type.Integer(), casesCreated: Type.Integer(),
  /** Cases of this campaign whose payment went out. */
  paid: Type.Integer(),
  /** What the policy's budget has left, in fen; null: unlimited. */
  budgetLeft: Type.Union([Type.Integer(), Type.Null()]),
  errors: Type.Array(Type.Object({ line: Type.Integer(), message: Type.String() })),
  createdAt: Type.String(), completedAt: Type.Union([Type.String(), Type.Null()]),
})

/**
 * A campaign's upload (API.md "Policy fulfilment"): `{ beneficiaries: [...] }` or NDJSON, read as
 * it streams in, never whole: each entry is written to Postgres in batches while the rest arrives.
 */
export async function campaignRoutes(app: App): Promise<void> {
  const { pool, personal } = app.deps.database
  // In this plugin only: uploads reach the handler as streams, not as parsed bodies.
  app.removeContentTypeParser('application/json')
  for (const type of ['application/json', NDJSON]) app.addContentTypeParser(type, (_request, payload, done) => done(null, payload))

  app.post('/policies/:code/campaigns', {
    preValidation: allow(['admin', 'department']),
    schema: {
      tags: ['policies'], operationId: 'startCampaign',
      summary: 'Upload beneficiaries (a JSON list or NDJSON, streamed) and start evaluating them against the policy',
      description: 'Body: `{ "beneficiaries": [...] }` (application/json) or one beneficiary per line (application/x-ndjson), '
        + 'each `{ id, type, name, attributes, account? }`. Invalid lines are counted and listed, never fatal.',
      params: Type.Object({ code: Code }), headers: IdempotencyHeaders,
      response: { 202: Type.Object({ id: Type.String() }), ...commonErrorResponses, 409: ProblemDetails, 415: ProblemDetails, 422: ProblemDetails },
    },
  }, async (request, reply) => {
    const principal = principalOf(request)
    const { code } = request.params
    const policy = await latestPolicy(pool, code)
    if (!policy) throw problem('unprocessable', `policy ${code} is not published`)
    if (principal.role === 'department' && principal.organizationId !== policy.departmentId) {
      throw problem('forbidden', `policy ${code} belongs to ${policy.departmentId}: only its department or an administrator starts campaigns`)
    }
    if (policy.mode === 'application') {
      throw problem('unprocessable', `policy ${code} is paid on application (POST /v1/fulfilments); campaigns find beneficiaries for the other modes`)
    }
    if (!(request.body instanceof Stream)) {
      throw problem('validation_failed', 'send the beneficiaries: { "beneficiaries": [...] } as application/json, or NDJSON',
        [{ path: 'body', message: 'is required' }])
    }
    const hash = createHash('sha256').update(`${code}\n`)
    const body = (request.body as Readable).pipe(hashing(hash))
    const ndjson = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === NDJSON
    const key = request.headers['idempotency-key']
    const actor = { organizationId: principal.organizationId, role: principal.role, keyId: principal.keyId }
    let stored
    try {
      stored = await storeCampaign(pool, personal, {
        id: newCaseId('K'), policy, actor,
        entries: ndjson ? ndjsonEntries(body) : jsonListEntries(body),
        ...(key ? { idempotency: { organizationId: principal.organizationId, scope: `campaigns:${code}`, key, requestHash: () => hash.digest('hex') } } : {}),
      })
    } catch (err) {
      if (err instanceof UploadError) throw problem('validation_failed', err.message, [{ path: 'body', message: err.message }])
      throw err
    }
    if ('conflict' in stored) throw problem('idempotency_conflict', `Idempotency-Key ${key} was used before with a different upload`)
    // Durable first; a start that fails here is started again by the retry, which finds the
    // campaign, or by the next API process to start (resumeUnfinishedCampaigns).
    await app.deps.gateway.startCampaign(stored.id, actor)
    return reply.status(202).send({ id: stored.id })
  })

  app.get('/campaigns/:id', {
    preValidation: allow(['admin', 'supervisor', 'auditor', 'department']),
    schema: {
      tags: ['policies'], operationId: 'getCampaign', summary: 'A campaign\'s progress',
      params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      response: { 200: CampaignProgress, ...commonErrorResponses, 404: ProblemDetails },
    },
  }, async (request) => {
    const principal = principalOf(request)
    const progress = await campaignProgress(pool, request.params.id)
    if (!progress) throw problem('not_found', `campaign ${request.params.id} does not exist`)
    if (principal.role === 'department' && principal.organizationId !== progress.departmentId) {
      throw problem('forbidden', `campaign ${progress.id} is of policy ${progress.policyCode}, which belongs to ${progress.departmentId}`)
    }
    const { departmentId: _departmentId, organizationId: _organizationId, ...shown } = progress
    return shown
  })
}

/** The body's bytes pass through, counted into the Idempotency-Key's request hash. */
function hashing(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      done(null, chunk)
    },
  })
}

/** The upload cannot be read at all (malformed JSON): nothing of it is kept. */
class UploadError extends Error {}

/** `{ "beneficiaries": [...] }`, one entry at a time; entries are numbered from 1 as lines are. */
async function* jsonListEntries(body: Readable): AsyncGenerator<UploadEntry> {
  const entries = chain([body, parser(), pick({ filter: 'beneficiaries' }), streamArray()])
  let line = 0
  try {
    for await (const { value } of entries as AsyncIterable<{ value: unknown }>) yield { line: ++line, value }
  } catch (err) {
    throw new UploadError(`the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (line === 0) throw new UploadError('the body has no beneficiaries: send { "beneficiaries": [...] } with at least one, or NDJSON')
}

/**
 * One beneficiary per line. Every line counts (API.md: `total` counts every line), a blank one as
 * invalid, except the empty end after a final newline; a line over MAX_LINE_BYTES is counted
 * invalid without being held.
 */
async function* ndjsonEntries(body: Readable): AsyncGenerator<UploadEntry> {
  let line = 0
  let pending: Buffer[] = []
  let pendingBytes = 0
  let tooLong = false
  const entry = (): UploadEntry => {
    line++
    if (tooLong) return { line, error: `the line is longer than ${MAX_LINE_BYTES} bytes` }
    const text = Buffer.concat(pending, pendingBytes).toString('utf8').replace(/\r$/, '')
    if (text.trim() === '') return { line, error: 'the line is empty' }
    try {
      return { line, value: JSON.parse(text) as unknown }
    } catch (err) {
      return { line, error: `the line is not valid JSON: ${err instanceof Error ? err.message : String(err)}` }
    }
  }
  const keep = (part: Buffer) => {
    if (tooLong) return
    if (pendingBytes + part.length > MAX_LINE_BYTES) {
      tooLong = true
      pending = []
      pendingBytes = 0
      return
    }
    pending.push(part)
    pendingBytes += part.length
  }
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let start = 0
    for (let newline = chunk.indexOf(0x0a); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      keep(chunk.subarray(start, newline))
      yield entry()
      pending = []
      pendingBytes = 0
      tooLong = false
      start = newline + 1
    }
    keep(chunk.subarray(start))
  }
  if (pendingBytes > 0 || tooLong) yield entry()
}
