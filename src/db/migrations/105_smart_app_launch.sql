-- SMART App Launch (src/auth/smart.ts): an app's launch address; the launch context a clinician
-- opens from a chart (EHR launch), used once; an authorization request waiting for the person's
-- decision on the consent screen; refresh tokens (offline_access / online_access), stored hashed,
-- each used once (a used one issues its successor).
ALTER TABLE oauth_client ADD COLUMN launch_uri text;
ALTER TABLE oauth_code ADD COLUMN encounter_id text;
ALTER TABLE oauth_code ADD COLUMN nonce text;

CREATE TABLE smart_launch (
  id            text PRIMARY KEY,
  account_id    text NOT NULL REFERENCES account (id),
  client_id     text NOT NULL REFERENCES oauth_client (client_id),
  patient_id    text NOT NULL,
  encounter_id  text,
  expires_at    timestamptz NOT NULL,
  used_at       timestamptz
);

CREATE TABLE oauth_pending (
  id              text PRIMARY KEY,
  account_id      text NOT NULL REFERENCES account (id),
  client_id       text NOT NULL REFERENCES oauth_client (client_id),
  redirect_uri    text NOT NULL,
  scope           text NOT NULL,
  state           text,
  nonce           text,
  code_challenge  text NOT NULL,
  role            text NOT NULL,
  organization_id text NOT NULL DEFAULT '',
  patient_id      text,
  encounter_id    text,
  expires_at      timestamptz NOT NULL,
  decided_at      timestamptz
);

CREATE TABLE oauth_refresh (
  token_hash      text PRIMARY KEY,
  client_id       text NOT NULL REFERENCES oauth_client (client_id),
  account_id      text NOT NULL REFERENCES account (id),
  scope           text NOT NULL,
  role            text NOT NULL,
  organization_id text NOT NULL DEFAULT '',
  patient_id      text,
  encounter_id    text,
  generation      integer NOT NULL,          -- the account's; sign-out everywhere, a role change or disabling end it
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz
);
CREATE INDEX oauth_refresh_account ON oauth_refresh (account_id);
