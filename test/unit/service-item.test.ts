// A service item's guide as an administrator drafts and publishes it: what makes a draft
// unpublishable (each problem at its path), the defaults a published guide gets, and the wire shapes.
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import {
  CHANNELS, Guide, GUIDE_DEFAULTS, MAX_ACCEPTANCE_LIMIT, Material, draftProblems, publishGuide, ruleProblemsOf, ServiceItemDraft,
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

  it('rule 13: keep the promise within the statutory limit', () => {
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

  it('comes after every other problem of the draft, each in the order of the fields', () => {
    const problems = draftProblems(draft({
      acceptanceLimit: { workingDays: 9 },
      promisedLimit: { workingDays: 30 },
      materials: [{ code: 'a', name: 'A', required: false, deferrable: true }, { code: 'a', name: 'A', required: true }],
      channels: ['window'],
      autoApprove: { frob: [] },
    }))
    expect(problems.map((p) => p.path))
      .toEqual(['/acceptanceLimit', '/promisedLimit', '/materials/0/deferrable', '/materials/1/code', '/offlineReason', '/autoApprove/frob'])
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
      materials: draft().materials, channels: ['window', 'online'], commitmentAllowed: false, publishedAt: '2026-01-05T01:00:00.000Z',
    })
    expect(Value.Check(Guide, guide)).toBe(true)
    expect(GUIDE_DEFAULTS).toEqual({
      acceptanceLimit: { workingDays: 5 }, statutoryLimit: { workingDays: 20 }, resultLimit: { workingDays: 10 }, maxExtensionWorkingDays: 10,
    })
  })

  it('records who wrote the draft and who approved it', () => {
    const author = { keyId: 'key_a', organizationId: 'root', role: 'admin' as const }
    const reviewer = { keyId: 'key_s', organizationId: 'gz', role: 'supervisor' as const }
    const guide = publishGuide('ITEM-1', 1, draft(), '2026-01-05T01:00:00.000Z', { author, reviewer, reviewedAt: '2026-01-05T00:59:00.000Z' })
    expect(guide).toMatchObject({ author, reviewer, reviewedAt: '2026-01-05T00:59:00.000Z' })
    expect(Value.Check(Guide, guide)).toBe(true)
    expect(Value.Check(Guide, { ...guide, reviewer: { ...reviewer, role: 'emperor' } })).toBe(false)
  })

  it('keeps what the draft sets, the warning and the rule included', () => {
    const rule = { '==': [{ var: 'channel' }, 'online'] }
    const guide = publishGuide('ITEM-2', 1, draft({
      processing: 'instant', acceptanceLimit: { workingDays: 1 }, resultLimit: { duration: 'PT4H' }, maxExtensionWorkingDays: 0,
      warnBefore: { workingDays: 2 }, autoApprove: rule, channels: ['window'], offlineReason: 'needs the original seal', commitmentAllowed: true,
      materials: [{ code: 'form', name: 'Form', required: true, deferrable: true }], resultSource: 'gz-elicence-business',
    }), '2026-01-05T01:00:00.000Z')
    expect(guide).toMatchObject({
      processing: 'instant', acceptanceLimit: { workingDays: 1 }, resultLimit: { duration: 'PT4H' }, maxExtensionWorkingDays: 0,
      warnBefore: { workingDays: 2 }, autoApprove: rule, channels: ['window'], offlineReason: 'needs the original seal', commitmentAllowed: true,
      materials: [{ code: 'form', name: 'Form', required: true, deferrable: true }], resultSource: 'gz-elicence-business',
    })
    expect(Value.Check(Guide, guide)).toBe(true)
  })

  it('keeps a rule that is falsy, such as false', () => {
    expect(publishGuide('ITEM-3', 1, draft({ autoApprove: false }), '2026-01-05T01:00:00.000Z')).toHaveProperty('autoApprove', false)
  })
})

