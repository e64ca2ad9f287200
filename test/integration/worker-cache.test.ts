import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createWorkers, DEFAULT_WORKFLOW_CACHE, taskQueues } from '../../src/infra/temporal.ts'
import { createTestDatabase, type TestDatabase, testDataConverter, testTarget, uniqueName } from '../support/system.ts'

// One process's workflow cache is shared out among its queues' workers: each Worker would
// otherwise size its own from the whole heap, and five queues would cache five heaps' worth (a
// campaign's notified cases grew a worker past 3.8 GB so).

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => db?.drop())

async function cacheSizes(cachedWorkflows?: number): Promise<number[]> {
  const queues = taskQueues(uniqueName('cache'))
  const { workers, connection } = await createWorkers({
    target: testTarget(), queues, dataConverter: testDataConverter, deps: { database: db.database }, workflowBundle: { codePath: inject('workflowBundlePath') },
    ...(cachedWorkflows === undefined ? {} : { cachedWorkflows }),
  })
  const sizes = workers.map((w) => w.options.maxCachedWorkflows)
  // A created worker holds its connection until it has run and shut down.
  const running = workers.map((w) => w.run())
  for (const w of workers) w.shutdown()
  await Promise.allSettled(running)
  await connection.close()
  return sizes
}

describe('the workflow cache of a worker process', () => {
  it('is the configured total, shared out among the queues', async () => {
    const queues = Object.keys(taskQueues('x')).length
    expect(await cacheSizes(1000)).toEqual(Array(queues).fill(Math.floor(1000 / queues)))
    expect(await cacheSizes()).toEqual(Array(queues).fill(Math.floor(DEFAULT_WORKFLOW_CACHE / queues)))
    expect(await cacheSizes(12)).toEqual(Array(queues).fill(10))
  })
})
