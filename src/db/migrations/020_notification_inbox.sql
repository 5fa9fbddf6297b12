-- The notification inbox: read state per account (a facility-wide notification is read by each
-- person on their own), and urgency (an emergency transfer recommendation is shown at once).
CREATE TABLE notification_read (
  notification_id bigint NOT NULL REFERENCES notification (id) ON DELETE CASCADE,
  account_id      text NOT NULL,
  read_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, notification_id)
);
ALTER TABLE notification ADD COLUMN urgent boolean NOT NULL DEFAULT false;
