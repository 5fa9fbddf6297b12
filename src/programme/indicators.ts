/**
 * The programme's indicators, computed from the derived tables (listeners.ts) for one scope and
 * period — one function, so the screen, the CSV, the XLSX, the PDF and the FHIR MeasureReport all
 * show the same numbers. Definitions: docs/indicators.md.
 *
 * Rules: aggregates only — no patient, case or encounter identifier leaves this file; a count of
 * cases, meetings, examinations or prescriptions from 1 to 4 is suppressed (null), and so are the
 * durations computed from fewer than 5 cases. Facility counts (coverage, silent sites) are about
 * facilities, not people, and are shown as they are.
 */
import type { DomainSql } from '../db/domain-sql.ts';
import { hiddenParts, SMALL_CELL } from '../platform/small-cells.ts';
import { vietnamDay } from '../platform/vietnam-time.ts';
import { province, provinces } from './places.ts';
import type { Scope } from './scope.ts';
import { deviceIndicators } from './device-indicators.ts';
import type { Cell, DurationStats, FacilityRow, IndicatorQuery, IndicatorReport, ProvinceRow, SilentSite } from './contract.ts';

export { SMALL_CELL };
export const suppress = (n: number): Cell => (n > 0 && n < SMALL_CELL ? null : n);

/** A breakdown shown beside its total, with secondary suppression (src/platform/small-cells.ts). */
export function protect(parts: number[]): Cell[] {
  const hidden = hiddenParts(parts);
  return parts.map((n, i) => (hidden[i] ? null : n));
}

/** Target minutes per urgency (docs/indicators.md). */
export const TARGETS: Record<string, Record<DurationStats['metric'], number>> = {
  emergency: { triage: 15, assignment: 60, conclusion: 24 * 60 },
  urgent: { triage: 120, assignment: 8 * 60, conclusion: 72 * 60 },
  routine: { triage: 24 * 60, assignment: 72 * 60, conclusion: 7 * 24 * 60 },
};
const METRIC_COLUMN: Record<DurationStats['metric'], string> = { triage: 'triaged_at', assignment: 'assigned_at', conclusion: 'concluded_at' };

/** The period and place an evaluation covers, resolved against the actor's scope. */
export interface Resolved {
  from: string; // first month, YYYY-MM
  to: string; // last month, YYYY-MM
  asOf: string; // YYYY-MM-DD
  province?: number;
  facility?: string;
  level?: string;
  specialty?: string;
}

export function resolve(q: IndicatorQuery, scope: Scope, today = new Date()): Resolved {
  const asOf = q.asOf ?? vietnamDay(today);
  const to = q.to ?? asOf.slice(0, 7);
  const [y, m] = to.split('-').map(Number);
  const back = new Date(Date.UTC(y, m - 12, 1)).toISOString().slice(0, 7);
  const r: Resolved = { from: q.from ?? back, to, asOf, level: q.level, specialty: q.specialty };
  if (scope.kind === 'national') Object.assign(r, { province: q.province, facility: q.facility });
  if (scope.kind === 'province') Object.assign(r, { province: scope.provinceCode, facility: q.facility });
  if (scope.kind === 'facility') Object.assign(r, { province: scope.provinceCode, facility: scope.facilityId });
  return r;
}

export const firstDay = (month: string) => `${month}-01`;
/** The day after the last month (exclusive upper bound). */
export function endExclusive(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
}
export function monthsOf(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.split('-').map(Number);
  for (let i = 0; i < 240; i++) {
    const s = `${y}-${String(m).padStart(2, '0')}`;
    if (s > to) break;
    out.push(s);
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
  return out;
}

export class Args {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    return `$${this.values.push(v)}`;
  }
}

/** Conditions on a programme_facility alias for the place filters. */
export function placeWhere(r: Resolved, a: Args, f = 'f'): string {
  const w = ['TRUE'];
  if (r.province !== undefined) w.push(`${f}.province_code = ${a.add(r.province)}`);
  if (r.facility) w.push(`${f}.org_id = ${a.add(r.facility)}`);
  if (r.level) w.push(`${f}.level = ${a.add(r.level)}`);
  return w.join(' AND ');
}

