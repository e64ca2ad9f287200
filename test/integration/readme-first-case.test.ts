import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'
import { call } from '../support/fixtures.ts'
import { ADMIN_KEY, startTestSystem, type TestSystem } from '../support/system.ts'

// The README's "A first case, by hand" is what a newcomer types first: it must work as written,
// against a server listening on a socket, with curl and node as the only tools.

let sys: TestSystem
let base: string

beforeAll(async () => {
  sys = await startTestSystem()
  await sys.app.listen({ port: 0, host: '127.0.0.1' })
  base = `127.0.0.1:${(sys.app.server.address() as AddressInfo).port}`
})
afterAll(async () => sys?.stop())

/** The shell block of the section, pointed at this server and given the administrator key. */
function firstCaseScript(): string {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## A first case, by hand'))
  const script = /```sh\n([\s\S]*?)```/.exec(section)?.[1]
  if (!script) throw new Error('README: no sh block under "A first case, by hand"')
  expect(script).toContain('A=<the administrator key>')
  expect(script).toContain('localhost:3000')
  return script.replace('A=<the administrator key>', `A='${ADMIN_KEY}'`).replaceAll('localhost:3000', base)
}

describe('the README', () => {
  it('takes a first case from an empty catalogue to acceptance exactly as its script is written', async () => {
    const { stdout } = await promisify(execFile)('bash', ['-c', firstCaseScript()], {
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
    })
    // Every answer was a success: no problem+json among them.
    expect(stdout).not.toContain('banjian.dev/problems')
    const guide = await call(sys.app, ADMIN_KEY, 'GET', '/v1/service-items/440100-BIZ-001')
    expect(guide).toMatchObject({
      status: 200, body: { version: 1, author: { role: 'admin' }, reviewer: { organizationId: 'gz', role: 'supervisor' } },
    })
    const cases = await call(sys.app, ADMIN_KEY, 'GET', '/v1/cases?serviceItemCode=440100-BIZ-001')
    expect(cases.body.items).toMatchObject([{ status: 'accepted', serviceItemVersion: 1 }])
  }, 120_000)
})
