import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { monthlyReportVersions, produceMonthlyReportIn, readMonthlyReport, reportFor } from '../../db/reports.ts'
import { dateOfDay, dayOfMs } from '../../domain/calendar.ts'
import { MONTH_PATTERN, monthPeriod, reportCsv, reportHtml } from '../../domain/monthly-report.ts'
import type { Role } from '../../domain/roles.ts'
import type { App } from '../app.ts'
import { allow, principalOf } from '../auth.ts'
import { createOnce } from '../idempotency.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { IdempotencyHeaders, INT4_MAX } from '../schemas/common.ts'
import { withPageHeaders } from '../security-headers.ts'
import { SummaryFigures } from './supervision-summary.ts'

// The monthly report to the government (API.md "Supervision and reporting"): produced by the
// schedule on the first working day of the next month (src/infra/report-schedule.ts), or on
// demand; stored in versions, never rewritten; served as JSON, CSV or a printable page.

// The summary's figures: a report row counts as the summary does (figuresOf in src/domain/monthly-report.ts).
const Figures = SummaryFigures

const MonthlyReport = Type.Object({
  month: Type.String({ pattern: MONTH_PATTERN }),
  version: Type.Integer({ minimum: 1 }),
  from: Type.String({ format: 'date' }),
  to: Type.String({ format: 'date' }),
  producedAt: Type.String({ format: 'date-time' }),
  producedBy: Type.String({ description: '`schedule`, or the id of the API key that asked for it' }),
  organizations: Type.Array(Type.Object({ organizationId: Type.String(), organizationName: Type.String(), ...Figures })),
  serviceItems: Type.Array(Type.Object({ serviceItemCode: Type.String(), serviceItemName: Type.Union([Type.String(), Type.Null()]), ...Figures })),
}, { description: 'completions and ratings of the month\'s days; open, warned, overdue and unanswered supervisions as at production' })

const ReportVersion = Type.Object({ version: Type.Integer({ minimum: 1 }), producedAt: Type.String({ format: 'date-time' }), producedBy: Type.String() })

const Month = Type.Object({ month: Type.String({ pattern: MONTH_PATTERN, description: 'YYYY-MM' }) })

const READERS: readonly Role[] = ['admin', 'auditor', 'supervisor']
const PRODUCERS: readonly Role[] = ['admin', 'supervisor']

/** A printable page is the API's own HTML: it loads nothing and may not be framed. */
function sendHtml(reply: FastifyReply, page: string) {
  return withPageHeaders(reply.type('text/html; charset=utf-8'))
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .send(page)
}

/** The form `Accept` asks for: the first of JSON, CSV and HTML it names, JSON when it names none. */
function formOf(accept: string | undefined): 'json' | 'csv' | 'html' {
  const wanted = (accept ?? '').split(',').map((part) => part.split(';')[0]!.trim().toLowerCase())
  for (const type of wanted) {
    if (type === 'application/json' || type === 'application/*') return 'json'
    if (type === 'text/csv') return 'csv'
    if (type === 'text/html') return 'html'
  }
  return 'json'
}

export async function reportRoutes(app: App): Promise<void> {
  const { db } = app.deps.database

  app.get('/reports/monthly/:month', {
    preValidation: allow(READERS),
    schema: {
      tags: ['supervision'], operationId: 'getMonthlyReport',
      summary: 'A month\'s report: the latest version, or the one asked for; JSON, or CSV or a printable page by Accept',
      params: Month,
      querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1, maximum: INT4_MAX })) }, { additionalProperties: false }),
      response: {
        200: {
          description: 'the report',
          content: {
            'application/json': { schema: MonthlyReport },
            'text/csv': { schema: Type.String({ description: 'UTF-8 with a byte-order mark; a table per organisation and per service item' }) },
            'text/html': { schema: Type.String({ description: 'a printable page with Chinese labels' }) },
          },
        },
        ...commonErrorResponses, 404: ProblemDetails,
      },
    },
  }, async (request, reply) => {
    const { month } = request.params
    const stored = await readMonthlyReport(db, month, request.query.version)
    if (!stored) {
      throw problem('not_found', request.query.version === undefined
        ? `no report for ${month} yet: it is produced on the first working day of the next month, or on demand (POST)`
        : `no version ${request.query.version} of the report for ${month}`)
    }
    const report = await reportFor(db, stored, principalOf(request))
    const form = formOf(request.headers.accept)
    if (form === 'csv') {
      return reply.type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="banjian-report-${month}-v${report.version}.csv"`).send(reportCsv(report))
    }
    if (form === 'html') return sendHtml(reply, reportHtml(report))
    return reply.type('application/json; charset=utf-8').send(report)
  })

  app.get('/reports/monthly/:month/versions', {
    preValidation: allow(READERS),
    schema: {
      tags: ['supervision'], operationId: 'listMonthlyReportVersions', summary: 'Every version of a month\'s report, oldest first',
      params: Month, response: { 200: Type.Object({ items: Type.Array(ReportVersion) }), ...commonErrorResponses },
    },
  }, async (request) => ({ items: await monthlyReportVersions(db, request.params.month) }))

  app.post('/reports/monthly/:month', {
    preValidation: allow(PRODUCERS),
    schema: {
      tags: ['supervision'], operationId: 'produceMonthlyReport',
      summary: 'Produce a new version of a month\'s report now (the versions before it stay readable)',
      params: Month, headers: IdempotencyHeaders,
      response: { 201: ReportVersion, ...commonErrorResponses, 409: ProblemDetails, 422: ProblemDetails },
    },
  }, async (request, reply) => {
    const principal = principalOf(request)
    const { month } = request.params
    const today = dateOfDay(dayOfMs(Date.now()))
    if (monthPeriod(month).from > today) throw problem('unprocessable', `${month} has not begun (today is ${today} in Shanghai)`)
    const key = request.headers['idempotency-key']
    const produce = async (tx: Parameters<typeof produceMonthlyReportIn>[0]) => {
      const { version, producedAt } = await produceMonthlyReportIn(tx, month, principal.keyId)
      return { id: `${month}:${version}`, version, producedAt, producedBy: principal.keyId }
    }
    const produced = key
      ? await createOnce(db, { organizationId: principal.organizationId, scope: `monthly-report:${month}`, key, body: { month, keyId: principal.keyId }, create: produce })
      : await db.transaction(produce)
    const { id: _id, ...version } = produced
    return reply.status(201).send(version)
  })
}
