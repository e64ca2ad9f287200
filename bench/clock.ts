// Working-day deadline throughput: the indexed clock against a day-by-day walk.
// Usage: node --import tsx bench/clock.ts [N]   (N computations per measured run, default 2,000,000)
import { WorkingCalendar, dayOfDate, dayOfMs, endOfDayMs, parseInstant, weekdayOf } from '../src/domain/calendar.ts'
import { computeDeadline, workingDueAtMs } from '../src/domain/deadline-clock.ts'
import { officialCalendarData } from '../src/domain/official-calendar.ts'

const N = Number(process.argv[2] ?? 2_000_000)
if (!Number.isSafeInteger(N) || N <= 0) throw new Error(`N must be a positive integer, got ${process.argv[2]}`)

const data = officialCalendarData()
let t = performance.now()
const calendar = WorkingCalendar.from(data)
const buildMs = performance.now() - t

// The naive baseline: exceptions as a Map of day numbers, Monday–Friday otherwise.
const exceptions = new Map<number, boolean>()
for (const year of data.years) for (const d of year.days) exceptions.set(dayOfDate(d.date), d.working)
function naiveDueAtMs(startMs: number, n: number): number {
  let day = dayOfMs(startMs)
  for (let left = n; left > 0; ) {
    day++
    const wd = weekdayOf(day)
    if (exceptions.get(day) ?? (wd !== 0 && wd !== 6)) left--
  }
  return endOfDayMs(day)
}

// Deterministic inputs (mulberry32), random starts across 2025–2026 and n in 1..60.
let seed = 0x5eed
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296
}
const from = parseInstant('2025-01-01T00:00:00+08:00')
const span = parseInstant('2027-01-01T00:00:00+08:00') - from
const starts = new Float64Array(N)
const counts = new Int32Array(N)
for (let i = 0; i < N; i++) {
  starts[i] = from + Math.floor(random() * span)
  counts[i] = 1 + Math.floor(random() * 60)
}

function run(due: (startMs: number, n: number) => number, out?: Float64Array): { rate: number; checksum: number } {
  const begin = performance.now()
  let checksum = 0
  for (let i = 0; i < N; i++) {
    const ms = due(starts[i]!, counts[i]!)
    checksum = (checksum + ms / 86_400_000 + i) % 1e9
    if (out !== undefined) out[i] = ms
  }
  return { rate: N / ((performance.now() - begin) / 1000), checksum }
}

const clock = (startMs: number, n: number) => workingDueAtMs(calendar, startMs, n)
for (let i = 0; i < 3; i++) {
  run(clock)
  run(naiveDueAtMs)
}

const clockOut = new Float64Array(N)
const naiveOut = new Float64Array(N)
const measuredClock = run(clock, clockOut)
const measuredNaive = run(naiveDueAtMs, naiveOut)
for (let i = 0; i < N; i++) {
  if (clockOut[i] !== naiveOut[i]) {
    throw new Error(`mismatch at ${i}: start ${new Date(starts[i]!).toISOString()} n=${counts[i]} clock ${clockOut[i]} naive ${naiveOut[i]}`)
  }
}
if (measuredClock.checksum !== measuredNaive.checksum) throw new Error('checksums differ')

t = performance.now()
for (let i = 0; i < 10; i++) WorkingCalendar.from(data)
const rebuildMs = (performance.now() - t) / 10

const m = (rate: number) => `${(rate / 1e6).toFixed(1)}M/s`
console.log(`calendar index: first build ${buildMs.toFixed(2)} ms, warm build ${rebuildMs.toFixed(2)} ms`)
console.log(
  `clock: ${m(measuredClock.rate)}  naive: ${m(measuredNaive.rate)}  ratio: ${(measuredClock.rate / measuredNaive.rate).toFixed(1)}x` +
    `  (N=${N}, identical results, checksum ${measuredClock.checksum.toFixed(0)})`,
)

// The full API as workflows call it (ISO strings in and out, validation, a pause), against what
// one Date.parse + toISOString alone cost in the same run: the clock parses and formats instants by
// arithmetic, so a whole computation (one parse, three formats) is cheaper than that one pair.
const M = Math.min(N, 300_000)
const isoStarts = Array.from({ length: 1024 }, (_, i) => new Date(starts[i % N]!).toISOString())
const full = () => {
  const begin = performance.now()
  let sum = 0
  for (let i = 0; i < M; i++) {
    const startAt = isoStarts[i & 1023]!
    const r = computeDeadline(calendar, { limit: { workingDays: counts[i]! }, startAt, pauses: i % 4 === 0 ? [{ from: startAt, to: startAt }] : [] })
    sum += r.dueAt.length
  }
  return { rate: M / ((performance.now() - begin) / 1000), sum }
}
const stringsOnly = () => {
  const begin = performance.now()
  let sum = 0
  for (let i = 0; i < M; i++) sum += new Date(Date.parse(isoStarts[i & 1023]!) + i).toISOString().length
  return { rate: M / ((performance.now() - begin) / 1000), sum }
}
full()
stringsOnly()
const measuredFull = full()
const measuredStrings = stringsOnly()
console.log(
  `computeDeadline (ISO in/out): ${m(measuredFull.rate)}  Date.parse+toISOString alone: ${m(measuredStrings.rate)}` +
    `  ratio: ${(measuredFull.rate / measuredStrings.rate).toFixed(2)}x`,
)
