CREATE TABLE "notification_outbox" (
	"id" text PRIMARY KEY NOT NULL,
	"case_id" text NOT NULL,
	"event_seq" integer NOT NULL,
	"type" text NOT NULL,
	"notice" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "notification_outbox_event_idx" ON "notification_outbox" USING btree ("case_id","event_seq");--> statement-breakpoint
CREATE INDEX "notification_outbox_due_idx" ON "notification_outbox" USING btree ("next_attempt_at","id") WHERE "notification_outbox"."sent_at" IS NULL;