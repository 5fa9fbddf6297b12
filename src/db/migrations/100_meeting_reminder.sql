-- Meeting reminders already sent (src/consult/reminders.ts): one row per meeting, recipient and
-- lead time, inserted in the transaction that writes the reminder, so a restart or a second node
-- never sends the same reminder twice.
CREATE TABLE meeting_reminder (
  appointment_id text NOT NULL,
  recipient      text NOT NULL,          -- 'Practitioner/<id>' or 'Organization/<id>' (a bridge point's facility)
  lead_minutes   integer NOT NULL,
  sent_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (appointment_id, recipient, lead_minutes)
);
