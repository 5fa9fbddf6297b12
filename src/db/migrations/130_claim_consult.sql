-- National formats: the insurance sending queue also carries the receiving (hub) facility's part
-- of a concluded case conference. Its key (MA_LK) is the case id; `record_type` says which
-- resource `encounter_id` names and the gateway's transaction code is kept on: the visit's
-- Encounter, or the case's Task.
ALTER TABLE claim_submission ADD COLUMN record_type text NOT NULL DEFAULT 'Encounter' CHECK (record_type IN ('Encounter', 'Task'));
