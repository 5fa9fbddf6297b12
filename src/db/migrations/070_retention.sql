-- Retention of medical records (Circular 33/2025; src/ops/retention.ts): legal holds that stop the
-- daily job from archiving a patient's or an encounter's record, and what the job archived.
CREATE TABLE retention_hold (
  id           bigserial PRIMARY KEY,
  target       text NOT NULL CHECK (target ~ '^(Patient|Encounter)/[A-Za-z0-9.-]{1,64}$'),
  reason       text NOT NULL CHECK (length(reason) >= 3),
  placed_by    text NOT NULL,
  placed_at    timestamptz NOT NULL DEFAULT now(),
  released_at  timestamptz,
  released_by  text
);
CREATE INDEX retention_hold_active ON retention_hold (target) WHERE released_at IS NULL;

CREATE TABLE retention_archive (
  id               bigserial PRIMARY KEY,
  target           text NOT NULL,
  retention_class  text NOT NULL,
  record_date      date NOT NULL,
  keep_until       date NOT NULL,
  resources        integer NOT NULL,
  file             text NOT NULL,
  sha256           text NOT NULL,
  archived_at      timestamptz NOT NULL DEFAULT now()
);
