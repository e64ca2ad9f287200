import { Client, WorkflowFailedError } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js'
import { randomInt } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import { viewQuery } from '../../src/workflows/application/contract.ts'
import { CURRENT_RUN } from '../../src/workflows/case/contract.ts'
import { applicationBody, auth, call, type Directory, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'
import { newApplication } from '../support/time-skipping.ts'

let sys: TestSystem
let dir: Directory
/** A client of the same cluster without the codec: what Temporal itself stores and shows. */
let raw: Client

beforeAll(async () => {
  sys = await startTestSystem()
  dir = await seedDirectory(sys.app)
  raw = new Client({ connection: sys.client.connection, namespace: sys.client.options.namespace })
})
afterAll(async () => sys?.stop())

/** Numbers no other test uses, so finding one in a history can only mean this case leaked it. */
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('')
const idNumber = `44010619900101${digits(4)}`
const phone = `139${digits(8)}`

interface PayloadJson { metadata?: Record<string, string>; data?: string }

/** Every payload in a history as Temporal serialises it (protobuf JSON: bytes in base64). */
function payloadsIn(json: unknown, found: PayloadJson[] = []): PayloadJson[] {
  if (Array.isArray(json)) {
    for (const item of json) payloadsIn(item, found)
  } else if (json !== null && typeof json === 'object') {
    const record = json as Record<string, unknown>
    if (typeof record['metadata'] === 'object' && record['metadata'] !== null && 'encoding' in record['metadata']) found.push(record as PayloadJson)
    for (const value of Object.values(record)) payloadsIn(value, found)
  }
  return found
}

/** Every string in the JSON, and each one read as base64 too (payload bytes are base64 there). */
function textsIn(json: unknown): string[] {
  const texts: string[] = []
  const walk = (value: unknown) => {
    if (typeof value === 'string') texts.push(value, Buffer.from(value, 'base64').toString('latin1'), Buffer.from(value, 'base64').toString('utf8'))
    else if (Array.isArray(value)) value.forEach(walk)
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk)
  }
  walk(json)
  return texts
}

