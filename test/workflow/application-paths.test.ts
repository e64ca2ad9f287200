import { defaultPayloadConverter } from '@temporalio/common'
import { Worker } from '@temporalio/worker'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createCaseReads } from '../../src/db/cases.ts'
import type { CaseView } from '../../src/domain/case-view.ts'
import { sharedMaterials } from '../../src/db/schema.ts'
import { WorkingCalendar, dateOfDay, dayOfMs, startOfDayMs, weekdayOf } from '../../src/domain/calendar.ts'
import { addWorkingDays } from '../../src/domain/deadline-clock.ts'
import { calendarChangedSignal } from '../../src/workflows/case/contract.ts'
import { watchWorkflowId } from '../../src/workflows/deadline-watch/contract.ts'
import {
  act, actorOf, calendarWith, deadline, DEPARTMENT, eventTypes, historyEventTypes, newApplication, refusalType, sleepUntil, startCase, startTimeSkipping,
  SUPERVISOR, testGuide, type TimeSkipping, view, viewWhen, WINDOW,
} from '../support/time-skipping.ts'
import { uniqueName } from '../support/system.ts'
import { localActivityTypes } from '../support/fixtures.ts'

let ts: TimeSkipping
beforeAll(async () => {
  ts = await startTimeSkipping()
})
afterAll(async () => ts?.stop())

const SECOND = 1000
const HOUR = 3_600_000

