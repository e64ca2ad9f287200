import type { Client } from '@temporalio/client'
import cliProgress from 'cli-progress'
import { auditPassed, type AuditProgress, type AuditReport, verifyAudit, type VerifyOptions } from '../audit/verify.ts'
import { connectClient, type TemporalTarget } from '../infra/temporal.ts'

const PHASE_LABELS: Record<AuditProgress['phase'], string> = {
  histories: 'replaying histories', chains: 'checking hash chains', 'read side': 'comparing read side',
}

export interface AuditVerifyOptions extends Omit<VerifyOptions, 'onProgress' | 'client'> {
  /** The cluster the cases run on, to compare each read side with its workflow; without it, they are not compared. */
  temporal?: TemporalTarget
}

/**
 * `banjian audit verify`: runs the checks with a progress bar when stderr is a terminal, prints
 * the summary and every failure, and returns the exit code (0 verified; 1 anything failed, the
 * case named has nothing to verify, or the cluster to compare the read side with cannot be reached).
 */
export async function runAuditVerify(options: AuditVerifyOptions, out: (line: string) => void = console.log): Promise<number> {
  const { temporal, ...verify } = options
  let client: Client | undefined
  if (temporal) {
    try {
      client = await connectClient(temporal, verify.dataConverter, { connectTimeout: '5 seconds' })
    } catch (err) {
      out(`cannot reach Temporal at ${temporal.address} to compare the read side with the workflows (${err instanceof Error ? err.message : String(err)}); `
        + 'start banjian, or pass --skip-read-side')
      return 1
    }
  }
  const progress = process.stderr.isTTY ? progressBars() : undefined
  let report: AuditReport
  try {
    report = await verifyAudit({ ...verify, ...(client ? { client } : {}), ...(progress ? { onProgress: progress.update } : {}) })
  } finally {
    progress?.stop()
    await client?.connection.close()
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
  const { readSide } = report
  lines.push(readSide
    ? `read side: ${readSide.cases} cases against their workflows, ${readSide.lagging.length} lagging, ${readSide.unverified.length} unverifiable`
    : 'read side: not compared (no Temporal cluster to compare with)')
  for (const f of histories.failed) lines.push(`FAILED replay ${f.workflowId} (run ${f.runId}): ${f.error}`)
  for (const b of chains.broken) lines.push(`BROKEN chain ${b.caseId} at seq ${b.seq}: ${b.problem}`)
  for (const l of readSide?.lagging ?? []) {
    const how = l.readSeq < l.workflowSeq ? 'behind' : 'ahead of'
    lines.push(`LAGGING ${l.caseId}: the read side's last event is ${l.readSeq}, ${how} its workflow's ${l.workflowSeq} (from its ${l.source})`)
  }
  for (const u of readSide?.unverified ?? []) lines.push(`UNVERIFIED ${u.caseId}: ${u.problem}`)
  lines.push(auditPassed(report) ? 'audit verified' : 'audit FAILED')
  return lines
}