describe('personal data in Temporal', () => {
  let caseId: string
  let history: string

  beforeAll(async () => {
    const body = applicationBody({ applicant: { type: 'person', name: '张三', idNumber, phone } })
    const created = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', body)
    expect(created.status).toBe(201)
    caseId = (created.body as CaseView).id
    const accepted = await call(sys.app, dir.departmentKey, 'POST', `/v1/cases/${caseId}/actions`, { action: 'accept' })
    expect(accepted.status).toBe(200)
    history = historyToJSON(await raw.workflow.getHandle(caseId).fetchHistory())
  })

  it('never shows an applicant\'s identity number or phone in the raw workflow history', () => {
    const json: unknown = JSON.parse(history)
    expect(history).not.toContain(idNumber)
    expect(history).not.toContain(phone)
    const texts = textsIn(json)
    expect(texts.filter((t) => t.includes(idNumber) || t.includes(phone))).toEqual([])
    // Not vacuous: the history holds the case's payloads, encrypted. Only two kinds stay in clear,
    // both outside any codec's reach and neither personal: search attributes (typed, see
    // src/workflows/search-attributes.ts) and the SDK core's own bookkeeping of a local activity.
    const payloads = payloadsIn(json)
    const encoding = (p: PayloadJson) => Buffer.from(p.metadata!['encoding']!, 'base64').toString()
    expect(payloads.filter((p) => encoding(p) === 'binary/encrypted').length).toBeGreaterThan(3)
    const plain = payloads.filter((p) => encoding(p) !== 'binary/encrypted')
    for (const p of plain) {
      const data: unknown = JSON.parse(Buffer.from(p.data ?? '', 'base64').toString())
      if (p.metadata!['type'] !== undefined) expect(typeof data === 'string' || typeof data === 'boolean').toBe(true)
      else expect(Object.keys(data as object).sort()).toEqual(['activity_id', 'activity_type', 'attempt', 'backoff', 'complete_time', 'original_schedule_time', 'seq'])
    }
  })

  it('still runs the case end to end: the API and a client with the codec read the applicant in clear', async () => {
    const read = await call(sys.app, dir.departmentKey, 'GET', `/v1/cases/${caseId}`)
    expect(read.status).toBe(200)
    expect(read.body).toMatchObject({ status: 'accepted', applicant: { idNumber, phone } })
    const view = await sys.client.workflow.getHandle(caseId).query(viewQuery)
    expect(view.applicant).toMatchObject({ idNumber, phone })
    // Without the codec the workflow's own answers cannot be read.
    await expect(raw.workflow.getHandle(caseId).query(viewQuery)).rejects.toThrow()
  })

  describe('the codec endpoint for the Temporal UI', () => {
    const firstPayload = () => {
      const found = payloadsIn(JSON.parse(history))[0]!
      return { metadata: found.metadata!, data: found.data! }
    }
    const post = (direction: 'encode' | 'decode', payload: unknown, headers: Record<string, string> = {}) =>
      sys.app.inject({ method: 'POST', url: `/codec/${direction}`, headers: { 'x-namespace': sys.client.options.namespace, ...headers }, payload: payload as object })

    it('decodes a history\'s payloads for an administrator or an auditor', async () => {
      for (const key of [ADMIN_KEY, dir.auditorKey]) {
        const response = await post('decode', { payloads: [firstPayload()] }, auth(key))
        expect(response.statusCode).toBe(200)
        const [decoded] = (response.json() as { payloads: PayloadJson[] }).payloads
        expect(Buffer.from(decoded!.metadata!['encoding']!, 'base64').toString()).toBe('json/plain')
        expect(Buffer.from(decoded!.data!, 'base64').toString()).toContain(idNumber)
      }
    })

    it('encodes what it decodes back to ciphertext that decodes again', async () => {
      const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from(JSON.stringify({ phone })).toString('base64') }
      const encoded = await post('encode', { payloads: [plain] }, auth(ADMIN_KEY))
      expect(encoded.statusCode).toBe(200)
      const sealed = (encoded.json() as { payloads: PayloadJson[] }).payloads
      expect(Buffer.from(sealed[0]!.data!, 'base64').toString('latin1')).not.toContain(phone)
      const decoded = await post('decode', { payloads: sealed }, auth(ADMIN_KEY))
      expect(decoded.json()).toEqual({ payloads: [plain] })
    })

    it('refuses a key that may not see personal data (403), and a request without a key (401)', async () => {
      const department = await post('decode', { payloads: [firstPayload()] }, auth(dir.departmentKey))
      expect(department.statusCode).toBe(403)
      expect(department.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(department.json()).toMatchObject({ code: 'forbidden' })
      expect(department.body).not.toContain(idNumber)
      const keyless = await post('decode', { payloads: [firstPayload()] })
      expect(keyless.statusCode).toBe(401)
      expect(keyless.json()).toMatchObject({ code: 'unauthenticated' })
    })

    it('answers a malformed body with 400 problem+json, and a ciphertext it cannot open with 422', async () => {
      for (const body of [{ payloads: [{ data: 'not base64!' }] }, { payloads: 'x' }, { payloads: [{ data: 'QQ==', extra: 1 }] }, { payloads: [{ metadata: { encoding: 'QQ' } }] }]) {
        const response = await post('decode', body, auth(ADMIN_KEY))
        expect(response.statusCode, JSON.stringify(body)).toBe(400)
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
        expect(response.json()).toMatchObject({ code: 'validation_failed' })
      }
      const { metadata } = firstPayload()
      const garbled = await post('decode', { payloads: [{ metadata, data: Buffer.alloc(40, 1).toString('base64') }] }, auth(ADMIN_KEY))
      expect(garbled.statusCode).toBe(422)
      expect(garbled.json()).toMatchObject({ code: 'unprocessable' })
    })

    it('lets the Temporal UI\'s origin call it from a browser (CORS), and no other origin', async () => {
      const ui = 'http://localhost:8233'
      const preflight = await sys.app.inject({
        method: 'OPTIONS', url: '/codec/decode',
        headers: { origin: ui, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-namespace' },
      })
      expect(preflight.statusCode).toBe(204)
      expect(preflight.headers).toMatchObject({
        'access-control-allow-origin': ui, 'access-control-allow-methods': 'POST', 'access-control-allow-credentials': 'true',
      })
      expect(String(preflight.headers['access-control-allow-headers'])).toContain('x-namespace')
      const answered = await post('decode', { payloads: [firstPayload()] }, { ...auth(ADMIN_KEY), origin: ui })
      expect(answered.headers['access-control-allow-origin']).toBe(ui)
      const refused = await post('decode', { payloads: [firstPayload()] }, { ...auth(dir.departmentKey), origin: ui })
      expect(refused.headers['access-control-allow-origin']).toBe(ui)
      const elsewhere = await post('decode', { payloads: [firstPayload()] }, { ...auth(ADMIN_KEY), origin: 'https://evil.example' })
      expect(elsewhere.statusCode).toBe(200)
      expect(elsewhere.headers['access-control-allow-origin']).toBeUndefined()
    })
  })
})

describe('failures in Temporal', () => {
  it('carry their message and stack encrypted: raw, a refused submission\'s failure says only "Encoded failure"; through the codec, its own words', async () => {
    const caseId = `A-refused-${digits(8)}`
    // Text Postgres cannot store: the workflow refuses it in its first task, and the run fails with the refusal.
    const input = newApplication(caseId, {
      submission: { ...newApplication(caseId).submission, applicant: { type: 'person', name: '李\u0000四', idNumber } },
    })
    const handle = await sys.client.workflow.start('applicationWorkflow', {
      workflowId: caseId, taskQueue: sys.queues.applications, args: [{ ...input, ...CURRENT_RUN }],
    })
    const failed = await handle.result().then(() => undefined, (err: unknown) => err)
    expect(failed).toBeInstanceOf(WorkflowFailedError)
    const cause = (failed as WorkflowFailedError).cause
    expect(cause).toBeInstanceOf(ApplicationFailure)
    expect(cause).toMatchObject({ type: 'validation_failed' })
    const message = cause!.message
    expect(message).not.toBe('Encoded failure')
    expect(message.length).toBeGreaterThan(20)

    const stored = historyToJSON(await raw.workflow.getHandle(caseId).fetchHistory())
    const failure = (JSON.parse(stored) as { events: Array<Record<string, any>> }).events
      .find((e) => e.workflowExecutionFailedEventAttributes)!.workflowExecutionFailedEventAttributes.failure
    expect(failure.message).toBe('Encoded failure')
    expect(Buffer.from(failure.encodedAttributes.metadata.encoding, 'base64').toString()).toBe('binary/encrypted')
    expect(stored).not.toContain(message)
    expect(textsIn(JSON.parse(stored)).filter((t) => t.includes(message))).toEqual([])
  })
})
