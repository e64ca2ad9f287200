// The test clock itself: BANJIAN_TEST_EPOCH resolution, and a case submitted as of the test's "now"
// (the epoch when set) against a calendar that pins every year it touches.
import { describe, expect, it } from 'vitest'
import { ApplicationCase } from '../../src/domain/application/application-case.ts'
import { WorkingCalendar, formatInstant, parseInstant } from '../../src/domain/calendar.ts'
import { addWorkingDays } from '../../src/domain/deadline-clock.ts'
import { calendarWith, newApplication, testGuide, WINDOW } from '../support/time-skipping.ts'
import { EPOCH_LEAD_MS, resolveTestEpoch, testEpochMs, testNowMs } from '../support/test-epoch.ts'

const at = (iso: string) => parseInstant(iso)
const iso = (ms: number) => formatInstant(ms)

describe('BANJIAN_TEST_EPOCH', () => {
  it('keeps an instant that lies ahead of the real clock', () => {
    expect(resolveTestEpoch('2026-12-31T10:00:00+08:00', at('2026-12-03T13:00:00Z'))).toEqual({
      epochMs: at('2026-12-31T02:00:00Z'), movedYears: 0,
    })
  })

  it('moves a past instant forward by whole years, keeping its local date and time', () => {
    expect(resolveTestEpoch('2026-12-31T10:00:00+08:00', at('2027-03-01T00:00:00Z'))).toEqual({
      epochMs: at('2027-12-31T02:00:00Z'), movedYears: 1,
    })
    // 2027-01-01T15:59Z is 23:59 on 1 January in Guangzhou, and stays so.
    expect(iso(resolveTestEpoch('2027-01-01T15:59:00Z', at('2029-06-01T00:00:00Z')).epochMs)).toBe('2030-01-01T15:59:00.000Z')
    // 29 February becomes the 28th in a common year, and the 29th again in a leap year.
    expect(iso(resolveTestEpoch('2028-02-29T10:00:00+08:00', at('2028-03-01T00:00:00Z')).epochMs)).toBe('2029-02-28T02:00:00.000Z')
    expect(iso(resolveTestEpoch('2028-02-29T10:00:00+08:00', at('2031-03-01T00:00:00Z')).epochMs)).toBe('2032-02-29T02:00:00.000Z')
  })

  it('keeps the epoch far enough ahead for a whole run', () => {
    const now = at('2026-12-31T01:30:00Z')
    const { epochMs, movedYears } = resolveTestEpoch('2026-12-31T10:00:00+08:00', now)
    expect(movedYears).toBe(1)
    expect(epochMs - now).toBeGreaterThanOrEqual(EPOCH_LEAD_MS)
  })

  it('refuses an instant without an offset', () => {
    expect(() => resolveTestEpoch('2026-12-31T10:00:00', Date.now())).toThrow(/offset/)
  })

  it('is this run\'s "now" when set', () => {
    const epoch = testEpochMs()
    if (epoch === undefined) expect(Math.abs(testNowMs() - Date.now())).toBeLessThan(1000)
    else expect(testNowMs()).toBe(epoch)
  })
})

describe('a case submitted as of the test\'s now', () => {
  it('counts its clocks on a calendar that publishes every year they touch', () => {
    const now = iso(testNowMs())
    // Sixty working days: into the next year whenever "now" is in the last quarter.
    const guide = testGuide({ acceptanceLimit: { workingDays: 60 } })
    const calendarData = calendarWith()
    const { application } = ApplicationCase.submit({
      id: 'A-now', guide, submission: newApplication('A-now', { guide }).submission, actor: WINDOW, calendar: calendarData, at: now,
    })
    const acceptance = application.view(now).deadlines.find((d) => d.kind === 'acceptance')!
    const expected = addWorkingDays(WorkingCalendar.from(calendarData), now, 60)
    expect(acceptance).toMatchObject({ state: 'running', dueAt: expected.dueAt, provisional: false })
  })
})