describe('the acceptance limit', () => {
  it('rule 5: is at most 5 working days, the default', () => {
    expect(MAX_ACCEPTANCE_LIMIT).toEqual({ workingDays: 5, duration: 'P5D' })
    expect(draftProblems(draft({ acceptanceLimit: { workingDays: 5 } }))).toEqual([])
    expect(draftProblems(draft({ acceptanceLimit: { workingDays: 0 } }))).toEqual([])
    expect(draftProblems(draft({ acceptanceLimit: { workingDays: 6 } }))).toEqual([{
      path: '/acceptanceLimit', message: 'the acceptance limit is at most 5 working days (as a duration, P5D)',
    }])
    expect(publishGuide('ITEM-1', 1, draft(), '2026-01-05T01:00:00.000Z').acceptanceLimit).toEqual({ workingDays: 5 })
  })

  it('rule 5: as a duration, is at most P5D, which never ends after 5 working days', () => {
    for (const ok of ['P5D', 'PT120H', 'PT2S', 'P4DT23H59M59S']) {
      expect(draftProblems(draft({ acceptanceLimit: { duration: ok } })), ok).toEqual([])
    }
    for (const bad of ['P5DT1S', 'PT121H', 'P1W']) {
      expect(draftProblems(draft({ acceptanceLimit: { duration: bad } })).map((p) => p.path), bad).toEqual(['/acceptanceLimit'])
    }
  })

  it('rule 5: is bounded only once it can be read, and before the other limits are compared', () => {
    expect(draftProblems(draft({ acceptanceLimit: { duration: 'P1M' } })).map((p) => p.path)).toEqual(['/acceptanceLimit/duration'])
    expect(draftProblems(draft({ acceptanceLimit: { workingDays: 6 }, promisedLimit: { workingDays: 30 } })).map((p) => p.path))
      .toEqual(['/acceptanceLimit', '/promisedLimit'])
  })
})

describe('the statutory limit', () => {
  it('rule 10: is 20 working days when the draft leaves it out', () => {
    const { statutoryLimit: _, ...rest } = draft()
    expect(Value.Check(ServiceItemDraft, rest)).toBe(true)
    expect(draftProblems(rest)).toEqual([])
    expect(publishGuide('ITEM-1', 1, rest, '2026-01-05T01:00:00.000Z').statutoryLimit).toEqual({ workingDays: 20 })
    expect(publishGuide('ITEM-1', 1, draft({ statutoryLimit: { workingDays: 30 } }), '2026-01-05T01:00:00.000Z').statutoryLimit)
      .toEqual({ workingDays: 30 })
  })

  it('rule 13: the default still bounds the promise, in its unit', () => {
    const { statutoryLimit: _, ...rest } = draft()
    expect(draftProblems({ ...rest, promisedLimit: { workingDays: 20 } })).toEqual([])
    expect(draftProblems({ ...rest, promisedLimit: { workingDays: 21 } })).toEqual([EXCEEDS])
    expect(draftProblems({ ...rest, promisedLimit: { duration: 'PT2H' } })).toEqual([SAME_UNIT])
  })
})

