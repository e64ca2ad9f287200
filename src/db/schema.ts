import { sql } from 'drizzle-orm'
import {
  bigint, boolean, customType, date, index, integer, jsonb, pgTable, primaryKey, smallint, text, uniqueIndex,
} from 'drizzle-orm/pg-core'
import type { CaseKind, CaseView, DeadlineState, Supervision } from '../domain/case-view.ts'
import type { Notice, NoticeType } from '../domain/notices.ts'
import type { Beneficiary, Policy, PolicyDraft } from '../domain/policy.ts'
import type { ReviewSubject, Signer } from '../domain/review.ts'
import type { Actor, OrganizationKind, Role } from '../domain/roles.ts'

/**
 * A point in time, read as an ISO 8601 string in UTC (`2026-11-28T12:26:07.187Z`), the form the
 * API promises; Postgres's own text form (`2026-11-28 12:26:07.18717+00`) never leaves the database.
 * `infinity` and `-infinity` stay as they are.
 */
const instant = customType<{ data: string; driverData: string | Date }>({
  dataType: () => 'timestamp with time zone',
  fromDriver: (value) => {
    const date = new Date(value)
    return Number.isNaN(date.getTime()) ? String(value) : date.toISOString()
  },
})

export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind').$type<OrganizationKind>().notNull(),
  parentId: text('parent_id'),
  /** Materialised path of ids from the root, for subtree queries (`/root/gz/gz-dept/`). */
  path: text('path').notNull(),
  createdAt: instant('created_at').notNull().default(sql`now()`),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
}, (t) => [index('organizations_path_idx').on(t.path)])

export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  organizationId: text('organization_id').notNull().references(() => organizations.id),
  role: text('role').$type<Role>().notNull(),
  name: text('name'),
  /** sha256 of the secret; the secret itself is never stored. */
  keyHash: text('key_hash').notNull(),
  createdAt: instant('created_at').notNull().default(sql`now()`),
  revokedAt: instant('revoked_at'),
}, (t) => [uniqueIndex('api_keys_hash_idx').on(t.keyHash)])

export const serviceItems = pgTable('service_items', {
  code: text('code').primaryKey(),
  draft: jsonb('draft'),
  /** Counts every save of a draft, across publications: a review approves one revision only. */
  draftRevision: integer('draft_revision').notNull().default(0),
  /** The key that saved the current draft (rule 40); null for drafts saved before authors were recorded. */
  draftAuthor: jsonb('draft_author').$type<Signer>(),
  latestVersion: integer('latest_version'),
  createdAt: instant('created_at').notNull().default(sql`now()`),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
})

export const serviceItemVersions = pgTable('service_item_versions', {
  code: text('code').notNull().references(() => serviceItems.code),
  version: integer('version').notNull(),
  guide: jsonb('guide').notNull(),
  publishedAt: instant('published_at').notNull().default(sql`now()`),
}, (t) => [primaryKey({ columns: [t.code, t.version] })])

/**
 * Reviews of drafts before publication (rules 2 and 40), of any reviewed subject (service guides;
 * policies later), kept as given: the latest review of a revision is the one that counts.
 */
export const reviews = pgTable('reviews', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  subjectKind: text('subject_kind').$type<ReviewSubject['kind']>().notNull(),
  subjectId: text('subject_id').notNull(),
  revision: integer('revision').notNull(),
  approved: boolean('approved').notNull(),
  note: text('note').notNull(),
  author: jsonb('author').$type<Signer>().notNull(),
  reviewer: jsonb('reviewer').$type<Signer>().notNull(),
  reviewedAt: instant('reviewed_at').notNull(),
}, (t) => [index('reviews_subject_idx').on(t.subjectKind, t.subjectId, t.revision, t.id)])

