-- One citizen account per patient record: a second account bound to the same person (made by an
-- administrator who chose its password) would be a way into that person's record.
CREATE UNIQUE INDEX account_citizen_patient ON account (patient_id) WHERE kind = 'citizen' AND patient_id IS NOT NULL;
