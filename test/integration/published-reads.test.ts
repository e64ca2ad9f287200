import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { App } from '../../src/api/app.ts'
import { createPublishedReads, type PublishedReads } from '../../src/db/published.ts'
import { writeLimits } from '../../src/db/settings.ts'
import { call, ITEM_CODE, itemDraft, publishItem, seedDirectory } from '../support/fixtures.ts'
import { ADMIN_KEY, createTestDatabase, startAppWithoutTemporal, type TestDatabase } from '../support/system.ts'

// What every submission reads (an item's latest guide, the limits) is cached by each API process
// while it hears changes: a publication or a limit changed anywhere is heard at once by all of
// them; nothing is cached while the listening connection is down; the process that made the change
// forgets before it answers.

let db: TestDatabase
let app: App
let stop: (() => Promise<void>) | undefined
/** A second API process's cache on the same database. */
let other: PublishedReads

beforeAll(async () => {
  ({ db, app, stop } = await startAppWithoutTemporal('no Temporal in published-reads tests'))
  await seedDirectory(app)
  other = createPublishedReads(db.database)
  await listeningEverywhere()
})
afterAll(async () => {
  await other?.close()
  await stop?.()
})

async function listeningEverywhere(): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!(app.published.listening() && other.listening())) {
    if (Date.now() > deadline) throw new Error('a cache did not listen for publications within 10 s')
    await sleep(20)
  }
}
const AT_ONCE = { timeout: 1000, interval: 20 }
const caches = () => [app.published, other]
/** Queries sent through the database's pool while `run` runs (the listener has a connection of its own). */
async function queriesDuring(run: () => Promise<unknown>): Promise<number> {
  const spy = vi.spyOn(db.database.pool, 'query')
  try {
    await run()
    return spy.mock.calls.length
  } finally {
    spy.mockRestore()
  }
}
const versions = () => Promise.all(caches().map(async (reads) => (await reads.guide(ITEM_CODE))?.version))
/** A limit changed in SQL, announced to nobody. */
const setByHand = (value: object) =>
  db.database.pool.query('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    ['limit:complaint.suggestion', JSON.stringify(value)])
const suggestionLimits = () => Promise.all(caches().map(async (reads) => (await reads.limits())['complaint.suggestion']))

describe('published reads', () => {
  it('are read once and then served from memory, frozen', async () => {
    const [mine] = caches()
    await mine!.guide(ITEM_CODE)
    await mine!.limits()
    expect(await queriesDuring(async () => {
      await mine!.guide(ITEM_CODE)
      await mine!.limits()
    })).toBe(0)
    const guide = (await mine!.guide(ITEM_CODE))!
    expect(Object.isFrozen(guide) && Object.isFrozen(guide.materials[0])).toBe(true)
    expect(() => { (guide.materials as unknown[]).push({}) }).toThrow(TypeError)
  })

  it('hear a guide published by another process at once', async () => {
    const [before] = await versions()
    expect(await versions()).toEqual([before, before])
    expect((await call(app, ADMIN_KEY, 'PUT', `/v1/service-items/${ITEM_CODE}`, itemDraft())).status).toBe(200)
    expect((await publishItem(app, ITEM_CODE)).status).toBe(200)
    await expect.poll(versions, AT_ONCE).toEqual([before! + 1, before! + 1])
  })

  it('hear a limit changed by another process at once', async () => {
    await suggestionLimits()
    await writeLimits(db.database.db, { 'complaint.suggestion': { workingDays: 7 } })
    await expect.poll(suggestionLimits, AT_ONCE).toEqual([{ workingDays: 7 }, { workingDays: 7 }])
  })

  it('hear nothing announced in another schema of the same database', async () => {
    const neighbour = await createTestDatabase()
    try {
      await versions()
      await suggestionLimits()
      await writeLimits(neighbour.database.db, { 'complaint.suggestion': { workingDays: 3 } })
      // Announced to the neighbour's listeners only: ours go on serving from memory.
      await sleep(200)
      expect(await queriesDuring(async () => {
        await versions()
        await suggestionLimits()
      })).toBe(0)
    } finally {
      await neighbour.drop()
    }
  })

  it('are forgotten by the process that changed them before it answers', async () => {
    const forget = vi.spyOn(app.published, 'forget')
    try {
      expect((await call(app, ADMIN_KEY, 'PUT', '/v1/settings/limits', { 'complaint.help': { workingDays: 9 } })).status).toBe(200)
      expect(forget).toHaveBeenCalledTimes(1)
      expect((await call(app, ADMIN_KEY, 'PUT', `/v1/service-items/${ITEM_CODE}`, itemDraft())).status).toBe(200)
      expect((await publishItem(app, ITEM_CODE)).status).toBe(200)
      expect(forget).toHaveBeenCalledTimes(2)
    } finally {
      forget.mockRestore()
    }
  })
})

describe('when the listening connection drops', () => {
  it('serve nothing from memory until they listen again, then cache and hear changes as before', async () => {
    await suggestionLimits()
    await db.database.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name = 'banjian publications' AND pid <> pg_backend_pid()`)
    await expect.poll(() => caches().map((reads) => reads.listening()), AT_ONCE).toEqual([false, false])
    // A change nobody announces is read at once all the same: nothing is kept meanwhile.
    await setByHand({ workingDays: 8 })
    expect(await suggestionLimits()).toEqual([{ workingDays: 8 }, { workingDays: 8 }])
    await setByHand({ workingDays: 4 })
    expect(await suggestionLimits()).toEqual([{ workingDays: 4 }, { workingDays: 4 }])

    await listeningEverywhere()
    await writeLimits(db.database.db, { 'complaint.suggestion': { workingDays: 6 } })
    await expect.poll(suggestionLimits, AT_ONCE).toEqual([{ workingDays: 6 }, { workingDays: 6 }])
  })
})
