-- FHIR Bulk export files read when downloaded: a file is a row-id range of one type (after_rid,
-- up_to_rid], read as of the job's transaction time through the client's own repository; only a
-- file made by a search (_typeFilter) keeps its content. The job keeps what the ranges need.
ALTER TABLE bulk_export_file ALTER COLUMN content DROP NOT NULL;
ALTER TABLE bulk_export_file ADD COLUMN after_rid bigint;
ALTER TABLE bulk_export_file ADD COLUMN up_to_rid bigint;
ALTER TABLE bulk_export_job ADD COLUMN since timestamptz;
ALTER TABLE bulk_export_job ADD COLUMN patients text[];
