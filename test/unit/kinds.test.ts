import { describe, expect, it } from 'vitest'
import { APPLICATION_ACTIONS } from '../../src/domain/application/actions.ts'
import { isOpenApplication } from '../../src/domain/application/application-case.ts'
import { COMPLAINT_ACTIONS } from '../../src/domain/complaint/actions.ts'
import { FULFILMENT_ACTIONS } from '../../src/domain/fulfilment/actions.ts'
import { ESCALATION_ACTIONS } from '../../src/domain/escalation/actions.ts'
import { isOpenEscalation } from '../../src/domain/escalation/escalation-case.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { ACTION_NAMES, CASE_KIND_DEFINITIONS, kindDefinition, kindsTaking } from '../../src/domain/kinds.ts'

// The kind registry (src/domain/kinds.ts): what the edges and the read side ask of a kind.

const view = (fields: Partial<CaseView>) => ({ handlingOrganizationId: 'gz-amr', status: 'accepted', ...fields }) as CaseView

describe('the kind registry', () => {
  it('has the application, with its actions and its own meaning of "open"', () => {
    const application = kindDefinition('application')
    expect(application).toBe(CASE_KIND_DEFINITIONS.application)
    expect(application?.kind).toBe('application')
    expect(application?.actions).toBe(APPLICATION_ACTIONS)
    expect(application?.isOpen).toBe(isOpenApplication)
    expect(application?.isOpen(view({ status: 'withdrawn' }))).toBe(false)
  })

  it('has the escalation, with its actions, its meaning of "open" and its participants (owner and every assignee)', () => {
    const escalation = kindDefinition('escalation')
    expect(escalation).toBe(CASE_KIND_DEFINITIONS.escalation)
    expect(escalation?.kind).toBe('escalation')
    expect(escalation?.actions).toBe(ESCALATION_ACTIONS)
    expect(escalation?.isOpen).toBe(isOpenEscalation)
    const assignments = [{ organizationId: 'gz-amr', at: 'x' }, { organizationId: 'gz-hr', at: 'y' }, { organizationId: 'gz-amr', at: 'z' }]
    expect(escalation?.participants(view({ ownerOrganizationId: 'gz-center', assignments }))).toEqual(['gz-center', 'gz-amr', 'gz-hr'])
    expect(escalation?.participants(view({ ownerOrganizationId: 'gz-center' }))).toEqual(['gz-center'])
  })

  it('knows the four kinds and no other, and nothing inherited', () => {
    expect(Object.keys(CASE_KIND_DEFINITIONS)).toEqual(['application', 'complaint', 'escalation', 'fulfilment'])
    for (const name of ['nothing', 'toString', '__proto__', 'constructor']) expect(kindDefinition(name)).toBeUndefined()
  })

  it('makes the handling organisation and every organisation asked for an opinion participants', () => {
    const { participants } = kindDefinition('application')!
    expect(participants(view({}))).toEqual(['gz-amr'])
    expect(participants(view({ opinions: [] }))).toEqual(['gz-amr'])
    expect(participants(view({
      opinions: [{ organizationId: 'gz-hr', requestedAt: 'x' }, { organizationId: 'gz-tax', requestedAt: 'x', givenAt: 'y', agree: true, opinion: 'ok' }],
    }))).toEqual(['gz-amr', 'gz-hr', 'gz-tax'])
  })

  it('lists every action name of every kind once, and the kinds taking each', () => {
    expect([...ACTION_NAMES].sort()).toEqual([...new Set([
      ...Object.keys(APPLICATION_ACTIONS), ...Object.keys(COMPLAINT_ACTIONS), ...Object.keys(ESCALATION_ACTIONS),
      ...Object.keys(FULFILMENT_ACTIONS),
    ])].sort())
    expect(new Set(ACTION_NAMES).size).toBe(ACTION_NAMES.length)
    expect(kindsTaking('accept').map((d) => d.kind)).toEqual(['application', 'escalation'])
    expect(kindsTaking('verify').map((d) => d.kind)).toEqual(['fulfilment'])
    expect(kindsTaking('reject').map((d) => d.kind)).toEqual(['application', 'escalation', 'fulfilment'])
    expect(kindsTaking('assign').map((d) => d.kind)).toEqual(['escalation'])
    expect(kindsTaking('rate').map((d) => d.kind)).toEqual(['application'])
    expect(kindsTaking('supervise').map((d) => d.kind)).toEqual(['application', 'complaint', 'escalation', 'fulfilment'])
    expect(kindsTaking('respond').map((d) => d.kind)).toEqual(['complaint', 'escalation'])
    expect(kindsTaking('dispatch').map((d) => d.kind)).toEqual(['complaint'])
    expect(kindsTaking('fly')).toEqual([])
    expect(kindsTaking('toString')).toEqual([])
  })
})