type Counts = { requested: number; accepted: number; concluded: number };
type Outcomes = { followed_up: number; improved: number; stable: number; transferred: number; died: number; local_advised: number; transfers_avoided: number };
const cells = (c: Counts) => ({ requested: suppress(c.requested), accepted: suppress(c.accepted), concluded: suppress(c.concluded) });
/** The consult counts of a breakdown, each metric protected across the rows (`protect`). */
function breakdown<T extends object>(rows: (T & { c: Counts })[]): (T & { requested: Cell; accepted: Cell; concluded: Cell })[] {
  const req = protect(rows.map((x) => x.c.requested));
  const acc = protect(rows.map((x) => x.c.accepted));
  const con = protect(rows.map((x) => x.c.concluded));
  return rows.map(({ c: _c, ...rest }, i) => ({ ...(rest as unknown as T), requested: req[i], accepted: acc[i], concluded: con[i] }));
}
const OUTCOME_COLUMNS = ['followed_up', 'improved', 'stable', 'transferred', 'died', 'local_advised', 'transfers_avoided'] as const;

/** Outcomes of the cases requested in the period (same filing and filters as the consult counts). */
async function outcomes(sql: DomainSql, r: Resolved): Promise<IndicatorReport['outcomes']> {
  const a = new Args();
  let q: string;
  if (r.facility) {
    const w = [`requesting_org = ${a.add(r.facility)}`, `requested_day >= ${a.add(firstDay(r.from))}`, `requested_day < ${a.add(endExclusive(r.to))}`];
    if (r.specialty) w.push(`specialty = ${a.add(r.specialty)}`);
    q = `SELECT count(outcome)::int AS followed_up, count(*) FILTER (WHERE outcome = 'improved')::int AS improved,
                count(*) FILTER (WHERE outcome = 'stable')::int AS stable, count(*) FILTER (WHERE outcome = 'transferred')::int AS transferred,
                count(*) FILTER (WHERE outcome = 'died')::int AS died, count(*) FILTER (WHERE transfer_advised = false)::int AS local_advised,
                count(*) FILTER (WHERE transfer_advised = false AND outcome IS NOT NULL AND outcome NOT IN ('transferred', 'unknown'))::int AS transfers_avoided
           FROM programme_consult WHERE ${w.join(' AND ')}`;
  } else {
    const w = [`month >= ${a.add(firstDay(r.from))}`, `month < ${a.add(endExclusive(r.to))}`];
    if (r.province !== undefined) w.push(`province_code = ${a.add(r.province)}`);
    if (r.level) w.push(`level = ${a.add(r.level)}`);
    if (r.specialty) w.push(`specialty = ${a.add(r.specialty)}`);
    q = `SELECT ${OUTCOME_COLUMNS.map((c) => `coalesce(sum(${c}), 0)::int AS ${c}`).join(', ')} FROM programme_consult_month WHERE ${w.join(' AND ')}`;
  }
  const x = (await sql.query<Outcomes>(q, a.values)).rows[0];
  return {
    followedUp: suppress(x?.followed_up ?? 0),
    improved: suppress(x?.improved ?? 0),
    stable: suppress(x?.stable ?? 0),
    transferred: suppress(x?.transferred ?? 0),
    died: suppress(x?.died ?? 0),
    localTreatmentAdvised: suppress(x?.local_advised ?? 0),
    transfersAvoided: suppress(x?.transfers_avoided ?? 0),
  };
}

/**
 * Consult counts grouped by `by` (month, specialty, level, province or nothing): from the monthly
 * aggregate, or — with a facility filter, which the aggregate does not carry — from the per-case rows.
 */
