import { DAY_MS, dateOfDay, dayOfDate, dayOfMs, type WorkingCalendar } from './calendar.ts'

/**
 * The monthly report to the government (API.md "Supervision and reporting", DOMAIN rules 31–33):
 * the summary's figures for one calendar month, per organisation and per service item, produced
 * on the first working day of the next month and kept in versions, never rewritten.
 */

/** `YYYY-MM`, a month from 2000 on (the official calendar's range), with no other form accepted. */
export const MONTH_PATTERN = '^(2[0-9]{3})-(0[1-9]|1[0-2])$'

/** The month's first and last calendar dates (Asia/Shanghai), `YYYY-MM-DD`. */
export function monthPeriod(month: string): { from: string; to: string } {
  const match = new RegExp(MONTH_PATTERN).exec(month)
  if (!match) throw new RangeError(`not a month: ${month} (YYYY-MM)`)
  const year = Number(match[1])
  const index = Number(match[2]) - 1
  const first = Date.UTC(year, index, 1) / DAY_MS
  const last = Date.UTC(year, index + 1, 1) / DAY_MS - 1
  return { from: dateOfDay(first), to: dateOfDay(last) }
}

/** The month before `month`. */
export function previousMonth(month: string): string {
  const { from } = monthPeriod(month)
  return dateOfDay(dayOfDate(from) - 1).slice(0, 7)
}

/** The first working day of `month` by the calendar, `YYYY-MM-DD`. */
export function firstWorkingDay(month: string, calendar: WorkingCalendar): string {
  const first = dayOfDate(monthPeriod(month).from)
  return dateOfDay(calendar.isWorkingDay(first) ? first : calendar.addWorkingDays(first, 1))
}

/**
 * The month whose report is due by the instant `atMs`: the last one whose next month's first
 * working day has come (in Shanghai). On 1 October, a holiday, that is August's, whose report came
 * out in September; September's is due on the first working day after the National Day holiday.
 */
export function dueMonth(atMs: number, calendar: WorkingCalendar): string {
  const today = dateOfDay(dayOfMs(atMs))
  const current = today.slice(0, 7)
  return today >= firstWorkingDay(current, calendar) ? previousMonth(current) : previousMonth(previousMonth(current))
}

/** One row of figures, as the summary gives them per organisation (API.md). */
export interface ReportFigures {
  open: number
  warned: number
  overdue: number
  completed: number
  completedOnTime: number
  /** Fractions of `completed`; null when nothing was completed. */
  onTimeRate: number | null
  earlyCompletionRate: number | null
  /** Over the completions whose working days are known; null when none is. */
  averageWorkingDays: number | null
  ratings: Record<'1' | '2' | '3' | '4' | '5', number>
  supervisionsOpen: number
}

/** The sums the counters keep, from which the figures are worked out. */
export interface FigureSums {
  open: number
  warned: number
  overdue: number
  supervisionsOpen: number
  completed: number
  completedOnTime: number
  completedEarly: number
  workingDaysSum: number
  workingDaysCount: number
  ratings: readonly [number, number, number, number, number]
}

/** The figures from their sums: the summary's and the report's alike. */
export function figuresOf(sums: FigureSums): ReportFigures {
  const rate = (n: number) => (sums.completed > 0 ? n / sums.completed : null)
  const [r1, r2, r3, r4, r5] = sums.ratings
  return {
    open: sums.open, warned: sums.warned, overdue: sums.overdue, completed: sums.completed, completedOnTime: sums.completedOnTime,
    onTimeRate: rate(sums.completedOnTime), earlyCompletionRate: rate(sums.completedEarly),
    averageWorkingDays: sums.workingDaysCount > 0 ? sums.workingDaysSum / sums.workingDaysCount : null,
    ratings: { 1: r1, 2: r2, 3: r3, 4: r4, 5: r5 },
    supervisionsOpen: sums.supervisionsOpen,
  }
}

export interface MonthlyReport {
  month: string
  version: number
  from: string
  to: string
  producedAt: string
  /** `schedule`, or the API key that asked for it. */
  producedBy: string
  organizations: Array<ReportFigures & { organizationId: string; organizationName: string }>
  serviceItems: Array<ReportFigures & { serviceItemCode: string; serviceItemName: string | null }>
}