describe('application workflow paths (time-skipping)', () => {
  it('rule 19: attaches what the API\'s pre-review found with no activity; an input from before looks shared data up itself', async () => {
    const guide = testGuide({ materials: [
      { code: 'form', name: 'Form', required: true }, { code: 'id-card', name: 'Identity card', required: true, sharedSource: 'resident-id' },
    ] })
    const { idNumber } = newApplication('any').submission.applicant
    const { db, personal } = ts.db.database
    await db.insert(sharedMaterials).values({ source: 'resident-id', subject: personal.subjectIndex(idNumber), ref: 'elicence://id/held' })
    const ranLocally = async (id: string) => localActivityTypes((await ts.env.client.workflow.getHandle(id).fetchHistory()).events ?? [])
    // Started as before the API pre-reviewed: the case looks shared data up, by local activity.
    const before = uniqueName('pre-review-')
    const lookedUp = await startCase(ts, newApplication(before, { guide }))
    expect(lookedUp.materials).toContainEqual({ code: 'id-card', ref: 'elicence://id/held', source: 'shared' })
    expect(await ranLocally(before)).toEqual(['attachSharedMaterials', 'recordCaseEvents'])
    // Started as the API starts it now: what pre-review found is in the input, and nothing is looked up again.
    const now = uniqueName('pre-reviewed-')
    const given = await startCase(ts, newApplication(now, { guide, preReviewed: [{ code: 'id-card', ref: 'elicence://id/given', source: 'shared' }] }))
    expect(given.materials).toContainEqual({ code: 'id-card', ref: 'elicence://id/given', source: 'shared' })
    expect(given.missingMaterials).toEqual([])
    expect(await ranLocally(now)).toEqual(['recordCaseEvents'])
    // It found nothing: the material is missing, whatever the table holds.
    const none = uniqueName('pre-reviewed-')
    expect((await startCase(ts, newApplication(none, { guide, preReviewed: [] }))).missingMaterials).toEqual(['id-card'])
    expect(await ranLocally(none)).toEqual(['recordCaseEvents'])
  })

  it('deems the application accepted exactly when the acceptance limit runs out', async () => {
    const id = uniqueName('deemed-')
    const input = newApplication(id, { guide: testGuide({ promisedLimit: { workingDays: 10 } }) })
    const created = await startCase(ts, input)
    const due = deadline(created, 'acceptance').dueAt
    await sleepUntil(ts, due, -SECOND)
    expect((await view(ts, id)).status).toBe('submitted')
    await sleepUntil(ts, due, SECOND)
    const after = await view(ts, id)
    expect(after.status).toBe('accepted')
    // Art. 32: accepted from the day the materials were received, so the clocks start then.
    const calendar = WorkingCalendar.from(input.calendar)
    expect(deadline(after, 'promised').dueAt).toBe(addWorkingDays(calendar, created.createdAt, 10).dueAt)
    const history = await eventTypes(ts, id)
    expect(history).toContain('deemed_accepted')
    expect(history).not.toContain('deadline_missed')
  })

  it('rule 6: flags a second supplement request naming what the first could have named', async () => {
    const id = uniqueName('supp-')
    const guide = testGuide({ materials: [{ code: 'form', name: 'Form', required: true }, { code: 'photo', name: 'Photo', required: true }] })
    await startCase(ts, newApplication(id, { guide }))
    // Rule 5: the first notice names every missing material at once.
    expect(await refusalType(act(ts, id, 'request_supplement', WINDOW, { missing: ['form'], note: 'form unsigned' }))).toBe('unprocessable')
    const first = await act(ts, id, 'request_supplement', WINDOW, { missing: ['photo'], note: 'photo missing' })
    expect(first.status).toBe('supplement_requested')
    expect(first.flags).not.toContain('one_time_notice_violation')
    await act(ts, id, 'supplement', WINDOW, { materials: [{ code: 'photo', ref: 'doc://photo' }] })
    // Asking for the photo again is no violation; the form was there at the first notice.
    const again = await act(ts, id, 'request_supplement', DEPARTMENT, { missing: ['photo'], note: 'photo blurred' })
    expect(again.flags).not.toContain('one_time_notice_violation')
    await act(ts, id, 'supplement', WINDOW, { materials: [{ code: 'photo', ref: 'doc://photo-2' }] })
    const late = await act(ts, id, 'request_supplement', DEPARTMENT, { missing: ['form'], note: 'also needs a stamp' })
    expect(late.flags).toContain('one_time_notice_violation')
    expect(late.supplementRequests).toHaveLength(3)
  })

  it('marks a transferred case overdue at its new department, with a supervision record on it', async () => {
    const id = uniqueName('transfer-')
    await startCase(ts, newApplication(id))
    await act(ts, id, 'accept', DEPARTMENT)
    const moved = await act(ts, id, 'transfer', DEPARTMENT, { toOrganizationId: 'gz-hr', reason: 'competent department' })
    expect(moved.handlingOrganizationId).toBe('gz-hr')
    expect(await refusalType(act(ts, id, 'approve', DEPARTMENT))).toBe('forbidden')
    await sleepUntil(ts, deadline(moved, 'promised').dueAt, SECOND)
    const late = await view(ts, id)
    expect(late.overdue).toBe(true)
    expect(deadline(late, 'promised').state).toBe('missed')
    expect(late.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', organizationId: 'gz-hr', deadlineKey: 'promised' })])
    expect(await eventTypes(ts, id)).toEqual(expect.arrayContaining(['transferred', 'deadline_warned', 'deadline_missed', 'supervision_opened']))
  })

  it('moves both clocks by exactly the paused working days when a suspension spans a holiday', async () => {
    // Accepted on a Monday, suspended on the Tuesday (a day after the clocks' start day, so it
    // counts), resumed on the next Tuesday, with test holidays on the Wednesday and Thursday: the
    // pause takes Tuesday, Friday and Monday. The week is one the official calendar leaves alone.
    const plain = WorkingCalendar.from(calendarWith())
    const ordinaryWeek = (monday: number) =>
      [...Array(9).keys()].every((i) => plain.isWorkingDay(monday + i) === ![5, 6].includes(i))
    let monday = dayOfMs(await ts.env.currentTimeMs()) + 1
    while (weekdayOf(monday) !== 1 || !ordinaryWeek(monday)) monday++
    const calendarData = calendarWith([dateOfDay(monday + 2), dateOfDay(monday + 3)])
    const calendar = WorkingCalendar.from(calendarData)
    const id = uniqueName('suspend-')
    await sleepUntil(ts, startOfDayMs(monday) + 10 * HOUR)
    await startCase(ts, newApplication(id, { calendar: calendarData }))
    const accepted = await act(ts, id, 'accept', DEPARTMENT)
    await sleepUntil(ts, startOfDayMs(monday + 1) + 10 * HOUR)
    const suspended = await act(ts, id, 'suspend', DEPARTMENT, { reason: 'inspection', note: 'site inspection' })
    expect(deadline(suspended, 'promised').state).toBe('paused')
    await sleepUntil(ts, startOfDayMs(monday + 8) + 10 * HOUR)
    const resumed = await act(ts, id, 'resume', DEPARTMENT)
    expect([accepted, suspended, resumed].map((v) => dayOfMs(Date.parse(v.updatedAt)) - monday)).toEqual([0, 1, 8])
    expect(calendar.workingDaysBetween(monday + 1, monday + 8)).toBe(3)
    for (const key of ['promised', 'statutory']) {
      const before = dayOfMs(Date.parse(deadline(accepted, key).dueAt) - 1)
      const after = dayOfMs(Date.parse(deadline(resumed, key).dueAt) - 1)
      expect(after).toBe(calendar.addWorkingDays(before, 3))
      expect(deadline(resumed, key).state).toBe('running')
    }
  })

  it('allows one extension within the item maximum and refuses a second', async () => {
    const id = uniqueName('extend-')
    await startCase(ts, newApplication(id))
    const accepted = await act(ts, id, 'accept', DEPARTMENT)
    expect(await refusalType(act(ts, id, 'extend', DEPARTMENT, { workingDays: 11, approvedBy: 'Director Wang', reason: 'complex' }))).toBe('unprocessable')
    const extended = await act(ts, id, 'extend', DEPARTMENT, { workingDays: 10, approvedBy: 'Director Wang', reason: 'expert review' })
    expect(extended.extension).toMatchObject({ workingDays: 10, approvedBy: 'Director Wang' })
    expect(Date.parse(deadline(extended, 'statutory').dueAt)).toBeGreaterThan(Date.parse(deadline(accepted, 'statutory').dueAt))
    expect(await refusalType(act(ts, id, 'extend', DEPARTMENT, { workingDays: 1, approvedBy: 'Director Wang', reason: 'again' }))).toBe('invalid_transition')
    const history = await eventTypes(ts, id)
    expect(history.filter((t) => t === 'extended')).toHaveLength(1)
  })

  it('a deadline moved later is reached at its new instant, and the timer kept for the old one records nothing', async () => {
    const id = uniqueName('moved-')
    await startCase(ts, newApplication(id))
    const accepted = await act(ts, id, 'accept', DEPARTMENT)
    const before = deadline(accepted, 'promised')
    // A month of holidays from the day after acceptance: every deadline moves past it.
    const from = dayOfMs(Date.parse(accepted.updatedAt))
    const holidays = [...Array(31).keys()].map((i) => dateOfDay(from + 1 + i))
    await ts.env.client.workflow.getHandle(id).signal(calendarChangedSignal, calendarWith(holidays, 2))
    const moved = await viewWhen(ts, id, (v) => deadline(v, 'promised').dueAt !== before.dueAt)
    const after = deadline(moved, 'promised')
    expect(Date.parse(after.warnAt)).toBeGreaterThan(Date.parse(before.dueAt))
    // The timer started for the old next deadline fires on its way: the case waits on, unchanged.
    await sleepUntil(ts, before.dueAt, SECOND)
    const between = await view(ts, id)
    expect(between.version).toBe(moved.version)
    expect(deadline(between, 'promised')).toMatchObject({ state: 'running', warned: false })
    await sleepUntil(ts, after.warnAt, -SECOND)
    expect(deadline(await view(ts, id), 'promised').warned).toBe(false)
    await sleepUntil(ts, after.warnAt, SECOND)
    expect(deadline(await view(ts, id), 'promised').warned).toBe(true)
  })

  it('takes commands one at a time when two wait on a third: each answers with its own change', async () => {
    const id = uniqueName('turns-')
    await startCase(ts, newApplication(id))
    const { version } = await act(ts, id, 'accept', DEPARTMENT)
    // The read side's row held: the next command's projection waits, and its workflow task with it,
    // until the worker hands the task back (at 80% of its timeout) and takes the two that wait.
    const lock = await ts.db.database.pool.connect()
    let asked: Promise<CaseView> | undefined
    try {
      await lock.query('BEGIN')
      await lock.query('SELECT 1 FROM cases WHERE id = $1 FOR UPDATE', [id])
      asked = act(ts, id, 'request_opinions', DEPARTMENT, { organizationIds: ['gz-hr', 'gz-tax'], within: { workingDays: 2 } })
      /** Until the history holds `count` accepted updates: their handlers run (or wait their turn). */
      const acceptedUpdates = async (count: number) => {
        const deadline = Date.now() + 20_000
        for (;;) {
          const events = (await ts.env.client.workflow.getHandle(id).fetchHistory()).events ?? []
          if (events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length >= count) return
          if (Date.now() > deadline) throw new Error(`${count} updates were not accepted in 20 s`)
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
      }
      // The accept and the request; then both opinions, waiting on the request.
      await acceptedUpdates(2)
      const given = [
        act(ts, id, 'give_opinion', actorOf('gz-hr'), { opinion: 'no objection', agree: true }),
        act(ts, id, 'give_opinion', actorOf('gz-tax'), { opinion: 'agreed', agree: true }),
      ]
      await acceptedUpdates(4)
      await lock.query('COMMIT')
      const answers = await Promise.all([asked, ...given])
      // Without turns, the second opinion went on while the first was in flight, and the first
      // answered with both: versions 4, 5, 5.
      expect(answers.map((v) => v.version).sort()).toEqual([version + 1, version + 2, version + 3])
      expect((await eventTypes(ts, id)).slice(-3)).toEqual(['opinions_requested', 'opinion_given', 'opinion_given'])
      // The second look found the case taken, and the history says so (a patch marker): it replays.
      const history = await ts.env.client.workflow.getHandle(id).fetchHistory()
      const patches = (history.events ?? []).flatMap((e) => {
        const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]
        return data ? [defaultPayloadConverter.fromPayload<{ id: string }>(data).id] : []
      })
      expect(patches.filter((patch) => patch === 'one-change-at-a-time')).toHaveLength(1)
      await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, id)
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined)
      lock.release()
      await asked?.catch(() => undefined)
    }
  }, 60_000)

  it('runs joint handling as child workflows and supervises the one late opinion', async () => {
    const id = uniqueName('joint-')
    await startCase(ts, newApplication(id))
    await act(ts, id, 'accept', DEPARTMENT)
    const asked = await act(ts, id, 'request_opinions', DEPARTMENT, { organizationIds: ['gz-hr', 'gz-tax'], within: { workingDays: 2 } })
    expect(await refusalType(act(ts, id, 'approve', DEPARTMENT))).toBe('invalid_transition')
    await act(ts, id, 'give_opinion', actorOf('gz-hr'), { opinion: 'no objection', agree: true })
    expect(await refusalType(act(ts, id, 'give_opinion', actorOf('gz-hr'), { opinion: 'twice', agree: true }))).toBe('invalid_transition')
    const hrWatch = ts.env.client.workflow.getHandle(watchWorkflowId(id, 'opinion:gz-hr'))
    expect(await hrWatch.result()).toBe('settled')
    const taxWatch = ts.env.client.workflow.getHandle(watchWorkflowId(id, 'opinion:gz-tax'))
    expect(await taxWatch.result()).toBe('missed')
    // The watch has ended once it has signalled the case; the case acts on the signal after.
    const late = await viewWhen(ts, id, (v) => deadline(v, 'opinion:gz-tax').state === 'missed')
    expect(Date.parse(late.updatedAt)).toBeGreaterThanOrEqual(Date.parse(deadline(asked, 'opinion:gz-tax').dueAt))
    expect(deadline(late, 'opinion:gz-hr').state).toBe('met')
    expect(deadline(late, 'opinion:gz-tax').state).toBe('missed')
    expect(late.overdue).toBe(true)
    expect(late.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', organizationId: 'gz-tax' })])
    // The late opinion is still taken, and the decision no longer waits for it.
    await act(ts, id, 'give_opinion', actorOf('gz-tax'), { opinion: 'late but agreed', agree: true })
    const approved = await act(ts, id, 'approve', DEPARTMENT, { note: 'all opinions in' })
    expect(approved.status).toBe('approved')
    // Neither the case nor the watch settled under its running timer cancelled a timer (WakeTimers).
    for (const workflowId of [id, watchWorkflowId(id, 'opinion:gz-hr'), watchWorkflowId(id, 'opinion:gz-tax')]) {
      expect(await historyEventTypes(ts, workflowId)).not.toContain('EVENT_TYPE_TIMER_CANCELED')
    }
  })

  it('opens a rectification on a bad rating, and marks it overdue when nobody rectifies', async () => {
    const id = uniqueName('rating-')
    await startCase(ts, newApplication(id))
    for (const [action, actor, params] of [
      ['accept', DEPARTMENT, {}], ['approve', DEPARTMENT, {}], ['issue_result', DEPARTMENT, { certificateNo: 'GZ-2026-1' }],
      ['deliver', WINDOW, { method: 'window' }],
    ] as const) await act(ts, id, action, actor, params)
    const rated = await act(ts, id, 'rate', WINDOW, { score: 1, comment: 'sent back three times' })
    expect(rated.rating).toMatchObject({ score: 1, level: 'very_dissatisfied', defaulted: false })
    expect(await refusalType(act(ts, id, 'rate', WINDOW, { score: 5 }))).toBe('invalid_transition')
    const watch = ts.env.client.workflow.getHandle(watchWorkflowId(id, 'rectification'))
    expect(await watch.result()).toBe('missed')
    const late = await viewWhen(ts, id, (v) => deadline(v, 'rectification').state === 'missed')
    expect(deadline(late, 'rectification').state).toBe('missed')
    expect(late.overdue).toBe(true)
    await act(ts, id, 'rectify', DEPARTMENT, { note: 'staff retrained' })
    await act(ts, id, 'call_back', SUPERVISOR, { satisfied: true })
    await ts.env.client.workflow.getHandle(id).result()
    expect((await eventTypes(ts, id)).slice(-6)).toEqual(['rectification_opened', 'deadline_warned', 'deadline_missed', 'supervision_opened', 'rectified', 'called_back'])
  })

  it('rule 35: a deferred material that never comes is missed on time, the approval revoked, and the case closes once rated', async () => {
    const id = uniqueName('deferred-')
    const guide = testGuide({ materials: [{ code: 'form', name: 'Form', required: true }, { code: 'lease', name: 'Lease', required: true, deferrable: true }] })
    await startCase(ts, newApplication(id, { guide }))
    const accepted = await act(ts, id, 'accept', DEPARTMENT, { deferred: ['lease'] })
    expect(accepted.deferredMaterials).toEqual([{ code: 'lease' }])
    await act(ts, id, 'approve', DEPARTMENT)
    expect(await refusalType(act(ts, id, 'revoke', DEPARTMENT, { reason: 'too early' }))).toBe('invalid_transition')
    await sleepUntil(ts, deadline(accepted, 'deferred_materials').dueAt, SECOND)
    const missed = await view(ts, id)
    expect(deadline(missed, 'deferred_materials').state).toBe('missed')
    expect(missed.overdue).toBe(false)
    const revoked = await act(ts, id, 'revoke', DEPARTMENT, { reason: 'the lease never came' })
    expect(revoked).toMatchObject({ status: 'revoked', revocation: { grounds: ['deferred_materials_missing'] } })
    await act(ts, id, 'rate', WINDOW, { score: 3, by: 'staff' })
    await ts.env.client.workflow.getHandle(id).result()
    expect(await eventTypes(ts, id)).toEqual(expect.arrayContaining(['deferred_materials_missed', 'revoked', 'rated']))
  })

  it('rule 30: a dissatisfied call-back opens a second rectification with its own watch, and then a supervision record', async () => {
    const id = uniqueName('second-')
    await startCase(ts, newApplication(id))
    for (const [action, actor, params] of [
      ['accept', DEPARTMENT, {}], ['approve', DEPARTMENT, {}], ['issue_result', DEPARTMENT, {}], ['deliver', WINDOW, { method: 'window' }],
      ['rate', WINDOW, { score: 2 }], ['rectify', DEPARTMENT, { note: 'apologised' }],
    ] as const) await act(ts, id, action, actor, params)
    const reopened = await act(ts, id, 'call_back', WINDOW, { satisfied: false })
    expect(reopened.rectification).toMatchObject({ round: 2, previousRounds: [expect.objectContaining({ note: 'apologised' })] })
    await act(ts, id, 'rectify', DEPARTMENT, { note: 'counter reorganised' })
    expect(await ts.env.client.workflow.getHandle(watchWorkflowId(id, 'rectification:2')).result()).toBe('settled')
    const last = await act(ts, id, 'call_back', SUPERVISOR, { satisfied: false })
    expect(last.supervisions).toEqual([expect.objectContaining({ kind: 'automatic', reason: 'dissatisfied after a second rectification' })])
    await ts.env.client.workflow.getHandle(id).result()
  })

  it('rates a case "basically satisfied" when nobody rates it in time, and then closes it', async () => {
    const id = uniqueName('default-')
    await startCase(ts, newApplication(id, { guide: testGuide({ processing: 'instant' }) }))
    const instant = await view(ts, id)
    expect(instant.status).toBe('approved')
    await act(ts, id, 'issue_result', DEPARTMENT)
    await act(ts, id, 'deliver', WINDOW, { method: 'electronic' })
    await ts.env.client.workflow.getHandle(id).result()
    const [final] = (await createCaseReads(ts.db.database.db, ts.db.database.personal).history(id)).slice(-1)
    expect(final).toMatchObject({ type: 'rated', data: { score: 3, level: 'basically_satisfied', defaulted: true } })
  })

  it('withdraws a suspended case, cancelling its clocks, and closes the workflow once it is rated', async () => {
    const id = uniqueName('withdraw-')
    await startCase(ts, newApplication(id))
    await act(ts, id, 'accept', DEPARTMENT)
    await act(ts, id, 'suspend', DEPARTMENT, { reason: 'hearing', note: 'public hearing' })
    const withdrawn = await act(ts, id, 'withdraw', WINDOW, { reason: 'applicant withdrew' })
    expect(withdrawn.status).toBe('withdrawn')
    // Rule 29: only the rating period runs on; nobody rates, so the default closes the case.
    expect(withdrawn.deadlines.filter((d) => d.state === 'running' || d.state === 'paused').map((d) => d.kind)).toEqual(['rating'])
    await ts.env.client.workflow.getHandle(id).result()
    expect((await eventTypes(ts, id)).slice(-2)).toEqual(['withdrawn', 'rated'])
    expect(await refusalType(act(ts, id, 'resume', DEPARTMENT).catch((err: unknown) => {
      throw err
    })).catch(() => 'closed')).toBe('closed')
  })
})