async function consultCounts(sql: DomainSql, r: Resolved, by: 'month' | 'specialty' | 'level' | 'province' | 'none'): Promise<Map<string, Counts>> {
  const a = new Args();
  let q: string;
  if (r.facility) {
    const key = { month: "to_char(requested_day, 'YYYY-MM')", specialty: 'specialty', level: 'agg_level', province: 'agg_province::text', none: "''" }[by];
    const w = [`requesting_org = ${a.add(r.facility)}`, `requested_day >= ${a.add(firstDay(r.from))}`, `requested_day < ${a.add(endExclusive(r.to))}`];
    if (r.specialty) w.push(`specialty = ${a.add(r.specialty)}`);
    q = `SELECT ${key} AS k, count(*)::int AS requested, count(*) FILTER (WHERE accepted)::int AS accepted, count(concluded_at)::int AS concluded
           FROM programme_consult WHERE ${w.join(' AND ')} GROUP BY 1`;
  } else {
    const key = { month: "to_char(month, 'YYYY-MM')", specialty: 'specialty', level: 'level', province: 'province_code::text', none: "''" }[by];
    const w = [`month >= ${a.add(firstDay(r.from))}`, `month < ${a.add(endExclusive(r.to))}`];
    if (r.province !== undefined) w.push(`province_code = ${a.add(r.province)}`);
    if (r.level) w.push(`level = ${a.add(r.level)}`);
    if (r.specialty) w.push(`specialty = ${a.add(r.specialty)}`);
    q = `SELECT ${key} AS k, sum(requested)::int AS requested, sum(accepted)::int AS accepted, sum(concluded)::int AS concluded
           FROM programme_consult_month WHERE ${w.join(' AND ')} GROUP BY 1`;
  }
  const res = await sql.query<{ k: string } & Counts>(q, a.values);
  return new Map(res.rows.map((x) => [x.k, { requested: x.requested ?? 0, accepted: x.accepted ?? 0, concluded: x.concluded ?? 0 }]));
}

/** Durations as (metric, urgency, bucket, n): from the kept histogram, or — with a facility, level or specialty filter, which it does not carry — bucketed the same way from the per-case rows. */
async function durationBuckets(sql: DomainSql, r: Resolved): Promise<{ metric: DurationStats['metric']; urgency: string; bucket: number; n: number }[]> {
  const a = new Args();
  if (!r.facility && !r.level && !r.specialty) {
    const res = await sql.query<{ metric: DurationStats['metric']; urgency: string; bucket: number; n: number }>(
      `SELECT metric, urgency, bucket, sum(n)::int AS n FROM programme_duration_month
        WHERE province_code = ${a.add(r.province ?? -1)} AND month >= ${a.add(firstDay(r.from))} AND month < ${a.add(endExclusive(r.to))}
        GROUP BY 1, 2, 3 HAVING sum(n) > 0 ORDER BY 3`,
      a.values,
    );
    return res.rows;
  }
  const w = [`requested_day >= ${a.add(firstDay(r.from))}`, `requested_day < ${a.add(endExclusive(r.to))}`];
  if (r.facility) w.push(`requesting_org = ${a.add(r.facility)}`);
  else if (r.province !== undefined) w.push(`agg_province = ${a.add(r.province)}`);
  if (r.level) w.push(`agg_level = ${a.add(r.level)}`);
  if (r.specialty) w.push(`specialty = ${a.add(r.specialty)}`);
  const parts = (Object.keys(METRIC_COLUMN) as DurationStats['metric'][]).map(
    (metric) =>
      `SELECT '${metric}' AS metric, coalesce(urgency, 'routine') AS urgency, programme_bucket(programme_minutes(requested_at, ${METRIC_COLUMN[metric]})) AS bucket, count(*)::int AS n
         FROM programme_consult WHERE ${w.join(' AND ')} AND ${METRIC_COLUMN[metric]} IS NOT NULL GROUP BY 2, 3`,
  );
  const res = await sql.query<{ metric: DurationStats['metric']; urgency: string; bucket: number; n: number }>(
    `${parts.join(' UNION ALL ')} ORDER BY 3`,
    a.values,
  );
  return res.rows;
}

/** The smallest bucket whose cumulative share reaches p (percentile_disc over the bucketed durations). */
function percentileOf(sorted: { bucket: number; n: number }[], total: number, p: number): number {
  let seen = 0;
  for (const x of sorted) {
    seen += x.n;
    if (seen >= p * total) return x.bucket;
  }
  return sorted[sorted.length - 1]?.bucket ?? 0;
}

