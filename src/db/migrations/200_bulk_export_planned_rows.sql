-- FHIR Bulk export files are planned as a snapshot: each lazily read file keeps the row ids the
-- plan found in its range (a download serves none outside them) and the patients those rows name
-- (its download's audit row names them, without reading the rows' references again). Jobs planned
-- before this migration have neither: they end now (the client gets 404 and starts a new export).
ALTER TABLE bulk_export_file ADD COLUMN rids bigint[];
ALTER TABLE bulk_export_file ADD COLUMN patients text[];
UPDATE bulk_export_job SET expires_at = now() WHERE id IN (SELECT job_id FROM bulk_export_file WHERE content IS NULL);
