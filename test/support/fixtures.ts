import { defaultPayloadConverter } from '@temporalio/common'
import type { temporal } from '@temporalio/proto'
import type { App } from '../../src/api/app.ts'
import type { ServiceItemDraft } from '../../src/domain/service-item.ts'
import type { PolicyDraft } from '../../src/domain/policy.ts'
import { SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes.ts'
import { ADMIN_KEY } from './system.ts'

type Injector = Pick<App, 'inject'>

export const auth = (key: string) => ({ authorization: `Bearer ${key}` })

export async function call(app: Injector, key: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string,
  body?: unknown, headers: Record<string, string> = {}) {
  const response = await app.inject({ method, url, headers: { ...auth(key), ...headers }, ...(body === undefined ? {} : { payload: body as object }) })
  return { status: response.statusCode, body: response.body ? response.json() : undefined, headers: response.headers }
}

export const ITEM_CODE = '440100-BIZ-001'

export const itemDraft = (overrides: Partial<ServiceItemDraft> = {}): ServiceItemDraft => ({
  name: 'Business licence registration',
  departmentId: 'gz-amr',
  processing: 'promised',
  promisedLimit: { workingDays: 5 },
  statutoryLimit: { workingDays: 20 },
  materials: [
    { code: 'application-form', name: 'Application form', required: true },
    { code: 'id-card', name: 'Identity card', required: true, sharedSource: 'resident-id' },
    { code: 'lease', name: 'Lease contract', required: true },
    { code: 'photo', name: 'Photo', required: false },
  ],
  channels: ['window', 'online'],
  ...overrides,
})

const reviewers = new WeakMap<Injector, Promise<string>>()

/**
 * An administrator key of its own (one per app), to review what ADMIN_KEY drafts: rule 40 wants
 * another key than the author's.
 */
export function reviewerKey(app: Injector): Promise<string> {
  let key = reviewers.get(app)
  if (!key) {
    key = call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId: 'root', role: 'admin', name: 'guide reviewer' }).then((r) => {
      if (r.status !== 201) throw new Error(`reviewer key: ${JSON.stringify(r.body)}`)
      return (r.body as { key: string }).key
    })
    reviewers.set(app, key)
  }
  return key
}

/** Approves the item's current draft with the reviewer key (rules 2 and 40); throws unless that works. */
export async function approveDraft(app: Injector, code: string): Promise<void> {
  const r = await call(app, await reviewerKey(app), 'POST', `/v1/service-items/${code}/review`, { approved: true, note: 'reviewed in a test' })
  if (r.status !== 200) throw new Error(`review of ${code}: ${JSON.stringify(r.body)}`)
}

/** Drafts a policy as ADMIN_KEY, approves it with another key and publishes it; throws unless each step works. */
export async function publishPolicy(app: Injector, code: string, draft: PolicyDraft): Promise<void> {
  for (const [step, r] of [
    ['draft', () => call(app, ADMIN_KEY, 'PUT', `/v1/policies/${code}`, draft)],
    ['review', async () => call(app, await reviewerKey(app), 'POST', `/v1/policies/${code}/review`, { approved: true, note: 'ok' })],
    ['publish', () => call(app, ADMIN_KEY, 'POST', `/v1/policies/${code}/publish`)],
  ] as const) {
    const answer = await r()
    if (answer.status !== 200) throw new Error(`policy ${code} ${step}: ${JSON.stringify(answer.body)}`)
  }
}

/** Reviews the draft ADMIN_KEY wrote with another key, then publishes it: the answer to the publish. */
export async function publishItem(app: Injector, code: string, headers: Record<string, string> = {}) {
  await approveDraft(app, code)
  return call(app, ADMIN_KEY, 'POST', `/v1/service-items/${code}/publish`, undefined, headers)
}

export interface Directory {
  windowKey: string
  departmentKey: string
  otherDepartmentKey: string
  supervisorKey: string
  auditorKey: string
}

/** The organisations, keys and one published item most tests need. */
export async function seedDirectory(app: Injector, draft: ServiceItemDraft = itemDraft()): Promise<Directory> {
  const orgs: Array<[string, string, string, string?]> = [
    ['gz', 'Guangzhou Municipal Government', 'government', 'root'],
    ['gz-sm', 'Service Management Office', 'service-management', 'gz'],
    ['gz-center', 'Guangzhou Government Service Centre', 'service-center', 'gz'],
    ['gz-amr', 'Administration for Market Regulation', 'department', 'gz'],
    ['gz-hr', 'Human Resources Bureau', 'department', 'gz'],
  ]
  for (const [id, name, kind, parentId] of orgs) {
    const r = await call(app, ADMIN_KEY, 'PUT', `/v1/organizations/${id}`, { name, kind, ...(parentId ? { parentId } : {}) })
    if (r.status !== 200) throw new Error(`seeding ${id}: ${JSON.stringify(r.body)}`)
  }
  const key = async (organizationId: string, role: string) => {
    const r = await call(app, ADMIN_KEY, 'POST', '/v1/api-keys', { organizationId, role })
    if (r.status !== 201) throw new Error(`key for ${organizationId}: ${JSON.stringify(r.body)}`)
    return (r.body as { key: string }).key
  }
  const put = await call(app, ADMIN_KEY, 'PUT', `/v1/service-items/${ITEM_CODE}`, draft)
  if (put.status !== 200) throw new Error(`draft: ${JSON.stringify(put.body)}`)
  const published = await publishItem(app, ITEM_CODE)
  if (published.status !== 200) throw new Error(`publish: ${JSON.stringify(published.body)}`)
  return {
    windowKey: await key('gz-center', 'window'),
    departmentKey: await key('gz-amr', 'department'),
    otherDepartmentKey: await key('gz-hr', 'department'),
    supervisorKey: await key('gz', 'supervisor'),
    auditorKey: await key('root', 'auditor'),
  }
}

export const applicationBody = (overrides: Record<string, unknown> = {}) => ({
  serviceItemCode: ITEM_CODE,
  applicant: { type: 'person', name: '张三', idNumber: '440106199001011234' },
  channel: 'window',
  materials: [{ code: 'application-form', ref: 'doc://form/1' }, { code: 'lease', ref: 'doc://lease/1' }],
  ...overrides,
})

/** The activity types a history ran as local activities, in order, from core's markers (never encrypted). */
export function localActivityTypes(events: readonly temporal.api.history.v1.IHistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.['data']?.payloads?.[0]
    return data ? [defaultPayloadConverter.fromPayload<{ activity_type: string }>(data).activity_type] : []
  })
}

/** The names of the search attributes a history's run was started with, and of those each upsert wrote, sorted. */
export function searchAttributeWrites(events: readonly temporal.api.history.v1.IHistoryEvent[]): { started: string[]; upserts: string[][] } {
  const names = (fields: Record<string, unknown> | null | undefined) => Object.keys(fields ?? {}).sort()
  return {
    started: names(events[0]?.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields),
    upserts: events.flatMap((e) => {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields
      return fields ? [names(fields)] : []
    }),
  }
}

/** Every search attribute a case keeps (kind, status, handling organisation, provisional), sorted as searchAttributeWrites gives them. */
export const CASE_ATTRIBUTES = Object.keys(SEARCH_ATTRIBUTES).sort()