async function durations(sql: DomainSql, r: Resolved): Promise<DurationStats[]> {
  const rows = await durationBuckets(sql, r);
  const out: DurationStats[] = [];
  for (const urgency of ['emergency', 'urgent', 'routine'])
    for (const metric of ['triage', 'assignment', 'conclusion'] as const) {
      const hist = rows.filter((y) => y.urgency === urgency && y.metric === metric);
      const n = hist.reduce((s, y) => s + y.n, 0);
      const within = hist.reduce((s, y) => s + (y.bucket <= TARGETS[urgency][metric] ? y.n : 0), 0);
      const shown = n >= SMALL_CELL;
      out.push({
        urgency,
        metric,
        n: suppress(n),
        medianMinutes: shown ? percentileOf(hist, n, 0.5) : null,
        p90Minutes: shown ? percentileOf(hist, n, 0.9) : null,
        targetMinutes: TARGETS[urgency][metric],
        withinTarget: shown ? suppress(within) : null,
        shareWithinTarget: shown ? within / n : null,
      });
    }
  return out;
}

const minusDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
const monthOf = (day: string) => `${day.slice(0, 7)}-01`;

/**
 * The last day of activity (a consult sent or received, a meeting joined, an examination held) on
 * or before asOf, per facility, from the kept per-month last days. A month after asOf's start can
 * hold activity later than asOf (an evaluation "as of" a past day): those facilities are counted
 * again from the source rows for asOf's month, so the answer stays exact.
 */
async function lastActivity(sql: DomainSql, orgs: string[], since: string, asOf: string): Promise<Map<string, string>> {
  const a = new Args();
  const which = `a.org_id = ANY(${a.add(orgs)}::text[])`;
  const e = a.add(asOf);
  const res = await sql.query<{ org_id: string; last: string | null; unsure: boolean }>(
    `SELECT a.org_id, to_char(max(a.last_day) FILTER (WHERE a.last_day <= ${e}::date), 'YYYY-MM-DD') AS last, bool_or(a.last_day > ${e}::date) AS unsure
       FROM programme_activity_month a
      WHERE ${which} AND a.month >= ${a.add(monthOf(since))}::date AND a.month <= ${e}::date AND a.last_day IS NOT NULL
      GROUP BY a.org_id`,
    a.values,
  );
  const out = new Map<string, string>();
  const unsure: string[] = [];
  for (const x of res.rows) {
    if (x.last) out.set(x.org_id, x.last);
    if (x.unsure) unsure.push(x.org_id);
  }
  if (unsure.length) {
    const b = new Args();
    const ids = b.add(unsure);
    const s = b.add(monthOf(asOf));
    const t = b.add(asOf);
    const raw = await sql.query<{ org_id: string; last: string | null }>(
      `SELECT id AS org_id, to_char(greatest(
          (SELECT max(requested_day) FROM programme_consult WHERE requesting_org = id AND requested_day >= ${s}::date AND requested_day <= ${t}::date),
          (SELECT max(requested_day) FROM programme_consult WHERE receiving_org = id AND requested_day >= ${s}::date AND requested_day <= ${t}::date),
          (SELECT max(day) FROM programme_meeting_site WHERE org_id = id AND day >= ${s}::date AND day <= ${t}::date),
          (SELECT max(day) FROM programme_visit WHERE org_id = id AND day >= ${s}::date AND day <= ${t}::date)), 'YYYY-MM-DD') AS last
         FROM unnest(${ids}::text[]) AS id`,
      b.values,
    );
    for (const x of raw.rows) if (x.last && x.last > (out.get(x.org_id) ?? '')) out.set(x.org_id, x.last);
  }
  // Activity before `since` does not count (the window is [since, asOf]).
  for (const [k, v] of out) if (v < since) out.delete(k);
  return out;
}

