import fc from 'fast-check'
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import { APPLICATION_ACTIONS, type ApplicationAction, SUSPENSION_REASONS } from '../../src/domain/application/actions.ts'
import { ApplicationCase, type ApplicationCommand } from '../../src/domain/application/application-case.ts'
import { formatInstant, parseInstant } from '../../src/domain/calendar.ts'
import { parseDurationMs, validateLimit } from '../../src/domain/limit.ts'
import { LimitSchema } from '../../src/domain/limit-schema.ts'
import { Refusal } from '../../src/domain/refusal.ts'
import { ruleHolds } from '../../src/domain/rules.ts'
import type { Actor } from '../../src/domain/roles.ts'
import { unsafeTextPath } from '../../src/domain/safe-text.ts'
import type { Guide } from '../../src/domain/service-item.ts'
import { calendarWith, newApplication, testGuide } from '../support/time-skipping.ts'
import { runs } from '../support/property-runs.ts'

// Commands as a hostile or careless caller sends them: to every action's validator (`check`) and
// handler (`apply`), over cases in many states. The handler may only ever refuse.

const ACTIONS = Object.keys(APPLICATION_ACTIONS) as ApplicationAction[]
const START = '2026-03-02T02:00:00.000Z'
const calendar = calendarWith()

/** Any UTF-16 code unit, so NUL and lone surrogates come up, next to plain text. */
const anyText = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 12 }),
  fc.constantFrom('form', 'ok', 'gz-hr', 'gz-tax', 'gz-amr', '\u0000', 'a\ud800', '\udc00b', '😀', ''),
  // About the 2,000-character bound of free text.
  fc.string({ minLength: 1995, maxLength: 2005 }),
)
const durationText = fc.oneof(
  { weight: 1, arbitrary: fc.stringMatching(/^P[0-9.,WDTHMSY]{0,10}$/) },
  { weight: 1, arbitrary: anyText },
  { weight: 3, arbitrary: fc.constantFrom('P1.5W2D', 'PT2H', 'P3D', 'PT0S', 'P1M', 'P', 'PT', 'PT0.5S', 'P1DT', 'P3650D', 'P3651D',
    // Past the calendar's range, or Date's.
    'P9999999W', 'P1000000D', 'PT9007199254740S', 'P99999999999999999999W') },
)
const anyLimit: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ workingDays: fc.oneof(fc.integer({ min: -3, max: 4000 }), fc.double(), fc.anything()) }) },
  { weight: 4, arbitrary: fc.record({ duration: durationText }) },
  { weight: 1, arbitrary: fc.record({ workingDays: fc.nat(30), duration: durationText }) },
  { weight: 1, arbitrary: fc.anything() },
)
const maybe = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 8, arbitrary: valid }, { weight: 1, arbitrary: fc.anything() })
const codes = fc.array(fc.oneof(fc.constant('form'), anyText), { minLength: 0, maxLength: 3 })
const orgs = fc.oneof(
  { weight: 4, arbitrary: fc.uniqueArray(fc.constantFrom('gz-hr', 'gz-tax'), { minLength: 1 }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom('gz-hr', 'gz-amr', 'gz'), { maxLength: 3 }) },
)

/** A plausible value for each parameter name the actions use, or anything at all. */
const FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  reason: maybe(fc.oneof(anyText, fc.constantFrom('hearing', 'inspection', 'other'))),
  note: maybe(anyText),
  opinion: maybe(anyText),
  comment: maybe(anyText),
  approvedBy: maybe(anyText),
  certificateNo: maybe(anyText),
  missing: maybe(codes),
  materials: maybe(fc.array(fc.record({ code: fc.oneof(fc.constant('form'), anyText), ref: anyText }), { maxLength: 3 })),
  toOrganizationId: maybe(fc.oneof(fc.constantFrom('gz-hr', 'gz-amr'), anyText)),
  organizationIds: maybe(fc.oneof({ weight: 4, arbitrary: orgs }, { weight: 1, arbitrary: codes })),
  within: anyLimit,
  respondWithin: anyLimit,
  workingDays: maybe(fc.integer({ min: -2, max: 400 })),
  score: maybe(fc.integer({ min: -1, max: 7 })),
  agree: maybe(fc.boolean()),
  satisfied: maybe(fc.boolean()),
  method: maybe(fc.oneof(fc.constantFrom('window', 'mail', 'electronic'), anyText)),
}