export const cases = pgTable('cases', {
  id: text('id').primaryKey(),
  kind: text('kind').notNull(),
  status: text('status').notNull(),
  /** Sequence number of the last event applied (the case's `version`). */
  lastSeq: integer('last_seq').notNull(),
  lastHash: text('last_hash').notNull(),
  serviceItemCode: text('service_item_code'),
  handlingOrganizationId: text('handling_organization_id'),
  receivedBy: text('received_by').notNull(),
  /** 0 = green channel and urgent, 1 = one of them, 2 = ordinary: lists sort on it first. */
  priorityRank: smallint('priority_rank').notNull(),
  overdue: boolean('overdue').notNull().default(false),
  warned: boolean('warned').notNull().default(false),
  open: boolean('open').notNull().default(true),
  /** A running or paused deadline reaches into an unpublished calendar year (rule 15). */
  provisional: boolean('provisional').notNull().default(false),
  /** Earliest due instant among running deadlines; 'infinity' when none runs (keeps keyset order total). */
  nextDueAt: instant('next_due_at').notNull(),
  flags: text('flags').array().notNull().default(sql`'{}'::text[]`),
  /** Organisations that have handled the case, for department visibility. */
  organizations: text('organizations').array().notNull().default(sql`'{}'::text[]`),
  view: jsonb('view').$type<CaseView>().notNull(),
  createdAt: instant('created_at').notNull(),
  updatedAt: instant('updated_at').notNull(),
  /**
   * When the case's service ended (its kind's ended statuses): the event that first showed it so.
   * Kept on the row because later events (a rating) move `updated_at`, and the supervision summary
   * counts the completion on this day (src/db/summary.ts). Null while it has not ended.
   */
  completedAt: instant('completed_at'),
  /**
   * A blind index of the identity number of the person the case is for (its applicant,
   * complainant or citizen: PersonalData.personIndex), under the key it was made with; null when
   * the case names none, or was projected before cases were indexed (until rotate-data).
   */
  personIndex: text('person_index'),
}, (t) => [
  index('cases_queue_idx').on(t.priorityRank, t.nextDueAt, t.id),
  // One person's cases (`GET /v1/cases?applicantIdNumber=`): a handful of rows, sorted after.
  index('cases_person_idx').on(t.personIndex).where(sql`${t.personIndex} IS NOT NULL`),
  index('cases_org_queue_idx').on(t.handlingOrganizationId, t.priorityRank, t.nextDueAt, t.id),
  index('cases_overdue_org_idx').on(t.handlingOrganizationId, t.priorityRank, t.nextDueAt, t.id)
    .where(sql`${t.overdue}`),
  index('cases_warned_org_idx').on(t.handlingOrganizationId, t.priorityRank, t.nextDueAt, t.id)
    .where(sql`${t.warned}`),
  // Publishing a year finds the cases to recompute here, not by scanning every case.
  index('cases_provisional_idx').on(t.id).where(sql`${t.open} AND ${t.provisional}`),
  // Correcting an already published year reaches every open case that may have a deadline in it.
  index('cases_open_idx').on(t.id).where(sql`${t.open}`),
  index('cases_status_idx').on(t.kind, t.status),
  index('cases_item_idx').on(t.serviceItemCode),
  index('cases_orgs_idx').using('gin', t.organizations),
  // Overdue and warned cases by the organisations they involve besides their handler (opinions
  // given, handled before a transfer): a department's own queue comes from the org indexes above,
  // these add the few it only took part in.
  index('cases_participants_overdue_idx').using('gin', sql`array_remove(${t.organizations}, ${t.handlingOrganizationId})`)
    .where(sql`${t.overdue}`),
  index('cases_participants_warned_idx').using('gin', sql`array_remove(${t.organizations}, ${t.handlingOrganizationId})`)
    .where(sql`${t.warned}`),
  index('cases_flags_idx').using('gin', t.flags),
])

/**
 * One row per deadline of every case, projected from the case's view with the case row: on-time
 * rates and monthly reports aggregate it instead of scanning views.
 */
export const deadlines = pgTable('deadlines', {
  caseId: text('case_id').notNull().references(() => cases.id, { onDelete: 'cascade' }),
  /** The deadline's key within its case (`promised`, `opinion:gz-hr`, `supervision:S1`). */
  key: text('key').notNull(),
  /** acceptance, promised, statutory, result, opinion, supervision, rectification, rating, … */
  kind: text('kind').notNull(),
  caseKind: text('case_kind').notNull(),
  /** Who owes the step: an opinion's organisation, a supervised one, else the handling organisation. */
  ownerOrganizationId: text('owner_organization_id').notNull(),
  handlingOrganizationId: text('handling_organization_id').notNull(),
  serviceItemCode: text('service_item_code'),
  /** When this run of the deadline started: the event that first showed it (again) open. */
  startedAt: instant('started_at').notNull(),
  dueAt: instant('due_at').notNull(),
  state: text('state').$type<DeadlineState>().notNull(),
  warned: boolean('warned').notNull(),
  provisional: boolean('provisional').notNull(),
  /** When it was met, missed or cancelled; null while it runs or is paused. */
  settledAt: instant('settled_at'),
  /** Null unless settled under a working-day limit. */
  workingDaysUsed: integer('working_days_used'),
}, (t) => [
  primaryKey({ columns: [t.caseId, t.key] }),
  index('deadlines_owner_due_idx').on(t.ownerOrganizationId, t.dueAt),
  index('deadlines_state_settled_idx').on(t.state, t.settledAt),
])

