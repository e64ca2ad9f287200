import { Type, type Static } from 'typebox'
import { createSummaryReads } from '../../db/summary.ts'
import { DAY_MS, dateOfDay, dayOfMs } from '../../domain/calendar.ts'
import { CaseKindSchema } from '../../domain/case-view.ts'
import type { App } from '../app.ts'
import { allow, principalOf } from '../auth.ts'
import { commonErrorResponses, problem } from '../problem.ts'
import { Id } from '../schemas/common.ts'

/** A calendar day in Asia/Shanghai; `format` refuses days a month lacks (30 February). */
const CalendarDate = Type.String({
  format: 'date',
  pattern: '^(19\\d\\d|[2-9]\\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$',
  description: 'a calendar day in Asia/Shanghai, e.g. 2026-12-01',
})

const Rate = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'a fraction of completed; null when nothing was completed' })

/** The figures of one row, as the summary and the monthly report give them. */
export const SummaryFigures = {
  open: Type.Integer({ description: 'open cases it handles now' }),
  warned: Type.Integer({ description: 'of them, warned now' }),
  overdue: Type.Integer({ description: 'of them, overdue' }),
  completed: Type.Integer({ description: 'cases whose service ended in the period' }),
  completedOnTime: Type.Integer({ description: 'of them, within the statutory limit' }),
  onTimeRate: Rate,
  earlyCompletionRate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    description: 'completed within the promised limit (承诺时限), as a fraction of completed; null when nothing was completed',
  }),
  averageWorkingDays: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
    description: 'working days taken, over the on-time completions under a working-day limit; null when there were none',
  }),
  ratings: Type.Object({
    1: Type.Integer(), 2: Type.Integer(), 3: Type.Integer(), 4: Type.Integer(), 5: Type.Integer(),
  }, { description: 'ratings given in the period, by score' }),
  supervisionsOpen: Type.Integer({ description: 'supervision records it owes an answer to now' }),
}

const OrganizationSummary = Type.Object({ organizationId: Type.String(), ...SummaryFigures })

const SummaryQuery = Type.Object({
  organizationId: Type.Optional(Id),
  kind: Type.Optional(CaseKindSchema),
  serviceItemCode: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  from: Type.Optional(CalendarDate),
  to: Type.Optional(CalendarDate),
}, { additionalProperties: false })
type SummaryQuery = Static<typeof SummaryQuery>

const Summary = Type.Object({
  from: CalendarDate,
  to: CalendarDate,
  organizations: Type.Array(OrganizationSummary),
})

/** A period runs to its last day at most this long after its first: about ten years of days. */
const MAX_PERIOD_DAYS = 3_660

/**
 * The period the flow figures cover, both days inclusive: by default the current Shanghai month
 * so far (`to` today, `from` the first of `to`'s month).
 */
export function periodOf(query: Pick<SummaryQuery, 'from' | 'to'>, nowMs: number): { from: string; to: string } {
  const to = query.to ?? dateOfDay(dayOfMs(nowMs))
  const from = query.from ?? `${to.slice(0, 8)}01`
  if (from > to) throw problem('validation_failed', `from ${from} is after to ${to}`, [{ path: 'querystring/from', message: 'must not be after to' }])
  if ((Date.parse(to) - Date.parse(from)) / DAY_MS > MAX_PERIOD_DAYS) {
    throw problem('validation_failed', `a period is at most ${MAX_PERIOD_DAYS} days`, [{ path: 'querystring/to', message: 'too far after from' }])
  }
  return { from, to }
}

export async function supervisionSummaryRoutes(app: App): Promise<void> {
  const reads = createSummaryReads(app.deps.database.db)
  app.get('/supervision/summary', {
    preValidation: allow(['admin', 'auditor', 'supervisor']),
    schema: {
      tags: ['supervision'], operationId: 'getSupervisionSummary',
      summary: 'Per organisation: open, warned and overdue cases and open supervisions now; completions, on-time and early rates, working days and ratings in a period',
      description: 'A supervisor sees the organisations of its own subtree; administrators and auditors all. `organizationId` narrows to '
        + 'that organisation and its subtree. Each organisation\'s row holds its own figures (not its subtree\'s). The period is '
        + 'Shanghai calendar days, both inclusive; by default the current month so far.',
      querystring: SummaryQuery, response: { 200: Summary, ...commonErrorResponses },
    },
  }, async (request) => {
    const { from, to } = periodOf(request.query, Date.now())
    const organizations = await reads.byOrganization(principalOf(request), { ...request.query, from, to })
    return { from, to, organizations }
  })
}
