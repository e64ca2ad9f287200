import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig, usesExternalTemporal } from '../../src/config.ts'
import { canonicalJson, eventHash, GENESIS_HASH } from '../../src/db/hash-chain.ts'
import { maskIdNumber, priorityRank } from '../../src/domain/case-view.ts'
import { ruleHolds, ruleProblems } from '../../src/domain/rules.ts'
import { draftProblems, publishGuide } from '../../src/domain/service-item.ts'
import { itemDraft } from '../support/fixtures.ts'

describe('configuration', () => {
  it('runs on embedded defaults with no configuration at all', () => {
    const config = parseConfig({})
    expect(config).toMatchObject({
      BANJIAN_HOST: '127.0.0.1', BANJIAN_PORT: 3000, BANJIAN_DATA_DIR: '.data', LOG_LEVEL: 'info',
      BANJIAN_ARCHIVE_INTERVAL_SECONDS: 60,
    })
    expect(config.DATABASE_URL).toBeUndefined()
    expect(usesExternalTemporal(config)).toBe(false)
  })

  it('names every bad value in one clear message', () => {
    let error: unknown
    try {
      parseConfig({ BANJIAN_PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', BANJIAN_ARCHIVE_INTERVAL_SECONDS: '0' })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const { problems } = error as ConfigError
    expect(problems.map((p) => p.split('=')[0]).sort()).toEqual(['BANJIAN_ARCHIVE_INTERVAL_SECONDS', 'BANJIAN_PORT', 'DATABASE_URL', 'LOG_LEVEL'])
    expect((error as Error).message).toContain('BANJIAN_PORT="eighty"')
  })

  it('uses a Temporal cluster when the standard variables name one', () => {
    const config = parseConfig({ TEMPORAL_ADDRESS: 'temporal.city.gov:7233', TEMPORAL_NAMESPACE: 'banjian-prod', TEMPORAL_API_KEY: 'k' })
    expect(usesExternalTemporal(config)).toBe(true)
    expect(config.temporalEnv).toEqual({ TEMPORAL_ADDRESS: 'temporal.city.gov:7233', TEMPORAL_NAMESPACE: 'banjian-prod', TEMPORAL_API_KEY: 'k' })
  })
})

describe('hash chain', () => {
  const event = { seq: 1, at: '2026-01-05T01:00:00.000Z', type: 'submitted', actor: { organizationId: 'w', role: 'window' as const }, data: { b: 1, a: [2, { d: 1, c: 2 }] } }

  it('hashes content independently of key order', () => {
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }))
    const reordered = { ...event, data: { a: [2, { c: 2, d: 1 }], b: 1 } }
    expect(eventHash(GENESIS_HASH, 'A-1', event)).toBe(eventHash(GENESIS_HASH, 'A-1', reordered))
  })

  it('changes with any change of content, case or predecessor', () => {
    const base = eventHash(GENESIS_HASH, 'A-1', event)
    expect(eventHash(GENESIS_HASH, 'A-2', event)).not.toBe(base)
    expect(eventHash('f'.repeat(64), 'A-1', event)).not.toBe(base)
    expect(eventHash(GENESIS_HASH, 'A-1', { ...event, data: { ...event.data, b: 2 } })).not.toBe(base)
  })
})

describe('catalogue rules', () => {
  it('refuses a promised limit beyond the statutory one, and mixed units', () => {
    expect(draftProblems(itemDraft())).toEqual([])
    expect(draftProblems(itemDraft({ promisedLimit: { workingDays: 21 } }))).toEqual([
      { path: '/promisedLimit', message: 'the promised limit must not exceed the statutory limit' },
    ])
    expect(draftProblems(itemDraft({ promisedLimit: { duration: 'PT2H' } }))[0]?.message).toContain('same unit')
    expect(draftProblems(itemDraft({ promisedLimit: { duration: 'P1M' }, statutoryLimit: { duration: 'P2D' } }))[0]?.path)
      .toBe('/promisedLimit/duration')
  })

  it('publishes with the contract defaults filled in', () => {
    const guide = publishGuide('X', 3, itemDraft(), '2026-01-01T00:00:00Z')
    expect(guide).toMatchObject({ version: 3, acceptanceLimit: { workingDays: 5 }, resultLimit: { workingDays: 10 }, maxExtensionWorkingDays: 10 })
  })

  it('finds unknown operators and non-operations in JSONLogic rules, and passes rules that evaluate', () => {
    expect(ruleProblems({ '>=': [{ var: 'age' }, 60] })).toEqual([])
    expect(ruleProblems({ frobnicate: [1] })).toHaveLength(1)
    expect(ruleProblems('yes')).toHaveLength(1)
    expect(ruleHolds({ '>=': [{ var: 'age' }, 60] }, { age: 61 })).toBe(true)
  })
})

describe('presentation rules', () => {
  it('masks identity numbers to the first and last four characters', () => {
    expect(maskIdNumber('440106199001011234')).toBe('4401**********1234')
    expect(maskIdNumber('1234567')).toBe('1******')
  })

  it('ranks green channel and urgent before ordinary cases', () => {
    expect(priorityRank({ greenChannel: true, urgent: true })).toBeLessThan(priorityRank({ greenChannel: true, urgent: false }))
    expect(priorityRank({ greenChannel: false, urgent: true })).toBeLessThan(priorityRank({ greenChannel: false, urgent: false }))
  })
})
