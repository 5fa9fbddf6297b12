-- National formats: the insurance (BHXH) sending queue. One row per visit: the visit key
-- (MA_LK, the booking's Appointment id) is the primary key, so a visit is queued and sent at most
-- once whatever the retries. The signed documents are kept as sent (the facility must be able to
-- show what it signed); the gateway's transaction code (maGiaoDich) is kept here and on the
-- visit's Encounter.
CREATE TABLE claim_submission (
  visit_key         text PRIMARY KEY,
  facility_code     text NOT NULL,
  organization_id   text NOT NULL,
  encounter_id      text NOT NULL,
  patient_id        text NOT NULL,
  status            text NOT NULL CHECK (status IN ('queued', 'checked-in', 'sent', 'rejected', 'failed')),
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz NOT NULL DEFAULT now(),
  check_in_xml      text NOT NULL,
  envelope_xml      text NOT NULL,
  check_in_code     text,
  transaction_code  text,
  received_at       text,
  result_code       text,
  last_error        text,
  requested_by      text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claim_submission_due ON claim_submission (next_attempt_at) WHERE status IN ('queued', 'checked-in');
CREATE INDEX claim_submission_facility ON claim_submission (organization_id, created_at);
