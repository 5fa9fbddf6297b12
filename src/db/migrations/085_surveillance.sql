-- Early warning of outbreaks (src/surveillance). Derived tables kept in step with the record
-- inside each write's transaction (src/surveillance/listeners.ts); no patient identifier is
-- copied: a person is an opaque hash (patient_key) used only to count a person once per
-- disease and week.

-- Where a person lives (post-2025 province and commune), from the Patient's home address.
CREATE TABLE surveillance_patient_place (
  patient_key   text PRIMARY KEY,
  province_code integer,
  commune_code  integer
);

-- One row per source record that names a notifiable disease (Condition, Encounter reason, positive lab Observation).
CREATE TABLE surveillance_case (
  source        text PRIMARY KEY,          -- 'Condition/<id>' | 'Encounter/<id>' | 'Observation/<id>'
  patient_key   text NOT NULL,
  disease       text NOT NULL,
  disease_group text NOT NULL,             -- A | B | C
  week          date NOT NULL,             -- Monday of the ISO week of onset
  province_code integer,
  commune_code  integer
);
CREATE INDEX surveillance_case_cell ON surveillance_case (disease, commune_code, week);
CREATE INDEX surveillance_case_patient ON surveillance_case (patient_key);

-- Weekly counts of persons per disease and commune (province totals are sums). Recounted exactly
-- for the cells a write touched.
CREATE TABLE surveillance_week (
  disease       text NOT NULL,
  province_code integer NOT NULL,
  commune_code  integer NOT NULL,
  week          date NOT NULL,
  cases         integer NOT NULL,
  PRIMARY KEY (disease, province_code, commune_code, week)
);
CREATE INDEX surveillance_week_province ON surveillance_week (province_code, disease, week);

-- Signals: one per disease, place, week and algorithm, with what raised it and who decided.
CREATE TABLE surveillance_signal (
  id            bigserial PRIMARY KEY,
  disease       text NOT NULL,
  province_code integer NOT NULL,
  commune_code  integer NOT NULL DEFAULT 0, -- 0 = the whole province
  week          date NOT NULL,
  algorithm     text NOT NULL,             -- ears-c1 | ears-c2 | ears-c3 | cusum | group-a
  statistic     double precision NOT NULL,
  threshold     double precision NOT NULL,
  observed      integer NOT NULL,
  expected      double precision NOT NULL,
  data          jsonb NOT NULL,            -- the series and baseline used
  status        text NOT NULL DEFAULT 'open', -- open | confirmed | dismissed
  decided_by    text,
  decided_at    timestamptz,
  note          text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (disease, province_code, commune_code, week, algorithm)
);
CREATE INDEX surveillance_signal_province ON surveillance_signal (province_code, status, week);

-- Who watches which province: the provincial disease-control centre (Trung tâm Kiểm soát bệnh tật).
CREATE TABLE surveillance_authority (
  org_id        text PRIMARY KEY,
  province_code integer NOT NULL
);

-- Versions of the notifiable-disease list loaded by an administrator (the newest is in force).
CREATE TABLE surveillance_disease_list (
  version       text PRIMARY KEY,
  source        text NOT NULL,
  diseases      jsonb NOT NULL,
  loaded_by     text NOT NULL,
  loaded_at     timestamptz NOT NULL DEFAULT now()
);

-- Population denominators where known (per province or commune and year).
CREATE TABLE surveillance_population (
  province_code integer NOT NULL,
  commune_code  integer NOT NULL DEFAULT 0,
  year          integer NOT NULL,
  population    integer NOT NULL CHECK (population > 0),
  source        text NOT NULL,
  PRIMARY KEY (province_code, commune_code, year)
);
