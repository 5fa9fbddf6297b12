-- The programme's days and months are Vietnamese ones (UTC+7, no daylight saving), as its users
-- and its reports count them: a consult requested at 01:00 on the 1st in Hà Nội (18:00 UTC the day
-- before) belongs to that month, not the previous one. Before this migration the indicators'
-- source tables took the UTC day of each instant (requested_at::date with sessions in UTC, and
-- the first ten characters of an ISO string in the write listener).
--
-- 1. vietnam_day(t): the Vietnamese calendar day of an instant, the SQL twin of vietnamDay() in
--    src/platform/vietnam-time.ts (immutable: a fixed offset, whatever the session's time zone).
-- 2. programme_consult.requested_day: the Vietnamese day of the request, kept by the database
--    (a stored generated column); the triggers, the raw-path queries and their indexes use it.
-- 3. The rows already stored are moved to their Vietnamese day: consults' filing month, and the
--    day of meeting sites, remote examinations and prescriptions re-derived from the current
--    version of the resource they came from (the same fields the write listener reads). The
--    source tables' triggers are off while they move; every kept aggregate is then rebuilt from
--    the source tables as migration 031 first filled them (and programme_consult_month, kept by
--    the write listener, recounted from programme_consult as its contribute() adds it up).
--    Not moved: home-device spans (programme_monitoring_device). A span's days are the days of the
--    writes that bound and unbound its device, which only a replay of each Device's version history
--    through the listener's rules could find again; that is not done here. New spans, and the end
--    of an open span, are on Vietnamese days.

CREATE FUNCTION vietnam_day(t timestamptz) RETURNS date IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT (t AT TIME ZONE INTERVAL '+07:00')::date
$$;

-- The instant at which a Vietnamese day begins (for index-friendly bounds on instants).
CREATE FUNCTION vietnam_midnight(d date) RETURNS timestamptz IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT d::timestamp AT TIME ZONE INTERVAL '+07:00'
$$;

ALTER TABLE programme_consult ADD COLUMN requested_day date GENERATED ALWAYS AS (vietnam_day(requested_at)) STORED;
DROP INDEX programme_consult_req;
DROP INDEX programme_consult_prov;
DROP INDEX programme_consult_from;
DROP INDEX programme_consult_to;
CREATE INDEX programme_consult_req ON programme_consult (requested_day);
CREATE INDEX programme_consult_prov ON programme_consult (agg_province, requested_day);
CREATE INDEX programme_consult_from ON programme_consult (requesting_org, requested_day);
CREATE INDEX programme_consult_to ON programme_consult (receiving_org, requested_day);

-- The triggers' functions, on the request's Vietnamese day (migration 031's, with requested_day).
CREATE OR REPLACE FUNCTION programme_apply_activity(changes programme_activity_change[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  net programme_activity_change[];
BEGIN
  SELECT array_agg(ROW(org_id, day, s, r, si, mi, v, x)::programme_activity_change) INTO net FROM (
    SELECT org_id, day, sum(sent)::int AS s, sum(received)::int AS r, sum(sites)::int AS si, sum(minutes)::int AS mi, sum(visits)::int AS v, sum(rx)::int AS x
      FROM unnest(changes) WHERE org_id IS NOT NULL AND day IS NOT NULL GROUP BY 1, 2
    HAVING sum(sent) <> 0 OR sum(received) <> 0 OR sum(sites) <> 0 OR sum(minutes) <> 0 OR sum(visits) <> 0 OR sum(rx) <> 0) n;
  IF net IS NULL THEN RETURN; END IF;

  INSERT INTO programme_activity_month AS a (org_id, month, sent, received, meeting_sites, meeting_minutes, visits, prescriptions, last_day)
  SELECT org_id, date_trunc('month', day)::date, sum(sent), sum(received), sum(sites), sum(minutes), sum(visits), sum(rx),
         max(day) FILTER (WHERE sent > 0 OR received > 0 OR sites > 0 OR visits > 0)
    FROM unnest(net) GROUP BY 1, 2
  ON CONFLICT (org_id, month) DO UPDATE SET
    sent = a.sent + EXCLUDED.sent, received = a.received + EXCLUDED.received,
    meeting_sites = a.meeting_sites + EXCLUDED.meeting_sites, meeting_minutes = a.meeting_minutes + EXCLUDED.meeting_minutes,
    visits = a.visits + EXCLUDED.visits, prescriptions = a.prescriptions + EXCLUDED.prescriptions,
    last_day = greatest(a.last_day, EXCLUDED.last_day);

  -- A removal may take away the month's last day: recount it from the sources for those facility-months.
  UPDATE programme_activity_month a SET last_day = (
      SELECT max(d) FROM (
        SELECT requested_day AS d FROM programme_consult WHERE requesting_org = a.org_id AND requested_day >= a.month AND requested_day < a.month + interval '1 month'
        UNION ALL SELECT requested_day FROM programme_consult WHERE receiving_org = a.org_id AND requested_day >= a.month AND requested_day < a.month + interval '1 month'
        UNION ALL SELECT day FROM programme_meeting_site WHERE org_id = a.org_id AND day >= a.month AND day < a.month + interval '1 month'
        UNION ALL SELECT day FROM programme_visit WHERE org_id = a.org_id AND day >= a.month AND day < a.month + interval '1 month') s)
    FROM (SELECT DISTINCT org_id, date_trunc('month', day)::date AS month FROM unnest(net)
           WHERE sent < 0 OR received < 0 OR sites < 0 OR visits < 0) gone
   WHERE a.org_id = gone.org_id AND a.month = gone.month;

  PERFORM programme_add_place_months(ARRAY(
    SELECT ROW(x.pc, date_trunc('month', d.day)::date, sum(d.sent), sum(d.received), sum(d.sites), sum(d.minutes), sum(d.visits), sum(d.rx))::programme_place_month
      FROM unnest(net) d LEFT JOIN programme_facility f ON f.org_id = d.org_id
           CROSS JOIN LATERAL (SELECT coalesce(f.province_code, 0) UNION ALL SELECT -1 WHERE f.org_id IS NOT NULL) AS x(pc)
     GROUP BY x.pc, date_trunc('month', d.day)::date));
END $$;

CREATE OR REPLACE FUNCTION programme_consult_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changes programme_activity_change[] := '{}';
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO programme_duration_month AS d (province_code, month, urgency, metric, bucket, n)
    SELECT pc, o.agg_month, coalesce(o.urgency, 'routine'), m.metric, programme_bucket(programme_minutes(o.requested_at, m.at)), -count(*)
      FROM old_rows o
           CROSS JOIN LATERAL (VALUES ('triage', o.triaged_at), ('assignment', o.assigned_at), ('conclusion', o.concluded_at)) AS m(metric, at)
           CROSS JOIN LATERAL (VALUES (o.agg_province), (-1)) AS x(pc)
     WHERE o.agg_month IS NOT NULL AND o.agg_province IS NOT NULL AND o.requested_at IS NOT NULL AND m.at IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (province_code, month, urgency, metric, bucket) DO UPDATE SET n = d.n + EXCLUDED.n;
    changes := changes || ARRAY(
      SELECT ROW(requesting_org, requested_day, -1, 0, 0, 0, 0, 0)::programme_activity_change FROM old_rows WHERE requested_at IS NOT NULL
      UNION ALL SELECT ROW(receiving_org, requested_day, 0, -1, 0, 0, 0, 0)::programme_activity_change FROM old_rows WHERE requested_at IS NOT NULL);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO programme_duration_month AS d (province_code, month, urgency, metric, bucket, n)
    SELECT pc, o.agg_month, coalesce(o.urgency, 'routine'), m.metric, programme_bucket(programme_minutes(o.requested_at, m.at)), count(*)
      FROM new_rows o
           CROSS JOIN LATERAL (VALUES ('triage', o.triaged_at), ('assignment', o.assigned_at), ('conclusion', o.concluded_at)) AS m(metric, at)
           CROSS JOIN LATERAL (VALUES (o.agg_province), (-1)) AS x(pc)
     WHERE o.agg_month IS NOT NULL AND o.agg_province IS NOT NULL AND o.requested_at IS NOT NULL AND m.at IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (province_code, month, urgency, metric, bucket) DO UPDATE SET n = d.n + EXCLUDED.n;
    changes := changes || ARRAY(
      SELECT ROW(requesting_org, requested_day, 1, 0, 0, 0, 0, 0)::programme_activity_change FROM new_rows WHERE requested_at IS NOT NULL
      UNION ALL SELECT ROW(receiving_org, requested_day, 0, 1, 0, 0, 0, 0)::programme_activity_change FROM new_rows WHERE requested_at IS NOT NULL);
  END IF;
  PERFORM programme_apply_activity(changes);
  RETURN NULL;
END $$;

-- The source tables move to Vietnamese days with their triggers off; the aggregates are rebuilt below.
ALTER TABLE programme_consult DISABLE TRIGGER USER;
ALTER TABLE programme_meeting_site DISABLE TRIGGER USER;
ALTER TABLE programme_visit DISABLE TRIGGER USER;
ALTER TABLE programme_prescription DISABLE TRIGGER USER;

-- Each case filed in the month of its Vietnamese request day.
UPDATE programme_consult SET agg_month = date_trunc('month', requested_day)::date
 WHERE agg_month IS NOT NULL AND requested_day IS NOT NULL AND agg_month <> date_trunc('month', requested_day)::date;

-- A day or a date-time as FHIR writes it, to its Vietnamese day, as vietnamDay() reads it (a
-- date-time without an offset is UTC; a year or a month alone is its first day); NULL for
-- anything PostgreSQL cannot read (then the stored day stays): a value the validators of the
-- time let through must not stop the migration. Dropped at the end.
CREATE FUNCTION programme_250_day(s text) RETURNS date LANGUAGE plpgsql AS $$
BEGIN
  IF s ~ '^\d{4}-\d{2}-\d{2}$' THEN RETURN s::date; END IF;
  IF s ~ '^\d{4}-\d{2}$' THEN RETURN (s || '-01')::date; END IF;
  IF s ~ '^\d{4}$' THEN RETURN (s || '-01-01')::date; END IF;
  IF s ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$' THEN RETURN vietnam_day((s || 'Z')::timestamptz); END IF;
  IF s ~ '^\d{4}-\d{2}-\d{2}T' THEN RETURN vietnam_day(s::timestamptz); END IF;
  RETURN NULL;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;

-- Remote examinations: the day of the Encounter's start (or its end), as the write listener reads it.
UPDATE programme_visit v SET day = x.day
  FROM (SELECT r.id, programme_250_day(coalesce(c.content #>> '{period,start}', c.content #>> '{period,end}')) AS day
          FROM programme_visit pv JOIN resource r ON r.resource_type = 'Encounter' AND r.id = pv.encounter_id AND NOT r.deleted
               JOIN resource_version c ON c.rid = r.rid AND c.version_id = r.version_id) x
 WHERE x.id = v.encounter_id AND x.day IS NOT NULL AND x.day <> v.day;

-- Meeting sites: per facility, the start of its first bridge point in the Encounter's list (or the
-- meeting's start).
UPDATE programme_meeting_site s SET day = x.day
  FROM (SELECT DISTINCT ON (r.id, pl.org_id) r.id AS meeting_id, pl.org_id,
               programme_250_day(coalesce(l.value #>> '{period,start}', c.content #>> '{period,start}')) AS day
          FROM (SELECT DISTINCT meeting_id FROM programme_meeting_site) m
               JOIN resource r ON r.resource_type = 'Encounter' AND r.id = m.meeting_id AND NOT r.deleted
               JOIN resource_version c ON c.rid = r.rid AND c.version_id = r.version_id
               CROSS JOIN LATERAL jsonb_array_elements(coalesce(c.content -> 'location', '[]')) WITH ORDINALITY AS l(value, n)
               JOIN programme_location pl ON pl.location_id = regexp_replace(l.value #>> '{location,reference}', '^Location/', '')
         WHERE coalesce(l.value #>> '{period,start}', c.content #>> '{period,start}') IS NOT NULL
         ORDER BY r.id, pl.org_id, l.n) x
 WHERE x.meeting_id = s.meeting_id AND x.org_id = s.org_id AND x.day IS NOT NULL AND x.day <> s.day;

-- Prescriptions: as the listener keeps the first MedicationRequest of a group it counts (not
-- entered in error, with an encounter): its authoredOn, or without one the day it was first written.
UPDATE programme_prescription p SET day = x.day
  FROM (SELECT DISTINCT ON (1) coalesce(c.content #>> '{groupIdentifier,system}', '') || '|' || (c.content #>> '{groupIdentifier,value}') AS rx_key,
               CASE WHEN c.content ? 'authoredOn' THEN programme_250_day(c.content ->> 'authoredOn')
                    ELSE vietnam_day((SELECT min(f.last_updated) FROM resource_version f WHERE f.rid = r.rid)) END AS day
          FROM resource r JOIN resource_version c ON c.rid = r.rid AND c.version_id = r.version_id
         WHERE r.resource_type = 'MedicationRequest' AND NOT r.deleted AND c.content #>> '{groupIdentifier,value}' IS NOT NULL
           AND c.content #>> '{encounter,reference}' IS NOT NULL AND coalesce(c.content ->> 'status', '') <> 'entered-in-error'
         ORDER BY 1, r.rid) x
 WHERE x.rx_key = p.rx_key AND x.day IS NOT NULL AND x.day <> p.day;

DROP FUNCTION programme_250_day(text);

ALTER TABLE programme_consult ENABLE TRIGGER USER;
ALTER TABLE programme_meeting_site ENABLE TRIGGER USER;
ALTER TABLE programme_visit ENABLE TRIGGER USER;
ALTER TABLE programme_prescription ENABLE TRIGGER USER;

-- The kept aggregates, rebuilt from the source tables (migration 031's first fill, on Vietnamese days).
DELETE FROM programme_duration_month;
DELETE FROM programme_activity_month;
DELETE FROM programme_place_month;
DELETE FROM programme_meeting_place;
DELETE FROM programme_visit_month;
SELECT programme_apply_activity(ARRAY(
  SELECT ROW(requesting_org, requested_day, 1, 0, 0, 0, 0, 0)::programme_activity_change FROM programme_consult WHERE requested_at IS NOT NULL
  UNION ALL SELECT ROW(receiving_org, requested_day, 0, 1, 0, 0, 0, 0)::programme_activity_change FROM programme_consult WHERE requested_at IS NOT NULL
  UNION ALL SELECT ROW(org_id, day, 0, 0, 1, minutes, 0, 0)::programme_activity_change FROM programme_meeting_site
  UNION ALL SELECT ROW(org_id, day, 0, 0, 0, 0, 1, 0)::programme_activity_change FROM programme_visit
  UNION ALL SELECT ROW(org_id, day, 0, 0, 0, 0, 0, 1)::programme_activity_change FROM programme_prescription));
SELECT programme_place_meetings(coalesce((SELECT array_agg(DISTINCT meeting_id) FROM programme_meeting_site), '{}'));
INSERT INTO programme_visit_month (province_code, month, condition, n)
  SELECT x.pc, date_trunc('month', v.day)::date, v.condition, count(*)
    FROM programme_visit v LEFT JOIN programme_facility f ON f.org_id = v.org_id CROSS JOIN LATERAL (SELECT coalesce(f.province_code, 0) UNION ALL SELECT -1 WHERE f.org_id IS NOT NULL) AS x(pc)
   GROUP BY 1, 2, 3;
INSERT INTO programme_duration_month (province_code, month, urgency, metric, bucket, n)
  SELECT pc, o.agg_month, coalesce(o.urgency, 'routine'), m.metric, programme_bucket(programme_minutes(o.requested_at, m.at)), count(*)
    FROM programme_consult o
         CROSS JOIN LATERAL (VALUES ('triage', o.triaged_at), ('assignment', o.assigned_at), ('conclusion', o.concluded_at)) AS m(metric, at)
         CROSS JOIN LATERAL (VALUES (o.agg_province), (-1)) AS x(pc)
   WHERE o.agg_month IS NOT NULL AND o.agg_province IS NOT NULL AND o.requested_at IS NOT NULL AND m.at IS NOT NULL
   GROUP BY 1, 2, 3, 4, 5;

-- programme_consult_month is each filed case's contribution (src/programme/listeners.ts, contribute()).
DELETE FROM programme_consult_month;
INSERT INTO programme_consult_month (month, province_code, level, specialty, urgency, requested, accepted, concluded,
                                     followed_up, improved, stable, transferred, died, local_advised, transfers_avoided)
SELECT agg_month, agg_province, agg_level, coalesce(specialty, ''), coalesce(urgency, 'routine'), count(*),
       count(*) FILTER (WHERE accepted), count(concluded_at),
       count(*) FILTER (WHERE coalesce(outcome, '') <> ''), count(*) FILTER (WHERE outcome = 'improved'),
       count(*) FILTER (WHERE outcome = 'stable'), count(*) FILTER (WHERE outcome = 'transferred'), count(*) FILTER (WHERE outcome = 'died'),
       count(*) FILTER (WHERE transfer_advised = false),
       count(*) FILTER (WHERE transfer_advised = false AND coalesce(outcome, '') NOT IN ('', 'transferred', 'unknown'))
  FROM programme_consult
 WHERE agg_month IS NOT NULL AND agg_province IS NOT NULL AND agg_level IS NOT NULL
 GROUP BY 1, 2, 3, 4, 5;
