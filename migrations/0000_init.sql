CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"role" text NOT NULL,
	"name" text,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "calendar_versions" (
	"version" integer PRIMARY KEY NOT NULL,
	"years" integer[] NOT NULL,
	"changed_by" text NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "calendar_years" (
	"year" integer PRIMARY KEY NOT NULL,
	"published" boolean NOT NULL,
	"days" jsonb NOT NULL,
	"version" integer NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "case_events" (
	"case_id" text NOT NULL,
	"seq" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"type" text NOT NULL,
	"actor" jsonb NOT NULL,
	"data" jsonb NOT NULL,
	"view" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "case_events_case_id_seq_pk" PRIMARY KEY("case_id","seq")
);
--> statement-breakpoint
CREATE TABLE "cases" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"last_seq" integer NOT NULL,
	"last_hash" text NOT NULL,
	"service_item_code" text,
	"handling_organization_id" text,
	"received_by" text NOT NULL,
	"priority_rank" smallint NOT NULL,
	"overdue" boolean DEFAULT false NOT NULL,
	"warned" boolean DEFAULT false NOT NULL,
	"open" boolean DEFAULT true NOT NULL,
	"next_due_at" timestamp with time zone NOT NULL,
	"flags" text[] DEFAULT '{}'::text[] NOT NULL,
	"organizations" text[] DEFAULT '{}'::text[] NOT NULL,
	"view" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"organization_id" text NOT NULL,
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"resource_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_organization_id_scope_key_pk" PRIMARY KEY("organization_id","scope","key")
);
--> statement-breakpoint
CREATE TABLE "organizations" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"parent_id" text,
	"path" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "service_item_versions" (
	"code" text NOT NULL,
	"version" integer NOT NULL,
	"guide" jsonb NOT NULL,
	"published_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "service_item_versions_code_version_pk" PRIMARY KEY("code","version")
);
--> statement-breakpoint
CREATE TABLE "service_items" (
	"code" text PRIMARY KEY NOT NULL,
	"draft" jsonb,
	"latest_version" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"name" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_item_versions" ADD CONSTRAINT "service_item_versions_code_service_items_code_fk" FOREIGN KEY ("code") REFERENCES "service_items"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_idx" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "case_events_at_idx" ON "case_events" USING btree ("case_id","at");--> statement-breakpoint
CREATE INDEX "cases_queue_idx" ON "cases" USING btree ("priority_rank","next_due_at","id");--> statement-breakpoint
CREATE INDEX "cases_org_queue_idx" ON "cases" USING btree ("handling_organization_id","priority_rank","next_due_at","id");--> statement-breakpoint
CREATE INDEX "cases_overdue_org_idx" ON "cases" USING btree ("handling_organization_id","priority_rank","next_due_at","id") WHERE "cases"."overdue";--> statement-breakpoint
CREATE INDEX "cases_warned_org_idx" ON "cases" USING btree ("handling_organization_id","priority_rank","next_due_at","id") WHERE "cases"."warned";--> statement-breakpoint
CREATE INDEX "cases_status_idx" ON "cases" USING btree ("kind","status");--> statement-breakpoint
CREATE INDEX "cases_item_idx" ON "cases" USING btree ("service_item_code");--> statement-breakpoint
CREATE INDEX "cases_orgs_idx" ON "cases" USING gin ("organizations");--> statement-breakpoint
CREATE INDEX "cases_flags_idx" ON "cases" USING gin ("flags");--> statement-breakpoint
CREATE INDEX "organizations_path_idx" ON "organizations" USING btree ("path");