-- Whose data each resource is, on its own row (issue 16/19): a Patient itself; otherwise the
-- Patients its patient-compartment references name (src/fhir/searchparams.ts, `IndexRows.patients`).
-- Access checks, read and search audit entries and bulk export read the column instead of probing
-- idx_reference per row. Every write sets it. Which parameters are compartment links is known to the
-- code only (the R4 CompartmentDefinition), so rows stored before this migration are filled at the
-- next start (FhirStorage.fillPatients, in batches, before the store serves); NULL means "not yet
-- filled", and the partial index finds those rows (empty once filled).
ALTER TABLE resource ADD COLUMN patients text[];
CREATE INDEX resource_patients_unfilled ON resource (rid) WHERE patients IS NULL;
