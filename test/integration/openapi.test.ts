import { Validator } from '@seriousme/openapi-schema-validator'
import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import openapiTS, { astToString } from 'openapi-typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/api/app.ts'
import { ACTION_NAMES, CASE_KIND_DEFINITIONS } from '../../src/domain/kinds.ts'
import { call } from '../support/fixtures.ts'
import { ADMIN_KEY, startAppWithoutTemporal } from '../support/system.ts'

interface Operation {
  operationId?: string
  summary?: string
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Record<string, unknown> }>
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }
  responses?: Record<string, { content?: Record<string, unknown> }>
}
interface Document {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, { properties?: { action?: { const?: string } } }> }
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
const repo = fileURLToPath(new URL('../..', import.meta.url))
const example = join(repo, 'test/fixtures/openapi-client')

let app: App
let stop: (() => Promise<void>) | undefined
let document: Document

beforeAll(async () => {
  ({ app, stop } = await startAppWithoutTemporal('the OpenAPI document needs no Temporal'))
  const response = await app.inject({ method: 'GET', url: '/openapi.json' })
  expect(response.statusCode).toBe(200)
  document = response.json()
})
afterAll(async () => stop?.())

function operations(): Array<{ where: string; operation: Operation }> {
  return Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item)
    .filter(([method]) => METHODS.includes(method))
    .map(([method, operation]) => ({ where: `${method.toUpperCase()} ${path}`, operation })))
}

describe('the OpenAPI document', () => {
  it('names every operation once, in camelCase, and says in one line what it does', () => {
    const all = operations()
    expect(all.map((o) => o.where)).toEqual(expect.arrayContaining(['POST /v1/applications', 'POST /v1/cases/{id}/actions', 'GET /healthz']))
    expect(all.filter((o) => !/^[a-z][a-zA-Z0-9]*$/.test(o.operation.operationId ?? '')).map((o) => o.where)).toEqual([])
    expect(all.filter((o) => !o.operation.summary?.trim() || o.operation.summary.includes('\n')).map((o) => o.where)).toEqual([])
    const ids = all.map((o) => o.operation.operationId)
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([])
  })

  it('lists every error answer under application/problem+json, the media type the server sends', async () => {
    const errors = operations().flatMap(({ where, operation }) => Object.entries(operation.responses ?? {})
      .filter(([status]) => Number(status) >= 400)
      .map(([status, response]) => ({ where: `${where} ${status}`, types: Object.keys(response.content ?? {}) })))
    expect(errors.map((e) => e.where)).toContain('GET /v1/cases/{id} 404')
    expect(errors.filter((e) => e.types.join() !== 'application/problem+json')).toEqual([])

    const notFound = await app.inject({ method: 'GET', url: '/v1/organizations/nowhere', headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    expect(notFound.statusCode).toBe(404)
    expect(notFound.headers['content-type']).toMatch(/^application\/problem\+json/)
  })

  it('calls a list\'s page size optional, with its default, since a request without it is answered', async () => {
    const lists = operations().filter((o) => o.operation.parameters?.some((p) => p.in === 'query' && p.name === 'limit'))
    expect(lists.map((o) => o.where)).toEqual(expect.arrayContaining(['GET /v1/cases', 'GET /v1/supervisions', 'GET /v1/organizations']))
    for (const { where, operation } of lists) {
      const limit = operation.parameters!.find((p) => p.in === 'query' && p.name === 'limit')!
      expect({ where, required: limit.required ?? false, default: limit.schema?.default }).toEqual({ where, required: false, default: 50 })
    }
    const page = await app.inject({ method: 'GET', url: '/v1/cases?kind=complaint', headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    expect(page.statusCode).toBe(200)
  })

  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator()
    const result = await validator.validate(document as never)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('shows the actions body as one schema per action, told apart by action, and still validates it as before', async () => {
    const actions = operations().find((o) => o.where === 'POST /v1/cases/{id}/actions')!.operation
    const body = actions.requestBody!.content['application/json']!.schema as {
      oneOf: Array<{ $ref: string }>; discriminator: { propertyName: string; mapping: Record<string, string> }
    }
    expect(body.discriminator.propertyName).toBe('action')
    // Every kind's actions, each name mapped once; each kind's own shape among the alternatives.
    expect(Object.keys(body.discriminator.mapping).sort()).toEqual([...ACTION_NAMES].sort())
    const perKind = Object.values(CASE_KIND_DEFINITIONS).reduce((n, d) => n + Object.keys(d.actions).length, 0)
    expect(body.oneOf).toHaveLength(perKind)
    expect(body.oneOf.map((s) => s.$ref)).toEqual(expect.arrayContaining(Object.values(body.discriminator.mapping)))
    expect(body.oneOf.map((s) => s.$ref)).toContain('#/components/schemas/ComplaintDispatchAction')
    // A name several kinds share (accept, supervise, respond) maps to one of them.
    expect(body.oneOf.map((s) => s.$ref)).toEqual(expect.arrayContaining(['#/components/schemas/EscalationAssignAction']))
    expect(Object.values(body.discriminator.mapping).every((ref) => body.oneOf.some((s) => s.$ref === ref))).toBe(true)
    for (const [action, ref] of Object.entries(body.discriminator.mapping)) {
      const schema = document.components.schemas[ref.replace('#/components/schemas/', '')]
      expect(schema?.properties?.action?.const).toBe(action)
    }

    // Documentation only: an unknown action is still answered by name, with the actions there are.
    const unknown = await call(app, ADMIN_KEY, 'POST', '/v1/cases/A-any/actions', { action: 'teleport' })
    expect(unknown.status).toBe(400)
    expect(unknown.body).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: 'body/action', message: `must be one of ${ACTION_NAMES.join(', ')}` }],
    })
    const extra = await call(app, ADMIN_KEY, 'POST', '/v1/cases/A-any/actions', { action: 'accept', speed: 'fast' })
    expect(extra.status).toBe(400)
    expect(extra.body).toMatchObject({ code: 'validation_failed' })
  })

  it('generates a TypeScript client that an integrator\'s submit, accept and read type-check against', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openapi-client-'))
    try {
      await writeFile(join(dir, 'api.ts'), astToString(await openapiTS(document as never)))
      await copyFile(join(example, 'example.ts'), join(dir, 'example.ts'))
      await copyFile(join(example, 'tsconfig.json'), join(dir, 'tsconfig.json'))
      await symlink(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir')
      const tsc = join(repo, 'node_modules/typescript/bin/tsc')
      const errors = await promisify(execFile)(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')])
        .then(() => '', (err: { stdout?: string; message: string }) => err.stdout || err.message)
      expect(errors).toBe('')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000) // about 10 s alone; room for a loaded machine
})

describe('the docs page (/docs)', () => {
  it('is served with security headers: a policy that allows only its own scripts, never framed, nothing upgraded to https the quick start lacks', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    const policy = String(page.headers['content-security-policy'])
    expect(policy).toMatch(/default-src 'self'/)
    expect(policy).toMatch(/script-src 'self'/)
    expect(policy).toMatch(/object-src 'none'/)
    expect(policy).toMatch(/frame-ancestors 'none'/)
    expect(policy).not.toMatch(/upgrade-insecure-requests/)
    expect(page.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' })
    // Its scripts are its own files, which the policy allows ('self'): none inline.
    expect(page.body).not.toMatch(/<script>(?!\s*<\/script>)/)
    for (const url of ['/docs', '/docs/static/swagger-initializer.js']) {
      const response = await app.inject({ method: 'GET', url })
      expect(response.headers['x-frame-options'], url).toBe('DENY')
    }
  })
})
