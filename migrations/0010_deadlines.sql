CREATE TABLE "deadlines" (
	"case_id" text NOT NULL,
	"key" text NOT NULL,
	"kind" text NOT NULL,
	"case_kind" text NOT NULL,
	"owner_organization_id" text NOT NULL,
	"handling_organization_id" text NOT NULL,
	"service_item_code" text,
	"started_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"state" text NOT NULL,
	"warned" boolean NOT NULL,
	"provisional" boolean NOT NULL,
	"settled_at" timestamp with time zone,
	"working_days_used" integer,
	CONSTRAINT "deadlines_case_id_key_pk" PRIMARY KEY("case_id","key")
);
--> statement-breakpoint
ALTER TABLE "deadlines" ADD CONSTRAINT "deadlines_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "cases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deadlines_owner_due_idx" ON "deadlines" USING btree ("owner_organization_id","due_at");--> statement-breakpoint
CREATE INDEX "deadlines_state_settled_idx" ON "deadlines" USING btree ("state","settled_at");--> statement-breakpoint
-- Every deadline of every case so far, from its view. When each run of a deadline started and when
-- it settled come from the events that first showed it open (again) and then settled, as the
-- projection derives them. Views from before deadlines named who owes them: an opinion is owed by
-- its organisation, a supervision by the supervised one, anything else by the handling organisation.
WITH "steps" AS (
	SELECT e."case_id", d->>'key' AS "key", e."seq", e."at", d->>'state' IN ('running', 'paused') AS "open"
	FROM "case_events" AS e CROSS JOIN LATERAL jsonb_array_elements(e."view"->'deadlines') AS d
), "turns" AS (
	SELECT *, lag("open") OVER (PARTITION BY "case_id", "key" ORDER BY "seq") AS "was_open" FROM "steps"
), "bounds" AS (
	SELECT "case_id", "key",
		max("at") FILTER (WHERE "was_open" IS NULL OR ("open" AND NOT "was_open")) AS "started_at",
		max("at") FILTER (WHERE NOT "open" AND "was_open" IS NOT FALSE) AS "settled_at"
	FROM "turns" GROUP BY "case_id", "key"
)
INSERT INTO "deadlines" ("case_id", "key", "kind", "case_kind", "owner_organization_id", "handling_organization_id",
	"service_item_code", "started_at", "due_at", "state", "warned", "provisional", "settled_at", "working_days_used")
SELECT c."id", d->>'key', d->>'kind', c."view"->>'kind',
	coalesce(d->>'organizationId',
		CASE WHEN d->>'kind' = 'opinion' AND d->>'key' LIKE 'opinion:%' THEN substr(d->>'key', length('opinion:') + 1) END,
		(SELECT s->>'organizationId' FROM jsonb_array_elements(coalesce(c."view"->'supervisions', '[]'::jsonb)) AS s
			WHERE d->>'kind' = 'supervision' AND 'supervision:' || (s->>'id') = d->>'key' LIMIT 1),
		c."view"->>'handlingOrganizationId'),
	c."view"->>'handlingOrganizationId', c."view"->>'serviceItemCode',
	coalesce(b."started_at", c."created_at"), (d->>'dueAt')::timestamptz, d->>'state',
	coalesce((d->>'warned')::boolean, false), coalesce((d->>'provisional')::boolean, false),
	CASE WHEN d->>'state' IN ('running', 'paused') THEN NULL
		ELSE coalesce((d->>'settledAt')::timestamptz, b."settled_at", c."updated_at") END,
	CASE WHEN d->>'state' IN ('running', 'paused') THEN NULL ELSE (d->>'workingDaysUsed')::integer END
FROM "cases" AS c
CROSS JOIN LATERAL jsonb_array_elements(c."view"->'deadlines') AS d
LEFT JOIN "bounds" AS b ON b."case_id" = c."id" AND b."key" = d->>'key'
ON CONFLICT ("case_id", "key") DO NOTHING;