/**
 * Projection: every supervision record of every case (API.md "Supervision and reporting"), so
 * that supervisors' lists read rows, not case views. Rewritten from the case's view whenever it
 * has records.
 */
export const supervisions = pgTable('supervisions', {
  caseId: text('case_id').notNull().references(() => cases.id, { onDelete: 'cascade' }),
  /** The record's id within its case (`S1`). */
  id: text('id').notNull(),
  caseKind: text('case_kind').$type<CaseKind>().notNull(),
  /** automatic (a missed step) or order (督办). */
  kind: text('kind').$type<Supervision['kind']>().notNull(),
  /** 1 on whoever owed the step, 2 on its parent, …; null on records from before levels and on orders. */
  level: integer('level'),
  /** Owes the answer. */
  organizationId: text('organization_id').notNull(),
  /** Watches it: the parent of organizationId; null at the root and before levels. */
  supervisorOrganizationId: text('supervisor_organization_id'),
  reason: text('reason').notNull(),
  openedAt: instant('opened_at').notNull(),
  dueAt: instant('due_at'),
  respondedAt: instant('responded_at'),
  response: text('response'),
}, (t) => [
  primaryKey({ columns: [t.caseId, t.id] }),
  index('supervisions_organization_idx').on(t.organizationId, t.openedAt),
  index('supervisions_supervisor_idx').on(t.supervisorOrganizationId, t.openedAt),
])

/**
 * The supervision summary's current figures (API.md "Supervision and reporting"): open cases, and
 * of them warned and overdue, by handling organisation, kind and service item ('' for none), plus
 * unanswered supervision records by the organisation that owes the answer. Kept by the projection
 * in the case row's transaction; `rebuildSummaryCounters` recomputes it from `cases`.
 */
export const summaryCurrent = pgTable('summary_current', {
  organizationId: text('organization_id').notNull(),
  kind: text('kind').notNull(),
  serviceItemCode: text('service_item_code').notNull(),
  open: integer('open').notNull().default(0),
  warned: integer('warned').notNull().default(0),
  overdue: integer('overdue').notNull().default(0),
  supervisionsOpen: integer('supervisions_open').notNull().default(0),
}, (t) => [primaryKey({ columns: [t.organizationId, t.kind, t.serviceItemCode] })])

/**
 * The summary's flow figures per Shanghai calendar day and per month (`span`, from `starts`):
 * cases completed then (on time, early, working days used where the view measures them) and
 * ratings given then, by handling organisation, kind and service item. A period sums its whole
 * months and the days at its edges: a million cases make about as many day rows as completions,
 * and a year of days took 80 ms to sum where its months take a tenth of that.
 */
export const summaryFlow = pgTable('summary_flow', {
  organizationId: text('organization_id').notNull(),
  /** A case kind; or the totals of a kind's items (`application/*`) or of every kind (`*`), with item ''. */
  kind: text('kind').notNull(),
  serviceItemCode: text('service_item_code').notNull(),
  span: text('span').$type<'day' | 'month'>().notNull(),
  /** The day, or the first day of the month. */
  starts: date('starts', { mode: 'string' }).notNull(),
  completed: integer('completed').notNull().default(0),
  completedOnTime: integer('completed_on_time').notNull().default(0),
  completedEarly: integer('completed_early').notNull().default(0),
  /** Sum and count of working days used, over the completions whose view says how many. */
  workingDaysSum: integer('working_days_sum').notNull().default(0),
  workingDaysCount: integer('working_days_count').notNull().default(0),
  ratings1: integer('ratings_1').notNull().default(0),
  ratings2: integer('ratings_2').notNull().default(0),
  ratings3: integer('ratings_3').notNull().default(0),
  ratings4: integer('ratings_4').notNull().default(0),
  ratings5: integer('ratings_5').notNull().default(0),
}, (t) => [
  // Organisation first, then the period: a supervisor's few organisations read only their rows.
  primaryKey({ columns: [t.organizationId, t.span, t.starts, t.kind, t.serviceItemCode] }),
  // Every organisation (administrators, auditors) reads the period's months, then its edge days,
  // of the totals it asks for (every kind's: 6 ms for a year at the root, where 18 ms filtering them out).
  index('summary_flow_span_kind_starts_idx').on(t.span, t.kind, t.starts),
])

