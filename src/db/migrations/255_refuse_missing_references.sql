-- A create that is its transaction's last statement carries the COMMIT (one round trip; issue #19
-- item 4, src/fhir/storage-rows.ts insertNew with `last`). Its missing references cannot be
-- returned for Node to refuse after the commit, so the statement refuses them itself: this raises
-- SQLSTATE CY422 with the missing references (a JSON array of [type, id]) as its detail, which
-- aborts the statement and so the transaction; Node turns it into the same 422 as before.
CREATE FUNCTION cauyte_refuse_missing_references(missing json) RETURNS boolean VOLATILE LANGUAGE plpgsql AS $$
BEGIN
  IF missing IS NULL THEN
    RETURN false;
  END IF;
  RAISE EXCEPTION 'references to resources that do not exist' USING ERRCODE = 'CY422', DETAIL = missing::text;
END $$;