function paramsFor(action: ApplicationAction): fc.Arbitrary<unknown> {
  const names = Object.keys(APPLICATION_ACTIONS[action].params.properties)
  const fields = Object.fromEntries(names.map((n) => [n, FIELDS[n] ?? fc.anything()]))
  const complete = fc.record(fields)
  const extra = fc.dictionary(anyText, fc.anything(), { maxKeys: 2 })
  return fc.oneof(
    { weight: 8, arbitrary: complete },
    { weight: 2, arbitrary: fc.record(fields, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.tuple(complete, extra).map(([p, e]) => ({ ...e, ...p })) },
    { weight: 1, arbitrary: fc.anything() },
  )
}

const ACTORS: Actor[] = [
  { organizationId: 'gz-amr', role: 'department' }, { organizationId: 'gz-center', role: 'window' },
  { organizationId: 'gz', role: 'supervisor' }, { organizationId: 'gz-hr', role: 'department' },
  { organizationId: 'gz-tax', role: 'department' }, { organizationId: 'root', role: 'admin' },
]
const anyActor: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ACTORS) },
  { weight: 1, arbitrary: fc.record({ organizationId: anyText, role: fc.oneof(fc.constantFrom('department', 'window'), anyText) }) },
  { weight: 1, arbitrary: fc.anything() },
)
/** Mostly someone whose role may take the action, so that the parameters are what gets tested. */
function actorFor(action: ApplicationAction): fc.Arbitrary<unknown> {
  const roles: readonly string[] = APPLICATION_ACTIONS[action].roles
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ACTORS.filter((a) => roles.includes(a.role))) }, { weight: 1, arbitrary: anyActor })
}

const command: fc.Arbitrary<ApplicationCommand> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...ACTIONS).chain((action) => fc.record({ action: fc.constant(action as string), params: paramsFor(action), actor: actorFor(action) })) },
  { weight: 1, arbitrary: fc.record({ action: anyText, params: fc.anything(), actor: anyActor }) },
  { weight: 1, arbitrary: fc.anything() },
) as fc.Arbitrary<ApplicationCommand>

/** Lifecycles a case may go through: the hostile commands meet it at any point along one. */
type Step = [string, Actor, Record<string, unknown>]
const [DEPT, WINDOW, SUPERVISOR, HR] = ACTORS as [Actor, Actor, Actor, Actor]
const LIFECYCLES: Step[][] = [
  [
    ['accept', DEPT, {}], ['request_opinions', DEPT, { organizationIds: ['gz-hr'], within: { duration: 'PT1H' } }],
    ['give_opinion', HR, { opinion: 'fine', agree: true }], ['suspend', DEPT, { reason: 'testing', note: 'lab' }],
    ['resume', DEPT, {}], ['extend', DEPT, { workingDays: 3, approvedBy: 'Director', reason: 'complex' }],
    ['approve', DEPT, {}], ['issue_result', DEPT, { certificateNo: 'C-1' }], ['deliver', WINDOW, { method: 'window' }],
    ['rate', WINDOW, { score: 1 }], ['rectify', DEPT, { note: 'fixed' }], ['call_back', SUPERVISOR, { satisfied: true }],
  ],
  [
    ['request_supplement', WINDOW, { missing: ['form'], note: 'sign it' }], ['supplement', WINDOW, { materials: [{ code: 'form', ref: 'doc://2' }] }],
    ['supervise', SUPERVISOR, { note: 'hurry', respondWithin: { workingDays: 2 } }], ['accept', DEPT, {}],
    ['respond_supervision', DEPT, { note: 'on it' }], ['deny', DEPT, { reason: 'no' }], ['deliver', WINDOW, { method: 'mail' }],
    ['rate', WINDOW, { score: 5 }],
  ],
  [['accept', DEPT, {}], ['transfer', DEPT, { toOrganizationId: 'gz-hr', reason: 'competent' }], ['withdraw', WINDOW, { reason: 'moved' }]],
]

