import { existsSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'

const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8')

/** Relative link targets and `*.md` files the README names: what a newcomer on a fresh clone opens. */
function pointers(): string[] {
  const links = [...readme.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t))
  const documents = [...readme.matchAll(/`([^`\s]+\.md)`/g)].map((m) => m[1]!)
  return [...new Set([...links, ...documents])]
}

describe('README', () => {
  it('points only at files a fresh clone has', () => {
    const outside = pointers().filter((target) => {
      const path = resolve(PROJECT_ROOT, target)
      return relative(PROJECT_ROOT, path).startsWith('..') || !existsSync(path)
    })
    expect(outside).toEqual([])
  })

  it('names the contract kept in the repository', () => {
    expect(pointers()).toContain('docs/API.md')
    expect(readme).toContain('/openapi.json')
    expect(readme).toContain('`/docs`')
  })
})
