-- Identity hardening: second-factor lockout and replay, token revocation, sign-in throttling that
-- reveals nothing about which usernames exist, staff inactivity, and audit retention.

-- The second factor has its own failure counter and lock: a correct password never resets them.
-- totp_last_step is the newest accepted TOTP time-step: a code at or before it is refused, on every node.
-- generation is embedded in every access token (claim "gen"); bumping it refuses every token issued
-- before (sign-out everywhere, disable, role or password change). last_active_at: the last
-- successful sign-in or token use (at most an hour stale), for the inactivity rule.
ALTER TABLE account
  ADD COLUMN mfa_failures     integer NOT NULL DEFAULT 0,
  ADD COLUMN mfa_locked_until timestamptz,
  ADD COLUMN totp_last_step   bigint,
  ADD COLUMN generation       integer NOT NULL DEFAULT 0,
  ADD COLUMN last_active_at   timestamptz,
  ADD COLUMN disabled_at      timestamptz,
  ADD COLUMN disabled_reason  text;
UPDATE account SET last_active_at = last_login_at;
CREATE INDEX account_staff_activity ON account (coalesce(last_active_at, created_at)) WHERE kind = 'staff' AND NOT disabled;

-- Failed password sign-ins, counted per (username, source network), per username and per source
-- network, whether or not the username exists. key = HMAC of the kind and value (no typed
-- usernames, which are sometimes passwords, are stored in clear).
CREATE TABLE login_throttle (
  key           text PRIMARY KEY,
  failures      integer NOT NULL,
  first_at      timestamptz NOT NULL,
  blocked_until timestamptz
);

-- Networks an account has signed in from successfully: the per-username back-off does not apply there.
CREATE TABLE login_source (
  account_id      text NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  source          text NOT NULL,
  last_success_at timestamptz NOT NULL,
  PRIMARY KEY (account_id, source)
);

-- Audit retention moves the start of the chain: the entry at start_pos was the last one removed;
-- start_hash is "<its hash>.<MAC of start:pos:hash>", the new genesis the next entry links to.
ALTER TABLE audit_head
  ADD COLUMN start_pos  bigint NOT NULL DEFAULT 0,
  ADD COLUMN start_hash text;

-- Append-only, except that the retention job (a transaction that sets cauyte.audit_retention = on)
-- may remove sealed entries older than 90 days at or before the recorded chain start. Whoever moves
-- the start without the server secret cannot MAC it, so `cauyte audit verify` still sees it.
CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF coalesce(current_setting('cauyte.audit_retention', true), '') = 'on'
       AND OLD.chain_pos IS NOT NULL
       AND OLD.at < now() - interval '90 days'
       AND OLD.chain_pos <= (SELECT start_pos FROM audit_head WHERE id = 1) THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
  END IF;
  IF OLD.chain_pos IS NOT NULL
     OR (to_jsonb(NEW) - 'chain_pos' - 'prev_hash' - 'hash') IS DISTINCT FROM (to_jsonb(OLD) - 'chain_pos' - 'prev_hash' - 'hash') THEN
    RAISE EXCEPTION 'audit_log is append-only';
  END IF;
  RETURN NEW;
END
$$;

CREATE FUNCTION audit_log_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate();