const guides: fc.Arbitrary<Guide> = fc.constantFrom(
  testGuide(),
  testGuide({ processing: 'instant' }),
  testGuide({ promisedLimit: { duration: 'PT2H' }, statutoryLimit: { duration: 'P1D' } }),
  testGuide({ autoApprove: { '==': [{ var: 'applicant.type' }, 'person'] } }),
  // Rules that throw when evaluated: they must leave the case for a person, never fail it.
  testGuide({ autoApprove: { no_such_op: [1] } }),
  testGuide({ autoApprove: { missing_some: [1, { var: 'nothing' }] } }),
)

/** Where a case stands: some steps along a lifecycle, with time passing between them. */
const setups = fc.record({
  guide: guides,
  path: fc.constantFrom(...LIFECYCLES).chain((steps) => fc.nat(steps.length).map((n) => steps.slice(0, n))),
  gapMs: fc.integer({ min: 0, max: 3 * 86_400_000 }),
})

function walk({ guide, path, gapMs }: { guide: Guide; path: Step[]; gapMs: number }) {
  const { application } = ApplicationCase.submit({
    id: 'A-P', guide, submission: newApplication('A-P', { guide }).submission,
    actor: WINDOW, calendar, at: START,
  })
  let ms = parseInstant(START)
  for (const [action, actor, params] of path) {
    ms += gapMs
    application.advance(formatInstant(ms))
    if (!refused(() => application.check({ action, actor, params }))) application.apply({ action, actor, params }, formatInstant(ms))
  }
  return { application, at: formatInstant(ms + 60_000) }
}

function refused(attempt: () => unknown): boolean {
  try {
    attempt()
    return false
  } catch (err) {
    if (err instanceof Refusal) return true
    throw new Error(`threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}, not a Refusal`, { cause: err })
  }
}

describe('every action\'s validator and handler, under arbitrary input', () => {
  it('refuse with a Refusal or apply cleanly; nothing unstorable is ever recorded', () => {
    fc.assert(fc.property(setups, fc.array(command, { minLength: 1, maxLength: 6 }), (setup, commands) => {
      const { application, at } = walk(setup)
      for (const cmd of commands) {
        const before = JSON.stringify(application.state)
        const checkRefused = refused(() => application.check(cmd))
        expect(JSON.stringify(application.state)).toBe(before)
        let recorded: ReturnType<ApplicationCase['apply']> = []
        const applyRefused = refused(() => {
          recorded = application.apply(cmd, at)
        })
        // The validator is authoritative: what it lets through, the handler carries out.
        expect(applyRefused).toBe(checkRefused)
        if (applyRefused) expect(JSON.stringify(application.state)).toBe(before)
        expect(unsafeTextPath(recorded)).toBeUndefined()
        expect(() => application.advance(at)).not.toThrow()
      }
    }), runs(300))
  })

  it('refuses P1.5W2D, NUL and a lone surrogate in check, with the path of the bad part', () => {
    const { application } = ApplicationCase.submit({
      id: 'A-R', guide: testGuide(), submission: newApplication('A-R').submission, actor: WINDOW, calendar, at: START,
    })
    application.apply({ action: 'accept', actor: DEPT, params: {} }, START)
    const refusal = (cmd: ApplicationCommand) => {
      try {
        application.check(cmd)
      } catch (err) {
        if (err instanceof Refusal) return { code: err.code, paths: err.details.map((d) => d.path) }
        throw err
      }
      return undefined
    }
    expect(refusal({ action: 'request_opinions', actor: DEPT, params: { organizationIds: ['gz-hr'], within: { duration: 'P1.5W2D' } } }))
      .toEqual({ code: 'validation_failed', paths: ['/params/within/duration'] })
    expect(refusal({ action: 'suspend', actor: DEPT, params: { reason: 'other', note: 'a\u0000b' } }))
      .toEqual({ code: 'validation_failed', paths: ['/params/note'] })
    expect(refusal({ action: 'extend', actor: DEPT, params: { workingDays: 1, approvedBy: '\ud800', reason: 'r' } }))
      .toEqual({ code: 'validation_failed', paths: ['/params/approvedBy'] })
    expect(refusal({ action: 'suspend', actor: DEPT, params: { reason: 'other', note: 'a 😀 pair is fine' } })).toBeUndefined()
  })
})

