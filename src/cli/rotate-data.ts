import cliProgress from 'cli-progress'
import type { Database } from '../db/client.ts'
import { rotateDataKeys, type RotationProgress } from '../db/rotate-data.ts'

/**
 * `banjian keys rotate-data`: re-seals personal data under the current data key, with a progress
 * bar per table when stderr is a terminal, then says what was rewritten and whether the older keys
 * can be dropped from BANJIAN_DATA_KEYS (they still open Temporal's payloads of running cases and
 * archived histories, which are never rewritten: keep them listed while those are kept).
 */
export async function rotateDataCommand(database: Database, options: { batchSize?: number }, out: (line: string) => void): Promise<number> {
  const progress = process.stderr.isTTY ? progressBars() : undefined
  const current = database.personal.keyring.current.id
  let report
  try {
    report = await rotateDataKeys(database, { ...options, ...(progress ? { onProgress: progress.update } : {}) })
  } finally {
    progress?.stop()
  }
  for (const [table, rows] of Object.entries(report.rewritten)) out(`${table}: ${rows} rows re-sealed under key ${current}`)
  if (report.unindexed > 0) {
    out(`shared_materials: ${report.unindexed} subjects are indexed under an older key and no case names them: `
      + 'keep that key listed until their source loads them again')
  }
  return 0
}

function progressBars() {
  let bar: cliProgress.SingleBar | undefined
  let step: string | undefined
  return {
    update(p: RotationProgress) {
      if (p.step !== step) {
        bar?.stop()
        step = p.step
        bar = new cliProgress.SingleBar({
          format: `${p.step.padEnd(19)} [{bar}] {value}/{total}`, stream: process.stderr, hideCursor: true,
        }, cliProgress.Presets.shades_classic)
        bar.start(p.total, p.done)
      } else {
        bar?.update(p.done)
      }
    },
    stop: () => bar?.stop(),
  }
}
