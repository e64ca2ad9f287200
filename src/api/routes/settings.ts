import { Type, type TOptional } from 'typebox'
import { readLimits, writeLimits } from '../../db/settings.ts'
import { LimitError, validateLimit } from '../../domain/limit.ts'
import { LimitSchema } from '../../domain/limit-schema.ts'
import { isLimitSettingName, LIMIT_SETTING_NAMES, type LimitSettingName } from '../../domain/limit-settings.ts'
import type { App } from '../app.ts'
import { allow } from '../auth.ts'
import { commonErrorResponses, problem } from '../problem.ts'

const Limits = Type.Object(
  Object.fromEntries(LIMIT_SETTING_NAMES.map((name) => [name, LimitSchema])) as Record<LimitSettingName, typeof LimitSchema>,
  { description: 'every limit that belongs to no service item, with its current value' },
)

const LimitChanges = Type.Object(
  Object.fromEntries(LIMIT_SETTING_NAMES.map((name) => [name, Type.Optional(LimitSchema)])) as
    Record<LimitSettingName, TOptional<typeof LimitSchema>>,
  { additionalProperties: false, minProperties: 1, description: 'the limits to change; the others keep their values' },
)

export async function settingsRoutes(app: App): Promise<void> {
  const { db } = app.deps.database

  app.get('/settings/limits', {
    preValidation: allow(['admin', 'supervisor']),
    schema: {
      tags: ['settings'], operationId: 'getLimitSettings', summary: 'Read the limits that belong to no service item',
      response: { 200: Limits, ...commonErrorResponses },
    },
  }, async () => readLimits(db))

  app.put('/settings/limits', {
    schema: {
      tags: ['settings'], operationId: 'updateLimitSettings', summary: 'Change some of the limits that belong to no service item',
      body: LimitChanges, response: { 200: Limits, ...commonErrorResponses },
    },
    // Before schema validation, so an unknown name is answered by name, with the names there are.
    preValidation: [allow(['admin']), async (request) => {
      const body: unknown = request.body
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return
      const unknown = Object.keys(body).filter((name) => !isLimitSettingName(name))
      if (unknown.length > 0) {
        const message = `is not a limit setting; the settings are ${LIMIT_SETTING_NAMES.join(', ')}`
        throw problem('validation_failed', `unknown limit settings: ${unknown.join(', ')}`,
          unknown.map((name) => ({ path: `body/${name}`, message })))
      }
    }],
  }, async (request) => {
    const errors: Array<{ path: string; message: string }> = []
    for (const [name, limit] of Object.entries(request.body)) {
      try {
        validateLimit(limit)
      } catch (err) {
        if (!(err instanceof LimitError)) throw err
        errors.push({ path: `body/${name}${'duration' in limit ? '/duration' : ''}`, message: err.message })
      }
    }
    if (errors.length > 0) throw problem('validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors)
    const limits = await writeLimits(db, request.body)
    // Announced to every process; this one forgets before it answers, so that the caller's next
    // submission reads the change.
    app.published.forget()
    return limits
  })
}
