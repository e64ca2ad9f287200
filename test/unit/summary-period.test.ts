import { describe, expect, it } from 'vitest'
import { periodSpans } from '../../src/db/summary.ts'

// A summary period reads whole months from the month rows and only its edges from the day rows;
// every day of the period must be covered exactly once.

/** Every day the spans cover, a month's as all of its days. */
function coveredDays(spans: ReturnType<typeof periodSpans>): string[] {
  const days: string[] = []
  const each = (first: string, last: string) => {
    for (let ms = Date.parse(first); ms <= Date.parse(last); ms += 86_400_000) days.push(new Date(ms).toISOString().slice(0, 10))
  }
  if (spans.months) {
    const [first, last] = spans.months
    const lastDay = new Date(Date.UTC(Number(last.slice(0, 4)), Number(last.slice(5, 7)), 0)).toISOString().slice(0, 10)
    each(first, lastDay)
  }
  for (const [first, last] of spans.days) each(first, last)
  return days.sort()
}

describe('periodSpans', () => {
  it.each([
    ['2026-03-01', '2026-03-31', { months: ['2026-03-01', '2026-03-01'], days: [] }],
    ['2026-03-01', '2026-03-30', { days: [['2026-03-01', '2026-03-30']] }],
    ['2026-03-15', '2026-04-10', { days: [['2026-03-15', '2026-04-10']] }],
    ['2025-12-05', '2026-12-04', { months: ['2026-01-01', '2026-11-01'], days: [['2025-12-05', '2025-12-31'], ['2026-12-01', '2026-12-04']] }],
    ['2024-02-01', '2024-02-29', { months: ['2024-02-01', '2024-02-01'], days: [] }],
    ['2026-03-05', '2026-03-05', { days: [['2026-03-05', '2026-03-05']] }],
  ])('%s..%s', (from, to, expected) => {
    const spans = periodSpans(from, to)
    expect(spans).toEqual(expected)
    const days = coveredDays(spans)
    expect(days[0]).toBe(from)
    expect(days.at(-1)).toBe(to)
    expect(new Set(days).size).toBe(days.length)
    expect(days.length).toBe((Date.parse(to) - Date.parse(from)) / 86_400_000 + 1)
  })
})
