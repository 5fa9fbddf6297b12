-- Whose data each resource is, on its own row (issue 16/19): a Patient itself; otherwise the
-- Patients its patient-compartment references name (src/fhir/searchparams.ts, `IndexRows.patients`).
-- Access checks, read and search audit entries and bulk export read the column instead of probing
-- idx_reference per row. Every write sets it. Which parameters are compartment links is known to the
-- code only (the R4 CompartmentDefinition), so rows stored before this migration are filled at the
-- next start (src/fhir/patients-fill.ts, under a lock that holds writes off), which then makes the
-- column NOT NULL; `resource_patients_basis` keeps the link parameters the column was computed
-- with, so a change of the compartment recomputes every row. Every API node must run the new code
-- before this runs (an older node's update would not move a resource's patients).
ALTER TABLE resource ADD COLUMN patients text[];
CREATE TABLE resource_patients_basis (links smallint[] NOT NULL);
