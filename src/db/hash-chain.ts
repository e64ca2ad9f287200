import { createHash } from 'node:crypto'
import type { CaseEvent } from '../domain/case-view.ts'

export const GENESIS_HASH = '0'.repeat(64)

/** JSON with object keys sorted, so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
}

/** The hash of an event: over the previous event's hash and the event's own content. */
export function eventHash(prevHash: string, caseId: string, event: CaseEvent): string {
  const content = canonicalJson({ caseId, seq: event.seq, at: event.at, type: event.type, actor: event.actor, data: event.data })
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex')
}