describe('one reading of a limit', () => {
  const parses = (read: () => unknown) => {
    try {
      read()
      return true
    } catch (err) {
      if (err instanceof Refusal) return false
      throw err
    }
  }

  it('the wire schema admits a duration exactly when parseDurationMs reads it', () => {
    fc.assert(fc.property(durationText, (iso) => {
      expect(Value.Check(LimitSchema, { duration: iso })).toBe(parses(() => parseDurationMs(iso)))
    }), runs(2000))
    expect(Value.Check(LimitSchema, { duration: 'P1.5W2D' })).toBe(false)
    expect(Value.Check(LimitSchema, { duration: 'P1W2.5D' })).toBe(true)
  })

  it('and no limit that validateLimit refuses', () => {
    fc.assert(fc.property(anyLimit, (limit) => {
      if (Value.Check(LimitSchema, limit)) expect(parses(() => validateLimit(limit))).toBe(true)
    }), runs(1000))
  })
})

describe('an auto-approval rule at run time', () => {
  it('holds or does not, and never throws, whatever the rule and the facts', () => {
    const rule: fc.Arbitrary<unknown> = fc.letrec<{ rule: unknown }>((tie) => ({
      rule: fc.oneof({ depthSize: 'small' },
        fc.anything(),
        fc.dictionary(fc.oneof(fc.constantFrom('==', 'in', 'var', 'missing_some', 'substr', 'reduce', 'merge', 'no_such_op'), anyText),
          fc.array(tie('rule'), { maxLength: 3 }), { minKeys: 1, maxKeys: 1 })),
    })).rule
    fc.assert(fc.property(rule, fc.anything(), (r, data) => {
      expect(typeof ruleHolds(r, { applicant: data })).toBe('boolean')
    }), runs(1000))
  })
})

