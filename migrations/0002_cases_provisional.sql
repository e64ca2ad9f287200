ALTER TABLE "cases" ADD COLUMN "provisional" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "cases_provisional_idx" ON "cases" USING btree ("id") WHERE "cases"."open" AND "cases"."provisional";--> statement-breakpoint
CREATE INDEX "cases_open_idx" ON "cases" USING btree ("id") WHERE "cases"."open";--> statement-breakpoint
-- Cases projected before the column existed: derive it from their stored view.
UPDATE "cases" SET "provisional" = true WHERE "open" AND EXISTS (
  SELECT 1 FROM jsonb_array_elements("view"->'deadlines') AS d
  WHERE d->>'state' IN ('running', 'paused') AND (d->>'provisional')::boolean
);
