-- Case conferences: in-app notifications, the email/SMS outbox, signing identities, and the
-- versions of the Circular 30 list of conditions that may be examined and treated remotely.

CREATE TABLE notification (
  id          bigserial PRIMARY KEY,
  account_id  text,                 -- one person, or
  practitioner_id text,             -- everyone signed in as this practitioner, or
  organization_id text,             -- every staff member of this facility
  kind        text NOT NULL,
  title       text NOT NULL,
  link        text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  read_at     timestamptz
);
CREATE INDEX notification_account ON notification (account_id, created_at);
CREATE INDEX notification_practitioner ON notification (practitioner_id, created_at);
CREATE INDEX notification_org ON notification (organization_id, created_at);

-- Messages to send by email or SMS, written in the transaction of what caused them and sent by a
-- worker with retries, so a crash loses none.
CREATE TABLE message_outbox (
  id            bigserial PRIMARY KEY,
  channel       text NOT NULL CHECK (channel IN ('email', 'sms')),
  recipient     text NOT NULL,
  subject       text NOT NULL,
  body          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  send_after    timestamptz NOT NULL DEFAULT now(),
  attempts      integer NOT NULL DEFAULT 0,
  sent_at       timestamptz,
  last_error    text,
  dedupe_key    text UNIQUE
);
CREATE INDEX message_outbox_pending ON message_outbox (send_after) WHERE sent_at IS NULL;

-- Per-user Ed25519 keys for signing clinical documents (private key encrypted with the server secret).
CREATE TABLE signing_identity (
  account_id     text PRIMARY KEY REFERENCES account (id),
  practitioner_id text,
  public_key     text NOT NULL,      -- SPKI PEM
  private_key    text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- The Ministry's list (Circular 30/2023/TT-BYT and amendments), one row per loaded version.
CREATE TABLE eligibility_list (
  version     text PRIMARY KEY,
  source      text NOT NULL,
  loaded_at   timestamptz NOT NULL DEFAULT now(),
  loaded_by   text,
  in_force    boolean NOT NULL DEFAULT false,
  entries     jsonb NOT NULL
);
CREATE UNIQUE INDEX eligibility_list_in_force ON eligibility_list (in_force) WHERE in_force;
