CREATE TABLE "summary_current" (
	"organization_id" text NOT NULL,
	"kind" text NOT NULL,
	"service_item_code" text NOT NULL,
	"open" integer DEFAULT 0 NOT NULL,
	"warned" integer DEFAULT 0 NOT NULL,
	"overdue" integer DEFAULT 0 NOT NULL,
	"supervisions_open" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "summary_current_organization_id_kind_service_item_code_pk" PRIMARY KEY("organization_id","kind","service_item_code")
);
--> statement-breakpoint
CREATE TABLE "summary_flow" (
	"organization_id" text NOT NULL,
	"kind" text NOT NULL,
	"service_item_code" text NOT NULL,
	"span" text NOT NULL,
	"starts" date NOT NULL,
	"completed" integer DEFAULT 0 NOT NULL,
	"completed_on_time" integer DEFAULT 0 NOT NULL,
	"completed_early" integer DEFAULT 0 NOT NULL,
	"working_days_sum" integer DEFAULT 0 NOT NULL,
	"working_days_count" integer DEFAULT 0 NOT NULL,
	"ratings_1" integer DEFAULT 0 NOT NULL,
	"ratings_2" integer DEFAULT 0 NOT NULL,
	"ratings_3" integer DEFAULT 0 NOT NULL,
	"ratings_4" integer DEFAULT 0 NOT NULL,
	"ratings_5" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "summary_flow_organization_id_span_starts_kind_service_item_code_pk" PRIMARY KEY("organization_id","span","starts","kind","service_item_code")
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "completed_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "summary_flow_span_kind_starts_idx" ON "summary_flow" USING btree ("span","kind","starts");--> statement-breakpoint
-- When each case that has already ended did so: the first event that showed it ended after the last
-- one that did not (the kinds' ended statuses as of this migration); cases without events (bulk
-- loaded) when they last changed.
UPDATE "cases" AS c SET "completed_at" = coalesce((
	SELECT min(e."at") FROM "case_events" AS e
	WHERE e."case_id" = c."id" AND e."seq" > coalesce((
		SELECT max(u."seq") FROM "case_events" AS u WHERE u."case_id" = c."id" AND NOT (
			(u."view"->>'kind' = 'application' AND u."view"->>'status' IN ('completed', 'rejected', 'withdrawn', 'revoked'))
			OR (u."view"->>'kind' = 'fulfilment' AND u."view"->>'status' IN ('completed', 'declined', 'rejected'))
			OR (u."view"->>'kind' = 'complaint' AND u."view"->>'status' = 'closed')
			OR (u."view"->>'kind' = 'escalation' AND u."view"->>'status' IN ('closed', 'rejected')))), 0)
), c."updated_at")
WHERE (c."kind" = 'application' AND c."status" IN ('completed', 'rejected', 'withdrawn', 'revoked'))
	OR (c."kind" = 'fulfilment' AND c."status" IN ('completed', 'declined', 'rejected'))
	OR (c."kind" = 'complaint' AND c."status" = 'closed')
	OR (c."kind" = 'escalation' AND c."status" IN ('closed', 'rejected'));--> statement-breakpoint
-- The counters from every case so far: src/db/summary.ts REBUILD as of this migration.
WITH contributions AS MATERIALIZED (
  SELECT x.* FROM "cases" CROSS JOIN LATERAL (
SELECT "cases"."handling_organization_id" AS organization_id, "cases"."kind", coalesce("cases"."service_item_code", '') AS service_item_code,
  NULL::date AS day, 1 AS open, "cases"."warned"::int AS warned, "cases"."overdue"::int AS overdue, 0 AS supervisions_open,
  0 AS completed, 0 AS completed_on_time, 0 AS completed_early, 0 AS working_days_sum, 0 AS working_days_count, NULL::int AS rating
WHERE "cases"."open"
UNION ALL
SELECT s->>'organizationId', "cases"."kind", coalesce("cases"."service_item_code", ''), NULL, 0, 0, 0, 1, 0, 0, 0, 0, 0, NULL
FROM jsonb_array_elements(coalesce("cases"."view"->'supervisions', '[]'::jsonb)) AS s
WHERE s->>'respondedAt' IS NULL
UNION ALL
SELECT "cases"."handling_organization_id", "cases"."kind", coalesce("cases"."service_item_code", ''),
  ("cases"."completed_at" AT TIME ZONE 'Asia/Shanghai')::date, 0, 0, 0, 0,
  1, on_time::int, (CASE WHEN has_promised THEN coalesce(promised_met, false) ELSE on_time END)::int,
  coalesce(working_days, 0), (working_days IS NOT NULL)::int, NULL
FROM (
  SELECT *, CASE WHEN on_time THEN CASE WHEN has_statutory THEN statutory_days ELSE handling_days END END AS working_days
  FROM (
    SELECT *, NOT coalesce(CASE WHEN has_statutory THEN statutory_missed ELSE handling_missed END, false) AS on_time
    FROM (
      SELECT
        coalesce(bool_or(d->>'kind' = 'statutory'), false) AS has_statutory,
        coalesce(bool_or(d->>'kind' = 'promised'), false) AS has_promised,
        bool_or(d->>'state' = 'missed') FILTER (WHERE d->>'kind' = 'statutory') AS statutory_missed,
        bool_or(d->>'state' = 'missed') FILTER (WHERE d->>'kind' NOT IN ('rating', 'rectification', 'supervision', 'opinion', 'deferred_materials', 'verification', 'confirm')) AS handling_missed,
        bool_and(d->>'state' = 'met') FILTER (WHERE d->>'kind' = 'promised') AS promised_met,
        max((d->>'workingDaysUsed')::int) FILTER (WHERE d->>'kind' = 'statutory') AS statutory_days,
        max((d->>'workingDaysUsed')::int) FILTER (WHERE d->>'kind' NOT IN ('rating', 'rectification', 'supervision', 'opinion', 'deferred_materials', 'verification', 'confirm')) AS handling_days
      FROM jsonb_array_elements(coalesce("cases"."view"->'deadlines', '[]'::jsonb)) AS d
    ) AS deadline_facts
  ) AS timeliness
) AS completion
WHERE "cases"."completed_at" IS NOT NULL
UNION ALL
SELECT "cases"."handling_organization_id", "cases"."kind", coalesce("cases"."service_item_code", ''),
  (("cases"."view"->'rating'->>'at')::timestamptz AT TIME ZONE 'Asia/Shanghai')::date, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  ("cases"."view"->'rating'->>'score')::int
WHERE "cases"."view" ? 'rating') AS x WHERE x.organization_id IS NOT NULL
), current_figures AS (
  INSERT INTO "summary_current" ("organization_id", "kind", "service_item_code", "open", "warned", "overdue", "supervisions_open")
  SELECT organization_id, kind, service_item_code, sum(open), sum(warned), sum(overdue), sum(supervisions_open)
  FROM contributions WHERE day IS NULL GROUP BY 1, 2, 3
)
INSERT INTO "summary_flow" ("organization_id", "kind", "service_item_code", "span", "starts", "completed", "completed_on_time",
  "completed_early", "working_days_sum", "working_days_count", "ratings_1", "ratings_2", "ratings_3", "ratings_4", "ratings_5")
SELECT organization_id,
  CASE WHEN grouping(service_item_code) = 0 THEN kind WHEN grouping(kind) = 0 THEN kind || '/*' ELSE '*' END,
  coalesce(service_item_code, ''), span, starts,
  sum(completed), sum(completed_on_time), sum(completed_early),
  sum(working_days_sum), sum(working_days_count), count(*) FILTER (WHERE rating = 1), count(*) FILTER (WHERE rating = 2),
  count(*) FILTER (WHERE rating = 3), count(*) FILTER (WHERE rating = 4), count(*) FILTER (WHERE rating = 5)
FROM (
  SELECT *, 'day' AS span, day AS starts FROM contributions WHERE day IS NOT NULL
  UNION ALL
  SELECT *, 'month', date_trunc('month', day)::date FROM contributions WHERE day IS NOT NULL
) AS spans
GROUP BY organization_id, span, starts, ROLLUP (kind, service_item_code);
