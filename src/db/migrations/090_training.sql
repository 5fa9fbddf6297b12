-- Remote training and technology transfer (src/training). Programmes, courses, enrolment,
-- credits, assessments, certificates and transfer packages are the training domain's own tables:
-- capacity and the waiting list, credit totals per licence cycle and the transfer rule are
-- counted in one transaction, which FHIR PlanDefinition/ActivityDefinition do not carry. What is
-- clinical or shared stays FHIR: each session is an Appointment (so the live-video rooms and
-- their attendance work unchanged), pre/post tests are Questionnaire/QuestionnaireResponse.

CREATE TABLE training_programme (
  id            text PRIMARY KEY,
  hub_org       text NOT NULL,              -- the hub facility that runs it
  title         text NOT NULL,
  description   text NOT NULL DEFAULT '',
  target_orgs   text[] NOT NULL DEFAULT '{}', -- empty: any facility
  target_roles  text[] NOT NULL DEFAULT '{}', -- empty: any clinical role
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE training_course (
  id            text PRIMARY KEY,
  programme_id  text NOT NULL REFERENCES training_programme (id),
  title         text NOT NULL,
  capacity      integer NOT NULL CHECK (capacity > 0),
  min_share     numeric NOT NULL DEFAULT 0.75 CHECK (min_share > 0 AND min_share <= 1),
  pass_mark     integer NOT NULL DEFAULT 70 CHECK (pass_mark BETWEEN 0 AND 100),
  teachers      text[] NOT NULL DEFAULT '{}',  -- Practitioner ids
  materials     jsonb NOT NULL DEFAULT '[]',   -- [{ title, url } | { title, binaryId, contentType }]
  prerequisites text[] NOT NULL DEFAULT '{}',  -- course ids to complete first
  pre_test      text,                          -- Questionnaire id
  post_test     text,                          -- Questionnaire id
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per session; id = the session's Appointment id.
CREATE TABLE training_session (
  id          text PRIMARY KEY,
  course_id   text NOT NULL REFERENCES training_course (id),
  seq         integer NOT NULL,
  title       text NOT NULL,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  credits     numeric NOT NULL CHECK (credits >= 0),  -- CME periods (tiết) for attending
  closed_at   timestamptz                              -- attendance counted
);
CREATE INDEX training_session_course ON training_session (course_id, seq);

CREATE TABLE training_enrolment (
  id              bigserial PRIMARY KEY,
  course_id       text NOT NULL REFERENCES training_course (id),
  kind            text NOT NULL CHECK (kind IN ('person', 'facility')),
  practitioner_id text,
  account_id      text,
  org_id          text NOT NULL,
  name            text NOT NULL,
  status          text NOT NULL CHECK (status IN ('enrolled', 'waiting', 'withdrawn')),
  at              timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX training_enrolment_person ON training_enrolment (course_id, practitioner_id) WHERE kind = 'person' AND status <> 'withdrawn';
CREATE UNIQUE INDEX training_enrolment_site ON training_enrolment (course_id, org_id) WHERE kind = 'facility' AND status <> 'withdrawn';

-- People watching together at one bridge point, registered by the site's host.
CREATE TABLE training_signin (
  id              bigserial PRIMARY KEY,
  session_id      text NOT NULL REFERENCES training_session (id),
  org_id          text NOT NULL,
  name            text NOT NULL,
  practitioner_id text,
  host_account    text NOT NULL,
  at              timestamptz NOT NULL DEFAULT now()
);

-- Counted when the teacher closes the session (from video_attendance and the sign-ins).
CREATE TABLE training_attendance (
  session_id      text NOT NULL REFERENCES training_session (id),
  person_key      text NOT NULL,               -- Practitioner id, or 'signin:<id>'
  practitioner_id text,
  org_id          text,
  name            text NOT NULL,
  minutes         numeric NOT NULL,
  share           numeric NOT NULL,
  counted         boolean NOT NULL,
  credits         numeric NOT NULL,
  source          text NOT NULL CHECK (source IN ('video', 'signin')),
  PRIMARY KEY (session_id, person_key)
);
CREATE INDEX training_attendance_person ON training_attendance (practitioner_id);

CREATE TABLE training_assessment (
  id              bigserial PRIMARY KEY,
  course_id       text NOT NULL REFERENCES training_course (id),
  practitioner_id text NOT NULL,
  phase           text NOT NULL CHECK (phase IN ('pre', 'post')),
  response_id     text NOT NULL,               -- QuestionnaireResponse
  score           integer NOT NULL,            -- percent
  passed          boolean NOT NULL,
  at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX training_assessment_course ON training_assessment (course_id, practitioner_id, phase);

CREATE TABLE training_certificate (
  id              text PRIMARY KEY,
  token           text NOT NULL UNIQUE,        -- the unguessable code in the QR link (shows name, course, credits, date only)
  course_id       text NOT NULL REFERENCES training_course (id),
  practitioner_id text NOT NULL,
  name            text NOT NULL,
  course_title    text NOT NULL,
  credits         numeric NOT NULL,
  issued_at       timestamptz NOT NULL DEFAULT now(),
  pdf             bytea NOT NULL,
  UNIQUE (course_id, practitioner_id)
);

-- De-identified teaching cases shown in a session (no link back to the record).
CREATE TABLE training_teaching_case (
  id          text PRIMARY KEY,
  session_id  text NOT NULL REFERENCES training_session (id),
  source_hash text NOT NULL,                   -- sha256 of the source case id (no duplicate, no link)
  content     jsonb NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (session_id, source_hash)
);

CREATE TABLE training_transfer (
  id                text PRIMARY KEY,
  hub_org           text NOT NULL,
  facility_org      text NOT NULL,
  technique         text NOT NULL,
  min_supervised    integer NOT NULL CHECK (min_supervised >= 1),
  independent_since date,
  created_by        text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE training_transfer_step (
  transfer_id text NOT NULL REFERENCES training_transfer (id),
  step        text NOT NULL CHECK (step IN ('training', 'supervised', 'assessment', 'signoff')),
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
  evidence    jsonb NOT NULL DEFAULT '[]',
  done_at     timestamptz,
  done_by     text,
  PRIMARY KEY (transfer_id, step)
);

CREATE TABLE training_supervised_case (
  id            bigserial PRIMARY KEY,
  transfer_id   text NOT NULL REFERENCES training_transfer (id),
  ref           text NOT NULL,                 -- ServiceRequest/<id> (a consult) or Encounter/<id> (a visit)
  note          text NOT NULL DEFAULT '',
  signed_off_by text,
  signed_off_at timestamptz,
  UNIQUE (transfer_id, ref)
);

CREATE TABLE training_setting (
  key   text PRIMARY KEY,
  value text NOT NULL
);
