import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { CAMPAIGN_WORKFLOW_CACHE, createWorkers, DEFAULT_WORKFLOW_CACHE, taskQueues } from '../../src/infra/temporal.ts'
import { createTestDatabase, type TestDatabase, testDataConverter, testTarget, uniqueName } from '../support/system.ts'

// One process's workflow cache is shared out among its queues' workers: each Worker would
// otherwise size its own from the whole heap, and five queues would cache five heaps' worth (a
// campaign's notified cases grew a worker past 3.8 GB so).

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => db?.drop())

/** Each queue's worker's cache, by the queue's name without its prefix. */
async function cacheSizes(cachedWorkflows?: number): Promise<Record<string, number>> {
  const queues = taskQueues(uniqueName('cache'))
  const { workers, connection } = await createWorkers({
    target: testTarget(), queues, dataConverter: testDataConverter, deps: { database: db.database }, workflowBundle: { codePath: inject('workflowBundlePath') },
    ...(cachedWorkflows === undefined ? {} : { cachedWorkflows }),
  })
  const sizes = Object.fromEntries(workers.map((w) => [w.options.taskQueue.replace(/^.*-/, ''), w.options.maxCachedWorkflows]))
  // A created worker holds its connection until it has run and shut down.
  const running = workers.map((w) => w.run())
  for (const w of workers) w.shutdown()
  await Promise.allSettled(running)
  await connection.close()
  return sizes
}

describe('the workflow cache of a worker process', () => {
  it('is the configured total: the campaigns queue keeps a few, the case queues share the rest', async () => {
    const caseQueues = ['applications', 'escalations', 'complaints', 'fulfilments', 'calendar']
    const sizes = (each: number) => ({ ...Object.fromEntries(caseQueues.map((q) => [q, each])), campaigns: CAMPAIGN_WORKFLOW_CACHE })
    expect(Object.keys(taskQueues('x')).sort()).toEqual([...caseQueues, 'campaigns'].sort())
    expect(await cacheSizes(1000)).toEqual(sizes(Math.floor((1000 - CAMPAIGN_WORKFLOW_CACHE) / 5)))
    expect(await cacheSizes()).toEqual(sizes(Math.floor((DEFAULT_WORKFLOW_CACHE - CAMPAIGN_WORKFLOW_CACHE) / 5)))
    expect(await cacheSizes(12)).toEqual(sizes(10))
  })
})
