-- The admitted members of a live video room, so that another API node can take the room over
-- when the node holding it is lost (participants reconnect with their resume token and keep
-- their place, their stay and their host role), and so that a removal (ban) survives the move.
-- Only a hash of the resume token is kept.

CREATE TABLE video_member (
  room_id        text NOT NULL REFERENCES video_room (id),
  member_id      text NOT NULL,
  identity       text NOT NULL,              -- acct:<id> or invite:<key>: who this is across connections
  entrant        jsonb NOT NULL,             -- name, role, site's organization, staff or citizen (as the room shows them)
  resume_hash    text NOT NULL,
  host           boolean NOT NULL DEFAULT false,
  site           text NOT NULL DEFAULT '',
  attendance_id  bigint REFERENCES video_attendance (id),
  joined_at      timestamptz NOT NULL DEFAULT now(),
  left_at        timestamptz,
  removed        boolean NOT NULL DEFAULT false, -- removed by a host: may not come back to this room
  PRIMARY KEY (room_id, member_id)
);
CREATE INDEX video_member_live ON video_member (room_id) WHERE left_at IS NULL;
