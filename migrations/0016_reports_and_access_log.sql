CREATE TABLE "monthly_reports" (
	"month" text NOT NULL,
	"version" integer NOT NULL,
	"produced_at" timestamp with time zone NOT NULL,
	"produced_by" text NOT NULL,
	"body" jsonb NOT NULL,
	CONSTRAINT "monthly_reports_month_version_pk" PRIMARY KEY("month","version")
);
--> statement-breakpoint
CREATE TABLE "personal_data_access" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "personal_data_access_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"case_id" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"key_id" text NOT NULL,
	"organization_id" text NOT NULL,
	"role" text NOT NULL,
	"operation" text NOT NULL,
	"fields" text[] NOT NULL
);
--> statement-breakpoint
CREATE INDEX "personal_data_access_case_idx" ON "personal_data_access" USING btree ("case_id","id");--> statement-breakpoint
-- A monthly report is never rewritten (a new run is the next version), and the record of who was
-- shown personal data is evidence (PIPL): rows of both can be inserted, never changed or removed.
CREATE FUNCTION append_only_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER monthly_reports_append_only BEFORE UPDATE OR DELETE ON monthly_reports
  FOR EACH ROW EXECUTE FUNCTION append_only_refuse_change();
--> statement-breakpoint
CREATE TRIGGER monthly_reports_no_truncate BEFORE TRUNCATE ON monthly_reports
  FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse_change();
--> statement-breakpoint
CREATE TRIGGER personal_data_access_append_only BEFORE UPDATE OR DELETE ON personal_data_access
  FOR EACH ROW EXECUTE FUNCTION append_only_refuse_change();
--> statement-breakpoint
CREATE TRIGGER personal_data_access_no_truncate BEFORE TRUNCATE ON personal_data_access
  FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse_change();
