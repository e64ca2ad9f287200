import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js'
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker'
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { testDataConverter } from '../support/system.ts'

// Recorded by scripts/record-histories.ts; see the README beside them for when to re-record.
const HISTORIES_DIR = fileURLToPath(new URL('../fixtures/histories/', import.meta.url))
/** The paths through the workflows (a case and its deadline watches) that running cases may be in. */
const SCENARIOS = [
  'submitted', 'resubmitted', 'accepted', 'deemed-accepted', 'calendar-changed', 'continued-as-new',
  'continued-as-new-own-task', 'continued-run',
  'joint-opinions', 'opinion-watch-given', 'opinion-watch-missed', 'rated', 'rectification-opened', 'rectification-watch', 'rectified',
  // Under the first rules (before patch application-rules-2): closed at once, never rated.
  'withdrawn-closed-rules-1', 'rejected-closed-rules-1',
  'withdrawn-rating', 'deferred-revoked', 'withdrawn-rating-rules-in-input', 'second-rectification', 'second-rectification-watch',
  // Supervision climbing the tree (the parents looked up by activity when a step falls due).
  'supervision-levels',
  // Started with local activities (issue 13): the projection and pre-review as markers.
  ...['submitted', 'resubmitted', 'accepted', 'deemed-accepted', 'calendar-changed', 'continued-as-new-own-task', 'continued-run',
    'joint-opinions', 'rated', 'rectified', 'second-rectification', 'supervision-levels', 'withdrawn-rating-rules-in-input']
    .map((name) => `local-${name}`),
  // Started with kept timers too: no CancelTimer anywhere, the watches given the mode by their case.
  ...['submitted', 'resubmitted', 'accepted', 'deemed-accepted', 'calendar-changed', 'continued-as-new-own-task', 'continued-run',
    'joint-opinions', 'opinion-watch-given', 'opinion-watch-missed', 'rated', 'rectification-opened', 'rectification-watch', 'rectified',
    'withdrawn-rating', 'withdrawn-rating-rules-in-input', 'deferred-revoked', 'second-rectification', 'second-rectification-watch',
    'supervision-levels'].map((name) => `kept-${name}`),
  // Started upserting only the search attributes that changed (the watches are as with kept timers).
  ...['submitted', 'resubmitted', 'accepted', 'deemed-accepted', 'calendar-changed', 'continued-as-new-own-task', 'continued-run',
    'joint-opinions', 'rated', 'rectification-opened', 'rectified', 'withdrawn-rating', 'withdrawn-rating-rules-in-input', 'deferred-revoked',
    'second-rectification', 'supervision-levels', 'fulfilment-paid', 'fulfilment-awaiting-budget'].map((name) => `changed-${name}`),
  // Fulfilments started reserving their payment by local activity.
  'reserved-fulfilment-paid', 'reserved-fulfilment-awaiting-budget',
  // Started with their search attributes: no upsert at the first event.
  ...['submitted', 'resubmitted', 'accepted', 'deemed-accepted', 'calendar-changed', 'continued-as-new-own-task', 'continued-run',
    'joint-opinions', 'rated', 'rectification-opened', 'rectified', 'withdrawn-rating', 'withdrawn-rating-rules-in-input', 'deferred-revoked',
    'second-rectification', 'supervision-levels', 'fulfilment-paid', 'fulfilment-awaiting-budget'].map((name) => `opened-${name}`),
]

async function loadHistories(): Promise<Map<string, unknown>> {
  const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort()
  const loaded = new Map<string, unknown>()
  for (const file of files) loaded.set(file.replace(/\.json$/, ''), JSON.parse(await readFile(`${HISTORIES_DIR}${file}`, 'utf8')))
  return loaded
}

/** Replays each history against the bundle built from the current code; name → 'ok' or the error. */
async function replay(histories: Map<string, unknown>): Promise<Record<string, string>> {
  const results: ReplayResult[] = []
  const input = [...histories].map(([name, json]) => ({ workflowId: name, history: historyFromJSON(json) }))
  // With the encryption codec, as production replays: these histories predate it and pass through it unchanged.
  const options = { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: testDataConverter }
  for await (const result of Worker.runReplayHistories(options, input)) {
    results.push(result)
  }
  return Object.fromEntries(results.map((r) => [r.workflowId, r.error ? `${r.error.name}: ${r.error.message}` : 'ok']))
}

