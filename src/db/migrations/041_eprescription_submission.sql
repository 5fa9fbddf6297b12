-- National formats: e-prescriptions waiting for, or sent to, the national e-prescription system
-- (Đơn thuốc quốc gia). One row per prescription code, written in the same transaction as the
-- prescription itself (a write listener of the formats domain), so none is ever forgotten; the
-- national system's answer is kept.
CREATE TABLE eprescription_submission (
  code              text PRIMARY KEY,
  kind              text NOT NULL CHECK (kind IN ('c', 'n', 'h', 'y')),
  facility_code     text NOT NULL,
  encounter_id      text NOT NULL,
  patient_id        text NOT NULL,
  status            text NOT NULL CHECK (status IN ('queued', 'sent', 'rejected', 'failed')),
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz NOT NULL DEFAULT now(),
  result            text,
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX eprescription_submission_due ON eprescription_submission (next_attempt_at) WHERE status = 'queued';
CREATE INDEX eprescription_submission_facility ON eprescription_submission (facility_code, created_at);
