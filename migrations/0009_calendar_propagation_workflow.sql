ALTER TABLE "calendar_versions" ADD COLUMN "correction" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "calendar_versions" ADD COLUMN "propagated_at" timestamp with time zone;--> statement-breakpoint
-- What the lease table knew, kept: whether a version corrected a published year, and whether its
-- propagation finished. A version it left unfinished stays null: the next API start resumes it as a
-- workflow. A version it never recorded (the seed) was never meant to be handed out.
UPDATE "calendar_versions" AS v SET "correction" = p."correction" FROM "calendar_propagations" AS p WHERE p."version" = v."version";--> statement-breakpoint
UPDATE "calendar_versions" AS v SET "propagated_at" = coalesce(
	(SELECT p."done_at" FROM "calendar_propagations" AS p WHERE p."version" = v."version"),
	CASE WHEN EXISTS (SELECT 1 FROM "calendar_propagations" AS p WHERE p."version" = v."version") THEN NULL ELSE v."created_at" END);--> statement-breakpoint
DROP TABLE "calendar_propagations" CASCADE;--> statement-breakpoint
CREATE INDEX "calendar_versions_unpropagated_idx" ON "calendar_versions" USING btree ("version") WHERE "calendar_versions"."propagated_at" IS NULL;