/** Append-only: a trigger (see migrations) refuses UPDATE and DELETE. */
export const caseEvents = pgTable('case_events', {
  caseId: text('case_id').notNull(),
  seq: integer('seq').notNull(),
  at: instant('at').notNull(),
  type: text('type').notNull(),
  actor: jsonb('actor').$type<Actor>().notNull(),
  data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  /** The case view right after this event: `?at=` reads the last one before the instant. */
  view: jsonb('view').$type<CaseView>().notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
  recordedAt: instant('recorded_at').notNull().default(sql`now()`),
}, (t) => [primaryKey({ columns: [t.caseId, t.seq] }), index('case_events_at_idx').on(t.caseId, t.at)])

export const idempotencyKeys = pgTable('idempotency_keys', {
  organizationId: text('organization_id').notNull(),
  scope: text('scope').notNull(),
  key: text('key').notNull(),
  requestHash: text('request_hash').notNull(),
  resourceId: text('resource_id').notNull(),
  /**
   * For answers that hold a secret (a new API key): the answer, encrypted with a key derived from
   * the Idempotency-Key itself, which is then stored only as a hash. Only the caller can read it back.
   */
  sealedResponse: text('sealed_response'),
  createdAt: instant('created_at').notNull().default(sql`now()`),
}, (t) => [primaryKey({ columns: [t.organizationId, t.scope, t.key] })])

export const calendarYears = pgTable('calendar_years', {
  year: integer('year').primaryKey(),
  published: boolean('published').notNull(),
  days: jsonb('days').notNull(),
  /** Calendar version that last changed this year. */
  version: integer('version').notNull(),
  source: text('source').notNull(),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
})

/** Every change to the calendar, kept: version n is the calendar after the n-th change. */
export const calendarVersions = pgTable('calendar_versions', {
  version: integer('version').primaryKey(),
  years: integer('years').array().notNull(),
  changedBy: text('changed_by').notNull(),
  data: jsonb('data').notNull(),
  /** It republished a year that was already published: final deadlines may move too, not only provisional ones. */
  correction: boolean('correction').notNull().default(false),
  /**
   * When one pass of its propagation workflow reached every open case it may move (rule 15);
   * null until then. The API starts the propagation of every version still null when it starts.
   */
  propagatedAt: instant('propagated_at'),
  createdAt: instant('created_at').notNull().default(sql`now()`),
}, (t) => [index('calendar_versions_unpropagated_idx').on(t.version).where(sql`${t.propagatedAt} IS NULL`)])

export const settings = pgTable('settings', {
  name: text('name').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
})

/** Materials the government already holds (shared data, e-licences), by source and subject. */
export const sharedMaterials = pgTable('shared_materials', {
  source: text('source').notNull(),
  /** Identity number of the person or enterprise the material belongs to. */
  subject: text('subject').notNull(),
  ref: text('ref').notNull(),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
}, (t) => [primaryKey({ columns: [t.source, t.subject] })])

/**
 * The Temporal history of every closed run, archived from the cluster (whose retention would delete
 * it) so `banjian audit verify` can replay it against the current workflow code. Append-only: a
 * trigger (see migrations) refuses UPDATE, DELETE and TRUNCATE.
 */
export const workflowHistories = pgTable('workflow_histories', {
  workflowId: text('workflow_id').notNull(),
  runId: text('run_id').notNull(),
  workflowType: text('workflow_type').notNull(),
  /** Temporal's close status: COMPLETED, CONTINUED_AS_NEW, FAILED, TERMINATED, CANCELED, TIMED_OUT. */
  status: text('status').notNull(),
  closeTime: instant('close_time').notNull(),
  eventCount: integer('event_count').notNull(),
  /** The history in Temporal's proto JSON form (`historyToJSON`), as `historyFromJSON` reads it back. */
  history: jsonb('history').notNull(),
  archivedAt: instant('archived_at').notNull().default(sql`now()`),
}, (t) => [
  primaryKey({ columns: [t.workflowId, t.runId] }),
  // A case's runs and its deadline watches (`<case id>~<key>`) by prefix, whatever the collation.
  index('workflow_histories_workflow_prefix_idx').on(t.workflowId.op('text_pattern_ops')),
])

/**
 * How far the history archiver got, per namespace (and filter): every run that visibility listed as
 * closed before `archived_through` is archived. Moved only when a whole round succeeds, so a round
 * that fails half-way (visibility lists newest first) leaves no gap behind it.
 */
