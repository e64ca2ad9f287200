import { describe, expect, it } from 'vitest'
import { ApplicationCase, type ApplicationCommand, caseLimits } from '../../src/domain/application/application-case.ts'
import { Refusal } from '../../src/domain/refusal.ts'
import type { Actor } from '../../src/domain/roles.ts'
import { calendarWith, newApplication, testGuide } from '../support/time-skipping.ts'

const DEPT: Actor = { organizationId: 'gz-amr', role: 'department' }
const WINDOW: Actor = { organizationId: 'gz-center', role: 'window' }
const AT = '2026-03-02T02:00:00.000Z' // Monday 10:00 in Guangzhou

function submitted(guide = testGuide()) {
  const input = newApplication('A-1', { guide })
  return ApplicationCase.submit({ id: 'A-1', guide, submission: input.submission, actor: WINDOW, calendar: calendarWith(), at: AT })
}

const command = (action: string, actor: Actor, params: Record<string, unknown> = {}): ApplicationCommand => ({ action, actor, params })

function refusalOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof Refusal) return err.code
    throw err
  }
  return undefined
}

describe('ApplicationCase', () => {
  it('numbers events from 1 and snapshots the view after each', () => {
    const { application, recorded } = submitted()
    expect(recorded.map((r) => [r.event.seq, r.event.type, r.view.version])).toEqual([[1, 'submitted', 1]])
    const accepted = application.apply(command('accept', DEPT), '2026-03-02T03:00:00.000Z')
    expect(accepted.map((r) => [r.event.seq, r.event.type, r.view.status])).toEqual([[2, 'accepted', 'accepted']])
    // Later changes never reach an earlier snapshot.
    application.apply(command('suspend', DEPT, { reason: 'testing', note: 'lab' }), '2026-03-02T04:00:00.000Z')
    expect(accepted[0]!.view.status).toBe('accepted')
  })

  it('climbs the tree with supervision when its limit is set, as now by default; a case recorded without it keeps one level', () => {
    const guide = testGuide()
    const start = (id: string, limits?: Parameters<typeof ApplicationCase.submit>[0]['limits']) => ApplicationCase.submit({
      id, guide, submission: newApplication(id, { guide }).submission, actor: WINDOW, calendar: calendarWith(), at: AT, ...(limits ? { limits } : {}),
    }).application
    expect(start('A-2').state.supervision).toEqual({ respondWithin: caseLimits().supervisionRespond, parents: {} })
    expect(start('A-3', { ratingDefault: { duration: 'P7D' }, rectification: { workingDays: 15 } }).state).not.toHaveProperty('supervision')
  })

  it('rule 9: counts acceptance in working days from the day after submission (Mon + 5 = next Mon 24:00)', () => {
    const { application } = submitted()
    expect(application.view(AT).deadlines[0]).toMatchObject({ kind: 'acceptance', dueAt: '2026-03-09T16:00:00.000Z', state: 'running' })
  })

  it('rule 17: assumes no opening hours: a case received on a holiday evening is taken and accepted then, its limits counted from the next working day', () => {
    const holidayEvening = '2026-02-16T12:30:00.000Z' // Monday 20:30 in Guangzhou, in the Spring Festival holiday
    const guide = testGuide()
    const { application } = ApplicationCase.submit({
      id: 'A-17', guide, submission: newApplication('A-17', { guide }).submission, actor: WINDOW, calendar: calendarWith(), at: holidayEvening,
    })
    // 24–27 February, then the make-up Saturday the 28th: the fifth working day.
    expect(application.view(holidayEvening).deadlines[0]).toMatchObject({ kind: 'acceptance', dueAt: '2026-02-28T16:00:00.000Z', state: 'running' })
    const sundayNight = '2026-02-22T14:00:00.000Z' // Sunday 22:00, still in the holiday
    expect(application.apply(command('accept', DEPT), sundayNight).map((r) => r.view.status)).toEqual(['accepted'])
    expect(application.view(sundayNight).deadlines.find((d) => d.kind === 'promised')).toMatchObject({ dueAt: '2026-02-28T16:00:00.000Z' })
  })

  it('refuses without changing anything: wrong role, wrong organisation, wrong state', () => {
    const { application } = submitted()
    const before = JSON.stringify(application.state)
    expect(refusalOf(() => application.apply(command('accept', { organizationId: 'gz', role: 'supervisor' }), AT))).toBe('forbidden')
    expect(refusalOf(() => application.apply(command('accept', { organizationId: 'gz-hr', role: 'department' }), AT))).toBe('forbidden')
    expect(refusalOf(() => application.apply(command('approve', DEPT), AT))).toBe('invalid_transition')
    expect(refusalOf(() => application.apply(command('request_supplement', WINDOW, { missing: ['passport'], note: 'x' }), AT))).toBe('validation_failed')
    expect(JSON.stringify(application.state)).toBe(before)
  })

  it('decides instant items on the spot, but not when a required material is missing', () => {
    const instant = submitted(testGuide({ processing: 'instant' }))
    expect(instant.recorded.map((r) => r.event.type)).toEqual(['submitted', 'accepted', 'approved'])
    expect(instant.application.view(AT).deadlines.map((d) => [d.kind, d.state])).toContainEqual(['result', 'running'])
    const incomplete = ApplicationCase.submit({
      id: 'A-2', guide: testGuide({ processing: 'instant' }), actor: WINDOW, calendar: calendarWith(), at: AT,
      submission: { ...newApplication('A-2').submission, materials: [] },
    })
    expect(incomplete.application.state.status).toBe('submitted')
    expect(incomplete.application.state.missingMaterials).toEqual(['form'])
  })

  it('rule 20: approves automatically when the item\'s JSONLogic rule holds', () => {
    const rule = { '==': [{ var: 'applicant.type' }, 'person'] }
    const yes = submitted(testGuide({ autoApprove: rule }))
    expect(yes.application.state.status).toBe('approved')
    expect(yes.recorded[2]!.event.actor).toMatchObject({ organizationId: 'system' })
    const no = submitted(testGuide({ autoApprove: { '==': [{ var: 'applicant.type' }, 'enterprise'] } }))
    expect(no.application.state.status).toBe('submitted')
  })

  it('restarts the acceptance clock when the supplement arrives', () => {
    const { application } = submitted()
    application.apply(command('request_supplement', WINDOW, { missing: ['form'], note: 'sign it' }), AT)
    application.apply(command('supplement', WINDOW, { materials: [{ code: 'form', ref: 'doc://2' }] }), '2026-03-04T02:00:00.000Z')
    const acceptance = application.view('2026-03-04T02:00:00.000Z').deadlines.find((d) => d.key === 'acceptance')!
    expect(acceptance.dueAt).toBe('2026-03-11T16:00:00.000Z')
  })

  it('rule 5: deems the case accepted when the acceptance deadline passes, with clocks from submission', () => {
    const { application } = submitted()
    const wake = application.nextWakeMs()!
    expect(new Date(wake).toISOString()).toBe('2026-03-06T16:00:00.000Z') // warning: one working day before
    // The acceptance deadline ends in deemed acceptance, not in a warning to anyone.
    expect(application.advance('2026-03-06T16:00:00.000Z')).toEqual([])
    const recorded = application.advance('2026-03-09T16:00:00.000Z')
    expect(recorded.map((r) => r.event.type)).toEqual(['deemed_accepted'])
    expect(recorded[0]!.event.data).toEqual({ clockStart: AT })
  })
})