async function silentSites(sql: DomainSql, r: Resolved, limit = 200): Promise<{ list: SilentSite[]; perProvince: Map<number, number> }> {
  // Approved units with no activity in the last 30 days by the kept per-month last days (only those
  // leave the database), and those whose last month may hold later activity than asOf (recounted).
  const a = new Args();
  const place = placeWhere(r, a);
  const e = a.add(r.asOf);
  const since90 = minusDays(r.asOf, 89);
  const since30 = minusDays(r.asOf, 29);
  const m90 = a.add(monthOf(since90));
  // A province or a facility: each facility's few months by the primary key (org_id, month); the
  // country: one pass over the months' rows (per-facility lookups for ~8,000 units cost more).
  const narrow = r.province !== undefined || !!r.facility;
  const candidates = await sql.query<{
    org_id: string;
    code: string;
    name: string;
    level: string;
    province_code: number;
    last: string | null;
    unsure: boolean;
  }>(
    `SELECT f.org_id, f.code, f.name, f.level, f.province_code, to_char(la.last, 'YYYY-MM-DD') AS last, coalesce(la.unsure, false) AS unsure
       FROM programme_facility f
       ${
         narrow
           ? `LEFT JOIN LATERAL (SELECT max(x.last_day) FILTER (WHERE x.last_day <= ${e}::date) AS last, bool_or(x.last_day > ${e}::date) AS unsure
                    FROM programme_activity_month x
                   WHERE x.org_id = f.org_id AND x.month >= ${m90}::date AND x.month <= ${e}::date AND x.last_day IS NOT NULL) la ON true`
           : `LEFT JOIN (SELECT x.org_id, max(x.last_day) FILTER (WHERE x.last_day <= ${e}::date) AS last, bool_or(x.last_day > ${e}::date) AS unsure
                    FROM programme_activity_month x
                   WHERE x.month >= ${m90}::date AND x.month <= ${e}::date AND x.last_day IS NOT NULL
                   GROUP BY x.org_id) la ON la.org_id = f.org_id`
       }
      WHERE ${place} AND f.unit_status = 'approved'
        AND (la.last IS NULL OR la.last < ${a.add(since30)}::date OR la.unsure)`,
    a.values,
  );
  const unsure = candidates.rows.filter((x) => x.unsure).map((x) => x.org_id);
  const exact = unsure.length ? await lastActivity(sql, unsure, since90, r.asOf) : new Map<string, string>();
  const rows = candidates.rows
    .map((x) => {
      const last = x.unsure ? exact.get(x.org_id) : x.last && x.last >= since90 ? x.last : undefined;
      return { ...x, last, silent90: !last };
    })
    .filter((x) => x.silent90 || x.last! < since30);
  const perProvince = new Map<number, number>();
  for (const x of rows) if (x.silent90) perProvince.set(x.province_code, (perProvince.get(x.province_code) ?? 0) + 1);
  const listed = rows.sort((x, y) => Number(y.silent90) - Number(x.silent90) || x.name.localeCompare(y.name)).slice(0, limit);
  // Last activity ever (before asOf) for the listed sites only.
  const ever = listed.length
    ? await lastActivity(
        sql,
        listed.map((x) => x.org_id),
        '0001-01-01',
        r.asOf,
      )
    : new Map<string, string>();
  const list = listed
    .map((x) => {
      const l = ever.get(x.org_id) ?? null;
      return {
        id: x.org_id,
        code: x.code,
        name: x.name,
        provinceName: province(x.province_code)?.name ?? String(x.province_code),
        level: x.level,
        lastActivity: l,
        daysSilent: l ? Math.round((Date.parse(r.asOf) - Date.parse(l)) / 86_400_000) : null,
        window: (x.silent90 ? 90 : 30) as 30 | 90,
      };
    })
    .sort((x, y) => (y.daysSilent ?? 1e9) - (x.daysSilent ?? 1e9) || x.name.localeCompare(y.name));
  return { list, perProvince };
}

