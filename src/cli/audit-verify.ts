import cliProgress from 'cli-progress'
import { auditPassed, type AuditProgress, type AuditReport, verifyAudit, type VerifyOptions } from '../audit/verify.ts'

const PHASE_LABELS: Record<AuditProgress['phase'], string> = { histories: 'replaying histories', chains: 'checking hash chains' }

/**
 * `banjian audit verify`: runs the checks with a progress bar when stderr is a terminal, prints
 * the summary and every failure, and returns the exit code (0 verified; 1 anything failed, or
 * the case named has nothing to verify).
 */
export async function runAuditVerify(options: Omit<VerifyOptions, 'onProgress'>, out: (line: string) => void = console.log): Promise<number> {
  const progress = process.stderr.isTTY ? progressBars() : undefined
  let report: AuditReport
  try {
    report = await verifyAudit({ ...options, ...(progress ? { onProgress: progress.update } : {}) })
  } finally {
    progress?.stop()
  }
  if (options.caseId !== undefined && report.chains.cases === 0 && report.histories.checked === 0) {
    out(`no case ${options.caseId}: nothing to verify`)
    return 1
  }
  for (const line of describeReport(report)) out(line)
  return auditPassed(report) ? 0 : 1
}

/** One bar per phase, replaced when the phase changes. */
function progressBars() {
  let bar: cliProgress.SingleBar | undefined
  let phase: AuditProgress['phase'] | undefined
  return {
    update(p: AuditProgress) {
      if (p.phase !== phase) {
        bar?.stop()
        phase = p.phase
        bar = new cliProgress.SingleBar({
          format: `${PHASE_LABELS[p.phase].padEnd(21)} [{bar}] {value}/{total}`, stream: process.stderr, hideCursor: true,
        }, cliProgress.Presets.shades_classic)
        bar.start(p.total, p.done)
      } else {
        bar?.update(p.done)
      }
    },
    stop: () => bar?.stop(),
  }
}

/** The summary, then each failure on a line of its own. */
export function describeReport(report: AuditReport): string[] {
  const { histories, chains } = report
  const lines = [
    `histories: ${histories.checked} replayed against the current workflow code, ${histories.failed.length} failed`,
    `hash chains: ${chains.cases} cases, ${chains.events} events, ${chains.broken.length} problems`,
  ]
  for (const f of histories.failed) lines.push(`FAILED replay ${f.workflowId} (run ${f.runId}): ${f.error}`)
  for (const b of chains.broken) lines.push(`BROKEN chain ${b.caseId} at seq ${b.seq}: ${b.problem}`)
  lines.push(auditPassed(report) ? 'audit verified' : 'audit FAILED')
  return lines
}
