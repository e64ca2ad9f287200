import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { dispatchDueNotices, type NotificationSender, retryDelayMs } from '../../src/activities/notifications.ts'
import { createProjectionActivities } from '../../src/activities/projection.ts'
import { openDatabase, type Database } from '../../src/db/client.ts'
import { noticesWrite } from '../../src/db/notifications.ts'
import type { CaseEvent, CaseView, RecordedEvent } from '../../src/domain/case-view.ts'
import type { Notice } from '../../src/domain/notices.ts'
import { createTestDatabase, type TestDatabase, uniqueName } from '../support/system.ts'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => db?.drop())

const log = pino({ level: 'silent' })
const AT = '2026-03-02T02:00:00.000Z'
const APPLICANT = { type: 'person' as const, name: '张三', idNumber: '440106199001011234' }

const view = (id: string, status: string, version: number): CaseView => ({
  id, kind: 'application', status, version, channel: 'window', receivedBy: 'gz-center', applicant: APPLICANT,
  handlingOrganizationId: 'gz-amr', priority: { greenChannel: false, urgent: false }, overdue: false,
  deadlines: [{ kind: 'statutory', key: 'statutory', dueAt: '2026-04-13T16:00:00.000Z', warnAt: '2026-04-10T16:00:00.000Z', state: 'running', provisional: false, warned: false }],
  warned: false, flags: [], createdAt: AT, updatedAt: AT, serviceItemCode: 'ITEM-1', serviceItemVersion: 1,
})

/** submitted, accepted, suspended, resumed, extended, denied: three of them owe the applicant a notice. */
function lifecycle(id: string): RecordedEvent[] {
  const steps: Array<[string, string, Record<string, unknown>]> = [
    ['submitted', 'submitted', {}],
    ['accepted', 'accepted', { clockStart: AT }],
    ['suspended', 'suspended', { reason: 'inspection', note: 'site visit' }],
    ['resumed', 'accepted', {}],
    ['extended', 'accepted', { workingDays: 5, approvedBy: 'Director Chen', reason: 'complex case' }],
    ['denied', 'denied', { reason: 'conditions not met' }],
  ]
  return steps.map(([type, status, data], i) => {
    const event: CaseEvent = { seq: i + 1, at: AT, type, actor: { organizationId: 'gz-amr', role: 'department' }, data }
    return { event, view: view(id, status, i + 1) }
  })
}

const outbox = async (caseId: string) => (await db.database.pool.query(
  'SELECT id, type, event_seq, attempts, sent_at, last_error, next_attempt_at > now() AS later, notice FROM notification_outbox WHERE case_id = $1 ORDER BY event_seq',
  [caseId])).rows as Array<{ id: string; type: string; event_seq: number; attempts: number; sent_at: Date | null; last_error: string | null; later: boolean; notice: Notice }>

/** A sender that records what it sent, failing as `fail` says. */
function fakeSender(fail: (notice: Notice, attempt: number) => boolean = () => false, delayMs = 0) {
  const attempts = new Map<string, number>()
  const sent: string[] = []
  const keys: string[] = []
  const sender: NotificationSender = {
    async send(notice, { idempotencyKey }) {
      const attempt = (attempts.get(notice.id) ?? 0) + 1
      attempts.set(notice.id, attempt)
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
      if (fail(notice, attempt)) throw new Error(`gateway down (attempt ${attempt}) \u0000`)
      sent.push(notice.id)
      keys.push(idempotencyKey)
    },
  }
  return { sender, sent, keys, attempts }
}