async function coverage(sql: DomainSql, r: Resolved): Promise<IndicatorReport['coverage']> {
  const a = new Args();
  const place = placeWhere(r, a);
  const now = await sql.query<{ pub: number; approved: number }>(
    `SELECT count(*) FILTER (WHERE owner = 'public')::int AS pub, count(*) FILTER (WHERE owner = 'public' AND unit_status = 'approved')::int AS approved
       FROM programme_facility f WHERE ${place}`,
    a.values,
  );
  const b = new Args();
  const place2 = placeWhere(r, b);
  const months = monthsOf(r.from, r.to);
  // One pass over the declaration events: an approval holds from its month until the month of the
  // facility's next event; +1 and -1 at those months, summed in order, give each month's count.
  const steps = await sql.query<{ month: string; d: number }>(
    `WITH ev AS (
       SELECT d.status, d.at, lead(d.at) OVER (PARTITION BY d.org_id ORDER BY d.at, d.id) AS next_at
         FROM programme_declaration_event d JOIN programme_facility f ON f.org_id = d.org_id
        WHERE ${place2} AND f.owner = 'public')
     SELECT month, sum(d)::int AS d FROM (
       SELECT to_char(vietnam_day(at), 'YYYY-MM') AS month, 1 AS d FROM ev WHERE status = 'approved'
       UNION ALL SELECT to_char(vietnam_day(next_at), 'YYYY-MM'), -1 FROM ev WHERE status = 'approved' AND next_at IS NOT NULL) x
      GROUP BY month ORDER BY month`,
    b.values,
  );
  const trend = { rows: [] as { month: string; approved: number }[] };
  let running = 0;
  let i = 0;
  for (const month of months) {
    while (i < steps.rows.length && steps.rows[i].month <= month) running += steps.rows[i++].d;
    trend.rows.push({ month, approved: running });
  }
  const byMonth = new Map(trend.rows.map((x) => [x.month, x.approved]));
  const pub = now.rows[0]?.pub ?? 0;
  const approved = now.rows[0]?.approved ?? 0;
  return {
    publicFacilities: pub,
    approvedUnits: approved,
    share: pub ? approved / pub : null,
    goal2030: 1,
    trend: months.map((month) => {
      const n = byMonth.get(month) ?? 0;
      return { month, approvedUnits: n, share: pub ? n / pub : null };
    }),
  };
}

/** The kept per-place counts answer a view with no facility or level filter (the country, or one province). */
const byPlace = (r: Resolved) => !r.facility && !r.level;

async function activity(sql: DomainSql, r: Resolved) {
  const a = new Args();
  const place = placeWhere(r, a);
  const s = a.add(firstDay(r.from));
  const e = a.add(endExclusive(r.to));
  let sites: { held: number; sites: number; minutes: number; prescriptions: number };
  if (byPlace(r)) {
    const b = new Args();
    const pm = await sql.query<{ sites: number; minutes: number; prescriptions: number }>(
      `SELECT coalesce(sum(meeting_sites), 0)::int AS sites, coalesce(sum(meeting_minutes), 0)::int AS minutes, coalesce(sum(prescriptions), 0)::int AS prescriptions
         FROM programme_place_month WHERE province_code = ${b.add(r.province ?? -1)} AND month >= ${b.add(firstDay(r.from))} AND month < ${b.add(endExclusive(r.to))}`,
      b.values,
    );
    const held = await sql.query<{ held: number }>(
      `SELECT count(*)::int AS held FROM programme_meeting_place WHERE province_code = $1 AND day >= $2 AND day < $3`,
      [r.province ?? -1, firstDay(r.from), endExclusive(r.to)],
    );
    sites = { held: held.rows[0]?.held ?? 0, ...(pm.rows[0] ?? { sites: 0, minutes: 0, prescriptions: 0 }) };
  } else {
    // A meeting is held in the view on the first day a site in the view joined (as programme_meeting_place keeps it).
    const m = await sql.query<{ held: number; sites: number; minutes: number }>(
      `SELECT count(DISTINCT s.meeting_id) FILTER (WHERE first.day >= ${s} AND first.day < ${e})::int AS held,
              count(*) FILTER (WHERE s.day >= ${s} AND s.day < ${e})::int AS sites,
              coalesce(sum(s.minutes) FILTER (WHERE s.day >= ${s} AND s.day < ${e}), 0)::int AS minutes
         FROM programme_meeting_site s JOIN programme_facility f ON f.org_id = s.org_id
         JOIN (SELECT s2.meeting_id, min(s2.day) AS day FROM programme_meeting_site s2 JOIN programme_facility f ON f.org_id = s2.org_id
                WHERE ${place} GROUP BY 1) first ON first.meeting_id = s.meeting_id
        WHERE ${place}`,
      a.values,
    );
    const p = await sql.query<{ n: number }>(
      `SELECT coalesce(sum(x.prescriptions), 0)::int AS n FROM programme_activity_month x JOIN programme_facility f ON f.org_id = x.org_id
        WHERE ${place} AND x.month >= ${s} AND x.month < ${e}`,
      a.values,
    );
    sites = { ...(m.rows[0] ?? { held: 0, sites: 0, minutes: 0 }), prescriptions: p.rows[0]?.n ?? 0 };
  }
  const v = byPlace(r)
    ? await sql.query<{ condition: string; n: number }>(
        `SELECT condition, sum(n)::int AS n FROM programme_visit_month WHERE province_code = $1 AND month >= $2 AND month < $3
          GROUP BY condition HAVING sum(n) > 0 ORDER BY sum(n) DESC, condition`,
        [r.province ?? -1, firstDay(r.from), endExclusive(r.to)],
      )
    : await sql.query<{ condition: string; n: number }>(
        `SELECT v.condition, count(*)::int AS n FROM programme_visit v JOIN programme_facility f ON f.org_id = v.org_id
            WHERE ${place} AND v.day >= ${s} AND v.day < ${e} GROUP BY v.condition ORDER BY count(*) DESC, v.condition`,
        a.values,
      );
  return {
    meetings: {
      held: suppress(sites.held),
      sitesJoined: suppress(sites.sites),
      hours: sites.held >= SMALL_CELL || sites.held === 0 ? Math.round((sites.minutes / 60) * 10) / 10 : null,
    },
    visitsByCondition: v.rows.map((y) => ({ condition: y.condition || 'không ghi', visits: suppress(y.n) })),
    prescriptions: suppress(sites.prescriptions),
  };
}

