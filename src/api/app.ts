import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify'
import type { PayloadCodec } from '@temporalio/common'
import { createCalendarSource } from '../db/calendar.ts'
import { createCaseReads } from '../db/cases.ts'
import type { Database } from '../db/client.ts'
import { createOrganizationReads } from '../db/organizations.ts'
import { createPublishedReads, type PublishedReads } from '../db/published.ts'
import { sharedSecret } from '../db/secrets.ts'
import { createTableSharedData, type SharedDataSource } from '../db/shared-data.ts'
import { isDatabaseUnavailable } from '../db/unavailable.ts'
import { createKeyLookup } from './auth.ts'
import { answerClientError } from './client-errors.ts'
import { createCursors, type Cursors } from './cursor.ts'
import { BODY_LIMIT_BYTES, parseJsonBodies } from './json-body.ts'
import { startUnpropagatedCalendarVersions } from '../infra/calendar-propagation.ts'
import { resumeUnfinishedCampaigns } from '../infra/campaigns.ts'
import { type CaseGateway, timedGateway } from './case-gateway.ts'
import { docsPolicy, withPageHeaders } from './security-headers.ts'
import { type Command, commandOutcome, createMetrics } from './metrics.ts'
import { documentProblemMediaType, HttpProblem, problem } from './problem.ts'
import { applicationRoutes } from './routes/applications.ts'
import { escalationRoutes } from './routes/escalations.ts'
import { calendarRoutes } from './routes/calendar.ts'
import { codecRoutes } from './routes/codec.ts'
import { caseRoutes } from './routes/cases.ts'
import { campaignRoutes } from './routes/campaigns.ts'
import { complaintRoutes } from './routes/complaints.ts'
import { fulfilmentRoutes } from './routes/fulfilments.ts'
import { healthRoutes } from './routes/health.ts'
import { organizationRoutes } from './routes/organizations.ts'
import { policyRoutes } from './routes/policies.ts'
import { policyLedgerRoutes } from './routes/policy-ledger.ts'
import { serviceItemRoutes } from './routes/service-items.ts'
import { settingsRoutes } from './routes/settings.ts'
import { supervisionSummaryRoutes } from './routes/supervision-summary.ts'
import { reportRoutes } from './routes/reports.ts'
import { createShowing, type Showing } from './showing.ts'
import { supervisionRoutes } from './routes/supervisions.ts'
import { validatorCompiler } from './validation.ts'

export interface AppDeps {
  database: Database
  gateway: CaseGateway
  /**
   * Temporal's payload codec, served to the Temporal UI at /codec/{encode,decode} for the
   * browser origins given. Absent (API tests without Temporal): those routes answer 503.
   */
  codec?: { codec: PayloadCodec; corsOrigins: readonly string[] }
  /** Where pre-review finds what the government holds (db/shared-data.ts); default: the shared_materials table. */
  sharedData?: SharedDataSource
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps
    /** Set once shutdown has begun (drainAndClose): readiness answers 503 while requests still run. */
    draining: boolean
    cases: ReturnType<typeof createCaseReads>
    organizations: ReturnType<typeof createOrganizationReads>
    calendar: ReturnType<typeof createCalendarSource>
    keys: ReturnType<typeof createKeyLookup>
    /** A service item's latest guide and the limits, as submissions read them (db/published.ts). */
    published: PublishedReads
    /** Where pre-review looks up shared data (AppDeps.sharedData). */
    sharedData: SharedDataSource
    metrics: ReturnType<typeof createMetrics>
    cursors: Cursors
    /** Cases as callers may see them, with access to personal numbers logged (showing.ts). */
    show: Showing
  }
  interface FastifyRequest {
    /** The command as its handler named it once it knew more (an action's name, its case's kind). */
    command?: Command
  }
  interface FastifyContextConfig {
    /** The route is a command: its latency is also counted per command (metrics.ts), refusals before the handler too. */
    command?: Command
  }
}

export type App = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>

/** The HTTP API as a Fastify instance, not yet listening (tests `inject` into it). */
export interface AppOptions {
  logger?: FastifyBaseLogger
  /** Requests a minute each API key may make under /v1 (BANJIAN_RATE_LIMIT_PER_MINUTE); 0 or absent: no limit. */
  rateLimitPerMinute?: number
}

