// BANJIAN_TEST_EPOCH (tests only): the instant the date-dependent tests run "as of", e.g.
// `BANJIAN_TEST_EPOCH=2026-12-31T10:00:00+08:00`. The global setup resolves it once and hands it to
// every test file: time-skipping environments first sleep forward to it, and unit tests that need
// "now" take it from testNowMs(). Unset, tests run as of the real clock.
import type { TestWorkflowEnvironment } from '@temporalio/testing'
import { inject } from 'vitest'
import { dayOfMs, formatInstant, parseInstant, yearOfDay } from '../../src/domain/calendar.ts'

export const TEST_EPOCH_VARIABLE = 'BANJIAN_TEST_EPOCH'

/**
 * How far ahead of the real clock the epoch must lie: time-skipping servers start at the real time
 * and can only move forward, so it has to stay ahead for as long as a run takes.
 */
export const EPOCH_LEAD_MS = 3_600_000

const SHANGHAI_OFFSET_MS = 8 * 3_600_000

export interface ResolvedEpoch {
  epochMs: number
  /** Whole years the requested instant was moved forward (0: used as given). */
  movedYears: number
}

/**
 * The requested instant, moved forward by whole years (same local date and time in Asia/Shanghai;
 * 29 February becomes the 28th) until it lies at least EPOCH_LEAD_MS ahead of `realNowMs`, so a
 * pinned CI date keeps meaning "that day of the year" in later years.
 */
export function resolveTestEpoch(requested: string, realNowMs: number): ResolvedEpoch {
  const requestedMs = parseInstant(requested)
  let movedYears = 0
  let epochMs = requestedMs
  while (epochMs < realNowMs + EPOCH_LEAD_MS) epochMs = addLocalYears(requestedMs, ++movedYears)
  return { epochMs, movedYears }
}

function addLocalYears(ms: number, years: number): number {
  const local = new Date(ms + SHANGHAI_OFFSET_MS)
  const year = local.getUTCFullYear() + years
  const month = local.getUTCMonth()
  const lastDayOfMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate()
  const date = Math.min(local.getUTCDate(), lastDayOfMonth)
  const timeOfDay = ms + SHANGHAI_OFFSET_MS - Date.UTC(local.getUTCFullYear(), month, local.getUTCDate())
  return Date.UTC(year, month, date) + timeOfDay - SHANGHAI_OFFSET_MS
}

/** The resolved epoch of this run, or undefined when tests run as of the real clock. */
export function testEpochMs(): number | undefined {
  return inject('testEpochMs') ?? undefined
}

/** "Now" for tests that take it: the epoch when one is set, else the real clock. */
export function testNowMs(): number {
  return testEpochMs() ?? Date.now()
}

/** The Asia/Shanghai year of an instant. */
export const shanghaiYear = (ms: number): number => yearOfDay(dayOfMs(ms))

/** The Asia/Shanghai year of testNowMs(). */
export function testYear(): number {
  return shanghaiYear(testNowMs())
}

/** Moves a fresh time-skipping environment's clock to the epoch, if one is set. */
export async function sleepToTestEpoch(env: TestWorkflowEnvironment): Promise<void> {
  const epochMs = testEpochMs()
  if (epochMs === undefined) return
  const waitMs = epochMs - (await env.currentTimeMs())
  if (waitMs < 0) {
    throw new Error(`${TEST_EPOCH_VARIABLE}: ${formatInstant(epochMs)} is already behind the time-skipping clock; this run took too long`)
  }
  await env.sleep(waitMs)
}
