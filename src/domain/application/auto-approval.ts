import type { Applicant } from '../case-view.ts'
import { type Rule, ruleEvaluationProblem, ruleProblems, type RuleProblem } from '../rules.ts'
import type { Guide } from '../service-item.ts'
import type { ApplicationSubmission } from './application-case.ts'

/** What an item's auto-approval rule sees of an application: `{"var": "applicant.type"}`, … */
export function approvalFacts(submission: Pick<ApplicationSubmission, 'applicant' | 'channel' | 'priority'> & {
  materials: ReadonlyArray<{ code: string }>
}) {
  return {
    applicant: submission.applicant,
    channel: submission.channel,
    priority: submission.priority,
    materials: submission.materials.map((m) => m.code),
  }
}

const SAMPLE_APPLICANTS: Applicant[] = [
  { type: 'person', name: '张三', idNumber: '440106199001011234', phone: '13800000000' },
  { type: 'enterprise', name: '示例有限公司', idNumber: '91440101MA00000000' },
]

/**
 * Complete applications an item could receive (each kind of applicant, on each of its channels,
 * with every material and with the required ones only), as its rule would see them.
 */
export function sampleFacts(guide: Pick<Guide, 'channels' | 'materials'>): Array<ReturnType<typeof approvalFacts>> {
  const everything = guide.materials.map((m) => ({ code: m.code }))
  const required = guide.materials.filter((m) => m.required).map((m) => ({ code: m.code }))
  return SAMPLE_APPLICANTS.flatMap((applicant) => guide.channels.flatMap((channel) => [everything, required].map((materials) =>
    approvalFacts({ applicant, channel, priority: { greenChannel: false, urgent: false }, materials }))))
}

/** Problems with an auto-approval rule: as written (with the bad operator's path), then on sample applications. */
export function autoApproveProblems(rule: Rule, guide: Pick<Guide, 'channels' | 'materials'>): RuleProblem[] {
  const written = ruleProblems(rule)
  if (written.length > 0) return written
  for (const facts of sampleFacts(guide)) {
    const problem = ruleEvaluationProblem(rule, facts)
    if (problem) return [{ path: '', message: `${problem} (on a sample application by a ${facts.applicant.type} on channel ${facts.channel})` }]
  }
  return []
}
