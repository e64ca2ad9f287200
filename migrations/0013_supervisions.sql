CREATE TABLE "supervisions" (
	"case_id" text NOT NULL,
	"id" text NOT NULL,
	"case_kind" text NOT NULL,
	"kind" text NOT NULL,
	"level" integer,
	"organization_id" text NOT NULL,
	"supervisor_organization_id" text,
	"reason" text NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone,
	"responded_at" timestamp with time zone,
	"response" text,
	CONSTRAINT "supervisions_case_id_id_pk" PRIMARY KEY("case_id","id")
);
--> statement-breakpoint
ALTER TABLE "supervisions" ADD CONSTRAINT "supervisions_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "cases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "supervisions_organization_idx" ON "supervisions" USING btree ("organization_id","opened_at");--> statement-breakpoint
CREATE INDEX "supervisions_supervisor_idx" ON "supervisions" USING btree ("supervisor_organization_id","opened_at");--> statement-breakpoint
-- Records already in case views (before this table) are listed too.
INSERT INTO "supervisions" ("case_id", "id", "case_kind", "kind", "level", "organization_id", "supervisor_organization_id",
  "reason", "opened_at", "due_at", "responded_at", "response")
SELECT c."id", s->>'id', c."kind", s->>'kind', (s->>'level')::integer, s->>'organizationId', s->>'supervisorOrganizationId',
  s->>'reason', (s->>'openedAt')::timestamptz, (s->>'dueAt')::timestamptz, (s->>'respondedAt')::timestamptz, s->>'response'
FROM "cases" c, jsonb_array_elements(coalesce(c."view"->'supervisions', '[]'::jsonb)) s
ON CONFLICT DO NOTHING;
