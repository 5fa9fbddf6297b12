-- Medical devices: credentials, exactly-once message ids, quarantine of impossible readings,
-- and alert episodes (one alert per episode, not per reading).

CREATE TABLE device_credential (
  device_id   text PRIMARY KEY,
  token_hash  text NOT NULL,         -- sha-256 of the device token (tokens are 32 random bytes)
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE device_message (
  device_id   text NOT NULL,
  message_id  text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, message_id)
);

CREATE TABLE device_quarantine (
  id          bigserial PRIMARY KEY,
  device_id   text,
  message_id  text,
  received_at timestamptz NOT NULL DEFAULT now(),
  reasons     text[] NOT NULL,
  payload     text NOT NULL
);
CREATE INDEX device_quarantine_device ON device_quarantine (device_id, received_at);

CREATE TABLE alert_episode (
  id              bigserial PRIMARY KEY,
  patient_id      text NOT NULL,
  metric          text NOT NULL,
  severity        text NOT NULL,
  flag_id         text NOT NULL,
  organization_id text,
  opened_at       timestamptz NOT NULL DEFAULT now(),
  last_reading_at timestamptz NOT NULL,
  last_value      text NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text,
  escalated_at    timestamptz,
  closed_at       timestamptz
);
CREATE UNIQUE INDEX alert_episode_open ON alert_episode (patient_id, metric) WHERE closed_at IS NULL;
CREATE INDEX alert_episode_org ON alert_episode (organization_id, opened_at);
