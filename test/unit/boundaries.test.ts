import { ESLint } from 'eslint'
import { fileURLToPath } from 'node:url'
import tseslint from 'typescript-eslint'
import { describe, expect, it } from 'vitest'

// The layer boundaries in eslint.config.js, each shown to fire on a forbidden import and to let
// the allowed ones through. Files need not exist: the rules read import paths, not types.
const repo = fileURLToPath(new URL('../..', import.meta.url))
const eslint = new ESLint({
  cwd: repo,
  overrideConfigFile: fileURLToPath(new URL('../../eslint.config.js', import.meta.url)),
  overrideConfig: tseslint.configs.disableTypeChecked,
})

/** The boundary messages an import gets in `filePath`. */
async function refusals(filePath: string, importLine: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${importLine}\n`, { filePath })
  const fatal = result!.messages.filter((m) => m.fatal)
  if (fatal.length > 0) throw new Error(fatal.map((m) => m.message).join('; '))
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

async function expectRefused(filePath: string, importLine: string, because: RegExp): Promise<void> {
  expect(await refusals(filePath, importLine), `${filePath}: ${importLine}`).toContainEqual(expect.stringMatching(because))
}

async function expectAllowed(filePath: string, importLine: string): Promise<void> {
  expect(await refusals(filePath, importLine), `${filePath}: ${importLine}`).toEqual([])
}

describe('src/domain imports nothing outside src/domain', () => {
  it('refuses the other layers, at any depth', async () => {
    await expectRefused('src/domain/probe.ts', "import { openDatabase } from '../db/client.ts'", /nothing outside src\/domain/)
    await expectRefused('src/domain/case/probe.ts', "import type { App } from '../../api/app.ts'", /nothing outside src\/domain/)
    await expectRefused('src/domain/case/kinds/probe.ts', "import { x } from '../../../workflows/index.ts'", /nothing outside src\/domain/)
  })

  it('refuses Node built-ins and libraries that are not pure', async () => {
    await expectRefused('src/domain/probe.ts', "import { readFileSync } from 'node:fs'", /Node built-ins/)
    await expectRefused('src/domain/probe.ts', "import { createHash } from 'crypto'", /Node built-ins/)
    await expectRefused('src/domain/case/probe.ts', "import pg from 'pg'", /only pure libraries/)
    await expectRefused('src/domain/case/probe.ts', "import type { Client } from '@temporalio/client'", /only pure libraries/)
  })

  it('allows the domain itself and its pure libraries', async () => {
    await expectAllowed('src/domain/case/probe.ts', "import { WorkingCalendar } from '../calendar.ts'")
    await expectAllowed('src/domain/case/probe.ts', "import { spec } from './spec.ts'")
    await expectAllowed('src/domain/probe.ts', "import { Type } from 'typebox'")
    await expectAllowed('src/domain/probe.ts', "import { Value } from 'typebox/value'")
    await expectAllowed('src/domain/probe.ts', "import jsonLogic from 'json-logic-js'")
    await expectAllowed('src/domain/probe.ts', "import official from 'chinese-days/dist/chinese-days.json' with { type: 'json' }")
    await expectAllowed('src/domain/probe.ts', "import chineseDays from 'chinese-days'")
    await expectRefused('src/domain/probe.ts', "import x from 'chinese-days-extra'", /only pure libraries/)
  })
})

describe('routes never touch SQL', () => {
  it('refuses drizzle, pg and the table definitions', async () => {
    await expectRefused('src/api/routes/probe.ts', "import { eq } from 'drizzle-orm'", /src\/db repository/)
    await expectRefused('src/api/routes/probe.ts', "import { unionAll } from 'drizzle-orm/pg-core'", /src\/db repository/)
    await expectRefused('src/api/routes/probe.ts', "import pg from 'pg'", /src\/db repository/)
    await expectRefused('src/api/routes/probe.ts', "import { organizations } from '../../db/schema.ts'", /src\/db repository/)
  })

  it('allows the repositories', async () => {
    await expectAllowed('src/api/routes/probe.ts', "import { findGuide } from '../../db/guides.ts'")
    await expectAllowed('src/api/routes/probe.ts', "import type { Db } from '../../db/client.ts'")
  })
})

describe('workflows import only the domain, workflow code and activities\' types', () => {
  it('refuses activities\' code but takes their types', async () => {
    await expectRefused('src/workflows/probe/workflow.ts', "import { createActivities } from '../../activities/index.ts'", /import type/)
    await expectAllowed('src/workflows/probe/workflow.ts', "import type * as activities from '../../activities/index.ts'")
  })

  it('refuses the database, the API, the infrastructure and Node built-ins', async () => {
    await expectRefused('src/workflows/probe/workflow.ts', "import { openDatabase } from '../../db/client.ts'", /never src\/db/)
    await expectRefused('src/workflows/probe/workflow.ts', "import type { App } from '../../api/app.ts'", /never src\/db/)
    await expectRefused('src/workflows/probe.ts', "import { connectClient } from '../infra/temporal.ts'", /never src\/db/)
    await expectRefused('src/workflows/probe/workflow.ts', "import { setTimeout } from 'node:timers/promises'", /Node built-ins/)
    await expectRefused('src/workflows/probe/workflow.ts', "import { Client } from '@temporalio/client'", /never call the client/)
  })

  it('rule 34: refuses the calendar\'s sources (chinese-days and the domain files built on it): workflows get calendars as data', async () => {
    await expectRefused('src/workflows/probe/workflow.ts', "import { statutoryHolidays } from '../../domain/statutory-holidays.ts'", /calendars as data/)
    await expectRefused('src/workflows/probe.ts', "import { officialCalendarData } from '../domain/official-calendar.ts'", /calendars as data/)
    await expectRefused('src/workflows/probe/workflow.ts', "import chineseDays from 'chinese-days'", /calendars as data/)
    await expectRefused('src/workflows/probe/workflow.ts', "import official from 'chinese-days/dist/chinese-days.json'", /calendars as data/)
  })

  it('allows the domain, other workflow code and the workflow SDK', async () => {
    await expectAllowed('src/workflows/probe/workflow.ts', "import { WorkingCalendar } from '../../domain/calendar.ts'")
    await expectAllowed('src/workflows/probe/workflow.ts', "import { searchAttributes } from '../search-attributes.ts'")
    await expectAllowed('src/workflows/probe/workflow.ts', "import { proxyActivities } from '@temporalio/workflow'")
  })
})
