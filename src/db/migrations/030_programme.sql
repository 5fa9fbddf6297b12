-- The national programme (src/programme): the facility register, telemedicine-unit declarations,
-- bridge-point readiness, and the derived tables the indicators are computed from. The FHIR
-- resources (Organization, Location, QuestionnaireResponse, Contract, Task, Encounter, …) stay the
-- record; these tables are kept in step with them inside each write's transaction
-- (src/programme/listeners.ts) or written by the programme's own use cases.

-- One row per facility in the national register (the Organization's id; the 5-character code of
-- the insurance XML). unit_status is the telemedicine unit's declaration status.
CREATE TABLE programme_facility (
  org_id        text PRIMARY KEY,
  code          text NOT NULL UNIQUE CHECK (length(code) = 5),
  name          text NOT NULL,
  level         text NOT NULL,           -- central | provincial | regional | commune | private
  owner         text NOT NULL,           -- public | private
  province_code integer NOT NULL,
  commune_code  integer NOT NULL,
  location_id   text,
  digest        text NOT NULL,           -- the register fields as the Organization has them (an import compares, no read)
  unit_status   text NOT NULL DEFAULT 'none', -- none | submitted | approved | returned
  unit_since    timestamptz,            -- when the unit was (last) approved
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX programme_facility_place ON programme_facility (province_code, level);
CREATE INDEX programme_facility_location ON programme_facility (location_id);

-- Provincial health departments (Sở Y tế): an analyst whose role is held at one sees its province.
CREATE TABLE programme_authority (
  org_id        text PRIMARY KEY,
  province_code integer NOT NULL
);

-- Hub-and-spoke: which hospital supports which facility, per specialty.
CREATE TABLE programme_hub (
  hub_org   text NOT NULL,
  spoke_org text NOT NULL,
  specialty text NOT NULL,
  PRIMARY KEY (hub_org, spoke_org, specialty)
);
CREATE INDEX programme_hub_spoke ON programme_hub (spoke_org);

-- Every step of a declaration (submitted, approved, returned with a reason): the history.
CREATE TABLE programme_declaration_event (
  id          bigserial PRIMARY KEY,
  org_id      text NOT NULL,
  response_id text NOT NULL,             -- the QuestionnaireResponse
  status      text NOT NULL,             -- submitted | approved | returned
  reason      text,
  actor       text NOT NULL,
  at          timestamptz NOT NULL
);
CREATE INDEX programme_declaration_org ON programme_declaration_event (org_id, at);

-- Pre-call checks run from a site's room equipment.
CREATE TABLE programme_readiness (
  id          bigserial PRIMARY KEY,
  org_id      text NOT NULL,
  checked_at  timestamptz NOT NULL,
  ok          boolean NOT NULL,
  camera      boolean NOT NULL,
  microphone  boolean NOT NULL,
  up_kbps     integer,
  down_kbps   integer,
  rtt_ms      integer,
  turn        boolean NOT NULL,
  actor       text NOT NULL
);
CREATE INDEX programme_readiness_org ON programme_readiness (org_id, checked_at);

-- Settings of the programme (e.g. what a consult without an agreement does).
CREATE TABLE programme_setting (
  key   text PRIMARY KEY,
  value text NOT NULL
);

-- One row per case conference (the ServiceRequest's id), from its ServiceRequest and Task versions.
CREATE TABLE programme_consult (
  case_id        text PRIMARY KEY,
  requesting_org text,
  receiving_org  text,
  specialty      text,
  urgency        text,
  requested_at   timestamptz,            -- first version past draft
  triaged_at     timestamptz,            -- first accept / decline / request for information
  assigned_at    timestamptz,            -- first version naming a specialist
  concluded_at   timestamptz,            -- first version in state concluded
  accepted       boolean NOT NULL DEFAULT false,
  -- where the aggregate row was filed (so a later change moves exactly that contribution)
  agg_month      date,
  agg_province   integer,
  agg_level      text
);
CREATE INDEX programme_consult_req ON programme_consult (requested_at);
CREATE INDEX programme_consult_prov ON programme_consult (agg_province, requested_at);
CREATE INDEX programme_consult_from ON programme_consult (requesting_org, requested_at);
CREATE INDEX programme_consult_to ON programme_consult (receiving_org, requested_at);

-- The consult counts by month of request, province and level of the requesting facility,
-- specialty and urgency: kept exact by adding and removing each case's contribution.
CREATE TABLE programme_consult_month (
  month         date NOT NULL,
  province_code integer NOT NULL,
  level         text NOT NULL,
  specialty     text NOT NULL,
  urgency       text NOT NULL,
  requested     integer NOT NULL DEFAULT 0,
  accepted      integer NOT NULL DEFAULT 0,
  concluded     integer NOT NULL DEFAULT 0,
  PRIMARY KEY (month, province_code, level, specialty, urgency)
);

-- Which facility a Location belongs to (bridge points of meetings are Locations).
CREATE TABLE programme_location (
  location_id text PRIMARY KEY,
  org_id      text NOT NULL
);

-- One row per meeting site (bridge point joined) with its connected minutes.
CREATE TABLE programme_meeting_site (
  meeting_id text NOT NULL,
  org_id     text NOT NULL,
  day        date NOT NULL,
  minutes    integer NOT NULL,
  PRIMARY KEY (meeting_id, org_id)
);
CREATE INDEX programme_meeting_site_org ON programme_meeting_site (org_id, day);
CREATE INDEX programme_meeting_site_day ON programme_meeting_site (day);

-- Remote examinations (finished virtual Encounters outside case conferences).
CREATE TABLE programme_visit (
  encounter_id text PRIMARY KEY,
  org_id       text NOT NULL,
  day          date NOT NULL,
  condition    text NOT NULL,            -- ICD-10 code of the reason, '' when none
  minutes      integer NOT NULL
);
CREATE INDEX programme_visit_org ON programme_visit (org_id, day);
CREATE INDEX programme_visit_day ON programme_visit (day);

-- E-prescriptions (one per prescription code: MedicationRequests sharing a groupIdentifier).
CREATE TABLE programme_prescription (
  rx_key   text PRIMARY KEY,
  org_id   text NOT NULL,
  day      date NOT NULL
);
CREATE INDEX programme_prescription_day ON programme_prescription (day);
