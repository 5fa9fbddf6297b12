-- The programme's dashboard aggregates (src/programme/indicators.ts), kept exact by the database
-- itself: statement-level triggers on the indicators' source tables (programme_consult,
-- programme_meeting_site, programme_visit, programme_prescription, programme_facility) add each
-- statement's new rows and subtract its old ones, whichever way the rows were written (the write
-- listener, a bulk load, a migration). A full recomputation from the source tables gives the same
-- rows (checked by the tests and the `programme` benchmark).
--
--   programme_duration_month  how long cases waited (triage, assignment, conclusion), as a histogram
--                             of durations in the buckets of programme_bucket(), per month of request,
--                             province of filing (-1 = the whole country) and urgency;
--   programme_activity_month  per facility and month: consults sent and received, meeting sites
--                             joined and their minutes, remote examinations, prescriptions, and the
--                             last day of activity in that month (a consult sent or received, a
--                             meeting joined, an examination held — what "silent" is measured by);
--   programme_place_month     the same counts per province (the facility's current province; 0 = not
--                             in the register; -1 = the whole country's registered facilities), moved
--                             when a facility enters the register, leaves it or changes province;
--   programme_meeting_place   per meeting and province (-1 = the country's registered facilities) the
--                             first day a site there joined: a meeting is held in a place on that day;
--   programme_visit_month     remote examinations per month, province (-1 = the country) and ICD-10 reason.

-- Duration buckets (minutes), each named by its upper bound: exact to the minute up to 1 hour, then
-- 5 minutes up to 6 hours, 15 minutes up to 2 days, 1 hour up to 30 days, 1 day beyond. Every
-- target of docs/indicators.md (15, 60, 120, 480, 1,440, 4,320, 10,080 minutes) is a bucket bound,
-- so "within target" stays exact.
CREATE FUNCTION programme_bucket(m integer) RETURNS integer IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE WHEN m <= 0 THEN 0
              WHEN m <= 60 THEN m
              WHEN m <= 360 THEN ((m + 4) / 5) * 5
              WHEN m <= 2880 THEN ((m + 14) / 15) * 15
              WHEN m <= 43200 THEN ((m + 59) / 60) * 60
              ELSE ((m + 1439) / 1440) * 1440 END
$$;

-- Minutes from a case's request to a later step (the same expression the raw path uses).
CREATE FUNCTION programme_minutes(since timestamptz, upto timestamptz) RETURNS integer IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT floor(extract(epoch FROM (upto - since)) / 60)::integer
$$;

CREATE TABLE programme_duration_month (
  province_code integer NOT NULL,
  month         date NOT NULL,
  urgency       text NOT NULL,
  metric        text NOT NULL,          -- triage | assignment | conclusion
  bucket        integer NOT NULL,
  n             integer NOT NULL,
  PRIMARY KEY (province_code, month, urgency, metric, bucket)
);

CREATE TABLE programme_activity_month (
  org_id          text NOT NULL,
  month           date NOT NULL,
  sent            integer NOT NULL DEFAULT 0,
  received        integer NOT NULL DEFAULT 0,
  meeting_sites   integer NOT NULL DEFAULT 0,
  meeting_minutes integer NOT NULL DEFAULT 0,
  visits          integer NOT NULL DEFAULT 0,
  prescriptions   integer NOT NULL DEFAULT 0,
  last_day        date,
  PRIMARY KEY (org_id, month)
);
CREATE INDEX programme_activity_month_month ON programme_activity_month (month);

CREATE TABLE programme_place_month (
  province_code   integer NOT NULL,
  month           date NOT NULL,
  sent            integer NOT NULL DEFAULT 0,
  received        integer NOT NULL DEFAULT 0,
  meeting_sites   integer NOT NULL DEFAULT 0,
  meeting_minutes integer NOT NULL DEFAULT 0,
  visits          integer NOT NULL DEFAULT 0,
  prescriptions   integer NOT NULL DEFAULT 0,
  PRIMARY KEY (province_code, month)
);

-- Adds rows of counts to programme_place_month (one row per province and month in `rows`).
CREATE FUNCTION programme_add_place_months(rows programme_place_month[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO programme_place_month AS p SELECT * FROM unnest(rows)
  ON CONFLICT (province_code, month) DO UPDATE SET
    sent = p.sent + EXCLUDED.sent, received = p.received + EXCLUDED.received,
    meeting_sites = p.meeting_sites + EXCLUDED.meeting_sites, meeting_minutes = p.meeting_minutes + EXCLUDED.meeting_minutes,
    visits = p.visits + EXCLUDED.visits, prescriptions = p.prescriptions + EXCLUDED.prescriptions;
$$;

CREATE TABLE programme_meeting_place (
  province_code integer NOT NULL,
  meeting_id    text NOT NULL,
  day           date NOT NULL,
  PRIMARY KEY (province_code, meeting_id)
);
CREATE INDEX programme_meeting_place_day ON programme_meeting_place (province_code, day);
CREATE INDEX programme_meeting_place_meeting ON programme_meeting_place (meeting_id);

CREATE TABLE programme_visit_month (
  province_code integer NOT NULL,
  month         date NOT NULL,
  condition     text NOT NULL,
  n             integer NOT NULL,
  PRIMARY KEY (province_code, month, condition)
);

-- Rewrites the places of these meetings from their sites (after a change of sites or a facility move).
CREATE FUNCTION programme_place_meetings(ids text[]) RETURNS void LANGUAGE sql AS $$
  DELETE FROM programme_meeting_place WHERE meeting_id = ANY(ids);
  INSERT INTO programme_meeting_place (province_code, meeting_id, day)
  SELECT x.pc, s.meeting_id, min(s.day)
    FROM programme_meeting_site s LEFT JOIN programme_facility f ON f.org_id = s.org_id
         CROSS JOIN LATERAL (SELECT coalesce(f.province_code, 0) UNION ALL SELECT -1 WHERE f.org_id IS NOT NULL) AS x(pc)
   WHERE s.meeting_id = ANY(ids)
   GROUP BY 1, 2;
$$;

-- Adds (sign 1) or takes away (sign -1) one facility's examinations by reason to a place's rows
-- (when the facility moves: see programme_facility_moves).
CREATE FUNCTION programme_move_visits(org text, pc integer, sign integer) RETURNS void LANGUAGE sql AS $$
  INSERT INTO programme_visit_month AS v (province_code, month, condition, n)
  SELECT pc, date_trunc('month', day)::date, condition, sign * count(*)
    FROM programme_visit WHERE org_id = org GROUP BY 2, 3
  ON CONFLICT (province_code, month, condition) DO UPDATE SET n = v.n + EXCLUDED.n;
$$;

-- Activity changes of one statement: each source table's trigger gathers them from its transition
-- tables into an array (no staging table, so no dead rows for a bulk load to leave behind) and hands
-- them to programme_apply_activity(), which nets them per facility and day first (a state change
-- that keeps a case's request day and facilities takes one out and puts one back: nothing to do).
CREATE TYPE programme_activity_change AS (
  org_id text, day date, sent integer, received integer, sites integer, minutes integer, visits integer, rx integer
);

CREATE FUNCTION programme_apply_activity(changes programme_activity_change[]) RETURNS void LANGUAGE plpgsql AS $$
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
        SELECT requested_at::date AS d FROM programme_consult WHERE requesting_org = a.org_id AND requested_at >= a.month AND requested_at < a.month + interval '1 month'
        UNION ALL SELECT requested_at::date FROM programme_consult WHERE receiving_org = a.org_id AND requested_at >= a.month AND requested_at < a.month + interval '1 month'
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

-- programme_consult: durations (filed where the case is filed) and consults sent / received.
CREATE FUNCTION programme_consult_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
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
      SELECT ROW(requesting_org, requested_at::date, -1, 0, 0, 0, 0, 0)::programme_activity_change FROM old_rows WHERE requested_at IS NOT NULL
      UNION ALL SELECT ROW(receiving_org, requested_at::date, 0, -1, 0, 0, 0, 0)::programme_activity_change FROM old_rows WHERE requested_at IS NOT NULL);
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
      SELECT ROW(requesting_org, requested_at::date, 1, 0, 0, 0, 0, 0)::programme_activity_change FROM new_rows WHERE requested_at IS NOT NULL
      UNION ALL SELECT ROW(receiving_org, requested_at::date, 0, 1, 0, 0, 0, 0)::programme_activity_change FROM new_rows WHERE requested_at IS NOT NULL);
  END IF;
  PERFORM programme_apply_activity(changes);
  RETURN NULL;
END $$;

-- programme_meeting_site: sites joined and their minutes; where and when each meeting was held.
CREATE FUNCTION programme_meeting_site_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids text[] := '{}';
  changes programme_activity_change[] := '{}';
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    changes := changes || ARRAY(SELECT ROW(org_id, day, 0, 0, -1, -minutes, 0, 0)::programme_activity_change FROM old_rows);
    SELECT ids || coalesce(array_agg(DISTINCT meeting_id), '{}') INTO ids FROM old_rows;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    changes := changes || ARRAY(SELECT ROW(org_id, day, 0, 0, 1, minutes, 0, 0)::programme_activity_change FROM new_rows);
    SELECT ids || coalesce(array_agg(DISTINCT meeting_id), '{}') INTO ids FROM new_rows;
  END IF;
  PERFORM programme_place_meetings(ids);
  PERFORM programme_apply_activity(changes);
  RETURN NULL;
END $$;

-- programme_visit: remote examinations per facility, and per reason for the province and the country.
CREATE FUNCTION programme_visit_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changes programme_activity_change[] := '{}';
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    changes := changes || ARRAY(SELECT ROW(org_id, day, 0, 0, 0, 0, -1, 0)::programme_activity_change FROM old_rows);
    INSERT INTO programme_visit_month AS v (province_code, month, condition, n)
    SELECT x.pc, date_trunc('month', o.day)::date, o.condition, -count(*)
      FROM old_rows o LEFT JOIN programme_facility f ON f.org_id = o.org_id CROSS JOIN LATERAL (SELECT coalesce(f.province_code, 0) UNION ALL SELECT -1 WHERE f.org_id IS NOT NULL) AS x(pc)
     GROUP BY 1, 2, 3
    ON CONFLICT (province_code, month, condition) DO UPDATE SET n = v.n + EXCLUDED.n;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    changes := changes || ARRAY(SELECT ROW(org_id, day, 0, 0, 0, 0, 1, 0)::programme_activity_change FROM new_rows);
    INSERT INTO programme_visit_month AS v (province_code, month, condition, n)
    SELECT x.pc, date_trunc('month', o.day)::date, o.condition, count(*)
      FROM new_rows o LEFT JOIN programme_facility f ON f.org_id = o.org_id CROSS JOIN LATERAL (SELECT coalesce(f.province_code, 0) UNION ALL SELECT -1 WHERE f.org_id IS NOT NULL) AS x(pc)
     GROUP BY 1, 2, 3
    ON CONFLICT (province_code, month, condition) DO UPDATE SET n = v.n + EXCLUDED.n;
  END IF;
  PERFORM programme_apply_activity(changes);
  RETURN NULL;
END $$;

-- programme_prescription: prescriptions per facility.
CREATE FUNCTION programme_prescription_aggregates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changes programme_activity_change[] := '{}';
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    changes := changes || ARRAY(SELECT ROW(org_id, day, 0, 0, 0, 0, 0, -1)::programme_activity_change FROM old_rows);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    changes := changes || ARRAY(SELECT ROW(org_id, day, 0, 0, 0, 0, 0, 1)::programme_activity_change FROM new_rows);
  END IF;
  PERFORM programme_apply_activity(changes);
  RETURN NULL;
END $$;

-- programme_facility: a facility entering the register (from province 0 to its province and the
-- country), leaving it (back to 0) or moving to another province takes its whole activity
-- (programme_activity_month), its examinations by reason and its meetings from one place's rows to
-- the other's. Other changes of a facility (its name, its unit) move nothing.
CREATE TYPE programme_facility_move AS (org_id text, province_code integer, sign integer);

CREATE FUNCTION programme_facility_moves() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  moves programme_facility_move[];
  m programme_facility_move;
BEGIN
  IF TG_OP = 'INSERT' THEN
    moves := ARRAY(SELECT ROW(org_id, 0, -1)::programme_facility_move FROM new_rows
                   UNION ALL SELECT ROW(org_id, province_code, 1)::programme_facility_move FROM new_rows
                   UNION ALL SELECT ROW(org_id, -1, 1)::programme_facility_move FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    moves := ARRAY(SELECT ROW(org_id, province_code, -1)::programme_facility_move FROM old_rows
                   UNION ALL SELECT ROW(org_id, -1, -1)::programme_facility_move FROM old_rows
                   UNION ALL SELECT ROW(org_id, 0, 1)::programme_facility_move FROM old_rows);
  ELSE
    moves := ARRAY(SELECT ROW(o.org_id, o.province_code, -1)::programme_facility_move
                     FROM old_rows o JOIN new_rows n ON n.org_id = o.org_id WHERE n.province_code IS DISTINCT FROM o.province_code
                   UNION ALL
                   SELECT ROW(n.org_id, n.province_code, 1)::programme_facility_move
                     FROM old_rows o JOIN new_rows n ON n.org_id = o.org_id WHERE n.province_code IS DISTINCT FROM o.province_code);
  END IF;
  IF cardinality(moves) = 0 THEN RETURN NULL; END IF;
  PERFORM programme_add_place_months(ARRAY(
    SELECT ROW(mv.province_code, a.month, sum(mv.sign * a.sent), sum(mv.sign * a.received), sum(mv.sign * a.meeting_sites),
               sum(mv.sign * a.meeting_minutes), sum(mv.sign * a.visits), sum(mv.sign * a.prescriptions))::programme_place_month
      FROM unnest(moves) mv JOIN programme_activity_month a ON a.org_id = mv.org_id
     GROUP BY mv.province_code, a.month));
  -- The moved facilities' examinations by reason, and the places of their meetings.
  FOREACH m IN ARRAY moves LOOP
    PERFORM programme_move_visits(m.org_id, m.province_code, m.sign);
  END LOOP;
  PERFORM programme_place_meetings(ARRAY(SELECT DISTINCT s.meeting_id FROM programme_meeting_site s
                                           WHERE s.org_id IN (SELECT org_id FROM unnest(moves))));
  RETURN NULL;
END $$;

CREATE TRIGGER programme_consult_ins AFTER INSERT ON programme_consult REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_consult_aggregates();
CREATE TRIGGER programme_consult_upd AFTER UPDATE ON programme_consult REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_consult_aggregates();
CREATE TRIGGER programme_consult_del AFTER DELETE ON programme_consult REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_consult_aggregates();
CREATE TRIGGER programme_meeting_site_ins AFTER INSERT ON programme_meeting_site REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_meeting_site_aggregates();
CREATE TRIGGER programme_meeting_site_upd AFTER UPDATE ON programme_meeting_site REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_meeting_site_aggregates();
CREATE TRIGGER programme_meeting_site_del AFTER DELETE ON programme_meeting_site REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_meeting_site_aggregates();
CREATE TRIGGER programme_visit_ins AFTER INSERT ON programme_visit REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_visit_aggregates();
CREATE TRIGGER programme_visit_upd AFTER UPDATE ON programme_visit REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_visit_aggregates();
CREATE TRIGGER programme_visit_del AFTER DELETE ON programme_visit REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_visit_aggregates();
CREATE TRIGGER programme_prescription_ins AFTER INSERT ON programme_prescription REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_prescription_aggregates();
CREATE TRIGGER programme_prescription_upd AFTER UPDATE ON programme_prescription REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_prescription_aggregates();
CREATE TRIGGER programme_prescription_del AFTER DELETE ON programme_prescription REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_prescription_aggregates();
CREATE TRIGGER programme_facility_ins AFTER INSERT ON programme_facility REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_facility_moves();
CREATE TRIGGER programme_facility_upd AFTER UPDATE ON programme_facility REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_facility_moves();
CREATE TRIGGER programme_facility_del AFTER DELETE ON programme_facility REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION programme_facility_moves();

-- What is already in the source tables (a database made before this migration).
SELECT programme_apply_activity(ARRAY(
  SELECT ROW(requesting_org, requested_at::date, 1, 0, 0, 0, 0, 0)::programme_activity_change FROM programme_consult WHERE requested_at IS NOT NULL
  UNION ALL SELECT ROW(receiving_org, requested_at::date, 0, 1, 0, 0, 0, 0)::programme_activity_change FROM programme_consult WHERE requested_at IS NOT NULL
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
