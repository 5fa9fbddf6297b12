-- Video rooms tied to the record (a consult session, a visit appointment, or an ad-hoc call),
-- one-time invitation links for citizens, and attendance.

CREATE TABLE video_room (
  id            text PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('session', 'appointment', 'adhoc')),
  ref           text,                       -- Appointment/<id> for sessions and visits
  title         text NOT NULL,
  mode          text NOT NULL CHECK (mode IN ('mesh', 'sfu')),
  created_by    text NOT NULL,
  invited       text[] NOT NULL DEFAULT '{}', -- practitioner ids (ad-hoc calls)
  janus_url     text,
  janus_room    bigint,
  created_at    timestamptz NOT NULL DEFAULT now(),
  ended_at      timestamptz
);

CREATE TABLE video_invite (
  token_hash  text PRIMARY KEY,
  room_id     text NOT NULL REFERENCES video_room (id),
  patient_id  text,
  label       text NOT NULL,
  expires_at  timestamptz NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE video_attendance (
  id            bigserial PRIMARY KEY,
  room_id       text NOT NULL REFERENCES video_room (id),
  account_id    text,
  display_name  text NOT NULL,
  role          text,
  organization_id text,
  joined_at     timestamptz NOT NULL DEFAULT now(),
  left_at       timestamptz
);
CREATE INDEX video_attendance_room ON video_attendance (room_id, joined_at);