export const workflowArchiveProgress = pgTable('workflow_archive_progress', {
  scope: text('scope').primaryKey(),
  archivedThrough: instant('archived_through').notNull(),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
})

/**
 * Notices to applicants (suspension, extension, refusal, result), written by the projection in the
 * transaction of the event they announce: one row per notice, keyed by case and event sequence, so
 * a replayed projection writes no second row. A dispatcher claims due rows (FOR UPDATE SKIP LOCKED),
 * sends them and marks them sent; a failed attempt waits `next_attempt_at` and is tried again.
 */
export const notificationOutbox = pgTable('notification_outbox', {
  /** `<case id>:<event seq>`: also the sender's idempotency key. */
  id: text('id').primaryKey(),
  caseId: text('case_id').notNull(),
  eventSeq: integer('event_seq').notNull(),
  type: text('type').$type<NoticeType>().notNull(),
  notice: jsonb('notice').$type<Notice>().notNull(),
  createdAt: instant('created_at').notNull().default(sql`now()`),
  /** Attempts made so far, the successful one included. */
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: instant('next_attempt_at').notNull().default(sql`now()`),
  lastError: text('last_error'),
  /** Null until a sender took it. */
  sentAt: instant('sent_at'),
}, (t) => [
  uniqueIndex('notification_outbox_event_idx').on(t.caseId, t.eventSeq),
  index('notification_outbox_due_idx').on(t.nextAttemptAt, t.id).where(sql`${t.sentAt} IS NULL`),
])

// ---- policy fulfilment (API.md "Policy fulfilment", DOMAIN rules 23–25) ----------------------

/** A policy's draft and the number of its latest published version, as for service items. */
export const policies = pgTable('policies', {
  code: text('code').primaryKey(),
  draft: jsonb('draft').$type<PolicyDraft>(),
  draftRevision: integer('draft_revision').notNull().default(0),
  draftAuthor: jsonb('draft_author').$type<Signer>(),
  latestVersion: integer('latest_version'),
  createdAt: instant('created_at').notNull().default(sql`now()`),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
})

export const policyVersions = pgTable('policy_versions', {
  code: text('code').notNull().references(() => policies.code),
  version: integer('version').notNull(),
  policy: jsonb('policy').$type<Policy>().notNull(),
  publishedAt: instant('published_at').notNull().default(sql`now()`),
}, (t) => [primaryKey({ columns: [t.code, t.version] })])

/**
 * Rule 25: a policy's money. `budget` is the latest version's (null: unlimited); `reserved` is
 * held for payments under way, `paid` has gone out. A reservation is one conditional UPDATE, so
 * `reserved + paid` never exceeds `budget`, whatever runs concurrently (a CHECK says so too).
 */
export const policyLedgers = pgTable('policy_ledgers', {
  code: text('code').primaryKey().references(() => policies.code),
  budget: bigint('budget', { mode: 'number' }),
  reserved: bigint('reserved', { mode: 'number' }).notNull().default(0),
  paid: bigint('paid', { mode: 'number' }).notNull().default(0),
  payments: integer('payments').notNull().default(0),
  updatedAt: instant('updated_at').notNull().default(sql`now()`),
})

/**
 * One row per fulfilment case that reserved its amount: exactly one payment per case (the key),
 * `reserved` until the payment adapter confirmed it, then `paid` with its reference.
 */
export const payments = pgTable('payments', {
  caseId: text('case_id').primaryKey(),
  /** Keyset order of `GET /v1/policies/{code}/payments`. */
  ordinal: bigint('ordinal', { mode: 'number' }).generatedAlwaysAsIdentity(),
  policyCode: text('policy_code').notNull().references(() => policies.code),
  /** Sealed (PersonalData.sealText): the identity number or credit code the payment went to. */
  beneficiaryId: text('beneficiary_id').notNull(),
  amount: bigint('amount', { mode: 'number' }).notNull(),
  status: text('status').$type<'reserved' | 'paid'>().notNull(),
  reference: text('reference'),
  reservedAt: instant('reserved_at').notNull().default(sql`now()`),
  paidAt: instant('paid_at'),
}, (t) => [index('payments_policy_idx').on(t.policyCode, t.ordinal)])