describe('the channels of a draft', () => {
  it('rule 39: an item offered online needs no reason', () => {
    expect(draftProblems(draft({ channels: ['online'] }))).toEqual([])
    expect(draftProblems(draft({ channels: ['kiosk', 'online', 'window'] }))).toEqual([])
  })

  it('rule 39: an item not offered online must say why', () => {
    const WHY = { path: '/offlineReason', message: 'an item not offered online (no "online" channel) must say why in offlineReason' }
    for (const channels of [['window'], ['window', 'app', 'kiosk']] as const) {
      expect(draftProblems(draft({ channels: [...channels] })), channels.join()).toEqual([WHY])
      expect(draftProblems(draft({ channels: [...channels], offlineReason: 'the original seal must be shown' }))).toEqual([])
    }
    for (const blank of ['', ' ', '\t\n\u3000', 'seal\u0000', '\ud800']) {
      expect(draftProblems(draft({ channels: ['window'], offlineReason: blank })), JSON.stringify(blank)).toEqual([WHY])
    }
  })

  it('rule 39: an item offered online has no offline reason', () => {
    expect(draftProblems(draft({ offlineReason: 'stale' }))).toEqual([
      { path: '/offlineReason', message: 'the item is offered online: it has no offline reason' },
    ])
  })

  it('rule 39: the published guide shows the reason', () => {
    const guide = publishGuide('ITEM-1', 1, draft({ channels: ['window'], offlineReason: 'the original seal must be shown' }), '2026-01-05T01:00:00.000Z')
    expect(guide).toMatchObject({ channels: ['window'], offlineReason: 'the original seal must be shown' })
    expect(publishGuide('ITEM-1', 1, draft(), '2026-01-05T01:00:00.000Z')).not.toHaveProperty('offlineReason')
  })
})

describe('deferrable materials and written commitments', () => {
  it('rule 35: a required material may be marked deferrable, and the guide shows it', () => {
    const materials = [{ code: 'form', name: 'Form', required: true }, { code: 'lease', name: 'Lease', required: true, deferrable: true }]
    expect(draftProblems(draft({ materials }))).toEqual([])
    expect(publishGuide('ITEM-1', 1, draft({ materials }), '2026-01-05T01:00:00.000Z').materials).toEqual(materials)
    expect(draftProblems(draft({ materials: [{ code: 'lease', name: 'Lease', required: true, deferrable: false }] }))).toEqual([])
  })

  it('rule 35: an optional material cannot be deferred', () => {
    const materials = [{ code: 'form', name: 'Form', required: true }, { code: 'photo', name: 'Photo', required: false, deferrable: true }]
    expect(draftProblems(draft({ materials }))).toEqual([
      { path: '/materials/1/deferrable', message: 'material photo is not required, so there is nothing to defer' },
    ])
  })

  it('rule 36: the item says whether a written commitment may replace proof; the guide shows it, false by default', () => {
    expect(draftProblems(draft({ commitmentAllowed: true }))).toEqual([])
    expect(publishGuide('ITEM-1', 1, draft({ commitmentAllowed: true }), '2026-01-05T01:00:00.000Z').commitmentAllowed).toBe(true)
    expect(publishGuide('ITEM-1', 1, draft(), '2026-01-05T01:00:00.000Z').commitmentAllowed).toBe(false)
    expect(Value.Check(ServiceItemDraft, draft({ commitmentAllowed: 'yes' as never }))).toBe(false)
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
      ['empty offline reason', { offlineReason: '' }], ['long offline reason', { offlineReason: 'x'.repeat(2001) }],
      ['commitment not boolean', { commitmentAllowed: 1 }],
    ] as const) {
      expect(ok({ ...draft(), ...bad }), what).toBe(false)
    }
  })

  it('bound a material', () => {
    const ok = (m: unknown) => Value.Check(Material, m)
    expect(ok({ code: 'c'.repeat(100), name: 'n'.repeat(500), required: true, sharedSource: 's'.repeat(100) })).toBe(true)
    expect(ok({ code: 'c', name: 'N', required: true, deferrable: true })).toBe(true)
    for (const bad of [
      { code: '', name: 'N', required: true }, { code: 'c'.repeat(101), name: 'N', required: true },
      { code: 'c', name: '', required: true }, { code: 'c', name: 'n'.repeat(501), required: true },
      { code: 'c', name: 'N', required: 'yes' }, { code: 'c', name: 'N' },
      { code: 'c', name: 'N', required: true, sharedSource: '' }, { code: 'c', name: 'N', required: true, sharedSource: 's'.repeat(101) },
      { code: 'c', name: 'N', required: true, copies: 2 }, { code: 'c', name: 'N', required: true, deferrable: 'yes' },
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
