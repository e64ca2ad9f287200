CREATE TABLE "workflow_archive_progress" (
	"scope" text PRIMARY KEY NOT NULL,
	"archived_through" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workflow_histories" (
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"workflow_type" text NOT NULL,
	"status" text NOT NULL,
	"close_time" timestamp with time zone NOT NULL,
	"event_count" integer NOT NULL,
	"history" jsonb NOT NULL,
	"archived_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workflow_histories_workflow_id_run_id_pk" PRIMARY KEY("workflow_id","run_id")
);
--> statement-breakpoint
CREATE INDEX "workflow_histories_workflow_prefix_idx" ON "workflow_histories" USING btree ("workflow_id" text_pattern_ops);