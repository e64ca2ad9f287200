// `banjian keys …` and `banjian calendar …`: what an administrator does on the database directly,
// without the API (the first keys of a new deployment, a calendar year from the State Council's
// notice). Each returns the process's exit code and writes what it has to say through `out`.
import { readFile } from 'node:fs/promises'
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import { createApiKey, listApiKeys, revokeApiKey, UnknownOrganization } from '../db/api-keys.ts'
import { publishCalendarYear, readCountedCalendarYear } from '../db/calendar.ts'
import type { Database } from '../db/client.ts'
import { CalendarDaySchema, calendarYearProblems, CalendarYearNumber } from '../domain/calendar-year.ts'
import { Role, ROLES } from '../domain/roles.ts'

type Out = (line: string) => void

export async function createKeyCommand(database: Database, options: { organization: string; role: string; name?: string }, out: Out): Promise<number> {
  if (!Value.Check(Role, options.role)) {
    out(`--role must be one of ${ROLES.join(', ')}`)
    return 2
  }
  try {
    const created = await createApiKey(database.db, { organizationId: options.organization, role: options.role, name: options.name })
    out(JSON.stringify(created))
    out('the key is shown this once; only its hash is stored')
    return 0
  } catch (err) {
    if (!(err instanceof UnknownOrganization)) throw err
    out(err.message)
    return 1
  }
}

export async function listKeysCommand(database: Database, out: Out): Promise<number> {
  for (const key of await listApiKeys(database.db)) out(JSON.stringify(key))
  return 0
}

export async function revokeKeyCommand(database: Database, id: string, out: Out): Promise<number> {
  if (await revokeApiKey(database.db, id)) {
    out(`revoked ${id}; every API process refuses it from now on`)
    return 0
  }
  out(`no API key ${id}`)
  return 1
}

export async function showCalendarCommand(database: Database, year: number, out: Out): Promise<number> {
  out(JSON.stringify(await readCountedCalendarYear(database.db, year), null, 2))
  return 0
}

const CalendarFile = Type.Union([Type.Array(CalendarDaySchema), Type.Object({ days: Type.Array(CalendarDaySchema) })])

/**
 * Publishes a year from a JSON file (`[{ date, working, name? }]`, or `{ days: [...] }` as the API
 * takes it), then starts its propagation workflow with `propagate`. When Temporal cannot be
 * reached, the version stays unpropagated and the next API start starts it.
 */
export async function publishCalendarCommand(database: Database, year: number, file: string, out: Out,
  propagate: (version: number) => Promise<string>): Promise<number> {
  if (!Value.Check(CalendarYearNumber, year)) {
    out(`${year} is not a year the calendar covers`)
    return 2
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    out(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`)
    return 2
  }
  if (!Value.Check(CalendarFile, parsed)) {
    out(`${file} is not a list of { date, working, name? } days (nor { days: [...] })`)
    return 2
  }
  const days = Array.isArray(parsed) ? parsed : parsed.days
  const problems = calendarYearProblems(year, days)
  if (problems.length > 0) {
    for (const p of problems) out(`${p.path.replace(/^\//, '')}: ${p.message}`)
    return 2
  }
  const published = await publishCalendarYear(database.db, { year, days, changedBy: 'cli' })
  out(`published ${year} as calendar version ${published.version} (${published.days.length} exceptions to Monday–Friday)`)
  try {
    const workflowId = await propagate(published.version)
    out(`workflow ${workflowId} hands it to the open cases it may move`)
  } catch (err) {
    out(`Temporal could not be reached (${err instanceof Error ? err.message : String(err)}): the next API start hands it to the open cases it may move`)
  }
  return 0
}
