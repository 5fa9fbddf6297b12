-- Session feedback (src/training/feedback.ts): after a session, each person who attended it gives
-- a rating from 1 to 5 and an optional comment, once (a second answer replaces the first). The
-- teachers and the hub's coordinator see only the aggregate per session and the comments, never
-- who wrote them; the practitioner id is kept so that each person counts once.
CREATE TABLE training_feedback (
  session_id      text NOT NULL REFERENCES training_session (id),
  practitioner_id text NOT NULL,
  rating          integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
  comment         text NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
  at              timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, practitioner_id)
);