describe('deadlines under any sequence of actions and time', () => {
  const LEASE_GUIDE = testGuide({
    materials: [{ code: 'form', name: 'Form', required: true }, { code: 'lease', name: 'Lease', required: true, deferrable: true }],
    commitmentAllowed: true,
  })
  const TAX: Actor = { organizationId: 'gz-tax', role: 'department' }
  /** Commands that may well be allowed somewhere along a case's life, so that long lives come up. */
  const plausible: fc.Arbitrary<Step> = fc.oneof(
    fc.constantFrom<Step>(
      ['accept', DEPT, {}], ['accept', DEPT, { deferred: ['lease'] }],
      ['accept', DEPT, { commitment: { text: 'I hold the licence', verifyWithin: { workingDays: 3 } } }],
      ['request_supplement', WINDOW, { missing: ['lease'], note: 'lease' }], ['request_supplement', DEPT, { missing: ['form', 'lease'], note: 'both' }],
      ['supplement', WINDOW, { materials: [{ code: 'lease', ref: 'doc://lease' }] }], ['supplement', WINDOW, { materials: [{ code: 'form', ref: 'doc://f' }] }],
      ['request_opinions', DEPT, { organizationIds: ['gz-hr', 'gz-tax'], within: { workingDays: 2 } }],
      ['give_opinion', HR, { opinion: 'ok', agree: true }], ['give_opinion', TAX, { opinion: 'no', agree: false }],
      ['resume', DEPT, {}], ['approve', DEPT, {}], ['deny', DEPT, { reason: 'no' }], ['issue_result', DEPT, {}],
      ['deliver', WINDOW, { method: 'window' }], ['withdraw', WINDOW, { reason: 'moved' }], ['reject', DEPT, { reason: 'no' }],
      ['rectify', DEPT, { note: 'fixed' }], ['call_back', WINDOW, { satisfied: false }], ['call_back', SUPERVISOR, { satisfied: true }],
      ['supervise', SUPERVISOR, { note: 'hurry', respondWithin: { workingDays: 1 } }], ['respond_supervision', DEPT, { note: 'done' }],
      ['revoke', DEPT, { reason: 'deferred lease or false commitment' }], ['check_commitment', DEPT, { holds: false, note: 'false' }],
      ['check_commitment', DEPT, { holds: true, note: 'fine' }], ['transfer', DEPT, { toOrganizationId: 'gz-hr', reason: 'competent' }],
    ),
    fc.constantFrom(...SUSPENSION_REASONS).map((reason): Step => ['suspend', DEPT, { reason, note: 'x' }]),
    fc.integer({ min: 1, max: 16 }).map((workingDays): Step => ['extend', DEPT, { workingDays, approvedBy: 'Director', reason: 'complex' }]),
    fc.integer({ min: 1, max: 5 }).map((score): Step => ['rate', WINDOW, { score }]),
  )
  /** The time before a step: often none, sometimes long enough for any deadline to fall due. */
  const gap = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3_600_000 }), fc.integer({ min: 1, max: 3 * 86_400_000 }),
    fc.integer({ min: 1, max: 40 * 86_400_000 }))
  const lives = fc.array(fc.record({ step: plausible, gapMs: gap, watcherReports: fc.boolean() }), { minLength: 1, maxLength: 30 })

  it('rule 10: no sequence of actions moves a missed deadline back to running, nor grants a second extension', () => {
    fc.assert(fc.property(fc.constantFrom(testGuide(), LEASE_GUIDE), lives, (guide, life) => {
      const { application } = ApplicationCase.submit({
        id: 'A-L', guide, submission: newApplication('A-L', { guide }).submission, actor: WINDOW, calendar, at: START,
      })
      const missed = new Map<string, string>()
      let ms = parseInstant(START)
      let extensions = 0
      for (const { step: [action, actor, params], gapMs, watcherReports } of life) {
        ms += gapMs
        const at = formatInstant(ms)
        const recorded = [...application.advance(at)]
        // The watch of an external deadline (an opinion, a rectification) reports it missed once due.
        if (watcherReports) {
          for (const d of application.externalDeadlines) {
            if (d.state === 'running' && Date.parse(d.dueAt) <= ms) recorded.push(...application.markExternal(d.key, 'missed', at))
          }
        }
        if (!refused(() => application.check({ action, actor, params }))) recorded.push(...application.apply({ action, actor, params }, at))
        extensions += recorded.filter((r) => r.event.type === 'extended').length
        for (const d of application.book.items) {
          if (missed.has(d.key)) expect([d.key, d.state, d.dueAt]).toEqual([d.key, 'missed', missed.get(d.key)])
          if (d.state === 'missed') missed.set(d.key, d.dueAt)
        }
        expect(extensions).toBeLessThanOrEqual(1)
        const granted = application.state.extension?.workingDays
        for (const key of ['promised', 'statutory']) {
          expect([undefined, granted]).toContain(application.book.get(key)?.spec.extensionWorkingDays)
        }
      }
    }), runs(300))
  })
})