/** The columns both tables share, with their Chinese labels, in print order. */
const FIGURES: Array<[keyof ReportFigures | `ratings.${'1' | '2' | '3' | '4' | '5'}`, string]> = [
  ['open', '在办'], ['warned', '预警'], ['overdue', '超期'], ['completed', '办结'], ['completedOnTime', '按时办结'],
  ['onTimeRate', '按时办结率'], ['earlyCompletionRate', '提前办结率'], ['averageWorkingDays', '平均办理工作日'],
  ['ratings.1', '非常不满意'], ['ratings.2', '不满意'], ['ratings.3', '基本满意'], ['ratings.4', '满意'], ['ratings.5', '非常满意'],
  ['supervisionsOpen', '未办结督办'],
]

function figure(row: ReportFigures, name: (typeof FIGURES)[number][0]): number | null {
  return name.startsWith('ratings.') ? row.ratings[name.slice(8) as '1'] : row[name as keyof ReportFigures] as number | null
}

/** A rate or an average for people: two decimals, a dash when there is none. */
function shown(value: number | null, name: string): string {
  if (value === null) return '—'
  if (name.endsWith('Rate')) return `${(value * 100).toFixed(1)}%`
  return Number.isInteger(value) ? String(value) : value.toFixed(2)
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, quotes doubled. */
function csvField(value: string): string {
  // A leading = + - @ would be read as a formula by a spreadsheet: quoted and prefixed with '.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) || safe !== value ? `"${safe.replace(/"/g, '""')}"` : safe
}

/**
 * The report as CSV, one section per table, with a header row of field names (English, stable for
 * programs) and raw numbers (rates as fractions); UTF-8 with a byte-order mark, so that the
 * spreadsheet programs a government office uses read the Chinese names.
 */
export function reportCsv(report: MonthlyReport): string {
  const header = (first: string[]) => [...first, ...FIGURES.map(([name]) => name)].join(',')
  const values = (row: ReportFigures) => FIGURES.map(([name]) => {
    const value = figure(row, name)
    return value === null ? '' : String(value)
  })
  const lines = [
    `month,${report.month},version,${report.version},from,${report.from},to,${report.to},producedAt,${report.producedAt}`,
    '',
    header(['organizationId', 'organizationName']),
    ...report.organizations.map((o) => [csvField(o.organizationId), csvField(o.organizationName), ...values(o)].join(',')),
    '',
    header(['serviceItemCode', 'serviceItemName']),
    ...report.serviceItems.map((s) => [csvField(s.serviceItemCode), csvField(s.serviceItemName ?? ''), ...values(s)].join(',')),
  ]
  return `\uFEFF${lines.join('\r\n')}\r\n`
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
}

/** The report as a printable page with Chinese labels: one table per organisation, one per service item. */
export function reportHtml(report: MonthlyReport): string {
  const [year, month] = report.month.split('-')
  const head = (first: string[]) => `<tr>${[...first, ...FIGURES.map(([, label]) => label)].map((l) => `<th>${html(l)}</th>`).join('')}</tr>`
  const cells = (row: ReportFigures) => FIGURES.map(([name]) => `<td>${html(shown(figure(row, name), name))}</td>`).join('')
  const table = (caption: string, first: string[], rows: string[]) => rows.length === 0
    ? `<h2>${html(caption)}</h2><p>本月无数据。</p>`
    : `<h2>${html(caption)}</h2><table><thead>${head(first)}</thead><tbody>${rows.join('')}</tbody></table>`
  return `<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>政务服务月度报告 ${html(report.month)}</title>
<style>
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2em; font-size: 10pt; }
th, td { border: 1px solid #444; padding: 0.25em 0.5em; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
@media print { body { margin: 0; } h2 { break-before: auto; } tr { break-inside: avoid; } }
</style></head><body>
<h1>政务服务月度报告：${html(year!)}年${Number(month)}月</h1>
<p>统计期间：${html(report.from)} 至 ${html(report.to)}；第 ${report.version} 版，生成于 ${html(report.producedAt)}（${report.producedBy === 'schedule' ? '定时生成' : '按需生成'}）。</p>
${table('按单位', ['单位编码', '单位名称'], report.organizations.map((o) => `<tr><td>${html(o.organizationId)}</td><td>${html(o.organizationName)}</td>${cells(o)}</tr>`))}
${table('按服务事项', ['事项编码', '事项名称'], report.serviceItems.map((s) => `<tr><td>${html(s.serviceItemCode)}</td><td>${html(s.serviceItemName ?? '')}</td>${cells(s)}</tr>`))}
</body></html>
`
}