/** A campaign (免申即享 at city scale): an upload of beneficiaries evaluated by its workflow, page by page. */
export const campaigns = pgTable('campaigns', {
  id: text('id').primaryKey(),
  policyCode: text('policy_code').notNull().references(() => policies.code),
  policyVersion: integer('policy_version').notNull(),
  /** Who uploaded it. */
  organizationId: text('organization_id').notNull(),
  /** …as the actor of every case it opens, also when a restarted API resumes it. */
  actor: jsonb('actor').$type<Actor>().notNull(),
  status: text('status').$type<'running' | 'completed' | 'failed'>().notNull(),
  /** Lines (or list entries), every one. */
  total: integer('total').notNull(),
  invalid: integer('invalid').notNull(),
  evaluated: integer('evaluated').notNull().default(0),
  duplicates: integer('duplicates').notNull().default(0),
  eligible: integer('eligible').notNull().default(0),
  ineligible: integer('ineligible').notNull().default(0),
  casesCreated: integer('cases_created').notNull().default(0),
  /** The first 100 invalid lines: `{ line, message }`. */
  errors: jsonb('errors').$type<Array<{ line: number; message: string }>>().notNull(),
  /** Lines up to this one are evaluated (and counted); a retried page does not count twice. */
  evaluatedThrough: integer('evaluated_through').notNull().default(0),
  /** Lines up to this one have their cases started. */
  startedThrough: integer('started_through').notNull().default(0),
  createdAt: instant('created_at').notNull().default(sql`now()`),
  completedAt: instant('completed_at'),
})

/**
 * The uploaded lines, numbered from 1: a valid one's beneficiary (its BENEFICIARY_FIELDS sealed),
 * an invalid one's reason.
 */
export const campaignLines = pgTable('campaign_lines', {
  campaignId: text('campaign_id').notNull().references(() => campaigns.id, { onDelete: 'cascade' }),
  line: integer('line').notNull(),
  beneficiary: jsonb('beneficiary').$type<Beneficiary>(),
  error: text('error'),
}, (t) => [primaryKey({ columns: [t.campaignId, t.line] })])

/**
 * "One beneficiary, one policy, one case, ever": the claim made when a beneficiary was found
 * eligible (by a campaign or an application). A second claim conflicts, so it is a duplicate.
 */
export const fulfilmentClaims = pgTable('fulfilment_claims', {
  policyCode: text('policy_code').notNull(),
  /**
   * The blind index of policy and beneficiary (PersonalData.claimIndex), under the key it was made
   * with; for a claim made before claims were sealed, the beneficiary's id in clear, until
   * `banjian keys rotate-data` indexes it.
   */
  beneficiaryId: text('beneficiary_id').notNull(),
  /** The beneficiary's id, sealed; null on a claim made before claims were sealed. */
  beneficiarySealed: text('beneficiary_sealed'),
  caseId: text('case_id').notNull(),
  amount: bigint('amount', { mode: 'number' }).notNull(),
  campaignId: text('campaign_id'),
  line: integer('line'),
  claimedAt: instant('claimed_at').notNull().default(sql`now()`),
}, (t) => [
  primaryKey({ columns: [t.policyCode, t.beneficiaryId] }),
  index('fulfilment_claims_campaign_idx').on(t.campaignId, t.line),
])

/**
 * The monthly report to the government (API.md "Supervision and reporting"), one row per version:
 * a new run is a new version and the old ones stay. Append-only: a trigger (migration 0016)
 * refuses UPDATE, DELETE and TRUNCATE. `body` is src/db/reports.ts's StoredReport.
 */
export const monthlyReports = pgTable('monthly_reports', {
  month: text('month').notNull(),
  version: integer('version').notNull(),
  producedAt: instant('produced_at').notNull(),
  /** `schedule`, or the id of the API key that asked for it. */
  producedBy: text('produced_by').notNull(),
  body: jsonb('body').notNull(),
}, (t) => [primaryKey({ columns: [t.month, t.version] })])

/**
 * Every answer that showed a case's personal numbers in clear: who (key, organisation, role), when,
 * through which operation, which fields (PIPL; src/db/access-log.ts). Append-only like the audit
 * record: a trigger (migration 0016) refuses UPDATE, DELETE and TRUNCATE.
 */
export const personalDataAccess = pgTable('personal_data_access', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  caseId: text('case_id').notNull(),
  at: instant('at').notNull().default(sql`now()`),
  keyId: text('key_id').notNull(),
  organizationId: text('organization_id').notNull(),
  role: text('role').notNull(),
  operation: text('operation').notNull(),
  fields: text('fields').array().notNull(),
}, (t) => [index('personal_data_access_case_idx').on(t.caseId, t.id)])