async function provinceTable(sql: DomainSql, r: Resolved, silent: Map<number, number>): Promise<ProvinceRow[]> {
  const a = new Args();
  const place = placeWhere({ ...r, facility: undefined }, a);
  const s = a.add(firstDay(r.from));
  const e = a.add(endExclusive(r.to));
  const counts = byPlace(r)
    ? `LEFT JOIN (SELECT province_code, sum(meeting_sites) AS meetings, sum(visits) AS visits FROM programme_place_month
                   WHERE month >= ${s} AND month < ${e} GROUP BY 1) pm ON pm.province_code = fc.p`
    : `LEFT JOIN (SELECT f.province_code, sum(x.meeting_sites) AS meetings, sum(x.visits) AS visits
                    FROM programme_activity_month x JOIN programme_facility f ON f.org_id = x.org_id
                   WHERE ${place} AND x.month >= ${s} AND x.month < ${e} GROUP BY 1) pm ON pm.province_code = fc.p`;
  const fac = await sql.query<{ p: number; n: number; pub: number; approved: number; meetings: number; visits: number }>(
    `SELECT fc.p, fc.n, fc.pub, fc.approved, coalesce(pm.meetings, 0)::int AS meetings, coalesce(pm.visits, 0)::int AS visits
       FROM (SELECT f.province_code AS p, count(*)::int AS n, count(*) FILTER (WHERE f.owner = 'public')::int AS pub,
                    count(*) FILTER (WHERE f.owner = 'public' AND f.unit_status = 'approved')::int AS approved
               FROM programme_facility f WHERE ${place} GROUP BY f.province_code) fc
       ${counts}`,
    a.values,
  );
  const consults = await consultCounts(sql, { ...r, facility: undefined }, 'province');
  const counted = breakdown(fac.rows.map((x) => ({ x, c: consults.get(String(x.p)) ?? { requested: 0, accepted: 0, concluded: 0 } })));
  const meetings = protect(fac.rows.map((x) => x.meetings));
  const visits = protect(fac.rows.map((x) => x.visits));
  return counted
    .map(({ x, ...c }, i) => {
      return {
        provinceCode: x.p,
        provinceName: province(x.p)?.name ?? String(x.p),
        facilities: x.n,
        publicFacilities: x.pub,
        approvedUnits: x.approved,
        coverage: x.pub ? x.approved / x.pub : null,
        ...c,
        meetingsJoined: meetings[i],
        visits: visits[i],
        silent90: silent.get(x.p) ?? 0,
      };
    })
    .sort((x, y) => x.provinceName.localeCompare(y.provinceName, 'vi'));
}

