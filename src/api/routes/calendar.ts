import { Type } from 'typebox'
import { countCasesToRecalendar, publishCalendarYear, readCountedCalendarYear } from '../../db/calendar.ts'
import type { CalendarData } from '../../domain/calendar.ts'
import { CalendarError, INDEX_FIRST_YEAR, INDEX_LAST_YEAR, WorkingCalendar } from '../../domain/calendar.ts'
import { CalendarDaySchema, calendarYearProblems, CalendarYearNumber } from '../../domain/calendar-year.ts'
import { addWorkingDays, computeDeadline } from '../../domain/deadline-clock.ts'
import { LimitError } from '../../domain/limit.ts'
import type { App } from '../app.ts'
import { allow, ANY_ROLE, principalOf } from '../auth.ts'
import { commonErrorResponses, problem } from '../problem.ts'
import { Instant } from '../schemas/common.ts'

const CalendarYearView = Type.Object({
  year: Type.Integer(),
  published: Type.Boolean(),
  days: Type.Array(CalendarDaySchema, {
    description: 'the days that differ from the Monday–Friday rule, in date order; for a year not yet published, the statutory holidays that fall on weekdays (rule 34)',
  }),
  version: Type.Union([Type.Integer(), Type.Null()], { description: 'the calendar version that last changed this year; null if never set' }),
})

const CalendarYearBody = Type.Object({
  days: Type.Array(CalendarDaySchema, { maxItems: 366 }),
}, { additionalProperties: false })

const PublishedYear = Type.Object({
  ...CalendarYearView.properties,
  recomputing: Type.Integer({ description: 'open cases the change may move: a workflow hands each the new calendar to recompute its deadlines, in the background' }),
  signalFailures: Type.Integer({ description: 'cases not reached yet because handing out could not start (the next API start starts it); 0 once it has started, and it retries a case it cannot reach until every one has the change' }),
})

const AddQuery = Type.Object({
  from: Instant,
  workingDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
  duration: Type.Optional(Type.String({ maxLength: 50, description: 'ISO 8601 duration, e.g. PT2H' })),
}, { additionalProperties: false })

const Due = Type.Object({
  dueAt: Instant,
  dueDate: Type.String({ description: 'local date (Asia/Shanghai) of the last day of the limit' }),
  provisional: Type.Boolean({ description: 'the count runs through a year whose calendar is not yet published' }),
  calendarVersion: Type.Integer(),
})

export async function calendarRoutes(app: App): Promise<void> {
  const { db } = app.deps.database
  // The whole calendar is a few hundred rows; one index per version serves every computation.
  const indexes = new WeakMap<CalendarData, WorkingCalendar>()
  async function currentCalendar(): Promise<WorkingCalendar> {
    const data = await app.calendar.window(INDEX_FIRST_YEAR, INDEX_LAST_YEAR)
    let calendar = indexes.get(data)
    if (!calendar) {
      calendar = WorkingCalendar.from(data)
      indexes.set(data, calendar)
    }
    return calendar
  }

  app.get('/calendar/add', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['calendar'], operationId: 'computeDue', summary: 'Compute a deadline from an instant on the working calendar',
      querystring: AddQuery, response: { 200: Due, ...commonErrorResponses },
      description: 'The deadline for a limit from an instant: `workingDays` or `duration`, exactly one.',
    },
  }, async (request) => {
    const { from, workingDays, duration } = request.query
    if ((workingDays === undefined) === (duration === undefined)) {
      throw problem('validation_failed', 'give exactly one of workingDays or duration',
        [{ path: 'querystring', message: 'needs exactly one of workingDays or duration' }])
    }
    const calendar = await currentCalendar()
    try {
      const due = duration === undefined
        ? addWorkingDays(calendar, from, workingDays ?? 0)
        : computeDeadline(calendar, { limit: { duration }, startAt: from })
      return { dueAt: due.dueAt, dueDate: due.dueDate, provisional: due.provisional, calendarVersion: calendar.version }
    } catch (err) {
      if (err instanceof LimitError) {
        throw problem('validation_failed', err.message, [{ path: 'querystring/duration', message: err.message }])
      }
      if (err instanceof CalendarError) {
        const path = err.code === 'INVALID_DATE' ? 'querystring/from' : 'querystring'
        throw problem('validation_failed', err.message, [{ path, message: err.message }])
      }
      throw err
    }
  })

  app.get('/calendar/:year', {
    preValidation: allow(ANY_ROLE),
    schema: {
      tags: ['calendar'], operationId: 'getCalendarYear', summary: "Read a year's working-calendar exceptions",
      params: Type.Object({ year: CalendarYearNumber }),
      response: { 200: CalendarYearView, ...commonErrorResponses },
    },
  }, async (request) => {
    return readCountedCalendarYear(db, request.params.year)
  })

  app.put('/calendar/:year', {
    preValidation: allow(['admin']),
    schema: {
      tags: ['calendar'], operationId: 'publishCalendarYear', summary: "Publish a year's exceptions as a new calendar version",
      params: Type.Object({ year: CalendarYearNumber }), body: CalendarYearBody,
      response: { 200: PublishedYear, ...commonErrorResponses },
      description: 'Replaces the year\'s exceptions, publishes it as a new calendar version, and starts handing the new calendar to every open case it may move.',
    },
  }, async (request) => {
    const principal = principalOf(request)
    const { year } = request.params
    const problems = calendarYearProblems(year, request.body.days)
    if (problems.length > 0) {
      throw problem('validation_failed', problems.map((p) => `${p.path}: ${p.message}`).join('; '),
        problems.map((p) => ({ path: `body${p.path}`, message: p.message })))
    }
    const published = await publishCalendarYear(db, {
      year, days: request.body.days, changedBy: `${principal.organizationId}/${principal.keyId}`,
    })
    app.calendar.invalidate()
    const { wasPublished, ...stored } = published
    const recomputing = await countCasesToRecalendar(db, { version: published.version, years: [year], correction: wasPublished })
    try {
      await app.deps.gateway.propagateCalendar(published.version)
      return { ...stored, recomputing, signalFailures: 0 }
    } catch (err) {
      // The version is stored and marked unpropagated: the next API start starts its propagation.
      request.log.error({ err, year, calendarVersion: published.version }, 'could not start handing out the new calendar')
      return { ...stored, recomputing, signalFailures: recomputing }
    }
  })
}
