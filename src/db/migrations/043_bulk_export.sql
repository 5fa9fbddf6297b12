-- FHIR Bulk Data export jobs ($export): one row per kick-off, owned by the client and account that
-- started it; the NDJSON files it produced (one per resource type and chunk) until they expire.
CREATE TABLE bulk_export_job (
  id                text PRIMARY KEY,
  account_id        text NOT NULL,
  client_id         text,
  request           text NOT NULL,
  status            text NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
  transaction_time  timestamptz NOT NULL,
  progress          text,
  error             text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  expires_at        timestamptz NOT NULL
);
CREATE TABLE bulk_export_file (
  job_id         text NOT NULL REFERENCES bulk_export_job (id) ON DELETE CASCADE,
  n              integer NOT NULL,
  resource_type  text NOT NULL,
  count          integer NOT NULL,
  content        text NOT NULL,
  PRIMARY KEY (job_id, n)
);
