CREATE TABLE "calendar_propagations" (
	"version" integer PRIMARY KEY NOT NULL,
	"year" integer NOT NULL,
	"correction" boolean NOT NULL,
	"after" text,
	"signalled" integer DEFAULT 0 NOT NULL,
	"closed" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"passes" integer DEFAULT 0 NOT NULL,
	"claimed_until" timestamp with time zone,
	"done_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "calendar_propagations_pending_idx" ON "calendar_propagations" USING btree ("version") WHERE "calendar_propagations"."done_at" IS NULL;