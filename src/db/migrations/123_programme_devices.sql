-- Device-programme indicators (src/programme/device-indicators.ts, docs/indicators.md): home
-- monitoring enrolment and alerts answered in time. The write listener (src/programme/
-- device-listeners.ts) keeps these two tables in step with the record inside every write's
-- transaction; alerts are read from the devices domain's alert_episode (read-only).
--
-- No patient identifier is copied: a person is the sha-256 of 'cauyte-programme:' || Patient id
-- (first 32 hex digits), enough to count people once, naming nobody.

-- The facility that manages each person (Patient.managingOrganization).
CREATE TABLE programme_patient_facility (
  patient_key text PRIMARY KEY,
  org_id      text NOT NULL
);
CREATE INDEX programme_patient_facility_org ON programme_patient_facility (org_id);

-- One row per span of use of a home device (a Device bound to a patient and active): the day it
-- started and the day it stopped (inactive, unbound, deleted) — end_day NULL while in use. A device
-- lent to another person, or back in use, starts a new span.
CREATE TABLE programme_monitoring_device (
  device_id   text NOT NULL,
  start_day   date NOT NULL,
  patient_key text NOT NULL,
  end_day     date,
  PRIMARY KEY (device_id, start_day, patient_key)
);
CREATE INDEX programme_monitoring_device_patient ON programme_monitoring_device (patient_key);

-- What is already in the record (a database made before this migration): current versions.
INSERT INTO programme_patient_facility (patient_key, org_id)
SELECT left(encode(sha256(convert_to('cauyte-programme:' || r.id, 'UTF8')), 'hex'), 32), substr(v.content #>> '{managingOrganization,reference}', 14)
  FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
 WHERE r.resource_type = 'Patient' AND NOT r.deleted AND v.content #>> '{managingOrganization,reference}' LIKE 'Organization/%';

INSERT INTO programme_monitoring_device (device_id, patient_key, start_day, end_day)
SELECT r.id, left(encode(sha256(convert_to('cauyte-programme:' || substr(v.content #>> '{patient,reference}', 9), 'UTF8')), 'hex'), 32),
       (SELECT min(f.last_updated)::date FROM resource_version f WHERE f.rid = r.rid),
       CASE WHEN coalesce(v.content ->> 'status', 'active') = 'active' THEN NULL ELSE r.last_updated::date END
  FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
 WHERE r.resource_type = 'Device' AND NOT r.deleted AND v.content #>> '{patient,reference}' LIKE 'Patient/%'
   AND coalesce(v.content ->> 'status', 'active') <> 'entered-in-error';
