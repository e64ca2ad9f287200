// A service item's guide as an administrator drafts and publishes it: what makes a draft
// unpublishable (each problem at its path), the defaults a published guide gets, and the wire shapes.
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import {
  CHANNELS, Guide, GUIDE_DEFAULTS, Material, draftProblems, publishGuide, ruleProblemsOf, ServiceItemDraft,
} from '../../src/domain/service-item.ts'

const draft = (overrides: Partial<ServiceItemDraft> = {}): ServiceItemDraft => ({
  name: 'Business licence registration',
  departmentId: 'gz-amr',
  processing: 'promised',
  promisedLimit: { workingDays: 5 },
  statutoryLimit: { workingDays: 20 },
  materials: [
    { code: 'form', name: 'Application form', required: true },
    { code: 'photo', name: 'Photo', required: false },
  ],
  channels: ['window', 'online'],
  ...overrides,
})

const SAME_UNIT = { path: '/promisedLimit', message: 'the promised and statutory limits must use the same unit' }
const EXCEEDS = { path: '/promisedLimit', message: 'the promised limit must not exceed the statutory limit' }

describe('a draft that can be published', () => {
  it('has no problems', () => {
    expect(draftProblems(draft())).toEqual([])
    expect(draftProblems(draft({ promisedLimit: { workingDays: 20 } }))).toEqual([])
    expect(draftProblems(draft({ promisedLimit: { duration: 'PT2H' }, statutoryLimit: { duration: 'PT2H' } }))).toEqual([])
    expect(draftProblems(draft({ promisedLimit: { duration: 'PT24H' }, statutoryLimit: { duration: 'P1D' } }))).toEqual([])
  })
})

describe('the limits of a draft', () => {
  it('refuse a duration the clock cannot read, in any limit, at that limit', () => {
    for (const field of ['acceptanceLimit', 'promisedLimit', 'statutoryLimit', 'resultLimit', 'warnBefore'] as const) {
      const bad = draft({ promisedLimit: { duration: 'PT1H' }, statutoryLimit: { duration: 'PT2H' }, [field]: { duration: 'P1M' } })
      expect(draftProblems(bad), field).toEqual([{
        path: `/${field}/duration`, message: '"P1M": years and months have no fixed length; use days (P30D) or a working-day limit',
      }])
    }
  })

  it('report every unreadable duration', () => {
    expect(draftProblems(draft({ acceptanceLimit: { duration: 'P1Y' }, resultLimit: { duration: 'P1.5W2D' } })).map((p) => p.path))
      .toEqual(['/acceptanceLimit/duration', '/resultLimit/duration'])
  })

  it('do not compare the promised and statutory limits until both can be read', () => {
    expect(draftProblems(draft({ promisedLimit: { duration: 'P1M' } })).map((p) => p.path)).toEqual(['/promisedLimit/duration'])
    expect(draftProblems(draft({ warnBefore: { duration: 'P1M' }, promisedLimit: { workingDays: 30 } })).map((p) => p.path))
      .toEqual(['/warnBefore/duration'])
  })

  it('need the promised and statutory limits in one unit', () => {
    expect(draftProblems(draft({ promisedLimit: { duration: 'PT2H' } }))).toEqual([SAME_UNIT])
    expect(draftProblems(draft({ statutoryLimit: { duration: 'P30D' } }))).toEqual([SAME_UNIT])
  })

  it('keep the promise within the statutory limit', () => {
    expect(draftProblems(draft({ promisedLimit: { workingDays: 21 } }))).toEqual([EXCEEDS])
    expect(draftProblems(draft({ promisedLimit: { duration: 'PT2H1S' }, statutoryLimit: { duration: 'PT2H' } }))).toEqual([EXCEEDS])
    expect(draftProblems(draft({ promisedLimit: { duration: 'P2D' }, statutoryLimit: { duration: 'PT47H' } }))).toEqual([EXCEEDS])
  })

  it('leave the other limits free: only the promise is compared', () => {
    expect(draftProblems(draft({ acceptanceLimit: { duration: 'PT1H' }, resultLimit: { workingDays: 100 }, warnBefore: { duration: 'P40D' } })))
      .toEqual([])
  })
})

describe('the materials of a draft', () => {
  it('each have their own code', () => {
    const materials = [
      { code: 'form', name: 'Form', required: true }, { code: 'photo', name: 'Photo', required: false },
      { code: 'form', name: 'Form again', required: false }, { code: 'form', name: 'And again', required: true },
    ]
    expect(draftProblems(draft({ materials }))).toEqual([
      { path: '/materials/2/code', message: 'duplicate material code form' },
      { path: '/materials/3/code', message: 'duplicate material code form' },
    ])
  })
})

describe('the auto-approval rule of a draft', () => {
  it('is optional', () => {
    expect(ruleProblemsOf({ channels: ['window'], materials: [] })).toEqual([])
  })

  it('is checked as written, each problem at its path under /autoApprove', () => {
    expect(ruleProblemsOf({ autoApprove: { and: [{ no_such_op: [1] }] }, channels: ['window'], materials: [] })).toEqual([
      { path: '/autoApprove/and/0/no_such_op', message: expect.stringMatching(/^unknown operation "no_such_op"/) },
    ])
    expect(ruleProblemsOf({ autoApprove: 'yes', channels: ['window'], materials: [] })).toEqual([
      { path: '/autoApprove', message: expect.stringMatching(/^a rule must be one JSONLogic operation/) },
    ])
  })

  it('comes after the other problems of the draft', () => {
    const problems = draftProblems(draft({
      promisedLimit: { workingDays: 30 },
      materials: [{ code: 'a', name: 'A', required: true }, { code: 'a', name: 'A', required: true }],
      autoApprove: { frob: [] },
    }))
    expect(problems.map((p) => p.path)).toEqual(['/promisedLimit', '/materials/1/code', '/autoApprove/frob'])
  })

  it('lets a good rule through', () => {
    expect(draftProblems(draft({ autoApprove: { '==': [{ var: 'applicant.type' }, 'person'] } }))).toEqual([])
  })
})

