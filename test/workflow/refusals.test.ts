import { WithStartWorkflowOperation, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CaseView } from '../../src/domain/case-view.ts'
import { submittedUpdate } from '../../src/workflows/application/contract.ts'
import type { applicationWorkflow } from '../../src/workflows/application/workflow.ts'
import {
  act, DEPARTMENT, newApplication, startCase, startTimeSkipping, testGuide, type TimeSkipping, view, WINDOW,
} from '../support/time-skipping.ts'
import { uniqueName } from '../support/system.ts'

// Issue 7, part 2: each of these once failed the workflow task on every retry, or made the
// projection retry forever, and the case answered nothing again. Now each is refused, typed, and
// the case goes on.

let ts: TimeSkipping
beforeAll(async () => {
  ts = await startTimeSkipping()
})
afterAll(async () => ts?.stop())

/** The refusal's type and details, as the API's gateway receives them. */
async function refusal(promise: Promise<unknown>): Promise<{ type: string | undefined; paths: string[] } | undefined> {
  try {
    await promise
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      const [details = []] = err.cause.details as Array<Array<{ path: string }>> | undefined ?? []
      return { type: err.cause.type ?? undefined, paths: details.map((d) => d.path) }
    }
    throw err
  }
  return undefined
}

/** No workflow task of the case ever failed: nothing threw where only refusals may. */
async function workflowTaskFailures(caseId: string): Promise<number> {
  const history = await ts.env.client.workflow.getHandle(caseId).fetchHistory()
  return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length
}

/** What the read side holds for the case: its last event and its status. */
async function readSide(caseId: string): Promise<{ lastSeq: number; status: string } | undefined> {
  const { rows } = await ts.db.database.pool.query<{ last_seq: number; status: string }>(
    'SELECT last_seq, status FROM cases WHERE id = $1', [caseId])
  return rows[0] ? { lastSeq: rows[0].last_seq, status: rows[0].status } : undefined
}

async function acceptedCase(prefix: string): Promise<string> {
  const id = uniqueName(prefix)
  await startCase(ts, newApplication(id))
  await act(ts, id, 'accept', DEPARTMENT)
  return id
}

describe('a request that once froze a case (time-skipping)', () => {
  it('refuses request_opinions within P1.5W2D with the path, and the case answers the next action', async () => {
    const id = await acceptedCase('p15w2d-')
    expect(await refusal(act(ts, id, 'request_opinions', DEPARTMENT, { organizationIds: ['gz-hr'], within: { duration: 'P1.5W2D' } })))
      .toEqual({ type: 'validation_failed', paths: ['/params/within/duration'] })
    const next = await act(ts, id, 'request_opinions', DEPARTMENT, { organizationIds: ['gz-hr'], within: { duration: 'P1W2.5D' } })
    expect(next.opinions).toEqual([expect.objectContaining({ organizationId: 'gz-hr' })])
    expect(await workflowTaskFailures(id)).toBe(0)
    expect(await readSide(id)).toEqual({ lastSeq: next.version, status: 'accepted' })
  })

  it('completes the submission of an item whose rule cannot be evaluated, leaving it for a person', async () => {
    // Saving or publishing such a rule is refused now; a guide published before that still exists.
    const id = uniqueName('bad-rule-')
    const created = await startCase(ts, newApplication(id, { guide: testGuide({ autoApprove: { no_such_op: [1] } }) }))
    expect(created.status).toBe('submitted')
    expect((await act(ts, id, 'accept', DEPARTMENT)).status).toBe('accepted')
    expect(await workflowTaskFailures(id)).toBe(0)
    expect(await readSide(id)).toEqual({ lastSeq: 2, status: 'accepted' })
  })

  const UNSTORABLE = { nul: 'signed\u0000', 'a lone surrogate': 'signed \ud800' }
  for (const [what, text] of Object.entries(UNSTORABLE)) {
    it(`refuses ${what} in a note, a reason and a material ref, and the case goes on`, async () => {
      const id = uniqueName('text-')
      await startCase(ts, newApplication(id))
      expect(await refusal(act(ts, id, 'request_supplement', WINDOW, { missing: ['form'], note: text })))
        .toEqual({ type: 'validation_failed', paths: ['/params/note'] })
      expect(await refusal(act(ts, id, 'reject', WINDOW, { reason: text })))
        .toEqual({ type: 'validation_failed', paths: ['/params/reason'] })
      await act(ts, id, 'request_supplement', WINDOW, { missing: ['form'], note: 'sign it' })
      expect(await refusal(act(ts, id, 'supplement', WINDOW, { materials: [{ code: 'form', ref: text }] })))
        .toEqual({ type: 'validation_failed', paths: ['/params/materials/0/ref'] })
      const supplemented = await act(ts, id, 'supplement', WINDOW, { materials: [{ code: 'form', ref: 'doc://form-signed' }] })
      const withdrawn: CaseView = await act(ts, id, 'withdraw', WINDOW, { reason: 'changed my mind' })
      expect([supplemented.status, withdrawn.status]).toEqual(['submitted', 'withdrawn'])
      expect(await workflowTaskFailures(id)).toBe(0)
      expect(await readSide(id)).toEqual({ lastSeq: withdrawn.version, status: 'withdrawn' })
    })

    it(`refuses a submission with ${what} in the applicant's name, before anything is recorded`, async () => {
      const id = uniqueName('name-')
      const input = newApplication(id)
      input.submission.applicant.name = `李${text}`
      // As the API's gateway submits: Update-with-Start.
      const start = ts.env.client.workflow.executeUpdateWithStart(submittedUpdate, {
        startWorkflowOperation: new WithStartWorkflowOperation<typeof applicationWorkflow>('applicationWorkflow', {
          workflowId: id, taskQueue: ts.taskQueue, args: [input], workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      })
      expect(await refusal(start)).toEqual({ type: 'validation_failed', paths: ['/submission/applicant/name'] })
      // The run ends refused (its id stays taken), rather than waiting for a projection that can never land.
      const outcome = await ts.env.client.workflow.getHandle(id).result().catch((err: unknown) => err)
      expect(outcome).toBeInstanceOf(WorkflowFailedError)
      expect(((outcome as WorkflowFailedError).cause as ApplicationFailure).type).toBe('validation_failed')
      expect(await readSide(id)).toBeUndefined()
      expect(await workflowTaskFailures(id)).toBe(0)
    })
  }

  it('still answers queries and actions on a case after every kind of refusal above', async () => {
    const id = await acceptedCase('after-')
    for (const params of [
      { organizationIds: ['gz-hr'], within: { duration: 'P1.5W2D' } },
      { organizationIds: ['gz-hr'], within: { duration: 'P9999999W' } },
      { organizationIds: ['gz-hr\u0000'], within: { workingDays: 2 } },
    ]) {
      expect((await refusal(act(ts, id, 'request_opinions', DEPARTMENT, params)))?.type).toBe('validation_failed')
    }
    expect((await view(ts, id)).status).toBe('accepted')
    expect((await act(ts, id, 'approve', DEPARTMENT, { note: 'fine' })).status).toBe('approved')
  })
})