/**
 * Per-key rate limits (@fastify/rate-limit): each API key may make `perMinute` requests under /v1
 * in a minute, counted from its first; past that 429 `rate_limited` with Retry-After, the seconds
 * until the count starts again. Counted after authentication, so a key is counted as itself
 * whichever address it calls from; a request without a key by its address. Health checks, metrics
 * and the docs are never limited. The count is per API process: behind a gateway that spreads
 * requests over N processes, a key may make up to N × perMinute.
 */
async function limitRate(app: App, perMinute: number): Promise<void> {
  await app.register(rateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    allowList: (request) => !request.url.startsWith('/v1/'),
    keyGenerator: (request) => request.principal ? `key:${request.principal.keyId}` : `address:${request.ip}`,
    errorResponseBuilder: (_request, context) =>
      problem('rate_limited', `this API key may make ${context.max} requests a minute; try again in ${context.after}`),
  })
}

/**
 * Stops the API as a load balancer needs: readiness turns 503 at once while everything else is
 * still served for `graceMs` (the balancer's next probe takes the process out of rotation), then
 * the server stops accepting connections and closes once the requests in flight have answered.
 */
export async function drainAndClose(app: App, graceMs: number): Promise<void> {
  app.draining = true
  if (graceMs > 0) await new Promise((resolve) => setTimeout(resolve, graceMs))
  await app.close()
}

export async function buildApp(deps: AppDeps, options: AppOptions = {}): Promise<App> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    ajv: { customOptions: { removeAdditional: false } },
    // A URL Fastify cannot route (bad percent-encoding, an overlong parameter) answers like any other error.
    frameworkErrors: (err, _request, reply) => sendProblem(reply, toProblem(err)),
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  parseJsonBodies(app)
  const metrics = createMetrics()
  // Every call to Temporal timed (metrics.ts): a command's time splits into Temporal's and the API's own.
  app.decorate('deps', { ...deps, gateway: timedGateway(deps.gateway, metrics.temporalCallDuration) })
  app.decorate('draining', false)
  app.decorate('cases', createCaseReads(deps.database.db, deps.database.personal))
  app.decorate('organizations', createOrganizationReads(deps.database.db))
  app.decorate('calendar', createCalendarSource(deps.database.db))
  app.decorate('keys', createKeyLookup(deps.database))
  app.addHook('onClose', () => app.keys.close())
  app.decorate('published', createPublishedReads(deps.database))
  app.addHook('onClose', () => app.published.close())
  app.decorate('sharedData', deps.sharedData ?? createTableSharedData(deps.database))
  app.decorate('metrics', metrics)
  app.decorate('show', createShowing(deps.database.db))
  // Every API process on this database signs and checks list cursors with the same secret.
  app.decorate('cursors', createCursors(await sharedSecret(deps.database.db, 'cursor')))

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const answer = toProblem(err)
    // Not ready (shutting down, a database that cannot serve now) is a state, not a fault of the code.
    if (answer.code === 'not_ready') request.log.warn({ detail: answer.detail, cause: err === answer ? undefined : rootCause(err) }, 'not ready')
    else if (answer.status >= 500) request.log.error({ err }, 'request failed')
    sendProblem(reply, answer)
  })
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).type('application/problem+json')
      .send(problem('not_found', `no route ${request.method} ${request.url}`).toJSON())
  })

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.keyless) return
    const header = request.headers.authorization
    if (!header) {
      if (request.url.startsWith('/v1/')) throw problem('unauthenticated', 'an API key is required: Authorization: Bearer <key>')
      return
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match?.[1]) throw problem('unauthenticated', 'Authorization must be "Bearer <api key>"')
    const principal = await app.keys.find(match[1])
    if (!principal) throw problem('unauthenticated', 'unknown or revoked API key')
    request.principal = principal
  })
  app.addHook('onResponse', async (request, reply) => {
    app.metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    )
    const command = request.command ?? request.routeOptions.config.command
    if (command) {
      app.metrics.commandDuration.observe(
        { command: command.name, kind: command.kind ?? 'unknown', outcome: commandOutcome(reply.statusCode) },
        reply.elapsedTime / 1000,
      )
    }
  })

  if (options.rateLimitPerMinute) await limitRate(app, options.rateLimitPerMinute)

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'banjian', version: '0.1.0', description: 'Case handling for city government services (办件).' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transformObject: (document) => documentProblemMediaType('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: docsPolicy,
    uiHooks: {
      onRequest: (_request, reply, done) => {
        withPageHeaders(reply)
        done()
      },
    },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  // A calendar version whose propagation its publisher could not start is started now, and so is
  // a campaign whose workflow never started or failed, and the monthly report's schedule is created
  // if it is missing, in the background: the API serves
  // meanwhile, and a Temporal that is down only delays them.
  let resuming: Promise<unknown> | undefined
  app.addHook('onReady', async () => {
    const propagating = startUnpropagatedCalendarVersions(deps.database.db, (version) => deps.gateway.propagateCalendar(version))
      .then((versions) => { if (versions.length > 0) app.log.info({ versions }, 'started handing out calendar versions') })
      .catch((err: unknown) => app.log.warn({ err }, 'could not start handing out calendar versions; the next start tries again'))
    const campaigns = resumeUnfinishedCampaigns(deps.database.pool, deps.gateway)
      .then((ids) => { if (ids.length > 0) app.log.info({ campaigns: ids }, 'campaigns under way, started or found running') })
      .catch((err: unknown) => app.log.warn({ err }, 'could not resume the campaigns under way; the next start tries again'))
    const schedule = deps.gateway.ensureReportSchedule()
      .then((outcome) => { if (outcome === 'created') app.log.info('created the monthly report\'s schedule') })
      .catch((err: unknown) => app.log.warn({ err }, 'could not create the monthly report\'s schedule; the next start tries again'))
    resuming = Promise.all([propagating, campaigns, schedule])
  })
  app.addHook('onClose', async () => resuming)

  await app.register(healthRoutes)
  await app.register(codecRoutes, { codec: deps.codec?.codec, corsOrigins: deps.codec?.corsOrigins ?? [] })
  await app.register(organizationRoutes, { prefix: '/v1' })
  await app.register(serviceItemRoutes, { prefix: '/v1' })
  await app.register(policyRoutes, { prefix: '/v1' })
  await app.register(applicationRoutes, { prefix: '/v1' })
  await app.register(complaintRoutes, { prefix: '/v1' })
  await app.register(escalationRoutes, { prefix: '/v1' })
  await app.register(campaignRoutes, { prefix: '/v1' })
  await app.register(fulfilmentRoutes, { prefix: '/v1' })
  await app.register(caseRoutes, { prefix: '/v1' })
  await app.register(calendarRoutes, { prefix: '/v1' })
  await app.register(settingsRoutes, { prefix: '/v1' })
  await app.register(supervisionRoutes, { prefix: '/v1' })
  await app.register(supervisionSummaryRoutes, { prefix: '/v1' })
  await app.register(policyLedgerRoutes, { prefix: '/v1' })
  await app.register(reportRoutes, { prefix: '/v1' })
  return app
}