beforeAll(() => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] })
  } catch {
    // Already installed in this process by another file: its logger is fine too.
  }
})

describe('recorded workflow histories', () => {
  it('replay without non-determinism against the current workflow code', async () => {
    const histories = await loadHistories()
    expect([...histories.keys()]).toEqual(expect.arrayContaining(SCENARIOS))
    const outcome = await replay(histories)
    // Every history answered, and none with an error: a failure here means running cases would break.
    expect(outcome).toEqual(Object.fromEntries([...histories.keys()].map((name) => [name, 'ok'])))
  })

  it('reports a history whose commands no longer match the code, so the check above cannot pass vacuously', async () => {
    const histories = await loadHistories()
    const tampered = structuredClone(histories.get('accepted')) as { events: Array<Record<string, any>> }
    const scheduled = tampered.events.find((e) => e.activityTaskScheduledEventAttributes)
    expect(scheduled).toBeDefined()
    scheduled!.activityTaskScheduledEventAttributes.activityType.name = 'someOtherActivity'
    // A deadline watch too: its warning timer recorded as cancelled where the code lets it fire.
    const child = structuredClone(histories.get('opinion-watch-missed')) as { events: Array<Record<string, any>> }
    const fired = child.events.find((e) => e.timerFiredEventAttributes)
    expect(fired).toBeDefined()
    fired!.eventType = 'EVENT_TYPE_TIMER_CANCELED'
    // A case started with local activities, its input no longer saying so: the code would schedule
    // regular activities where the history has markers.
    const local = withInput(histories.get('local-accepted'), ({ activities, ...input }) => {
      expect(activities).toBe('local')
      return input
    })
    // A case started with kept timers, its input no longer saying so: the code would cancel a timer
    // where the history lets it run.
    const kept = withInput(histories.get('kept-accepted'), ({ timers, ...input }) => {
      expect(timers).toBe('kept')
      return input
    })
    // A case started upserting only what changed, its input no longer saying so: the code would
    // upsert all four where the history has no upsert.
    const changed = withInput(histories.get('changed-supervision-levels'), ({ attributes, ...rest }) => {
      expect(attributes).toBe('changed')
      return rest
    })
    // A fulfilment that reserved its payment by regular activity, its input now saying local: the
    // code would record a marker where the history has an activity task.
    const reserved = withInput(histories.get('changed-fulfilment-paid'), (input) => {
      expect(input.activities).toBe('local')
      return { ...input, activities: 'local-reservation' }
    })
    // A case started with its search attributes, its start no longer holding them: the code would
    // upsert all four at the first event where the history has no upsert.
    const opened = structuredClone(histories.get('opened-submitted')) as { events: Array<Record<string, any>> }
    expect(Object.keys(opened.events[0]!.workflowExecutionStartedEventAttributes.searchAttributes.indexedFields)).toHaveLength(4)
    delete opened.events[0]!.workflowExecutionStartedEventAttributes.searchAttributes
    const outcome = await replay(new Map([['tampered', tampered], ['tampered-child', child], ['tampered-local', local], ['tampered-kept', kept],
      ['tampered-changed', changed], ['tampered-reserved', reserved], ['tampered-opened', opened]]))
    expect(outcome.tampered).toMatch(/nondetermin/i)
    expect(outcome['tampered-child']).toMatch(/nondetermin/i)
    expect(outcome['tampered-local']).toMatch(/nondetermin/i)
    expect(outcome['tampered-kept']).toMatch(/nondetermin/i)
    expect(outcome['tampered-changed']).toMatch(/nondetermin/i)
    expect(outcome['tampered-reserved']).toMatch(/nondetermin/i)
    expect(outcome['tampered-opened']).toMatch(/nondetermin/i)
  })
})

/** A copy of a recorded history whose start input `change` rewrote. */
function withInput(history: unknown, change: (input: Record<string, unknown>) => Record<string, unknown>): unknown {
  const copy = structuredClone(history) as { events: Array<Record<string, any>> }
  const payload = copy.events[0]!.workflowExecutionStartedEventAttributes.input.payloads[0]
  payload.data = Buffer.from(JSON.stringify(change(JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'))))).toString('base64')
  return copy
}
