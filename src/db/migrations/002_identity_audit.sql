-- Accounts, sessions, OAuth, care relationships, consent state, break-the-glass, audit trail.

CREATE TABLE account (
  id                  text PRIMARY KEY,
  username            text NOT NULL UNIQUE,
  display_name        text NOT NULL,
  kind                text NOT NULL CHECK (kind IN ('staff', 'citizen', 'service')),
  password_hash       text,
  practitioner_id     text,
  patient_id          text,
  totp_secret         text,            -- encrypted with the server secret
  totp_enabled        boolean NOT NULL DEFAULT false,
  recovery_codes      text[] NOT NULL DEFAULT '{}',  -- sha-256 of each unused one-time recovery code
  failed_logins       integer NOT NULL DEFAULT 0,
  locked_until        timestamptz,
  disabled            boolean NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL DEFAULT now(),
  last_login_at       timestamptz
);

-- A staff member may hold several roles, each at one facility (Organization id).
CREATE TABLE account_role (
  account_id      text NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  role            text NOT NULL,
  organization_id text NOT NULL DEFAULT '',
  PRIMARY KEY (account_id, role, organization_id)
);

CREATE TABLE session (
  id            text PRIMARY KEY,          -- sha256 of the cookie token
  account_id    text NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  csrf_token    text NOT NULL,
  mfa_verified  boolean NOT NULL DEFAULT false,
  role          text,                      -- the role this session acts in (one of the account's)
  organization_id text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  ip            text,
  user_agent    text
);
CREATE INDEX session_account ON session (account_id);

CREATE TABLE oauth_client (
  client_id      text PRIMARY KEY,
  name           text NOT NULL,
  secret_hash    text,                      -- NULL: public client (PKCE only)
  redirect_uris  text[] NOT NULL DEFAULT '{}',
  scopes         text[] NOT NULL,           -- the most this client may ever be granted
  grant_types    text[] NOT NULL,
  account_id     text REFERENCES account (id), -- client_credentials act as this service account
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE oauth_code (
  code_hash       text PRIMARY KEY,
  client_id       text NOT NULL REFERENCES oauth_client (client_id),
  account_id      text NOT NULL REFERENCES account (id),
  redirect_uri    text NOT NULL,
  scope           text NOT NULL,
  code_challenge  text NOT NULL,
  role            text NOT NULL,
  organization_id text NOT NULL DEFAULT '',
  patient_id      text,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz
);

CREATE TABLE signing_key (
  kid         text PRIMARY KEY,
  private_jwk text NOT NULL,                -- encrypted with the server secret
  public_jwk  jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  retired_at  timestamptz
);

-- Why a clinician may see a patient: derived in the same transaction as the resources it comes from.
CREATE TABLE care_relationship (
  source_rid      bigint NOT NULL,
  patient_id      text NOT NULL,
  organization_id text,
  practitioner_id text,
  kind            text NOT NULL
);
CREATE INDEX care_relationship_source ON care_relationship (source_rid);
CREATE INDEX care_relationship_org ON care_relationship (organization_id, patient_id);
CREATE INDEX care_relationship_practitioner ON care_relationship (practitioner_id, patient_id);
CREATE INDEX care_relationship_patient ON care_relationship (patient_id);

-- The effect of active FHIR Consent resources: permit or deny sharing with a facility / for a purpose.
CREATE TABLE consent_state (
  source_rid      bigint NOT NULL,
  patient_id      text NOT NULL,
  organization_id text NOT NULL DEFAULT '*',
  purpose         text NOT NULL,           -- 'treatment' or 'research'
  decision        text NOT NULL CHECK (decision IN ('permit', 'deny'))
);
CREATE INDEX consent_state_source ON consent_state (source_rid);
CREATE INDEX consent_state_patient ON consent_state (patient_id, purpose);
CREATE INDEX consent_state_org ON consent_state (organization_id, purpose, decision);

CREATE TABLE break_glass (
  id           text PRIMARY KEY,
  account_id   text NOT NULL REFERENCES account (id),
  patient_id   text NOT NULL,
  reason       text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  reviewed_by  text,
  reviewed_at  timestamptz,
  review_note  text
);
CREATE INDEX break_glass_active ON break_glass (account_id, patient_id, expires_at);

-- The audit trail. Rows are appended in the transaction of the action they record; a sealer
-- then links them into a hash chain (chain_pos, prev_hash, hash) in the order it seals them.
CREATE TABLE audit_log (
  id            bigserial PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT clock_timestamp(),
  account_id    text,
  username      text,
  role          text,
  organization_id text,
  client_id     text,
  action        text NOT NULL,              -- read, search, create, update, delete, export, login, ...
  outcome       text NOT NULL,              -- success, denied, failure
  resource_type text,
  resource_id   text,
  patient_ids   text[] NOT NULL DEFAULT '{}',
  reason        text,
  break_glass   boolean NOT NULL DEFAULT false,
  ip            text,
  detail        jsonb,
  chain_pos     bigint UNIQUE,
  prev_hash     text,
  hash          text
);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE chain_pos IS NULL;
CREATE INDEX audit_log_patients ON audit_log USING gin (patient_ids);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_account ON audit_log (account_id, at);

-- The newest sealed position and hash, so deleting the last rows of the chain is detectable too.
CREATE TABLE audit_head (
  id        integer PRIMARY KEY CHECK (id = 1),
  chain_pos bigint NOT NULL,
  hash      text NOT NULL
);

-- Append-only: nothing may change a row except the sealer filling in its chain fields once.
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_log is append-only';
  END IF;
  IF OLD.chain_pos IS NOT NULL
     OR (to_jsonb(NEW) - 'chain_pos' - 'prev_hash' - 'hash') IS DISTINCT FROM (to_jsonb(OLD) - 'chain_pos' - 'prev_hash' - 'hash') THEN
    RAISE EXCEPTION 'audit_log is append-only';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