function sendProblem(reply: FastifyReply, answer: HttpProblem): void {
  void reply.status(answer.status).type('application/problem+json').send(answer.toJSON())
}

function toProblem(err: FastifyError): HttpProblem {
  if (err instanceof HttpProblem) return err
  if (err.validation) {
    const where = err.validationContext ?? 'body'
    const errors = err.validation.map((v) => ({
      path: `${where}${v.instancePath || ''}`,
      message: v.message ?? 'is not valid',
    }))
    return problem('validation_failed', `${where} is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors)
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('unsupported_media_type', err.message)
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('payload_too_large', `JSON bodies are limited to ${BODY_LIMIT_BYTES} bytes (1 MiB)`)
    case 'FST_ERR_BAD_URL':
      return problem('validation_failed', 'the URL is not valid percent-encoded UTF-8', [{ path: 'url', message: 'is not valid percent-encoding' }])
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return problem('validation_failed', 'a path parameter is too long', [{ path: 'params', message: 'must be at most 100 characters' }])
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('validation_failed', `request body is not valid JSON: ${err.message}`, [{ path: 'body', message: 'is not valid JSON' }])
  }
  if (err instanceof SyntaxError) {
    return problem('validation_failed', `request body is not valid JSON: ${err.message}`, [{ path: 'body', message: 'is not valid JSON' }])
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return problem('validation_failed', err.message)
  // The database cannot do it now (down, read-only, full): a 503 tells the caller to try again
  // later, as a load balancer reads it too; an Idempotency-Key makes the retry safe.
  if (isDatabaseUnavailable(err)) return problem('not_ready', 'the database cannot serve this request now; try again later')
  return problem('internal', 'the server could not complete the request')
}

/** What went wrong underneath (drizzle wraps the driver's error in a message quoting the whole query): the innermost message, with its code. */
function rootCause(err: Error): string {
  let inner = err
  for (let depth = 0; inner.cause instanceof Error && depth < 5; depth++) inner = inner.cause
  const code = (inner as { code?: unknown }).code
  return typeof code === 'string' ? `${inner.message} (${code})` : inner.message
}