/** Facilities of one province (drill-down), or the one facility in scope: from the kept per-facility months. */
async function facilityTable(sql: DomainSql, r: Resolved): Promise<FacilityRow[]> {
  if (r.province === undefined && !r.facility) return [];
  const a = new Args();
  const place = placeWhere(r, a);
  const s = a.add(firstDay(r.from));
  const e = a.add(endExclusive(r.to));
  const res = await sql.query<{
    org_id: string;
    code: string;
    name: string;
    level: string;
    unit_status: string;
    sent: number;
    received: number;
    meetings: number;
    visits: number;
    last: string | null;
  }>(
    `SELECT f.org_id, f.code, f.name, f.level, f.unit_status, coalesce(x.sent, 0)::int AS sent, coalesce(x.received, 0)::int AS received,
            coalesce(x.meetings, 0)::int AS meetings, coalesce(x.visits, 0)::int AS visits, to_char(x.last, 'YYYY-MM-DD') AS last
       FROM programme_facility f
       LEFT JOIN LATERAL (
         -- each facility's months by the primary key (org_id, month), not a pass over every facility's
         SELECT sum(m.sent) FILTER (WHERE m.month >= ${s} AND m.month < ${e}) AS sent,
                sum(m.received) FILTER (WHERE m.month >= ${s} AND m.month < ${e}) AS received,
                sum(m.meeting_sites) FILTER (WHERE m.month >= ${s} AND m.month < ${e}) AS meetings,
                sum(m.visits) FILTER (WHERE m.month >= ${s} AND m.month < ${e}) AS visits,
                max(m.last_day) AS last
           FROM programme_activity_month m WHERE m.org_id = f.org_id) x ON true
      WHERE ${place} ORDER BY f.name LIMIT 1000`,
    a.values,
  );
  // The facilities of a province add up to its row in the province table: protected as a breakdown.
  const col = (k: 'sent' | 'received' | 'meetings' | 'visits') => protect(res.rows.map((x) => x[k]));
  const [sent, received, meetings, visits] = [col('sent'), col('received'), col('meetings'), col('visits')];
  return res.rows.map((x, i) => ({
    id: x.org_id,
    code: x.code,
    name: x.name,
    level: x.level,
    unitStatus: x.unit_status,
    requested: sent[i],
    received: received[i],
    meetingsJoined: meetings[i],
    visits: visits[i],
    lastActivity: x.last,
  }));
}

/** Every indicator for one scope and period. */
export async function evaluate(sql: DomainSql, r: Resolved, scope: { kind: Scope['kind']; label: string }): Promise<IndicatorReport> {
  const [total, byMonth, bySpecialty, byLevel] = [
    await consultCounts(sql, r, 'none'),
    await consultCounts(sql, r, 'month'),
    await consultCounts(sql, r, 'specialty'),
    await consultCounts(sql, r, 'level'),
  ];
  const silent = await silentSites(sql, r);
  const act = await activity(sql, r);
  const zero = { requested: 0, accepted: 0, concluded: 0 };
  return {
    scope: {
      kind: scope.kind,
      label: scope.label,
      ...(r.province !== undefined ? { provinceCode: r.province } : {}),
      ...(r.facility ? { facilityId: r.facility } : {}),
    },
    period: { from: r.from, to: r.to, asOf: r.asOf },
    consults: cells(total.get('') ?? zero),
    consultsByMonth: breakdown(monthsOf(r.from, r.to).map((month) => ({ month, c: byMonth.get(month) ?? zero }))),
    consultsBySpecialty: breakdown([...bySpecialty].map(([specialty, c]) => ({ specialty, c }))).sort((x, y) => (y.requested ?? 0) - (x.requested ?? 0)),
    consultsByLevel: breakdown([...byLevel].map(([level, c]) => ({ level, c }))),
    durations: await durations(sql, r),
    outcomes: await outcomes(sql, r),
    ...act,
    coverage: await coverage(sql, r),
    provinces: r.facility ? [] : await provinceTable(sql, r, silent.perProvince),
    facilities: await facilityTable(sql, r),
    silent: silent.list,
    devices: await deviceIndicators(sql, r),
  };
}

export const allProvinces = () => provinces().map((p) => ({ code: p.code, name: p.name }));
