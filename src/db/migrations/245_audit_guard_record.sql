-- The audit trail's append-only guard (010_auth_gaps.sql), same rule, cheaper check. The sealer
-- fills in each row's chain fields once (an UPDATE per row it links); the guard compared the row
-- before and after as two jsonb documents (to_jsonb of each, minus the chain fields): ≈ 30 µs a
-- sealed row here, of ≈ 40. It now compares the rows themselves with the chain fields blanked on the
-- new one (a record comparison, every column, so a column added later is covered too): ≈ 16 µs
-- (issue #19; measured alternating in one transaction, 2,000 rows a side, 5 pairs: 30–34 against
-- 16–19 µs a row). Tested in src/audit/guard.test.ts, column by column.
CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unsealed audit_log;
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF coalesce(current_setting('cauyte.audit_retention', true), '') = 'on'
       AND OLD.chain_pos IS NOT NULL
       AND OLD.at < now() - interval '90 days'
       AND OLD.chain_pos <= (SELECT start_pos FROM audit_head WHERE id = 1) THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
  END IF;
  -- An unsealed row may get its chain fields, once; nothing else of it may change.
  unsealed := NEW;
  unsealed.chain_pos := NULL;
  unsealed.prev_hash := NULL;
  unsealed.hash := NULL;
  IF OLD.chain_pos IS NOT NULL OR unsealed IS DISTINCT FROM OLD THEN
    RAISE EXCEPTION 'audit_log is append-only';
  END IF;
  RETURN NEW;
END
$$;
