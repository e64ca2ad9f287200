ALTER TABLE "cases" ADD COLUMN "person_index" text;--> statement-breakpoint
CREATE INDEX "cases_person_idx" ON "cases" USING btree ("person_index") WHERE "cases"."person_index" IS NOT NULL;