describe('publishing a guide', () => {
  it('fills in the contract defaults and records the version and instant', () => {
    const guide = publishGuide('ITEM-1', 3, draft(), '2026-01-05T01:00:00.000Z')
    expect(guide).toStrictEqual({
      code: 'ITEM-1', version: 3, name: 'Business licence registration', departmentId: 'gz-amr', processing: 'promised',
      acceptanceLimit: { workingDays: 5 }, promisedLimit: { workingDays: 5 }, statutoryLimit: { workingDays: 20 },
      resultLimit: { workingDays: 10 }, maxExtensionWorkingDays: 10,
      materials: draft().materials, channels: ['window', 'online'], publishedAt: '2026-01-05T01:00:00.000Z',
    })
    expect(Value.Check(Guide, guide)).toBe(true)
    expect(GUIDE_DEFAULTS).toEqual({ acceptanceLimit: { workingDays: 5 }, resultLimit: { workingDays: 10 }, maxExtensionWorkingDays: 10 })
  })

  it('keeps what the draft sets, the warning and the rule included', () => {
    const rule = { '==': [{ var: 'channel' }, 'online'] }
    const guide = publishGuide('ITEM-2', 1, draft({
      processing: 'instant', acceptanceLimit: { workingDays: 1 }, resultLimit: { duration: 'PT4H' }, maxExtensionWorkingDays: 0,
      warnBefore: { workingDays: 2 }, autoApprove: rule,
    }), '2026-01-05T01:00:00.000Z')
    expect(guide).toMatchObject({
      processing: 'instant', acceptanceLimit: { workingDays: 1 }, resultLimit: { duration: 'PT4H' }, maxExtensionWorkingDays: 0,
      warnBefore: { workingDays: 2 }, autoApprove: rule,
    })
    expect(Value.Check(Guide, guide)).toBe(true)
  })

  it('keeps a rule that is falsy, such as false', () => {
    expect(publishGuide('ITEM-3', 1, draft({ autoApprove: false }), '2026-01-05T01:00:00.000Z')).toHaveProperty('autoApprove', false)
  })
})

describe('the wire shapes', () => {
  it('admit the channels an application can come in on', () => {
    expect(CHANNELS).toEqual(['window', 'online', 'app', 'kiosk'])
  })

  it('bound a draft\'s fields', () => {
    const ok = (d: unknown) => Value.Check(ServiceItemDraft, d)
    expect(ok(draft())).toBe(true)
    expect(ok(draft({ name: 'x'.repeat(500), departmentId: 'd'.repeat(100), maxExtensionWorkingDays: 365, channels: ['kiosk', 'app'] })))
      .toBe(true)
    expect(ok(draft({ processing: 'instant', maxExtensionWorkingDays: 0 }))).toBe(true)
    for (const [what, bad] of [
      ['empty name', { name: '' }], ['long name', { name: 'x'.repeat(501) }],
      ['empty department', { departmentId: '' }], ['long department', { departmentId: 'd'.repeat(101) }],
      ['processing', { processing: 'later' }], ['extension < 0', { maxExtensionWorkingDays: -1 }],
      ['extension > 365', { maxExtensionWorkingDays: 366 }], ['no channel', { channels: [] }],
      ['channel twice', { channels: ['window', 'window'] }], ['unknown channel', { channels: ['fax'] }],
      ['201 materials', { materials: Array.from({ length: 201 }, (_, i) => ({ code: `m${i}`, name: 'M', required: false })) }],
      ['bad limit', { promisedLimit: { workingDays: -1 } }], ['extra field', { colour: 'blue' }],
    ] as const) {
      expect(ok({ ...draft(), ...bad }), what).toBe(false)
    }
  })

  it('bound a material', () => {
    const ok = (m: unknown) => Value.Check(Material, m)
    expect(ok({ code: 'c'.repeat(100), name: 'n'.repeat(500), required: true, sharedSource: 's'.repeat(100) })).toBe(true)
    for (const bad of [
      { code: '', name: 'N', required: true }, { code: 'c'.repeat(101), name: 'N', required: true },
      { code: 'c', name: '', required: true }, { code: 'c', name: 'n'.repeat(501), required: true },
      { code: 'c', name: 'N', required: 'yes' }, { code: 'c', name: 'N' },
      { code: 'c', name: 'N', required: true, sharedSource: '' }, { code: 'c', name: 'N', required: true, sharedSource: 's'.repeat(101) },
      { code: 'c', name: 'N', required: true, copies: 2 },
    ]) {
      expect(ok(bad), JSON.stringify(bad)).toBe(false)
    }
  })

  it('number published versions from 1', () => {
    const guide = publishGuide('ITEM-1', 1, draft(), '2026-01-05T01:00:00.000Z')
    expect(Value.Check(Guide, { ...guide, version: 0 })).toBe(false)
    expect(Value.Check(Guide, { ...guide, processing: 'later' })).toBe(false)
  })
})
