/**
 * The dashboard's kept aggregates (src/db/migrations/031_programme_aggregates.sql) next to a full
 * recomputation of each from the source tables — for the tests and the `programme` benchmark,
 * which must show that what the triggers keep is exactly what a recount gives.
 *
 * Rules: read-only; rows with all-zero counts are left out on both sides (the kept tables may hold
 * them after removals); each side is ordered the same way so the rows compare as text.
 */
import type { Queryable } from '../db/db.ts';

interface Pair {
  name: string;
  kept: string;
  recomputed: string;
}

const MONTH = (c: string) => `to_char(${c}, 'YYYY-MM')`;
const DAY = (c: string) => `to_char(${c}, 'YYYY-MM-DD')`;

const SOURCES = `
  SELECT requesting_org AS org_id, requested_day AS day, 1 AS sent, 0 AS received, 0 AS sites, 0 AS minutes, 0 AS visits, 0 AS rx
    FROM programme_consult WHERE requested_at IS NOT NULL AND requesting_org IS NOT NULL
  UNION ALL SELECT receiving_org, requested_day, 0, 1, 0, 0, 0, 0 FROM programme_consult WHERE requested_at IS NOT NULL AND receiving_org IS NOT NULL
  UNION ALL SELECT org_id, day, 0, 0, 1, minutes, 0, 0 FROM programme_meeting_site
  UNION ALL SELECT org_id, day, 0, 0, 0, 0, 1, 0 FROM programme_visit
  UNION ALL SELECT org_id, day, 0, 0, 0, 0, 0, 1 FROM programme_prescription`;

export const AGGREGATE_CHECKS: Pair[] = [
  {
    name: 'programme_duration_month',
    kept: `SELECT province_code, ${MONTH('month')} AS month, urgency, metric, bucket, n FROM programme_duration_month WHERE n <> 0 ORDER BY 1, 2, 3, 4, 5`,
    recomputed: `SELECT pc AS province_code, ${MONTH('o.agg_month')} AS month, coalesce(o.urgency, 'routine') AS urgency, m.metric,
                        programme_bucket(programme_minutes(o.requested_at, m.at)) AS bucket, count(*)::int AS n
                   FROM programme_consult o
                        CROSS JOIN LATERAL (VALUES ('triage', o.triaged_at), ('assignment', o.assigned_at), ('conclusion', o.concluded_at)) AS m(metric, at)
                        CROSS JOIN LATERAL (VALUES (o.agg_province), (-1)) AS x(pc)
                  WHERE o.agg_month IS NOT NULL AND o.agg_province IS NOT NULL AND o.requested_at IS NOT NULL AND m.at IS NOT NULL
                  GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`,
  },
  {
    name: 'programme_activity_month',
    kept: `SELECT org_id, ${MONTH('month')} AS month, sent, received, meeting_sites, meeting_minutes, visits, prescriptions, ${DAY('last_day')} AS last_day
             FROM programme_activity_month WHERE sent + received + meeting_sites + meeting_minutes + visits + prescriptions <> 0 ORDER BY 1, 2`,
    recomputed: `SELECT org_id, ${MONTH("date_trunc('month', day)")} AS month, sum(sent)::int AS sent, sum(received)::int AS received,
                        sum(sites)::int AS meeting_sites, sum(minutes)::int AS meeting_minutes, sum(visits)::int AS visits, sum(rx)::int AS prescriptions,
                        ${DAY('max(day) FILTER (WHERE sent + received + sites + visits > 0)')} AS last_day
                   FROM (${SOURCES}) s GROUP BY 1, 2 ORDER BY 1, 2`,
  },
  {
    name: 'programme_place_month',
    kept: `SELECT province_code, ${MONTH('month')} AS month, sent, received, meeting_sites, meeting_minutes, visits, prescriptions
             FROM programme_place_month WHERE sent + received + meeting_sites + meeting_minutes + visits + prescriptions <> 0 ORDER BY 1, 2`,
    recomputed: `SELECT x.pc AS province_code, ${MONTH("date_trunc('month', s.day)")} AS month, sum(sent)::int AS sent, sum(received)::int AS received,
                        sum(sites)::int AS meeting_sites, sum(minutes)::int AS meeting_minutes, sum(visits)::int AS visits, sum(rx)::int AS prescriptions
                   FROM (${SOURCES}) s LEFT JOIN programme_facility f ON f.org_id = s.org_id
                        CROSS JOIN LATERAL (SELECT coalesce(f.province_code, 0) UNION ALL SELECT -1 WHERE f.org_id IS NOT NULL) AS x(pc)
                  GROUP BY 1, 2 ORDER BY 1, 2`,
  },
  {
    name: 'programme_meeting_place',
    kept: `SELECT province_code, meeting_id, ${DAY('day')} AS day FROM programme_meeting_place ORDER BY 1, 2`,
    recomputed: `SELECT x.pc AS province_code, s.meeting_id, ${DAY('min(s.day)')} AS day
                   FROM programme_meeting_site s LEFT JOIN programme_facility f ON f.org_id = s.org_id
                        CROSS JOIN LATERAL (SELECT coalesce(f.province_code, 0) UNION ALL SELECT -1 WHERE f.org_id IS NOT NULL) AS x(pc)
                  GROUP BY 1, 2 ORDER BY 1, 2`,
  },
  {
    name: 'programme_visit_month',
    kept: `SELECT province_code, ${MONTH('month')} AS month, condition, n FROM programme_visit_month WHERE n <> 0 ORDER BY 1, 2, 3`,
    recomputed: `SELECT x.pc AS province_code, ${MONTH("date_trunc('month', v.day)")} AS month, v.condition, count(*)::int AS n
                   FROM programme_visit v LEFT JOIN programme_facility f ON f.org_id = v.org_id
                        CROSS JOIN LATERAL (SELECT coalesce(f.province_code, 0) UNION ALL SELECT -1 WHERE f.org_id IS NOT NULL) AS x(pc)
                  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  },
];

export interface AggregateCheck {
  name: string;
  rows: number;
  differing: number;
  keptMs: number;
  recomputedMs: number;
}

/** Reads every kept aggregate and its recomputation; counts rows present on one side only. */
export async function checkAggregates(db: Queryable): Promise<AggregateCheck[]> {
  const out: AggregateCheck[] = [];
  for (const c of AGGREGATE_CHECKS) {
    let t = performance.now();
    const kept = (await db.query(c.kept)).rows.map((r) => JSON.stringify(r));
    const keptMs = performance.now() - t;
    t = performance.now();
    const fresh = (await db.query(c.recomputed)).rows.map((r) => JSON.stringify(r));
    const recomputedMs = performance.now() - t;
    const a = new Set(kept);
    const b = new Set(fresh);
    const differing = kept.filter((x) => !b.has(x)).length + fresh.filter((x) => !a.has(x)).length;
    out.push({ name: c.name, rows: kept.length, differing, keptMs, recomputedMs });
  }
  return out;
}
