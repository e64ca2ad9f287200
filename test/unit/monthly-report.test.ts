import { describe, expect, it } from 'vitest'
import { WorkingCalendar } from '../../src/domain/calendar.ts'
import {
  dueMonth, firstWorkingDay, monthPeriod, type MonthlyReport, previousMonth, reportCsv, reportHtml, type ReportFigures,
} from '../../src/domain/monthly-report.ts'
import { officialCalendarData } from '../../src/domain/official-calendar.ts'

// 2025 as the State Council published it: the Spring Festival from 28 January to 4 February, the
// National Day holiday from 1 to 8 October. Pinned: these are published years.
const calendar = WorkingCalendar.from(officialCalendarData())
const shanghai = (local: string) => Date.parse(`${local}+08:00`)

describe('the monthly report\'s months', () => {
  it('spans a month from its first to its last calendar day, leap years and December included', () => {
    expect(monthPeriod('2024-02')).toEqual({ from: '2024-02-01', to: '2024-02-29' })
    expect(monthPeriod('2025-02')).toEqual({ from: '2025-02-01', to: '2025-02-28' })
    expect(monthPeriod('2025-12')).toEqual({ from: '2025-12-01', to: '2025-12-31' })
    expect(previousMonth('2026-01')).toBe('2025-12')
    expect(previousMonth('2025-10')).toBe('2025-09')
    for (const bad of ['2025-13', '2025-00', '2025-1', '25-01', '2025-01-01', '1999-12']) expect(() => monthPeriod(bad)).toThrow(RangeError)
  })

  it('rule 33: starts on the first working day by the official calendar: after holidays and weekends, on the 1st when it works', () => {
    expect(firstWorkingDay('2025-10', calendar)).toBe('2025-10-09') // National Day, 1–8 October
    expect(firstWorkingDay('2025-02', calendar)).toBe('2025-02-05') // Spring Festival to the 4th
    expect(firstWorkingDay('2025-03', calendar)).toBe('2025-03-03') // the 1st a Saturday
    expect(firstWorkingDay('2025-12', calendar)).toBe('2025-12-01') // a Monday
  })

  it('is due for the previous month from the next month\'s first working day on, in Shanghai', () => {
    // 9 October 2025, the first working day: September's is due. The day before, August's still.
    expect(dueMonth(shanghai('2025-10-09T00:00:00'), calendar)).toBe('2025-09')
    expect(dueMonth(shanghai('2025-10-08T23:59:59'), calendar)).toBe('2025-08')
    expect(dueMonth(shanghai('2025-10-01T09:00:00'), calendar)).toBe('2025-08')
    // Midnight in Shanghai is 16:00 UTC the day before.
    expect(dueMonth(Date.parse('2025-12-01T00:00:00+08:00'), calendar)).toBe('2025-11')
    expect(dueMonth(Date.parse('2025-11-30T15:59:59Z'), calendar)).toBe('2025-10')
    expect(dueMonth(shanghai('2026-01-05T10:00:00'), calendar)).toBe('2025-12')
  })
})

const figures = (over: Partial<ReportFigures> = {}): ReportFigures => ({
  open: 3, warned: 1, overdue: 0, completed: 8, completedOnTime: 7, onTimeRate: 0.875, earlyCompletionRate: 0.5, averageWorkingDays: 4.25,
  ratings: { 1: 0, 2: 1, 3: 2, 4: 2, 5: 3 }, supervisionsOpen: 1, ...over,
})
const report: MonthlyReport = {
  month: '2025-09', version: 2, from: '2025-09-01', to: '2025-09-30', producedAt: '2025-10-09T01:00:00.000Z', producedBy: 'schedule',
  organizations: [
    { organizationId: 'gz-amr', organizationName: '市场监督管理局, "总局"', ...figures() },
    { organizationId: 'gz-hr', organizationName: '=HYPERLINK("x")', ...figures({ completed: 0, completedOnTime: 0, onTimeRate: null, earlyCompletionRate: null, averageWorkingDays: null }) },
  ],
  serviceItems: [{ serviceItemCode: 'GZ-001', serviceItemName: '<b>营业执照</b>', ...figures() }],
}

describe('the monthly report\'s forms', () => {
  it('CSV: a byte-order mark, field names, raw fractions, RFC 4180 quoting, and no formula a spreadsheet would run', () => {
    const csv = reportCsv(report)
    expect(csv.startsWith('\uFEFFmonth,2025-09,version,2,')).toBe(true)
    const lines = csv.slice(1).split('\r\n')
    expect(lines[2]).toBe('organizationId,organizationName,open,warned,overdue,completed,completedOnTime,onTimeRate,earlyCompletionRate,'
      + 'averageWorkingDays,ratings.1,ratings.2,ratings.3,ratings.4,ratings.5,supervisionsOpen')
    expect(lines[3]).toBe('gz-amr,"市场监督管理局, ""总局""",3,1,0,8,7,0.875,0.5,4.25,0,1,2,2,3,1')
    expect(lines[4]).toBe('gz-hr,"\'=HYPERLINK(""x"")",3,1,0,0,0,,,,0,1,2,2,3,1')
    expect(lines[6]).toMatch(/^serviceItemCode,serviceItemName,open,/)
    expect(lines[7]).toBe('GZ-001,<b>营业执照</b>,3,1,0,8,7,0.875,0.5,4.25,0,1,2,2,3,1')
    expect(csv.endsWith('\r\n')).toBe(true)
  })

  it('HTML: a printable page with Chinese labels, percentages, dashes for no figure, and every name escaped', () => {
    const page = reportHtml(report)
    expect(page).toMatch(/^<!DOCTYPE html>\n<html lang="zh-CN">/)
    expect(page).toContain('<h1>政务服务月度报告：2025年9月</h1>')
    expect(page).toContain('第 2 版')
    expect(page).toContain('定时生成')
    for (const label of ['按单位', '按服务事项', '按时办结率', '提前办结率', '平均办理工作日', '非常满意', '未办结督办']) expect(page).toContain(label)
    expect(page).toContain('<td>87.5%</td><td>50.0%</td><td>4.25</td>')
    expect(page).toContain('<td>—</td><td>—</td><td>—</td>')
    expect(page).toContain('&lt;b&gt;营业执照&lt;/b&gt;')
    expect(page).not.toContain('<b>营业执照')
    expect(page).toContain('市场监督管理局, &quot;总局&quot;')
    expect(reportHtml({ ...report, organizations: [], serviceItems: [], producedBy: 'key_1' })).toContain('本月无数据。')
  })
})
