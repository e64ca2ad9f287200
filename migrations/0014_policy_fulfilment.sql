CREATE TABLE "campaign_lines" (
	"campaign_id" text NOT NULL,
	"line" integer NOT NULL,
	"beneficiary" jsonb,
	"error" text,
	CONSTRAINT "campaign_lines_campaign_id_line_pk" PRIMARY KEY("campaign_id","line")
);
--> statement-breakpoint
CREATE TABLE "campaigns" (
	"id" text PRIMARY KEY NOT NULL,
	"policy_code" text NOT NULL,
	"policy_version" integer NOT NULL,
	"organization_id" text NOT NULL,
	"actor" jsonb NOT NULL,
	"status" text NOT NULL,
	"total" integer NOT NULL,
	"invalid" integer NOT NULL,
	"evaluated" integer DEFAULT 0 NOT NULL,
	"duplicates" integer DEFAULT 0 NOT NULL,
	"eligible" integer DEFAULT 0 NOT NULL,
	"ineligible" integer DEFAULT 0 NOT NULL,
	"cases_created" integer DEFAULT 0 NOT NULL,
	"errors" jsonb NOT NULL,
	"evaluated_through" integer DEFAULT 0 NOT NULL,
	"started_through" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "fulfilment_claims" (
	"policy_code" text NOT NULL,
	"beneficiary_id" text NOT NULL,
	"case_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"campaign_id" text,
	"line" integer,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fulfilment_claims_policy_code_beneficiary_id_pk" PRIMARY KEY("policy_code","beneficiary_id")
);
--> statement-breakpoint
CREATE TABLE "payments" (
	"case_id" text PRIMARY KEY NOT NULL,
	"ordinal" bigint GENERATED ALWAYS AS IDENTITY (sequence name "payments_ordinal_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"policy_code" text NOT NULL,
	"beneficiary_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"status" text NOT NULL,
	"reference" text,
	"reserved_at" timestamp with time zone DEFAULT now() NOT NULL,
	"paid_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "policies" (
	"code" text PRIMARY KEY NOT NULL,
	"draft" jsonb,
	"draft_revision" integer DEFAULT 0 NOT NULL,
	"draft_author" jsonb,
	"latest_version" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_ledgers" (
	"code" text PRIMARY KEY NOT NULL,
	"budget" bigint,
	"reserved" bigint DEFAULT 0 NOT NULL,
	"paid" bigint DEFAULT 0 NOT NULL,
	"payments" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_versions" (
	"code" text NOT NULL,
	"version" integer NOT NULL,
	"policy" jsonb NOT NULL,
	"published_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "policy_versions_code_version_pk" PRIMARY KEY("code","version")
);
--> statement-breakpoint
ALTER TABLE "campaign_lines" ADD CONSTRAINT "campaign_lines_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_policy_code_policies_code_fk" FOREIGN KEY ("policy_code") REFERENCES "policies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_policy_code_policies_code_fk" FOREIGN KEY ("policy_code") REFERENCES "policies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_ledgers" ADD CONSTRAINT "policy_ledgers_code_policies_code_fk" FOREIGN KEY ("code") REFERENCES "policies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_versions" ADD CONSTRAINT "policy_versions_code_policies_code_fk" FOREIGN KEY ("code") REFERENCES "policies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "fulfilment_claims_campaign_idx" ON "fulfilment_claims" USING btree ("campaign_id","line");--> statement-breakpoint
CREATE INDEX "payments_policy_idx" ON "payments" USING btree ("policy_code","ordinal");--> statement-breakpoint
-- Rule 25: whatever runs concurrently, what is reserved and paid never exceeds the budget.
ALTER TABLE "policy_ledgers" ADD CONSTRAINT "policy_ledgers_within_budget" CHECK ("reserved" >= 0 AND "paid" >= 0 AND ("budget" IS NULL OR "reserved" + "paid" <= "budget"));
