-- FHIR record store: current versions, full history, and search indexes extracted at write time.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One row per logical resource (rid is the internal key every index row points at).
CREATE TABLE resource (
  rid           bigserial PRIMARY KEY,
  resource_type text        NOT NULL,
  id            text        NOT NULL,
  version_id    integer     NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean     NOT NULL DEFAULT false,
  UNIQUE (resource_type, id)
);
CREATE INDEX resource_type_updated ON resource (resource_type, last_updated);

-- Every version ever written, including deletions (content NULL). The current content is the
-- row whose version_id equals resource.version_id.
CREATE TABLE resource_version (
  rid           bigint      NOT NULL REFERENCES resource (rid),
  version_id    integer     NOT NULL,
  resource_type text        NOT NULL,
  id            text        NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean     NOT NULL DEFAULT false,
  method        text        NOT NULL,
  content       jsonb,
  PRIMARY KEY (rid, version_id)
);
CREATE INDEX resource_version_type_updated ON resource_version (resource_type, last_updated);
CREATE INDEX resource_version_updated ON resource_version (last_updated);

-- The search parameters the server indexes; ids are stable once assigned.
CREATE TABLE search_param (
  id            smallint PRIMARY KEY,
  resource_type text NOT NULL,
  code          text NOT NULL,
  type          text NOT NULL,
  expression    text NOT NULL,
  UNIQUE (resource_type, code)
);

-- string parameters: norm = lower case, no diacritics, đ→d (Vietnamese-friendly); exact = as written.
CREATE TABLE idx_string (
  rid   bigint   NOT NULL,
  param smallint NOT NULL,
  norm  text     NOT NULL,
  exact text     NOT NULL
);
CREATE INDEX idx_string_prefix ON idx_string (param, norm text_pattern_ops);
CREATE INDEX idx_string_trgm ON idx_string USING gin (norm gin_trgm_ops);
CREATE INDEX idx_string_rid ON idx_string (rid);

CREATE TABLE idx_token (
  rid    bigint   NOT NULL,
  param  smallint NOT NULL,
  system text,
  code   text     NOT NULL
);
CREATE INDEX idx_token_code ON idx_token (param, code, system);
CREATE INDEX idx_token_rid ON idx_token (rid);

CREATE TABLE idx_reference (
  rid         bigint   NOT NULL,
  param       smallint NOT NULL,
  target_type text     NOT NULL,
  target_id   text     NOT NULL
);
CREATE INDEX idx_reference_target ON idx_reference (param, target_id, target_type);
CREATE INDEX idx_reference_any_target ON idx_reference (target_type, target_id);
CREATE INDEX idx_reference_rid ON idx_reference (rid);

-- date parameters as an inclusive range [low, high] at the precision written.
CREATE TABLE idx_date (
  rid   bigint      NOT NULL,
  param smallint    NOT NULL,
  low   timestamptz NOT NULL,
  high  timestamptz NOT NULL
);
CREATE INDEX idx_date_low ON idx_date (param, low);
CREATE INDEX idx_date_high ON idx_date (param, high);
CREATE INDEX idx_date_rid ON idx_date (rid);

CREATE TABLE idx_quantity (
  rid    bigint   NOT NULL,
  param  smallint NOT NULL,
  value  numeric  NOT NULL,
  system text,
  code   text
);
CREATE INDEX idx_quantity_value ON idx_quantity (param, value);
CREATE INDEX idx_quantity_rid ON idx_quantity (rid);

CREATE TABLE idx_uri (
  rid   bigint   NOT NULL,
  param smallint NOT NULL,
  value text     NOT NULL
);
CREATE INDEX idx_uri_value ON idx_uri (param, value);
CREATE INDEX idx_uri_rid ON idx_uri (rid);
