import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NotificationSender } from '../../src/activities/notifications.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import type { Notice } from '../../src/domain/notices.ts'
import { applicationBody, call, type Directory, seedDirectory } from '../support/fixtures.ts'
import { startTestSystem, type TestSystem } from '../support/system.ts'

// Applicants are told of a suspension, the extension, a refusal with its reason, and the result,
// by the dispatcher the system starts with its workers, through the sender it was given.

const received: Notice[] = []
let failNext = 1
const sender: NotificationSender = {
  async send(notice) {
    // The gateway is down for the very first notice: it still arrives, once.
    if (failNext-- > 0) throw new Error('sms gateway unavailable')
    received.push(notice)
  },
}

let sys: TestSystem
let dir: Directory
beforeAll(async () => {
  sys = await startTestSystem({ notifications: { sender, intervalMs: 100, backoff: { initialMs: 200, maxMs: 1_000 } } })
  dir = await seedDirectory(sys.app)
})
afterAll(async () => sys?.stop())

async function caseThrough(actions: Array<Record<string, unknown>>): Promise<string> {
  const created = await call(sys.app, dir.windowKey, 'POST', '/v1/applications', applicationBody())
  const id = (created.body as CaseView).id
  for (const action of actions) {
    const key = action.action === 'deliver' ? dir.windowKey : dir.departmentKey
    const r = await call(sys.app, key, 'POST', `/v1/cases/${id}/actions`, action)
    expect(r.status, JSON.stringify(r.body)).toBe(200)
  }
  return id
}

const noticesOf = async (id: string, count: number) => {
  await expect.poll(() => received.filter((n) => n.caseId === id).length, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(count)
  // A retried notice may arrive after a later one: in the order of their events.
  return received.filter((n) => n.caseId === id).sort((a, b) => a.seq - b.seq).map((n) => [n.type, n.details])
}

describe('notices to applicants, end to end', () => {
  it('tells the applicant of a suspension, the extension and a denial with its reason, each once', async () => {
    const id = await caseThrough([
      { action: 'accept' },
      { action: 'suspend', reason: 'inspection', note: 'site visit on Monday' },
      { action: 'resume' },
      { action: 'extend', workingDays: 5, approvedBy: 'Director Chen', reason: 'complex premises' },
      { action: 'deny', reason: 'fire safety conditions not met' },
      { action: 'deliver', method: 'mail' },
    ])
    const notices = await noticesOf(id, 3)
    expect(notices).toEqual([
      ['suspended', { reason: 'inspection', note: 'site visit on Monday', statutoryPaused: true }],
      ['extended', { workingDays: 5, reason: 'complex premises', newDueAt: expect.any(String) }],
      ['denied', { reason: 'fire safety conditions not met' }],
    ])
    const rows = (await sys.db.database.pool.query('SELECT type, attempts, sent_at FROM notification_outbox WHERE case_id = $1 ORDER BY event_seq', [id])).rows
    expect(rows.map((r) => r.type)).toEqual(['suspended', 'extended', 'denied'])
    expect(rows.every((r) => r.sent_at !== null)).toBe(true)
  })

  it('tells the applicant why an application is not accepted, and when the result is ready', async () => {
    const rejected = await caseThrough([{ action: 'reject', reason: 'not competent: apply to the district' }])
    expect(await noticesOf(rejected, 1)).toEqual([['rejected', { reason: 'not competent: apply to the district' }]])
    const issued = await caseThrough([{ action: 'accept' }, { action: 'approve' }, { action: 'issue_result', certificateNo: 'GZ-9' }, { action: 'deliver', method: 'window' }])
    expect(await noticesOf(issued, 1)).toEqual([['result_issued', { certificateNo: 'GZ-9', collectAt: 'gz-center' }]])
    const notice = received.find((n) => n.caseId === issued)!
    expect(notice).toMatchObject({ id: expect.stringMatching(new RegExp(`^${issued}:\\d+$`)), recipient: { name: '张三', idNumber: '440106199001011234' } })
  })

  it('sends no notice twice, the one that failed first included', async () => {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const ids = received.map((n) => n.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(failNext).toBeLessThan(0)
    const failed = (await sys.db.database.pool.query("SELECT count(*)::int AS n FROM notification_outbox WHERE attempts > 1 AND last_error LIKE '%sms gateway unavailable%' AND sent_at IS NOT NULL")).rows[0].n
    expect(failed).toBe(1)
  })
})
