-- Decision support (src/cds): the registry of AI/CDS services (one row per CDS Hooks service,
-- with its approval and what it may receive), every call made to one (monitoring: errors,
-- latency), and every card shown with what the clinician did with it (feedback).
CREATE TABLE cds_service (
  id              text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9-]{1,64}$'),
  -- 'bundled' = the platform's own service process (its address changes with each start), else an http(s) base URL.
  base_url        text NOT NULL,
  service_id      text NOT NULL CHECK (service_id ~ '^[A-Za-z0-9._-]{1,100}$'),
  hook            text NOT NULL,
  name            text NOT NULL,
  version         text NOT NULL,
  vendor          text NOT NULL,
  intended_use    text NOT NULL,
  risk_class      text NOT NULL CHECK (risk_class IN ('A', 'B', 'C', 'D')),
  status          text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved', 'suspended', 'withdrawn')),
  status_reason   text,
  status_by       text,
  status_at       timestamptz,
  approved_by     text,
  approved_at     timestamptz,
  evidence_ref    text,
  allowed_hooks   text[] NOT NULL DEFAULT '{}',
  data_scopes     text[] NOT NULL DEFAULT '{}',
  prefetch        jsonb NOT NULL DEFAULT '{}',
  device_id       text NOT NULL,
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (base_url, service_id)
);

CREATE TABLE cds_call (
  id          bigserial PRIMARY KEY,
  service     text NOT NULL REFERENCES cds_service (id),
  hook        text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  ms          integer NOT NULL,
  ok          boolean NOT NULL,
  error       text,
  cards       integer NOT NULL DEFAULT 0,
  sent_types  text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX cds_call_service ON cds_call (service, at);

CREATE TABLE cds_card (
  id             text PRIMARY KEY,
  service        text NOT NULL REFERENCES cds_service (id),
  card_uuid      text,
  hook           text NOT NULL,
  patient_id     text NOT NULL,
  account_id     text,
  card           jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  outcome        text CHECK (outcome IN ('accepted', 'overridden')),
  outcome_by     text,
  outcome_at     timestamptz,
  override_reason text,
  accepted       jsonb,
  feedback_status text
);
CREATE INDEX cds_card_service ON cds_card (service, outcome);