describe('the notification outbox', () => {
  it('writes one row per notice, in the projection transaction, even when the projection runs twice', async () => {
    const activities = createProjectionActivities({ database: db.database })
    const id = uniqueName('A-')
    const recorded = lifecycle(id)
    await activities.recordCaseEvents({ caseId: id, recorded })
    await activities.recordCaseEvents({ caseId: id, recorded })
    const other = uniqueName('A-')
    await Promise.all([1, 2, 3].map(() => activities.recordCaseEvents({ caseId: other, recorded: lifecycle(other) })))
    for (const caseId of [id, other]) {
      const rows = await outbox(caseId)
      expect(rows.map((r) => [r.id, r.type, r.event_seq])).toEqual([
        [`${caseId}:3`, 'suspended', 3], [`${caseId}:5`, 'extended', 5], [`${caseId}:6`, 'denied', 6],
      ])
    }
    // Replayed straight into the outbox, the same events add nothing either.
    await db.database.db.transaction(async (tx) => {
      await tx.execute(noticesWrite(tx, db.database.personal, id, recorded)!)
    })
    expect(await outbox(id)).toHaveLength(3)
  })

  it('tells the applicant why: the suspension, the extension with its new deadline, the refusal with its reason', async () => {
    const activities = createProjectionActivities({ database: db.database })
    const id = uniqueName('A-')
    await activities.recordCaseEvents({ caseId: id, recorded: lifecycle(id) })
    const stored = (await outbox(id)).map((r) => r.notice)
    // The outbox keeps the recipient's identity number sealed; the dispatcher opens it for the sender.
    expect(JSON.stringify(stored)).not.toContain(APPLICANT.idNumber)
    const notices = stored.map((n) => db.database.personal.open(n))
    expect(notices.map((n) => [n.type, n.recipient, n.details])).toEqual([
      ['suspended', APPLICANT, { reason: 'inspection', note: 'site visit' }],
      ['extended', APPLICANT, { workingDays: 5, reason: 'complex case', newDueAt: '2026-04-13T16:00:00.000Z' }],
      ['denied', APPLICANT, { reason: 'conditions not met' }],
    ])
    expect(notices[2]!.text).toContain('conditions not met')
  })

  it('retries a failed send after a growing wait, keeping the error, until it goes out once', async () => {
    const activities = createProjectionActivities({ database: db.database })
    const id = uniqueName('A-')
    await activities.recordCaseEvents({ caseId: id, recorded: lifecycle(id) })
    const flaky = `${id}:3`
    const fake = fakeSender((notice, attempt) => notice.id === flaky && attempt <= 2)
    const backoff = { initialMs: 60_000, maxMs: 600_000 }
    const dispatch = () => dispatchDueNotices({ database: db.database, sender: fake.sender, log, backoff })
    const row = async () => (await db.database.pool.query(
      'SELECT attempts, sent_at, last_error, extract(epoch FROM next_attempt_at - now()) AS wait_s FROM notification_outbox WHERE id = $1',
      [flaky])).rows[0] as { attempts: number; sent_at: Date | null; last_error: string | null; wait_s: string }
    // Time passing, without waiting for it: the notice falls due now.
    const fallDue = () => db.database.pool.query('UPDATE notification_outbox SET next_attempt_at = now() WHERE id = $1', [flaky])

    expect(await dispatch()).toMatchObject({ failed: 1 })
    let state = await row()
    expect(state).toMatchObject({ attempts: 1, sent_at: null })
    expect(state.last_error).toContain('gateway down (attempt 1)')
    expect(Number(state.wait_s)).toBeGreaterThan(50)
    expect(Number(state.wait_s)).toBeLessThanOrEqual(60)
    // Not due yet: the next round leaves it alone.
    await dispatch()
    expect(fake.attempts.get(flaky)).toBe(1)

    await fallDue()
    expect(await dispatch()).toMatchObject({ failed: 1 })
    state = await row()
    expect(state).toMatchObject({ attempts: 2, sent_at: null })
    expect(state.last_error).toContain('gateway down (attempt 2)')
    expect(Number(state.wait_s)).toBeGreaterThan(110)
    expect(Number(state.wait_s)).toBeLessThanOrEqual(120)

    await fallDue()
    expect(await dispatch()).toMatchObject({ sent: 1, failed: 0 })
    state = await row()
    expect(state.attempts).toBe(3)
    expect(state.sent_at).not.toBeNull()
    expect(state.last_error).toContain('gateway down (attempt 2)')
    expect(fake.sent.filter((s) => s === flaky)).toHaveLength(1)
    expect(fake.keys).toEqual(fake.sent)
    // Sent means done: later rounds send nothing again, even once it is "due".
    await fallDue()
    await dispatch()
    expect(fake.sent.filter((s) => s.startsWith(`${id}:`)).sort()).toEqual([`${id}:3`, `${id}:5`, `${id}:6`])
  })

  it('waits twice as long after each failure, up to the ceiling', () => {
    const backoff = { initialMs: 1_000, maxMs: 30_000 }
    expect([1, 2, 3, 4, 5, 6, 100].map((n) => retryDelayMs(n, backoff))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000])
  })

  it('sends each notice once when two dispatchers on their own connections run at the same time', async () => {
    const activities = createProjectionActivities({ database: db.database })
    const ids = Array.from({ length: 20 }, () => uniqueName('A-'))
    for (const id of ids) await activities.recordCaseEvents({ caseId: id, recorded: lifecycle(id) })
    const expected = ids.flatMap((id) => [`${id}:3`, `${id}:5`, `${id}:6`]).sort()
    const second: Database = openDatabase({ url: inject('databaseUrl'), schemaName: db.schemaName, max: 2, keyring: db.database.personal.keyring })
    try {
      // Both connected before either starts, so that both get work.
      await Promise.all([db.database.pool.query('SELECT 1'), second.pool.query('SELECT 1')])
      const one = fakeSender(() => false, 5)
      const two = fakeSender(() => false, 5)
      const counts = await Promise.all([
        dispatchDueNotices({ database: db.database, sender: one.sender, log, batchSize: 4 }),
        dispatchDueNotices({ database: second, sender: two.sender, log, batchSize: 4 }),
      ])
      const all = [...one.sent, ...two.sent].filter((s) => expected.includes(s)).sort()
      expect(all).toEqual(expected)
      expect(one.sent.length).toBeGreaterThan(0)
      expect(two.sent.length).toBeGreaterThan(0)
      expect(counts[0].sent + counts[1].sent).toBe(one.sent.length + two.sent.length)
      const rows = await db.database.pool.query('SELECT attempts, sent_at IS NOT NULL AS sent FROM notification_outbox WHERE id = ANY($1)', [expected])
      expect(rows.rows).toEqual(expected.map(() => ({ attempts: 1, sent: true })))
    } finally {
      await second.close()
    }
  })
})
