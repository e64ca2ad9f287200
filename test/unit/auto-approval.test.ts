import { describe, expect, it } from 'vitest'
import { approvalFacts, autoApproveProblems, sampleFacts } from '../../src/domain/application/auto-approval.ts'
import { testGuide } from '../support/time-skipping.ts'

// What an item's auto-approval rule sees of an application, and how a rule is checked when saved
// (src/domain/application/auto-approval.ts).

const guide = testGuide({
  channels: ['window', 'online'],
  materials: [{ code: 'form', name: 'Form', required: true }, { code: 'photo', name: 'Photo', required: false }],
})

describe('approvalFacts', () => {
  it('shows the applicant, channel, priority and the codes of the materials, nothing else', () => {
    const applicant = { type: 'person' as const, name: '李四', idNumber: '440106198805052345' }
    expect(approvalFacts({
      applicant, channel: 'online', priority: { greenChannel: true, urgent: false },
      materials: [{ code: 'form', ref: 'doc://1', source: 'shared' } as { code: string }, { code: 'photo' }],
    })).toEqual({ applicant, channel: 'online', priority: { greenChannel: true, urgent: false }, materials: ['form', 'photo'] })
  })
})

describe('sampleFacts', () => {
  it('are complete applications by a person and an enterprise, on each channel, with every material and with the required ones', () => {
    const samples = sampleFacts(guide)
    expect(samples.map((s) => [s.applicant.type, s.channel, s.materials])).toEqual([
      ['person', 'window', ['form', 'photo']], ['person', 'window', ['form']],
      ['person', 'online', ['form', 'photo']], ['person', 'online', ['form']],
      ['enterprise', 'window', ['form', 'photo']], ['enterprise', 'window', ['form']],
      ['enterprise', 'online', ['form', 'photo']], ['enterprise', 'online', ['form']],
    ])
    expect(samples[0]).toEqual({
      applicant: { type: 'person', name: '张三', idNumber: '440106199001011234', phone: '13800000000' },
      channel: 'window', priority: { greenChannel: false, urgent: false }, materials: ['form', 'photo'],
    })
    expect(samples[4]!.applicant).toEqual({ type: 'enterprise', name: '示例有限公司', idNumber: '91440101MA00000000' })
  })
})

describe('autoApproveProblems', () => {
  it('finds none in a rule that evaluates on every sample', () => {
    expect(autoApproveProblems({ and: [{ '==': [{ var: 'applicant.type' }, 'person'] }, { in: ['photo', { var: 'materials' }] }] }, guide)).toEqual([])
  })

  it('reports a rule as written first, with the path of the bad part', () => {
    expect(autoApproveProblems({ and: [{ no_such_op: [1] }] }, guide)).toEqual([
      { path: '/and/0/no_such_op', message: expect.stringMatching(/^unknown operation "no_such_op"/) },
    ])
  })

  it('then a rule that fails on a sample application, naming the first such sample', () => {
    // missing_some over something that is not there throws: an enterprise has no phone; nothing has `nothing`.
    const byEnterprise = { if: [{ '==': [{ var: 'applicant.type' }, 'enterprise'] }, { missing_some: [1, { var: 'applicant.phone' }] }, true] }
    expect(autoApproveProblems(byEnterprise, guide)).toEqual([{
      path: '', message: expect.stringMatching(/^the rule cannot be evaluated: .+ \(on a sample application by a enterprise on channel window\)$/),
    }])
    const online = { if: [{ '==': [{ var: 'channel' }, 'online'] }, { missing_some: [1, { var: 'nothing' }] }, true] }
    expect(autoApproveProblems(online, guide)[0]?.message).toMatch(/\(on a sample application by a person on channel online\)$/)
  })
})
