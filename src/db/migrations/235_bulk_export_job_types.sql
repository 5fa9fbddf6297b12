-- The resource types a FHIR Bulk export job covers (those its kick-off token could read): its status
-- and its cancellation are for a token of the same client that may read every one of them (a
-- narrower token sees the manifest only of the types it may read, and cannot cancel the job).
ALTER TABLE bulk_export_job ADD COLUMN types text[];
