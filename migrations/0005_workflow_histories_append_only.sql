-- Archived Temporal histories are audit evidence: like case_events, rows of workflow_histories can
-- be inserted (ON CONFLICT DO NOTHING fires no update trigger) but never changed or removed.
CREATE FUNCTION workflow_histories_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'workflow_histories is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER workflow_histories_append_only BEFORE UPDATE OR DELETE ON workflow_histories
  FOR EACH ROW EXECUTE FUNCTION workflow_histories_refuse_change();
--> statement-breakpoint
CREATE TRIGGER workflow_histories_no_truncate BEFORE TRUNCATE ON workflow_histories
  FOR EACH STATEMENT EXECUTE FUNCTION workflow_histories_refuse_change();
