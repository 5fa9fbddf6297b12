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
import { province, provinces } from './places.ts';
import type { Scope } from './scope.ts';
import type { Cell, DurationStats, FacilityRow, IndicatorQuery, IndicatorReport, ProvinceRow, SilentSite } from './contract.ts';

export const SMALL_CELL = 5;
export const suppress = (n: number): Cell => (n > 0 && n < SMALL_CELL ? null : n);

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
  const asOf = q.asOf ?? today.toISOString().slice(0, 10);
  const to = q.to ?? asOf.slice(0, 7);
  const [y, m] = to.split('-').map(Number);
  const back = new Date(Date.UTC(y, m - 12, 1)).toISOString().slice(0, 7);
  const r: Resolved = { from: q.from ?? back, to, asOf, level: q.level, specialty: q.specialty };
  if (scope.kind === 'national') Object.assign(r, { province: q.province, facility: q.facility });
  if (scope.kind === 'province') Object.assign(r, { province: scope.provinceCode, facility: q.facility });
  if (scope.kind === 'facility') Object.assign(r, { province: scope.provinceCode, facility: scope.facilityId });
  return r;
}

const firstDay = (month: string) => `${month}-01`;
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

class Args {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    return `$${this.values.push(v)}`;
  }
}

/** Conditions on a programme_facility alias for the place filters. */
function placeWhere(r: Resolved, a: Args, f = 'f'): string {
  const w = ['TRUE'];
  if (r.province !== undefined) w.push(`${f}.province_code = ${a.add(r.province)}`);
  if (r.facility) w.push(`${f}.org_id = ${a.add(r.facility)}`);
  if (r.level) w.push(`${f}.level = ${a.add(r.level)}`);
  return w.join(' AND ');
}

type Counts = { requested: number; accepted: number; concluded: number };
const cells = (c: Counts) => ({ requested: suppress(c.requested), accepted: suppress(c.accepted), concluded: suppress(c.concluded) });

/**
 * Consult counts grouped by `by` (month, specialty, level, province or nothing): from the monthly
 * aggregate, or — with a facility filter, which the aggregate does not carry — from the per-case rows.
 */
async function consultCounts(sql: DomainSql, r: Resolved, by: 'month' | 'specialty' | 'level' | 'province' | 'none'): Promise<Map<string, Counts>> {
  const a = new Args();
  let q: string;
  if (r.facility) {
    const key = { month: "to_char(requested_at, 'YYYY-MM')", specialty: 'specialty', level: 'agg_level', province: 'agg_province::text', none: "''" }[by];
    const w = [`requesting_org = ${a.add(r.facility)}`, `requested_at >= ${a.add(firstDay(r.from))}`, `requested_at < ${a.add(endExclusive(r.to))}`];
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

async function durations(sql: DomainSql, r: Resolved): Promise<DurationStats[]> {
  const a = new Args();
  const w = [`requested_at >= ${a.add(firstDay(r.from))}`, `requested_at < ${a.add(endExclusive(r.to))}`];
  if (r.facility) w.push(`requesting_org = ${a.add(r.facility)}`);
  else if (r.province !== undefined) w.push(`agg_province = ${a.add(r.province)}`);
  if (r.level) w.push(`agg_level = ${a.add(r.level)}`);
  if (r.specialty) w.push(`specialty = ${a.add(r.specialty)}`);
  const parts = (Object.keys(METRIC_COLUMN) as DurationStats['metric'][]).map((metric) => {
    const d = `floor(extract(epoch FROM (${METRIC_COLUMN[metric]} - requested_at)) / 60)`;
    const target = `(CASE urgency WHEN 'emergency' THEN ${TARGETS.emergency[metric]} WHEN 'urgent' THEN ${TARGETS.urgent[metric]} ELSE ${TARGETS.routine[metric]} END)`;
    return `SELECT '${metric}' AS metric, coalesce(urgency, 'routine') AS urgency, count(*)::int AS n,
              percentile_disc(0.5) WITHIN GROUP (ORDER BY ${d})::int AS median, percentile_disc(0.9) WITHIN GROUP (ORDER BY ${d})::int AS p90,
              count(*) FILTER (WHERE ${d} <= ${target})::int AS within
         FROM programme_consult WHERE ${w.join(' AND ')} AND ${METRIC_COLUMN[metric]} IS NOT NULL GROUP BY 2`;
  });
  const res = await sql.query<{ metric: DurationStats['metric']; urgency: string; n: number; median: number; p90: number; within: number }>(
    parts.join(' UNION ALL '),
    a.values,
  );
  const out: DurationStats[] = [];
  for (const urgency of ['emergency', 'urgent', 'routine'])
    for (const metric of ['triage', 'assignment', 'conclusion'] as const) {
      const x = res.rows.find((y) => y.urgency === urgency && y.metric === metric);
      const n = x?.n ?? 0;
      const shown = n >= SMALL_CELL;
      out.push({
        urgency,
        metric,
        n: suppress(n),
        medianMinutes: shown ? x!.median : null,
        p90Minutes: shown ? x!.p90 : null,
        targetMinutes: TARGETS[urgency][metric],
        withinTarget: shown ? suppress(x!.within) : null,
        shareWithinTarget: shown ? x!.within / n : null,
      });
    }
  return out;
}

/** The last day of activity (a consult sent or received, a meeting joined, an examination held) per facility in [since, asOf]. */
function lastActivitySql(a: Args, since: string, asOf: string): string {
  const s = a.add(since);
  const e = a.add(asOf);
  return `SELECT org_id, max(d) AS last FROM (
            SELECT requesting_org AS org_id, requested_at::date AS d FROM programme_consult WHERE requested_at >= ${s}::date AND requested_at < ${e}::date + 1
            UNION ALL SELECT receiving_org, requested_at::date FROM programme_consult WHERE requested_at >= ${s}::date AND requested_at < ${e}::date + 1
            UNION ALL SELECT org_id, day FROM programme_meeting_site WHERE day >= ${s}::date AND day <= ${e}::date
            UNION ALL SELECT org_id, day FROM programme_visit WHERE day >= ${s}::date AND day <= ${e}::date) x
          GROUP BY org_id`;
}

const minusDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);

async function silentSites(sql: DomainSql, r: Resolved, limit = 200): Promise<{ list: SilentSite[]; perProvince: Map<number, number> }> {
  const a = new Args();
  const place = placeWhere(r, a);
  const act = lastActivitySql(a, minusDays(r.asOf, 89), r.asOf);
  const since30 = a.add(minusDays(r.asOf, 29));
  const res = await sql.query<{ org_id: string; code: string; name: string; level: string; province_code: number; silent90: boolean }>(
    `SELECT f.org_id, f.code, f.name, f.level, f.province_code, act.last IS NULL AS silent90
       FROM programme_facility f LEFT JOIN (${act}) act ON act.org_id = f.org_id
      WHERE ${place} AND f.unit_status = 'approved' AND (act.last IS NULL OR act.last < ${since30}::date)`,
    a.values,
  );
  const rows = res.rows;
  const perProvince = new Map<number, number>();
  for (const x of rows) if (x.silent90) perProvince.set(x.province_code, (perProvince.get(x.province_code) ?? 0) + 1);
  // Last activity for the listed sites only (each an index probe per source).
  const listed = rows.sort((x, y) => Number(y.silent90) - Number(x.silent90) || x.name.localeCompare(y.name)).slice(0, limit);
  const last = new Map<string, string | null>();
  if (listed.length) {
    const b = new Args();
    const ids = b.add(listed.map((x) => x.org_id));
    const e = b.add(r.asOf);
    const lr = await sql.query<{ org_id: string; last: string | null }>(
      `SELECT id AS org_id, to_char(greatest(
          (SELECT max(requested_at)::date FROM programme_consult WHERE requesting_org = id AND requested_at < ${e}::date + 1),
          (SELECT max(requested_at)::date FROM programme_consult WHERE receiving_org = id AND requested_at < ${e}::date + 1),
          (SELECT max(day) FROM programme_meeting_site WHERE org_id = id AND day <= ${e}::date),
          (SELECT max(day) FROM programme_visit WHERE org_id = id AND day <= ${e}::date)), 'YYYY-MM-DD') AS last
         FROM unnest(${ids}::text[]) AS id`,
      b.values,
    );
    for (const x of lr.rows) last.set(x.org_id, x.last);
  }
  const list = listed
    .map((x) => {
      const l = last.get(x.org_id) ?? null;
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
  // One pass over the declaration events: each event's status holds until the facility's next event.
  const trend = await sql.query<{ month: string; approved: number }>(
    `WITH ev AS (
       SELECT d.status, d.at, lead(d.at) OVER (PARTITION BY d.org_id ORDER BY d.at, d.id) AS next_at
         FROM programme_declaration_event d JOIN programme_facility f ON f.org_id = d.org_id
        WHERE ${place2} AND f.owner = 'public')
     SELECT m.month, (count(*) FILTER (WHERE ev.status = 'approved' AND ev.at < (m.month || '-01')::date + interval '1 month'
                                        AND (ev.next_at IS NULL OR ev.next_at >= (m.month || '-01')::date + interval '1 month')))::int AS approved
       FROM unnest(${b.add(months)}::text[]) AS m(month) CROSS JOIN ev
      GROUP BY m.month ORDER BY m.month`,
    b.values,
  );
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

async function activity(sql: DomainSql, r: Resolved) {
  const a = new Args();
  const place = placeWhere(r, a);
  const s = a.add(firstDay(r.from));
  const e = a.add(endExclusive(r.to));
  const m = await sql.query<{ held: number; sites: number; minutes: number }>(
    `SELECT count(DISTINCT s.meeting_id)::int AS held, count(*)::int AS sites, coalesce(sum(s.minutes), 0)::int AS minutes
       FROM programme_meeting_site s JOIN programme_facility f ON f.org_id = s.org_id WHERE ${place} AND s.day >= ${s} AND s.day < ${e}`,
    a.values,
  );
  const v = await sql.query<{ condition: string; n: number }>(
    `SELECT v.condition, count(*)::int AS n FROM programme_visit v JOIN programme_facility f ON f.org_id = v.org_id
      WHERE ${place} AND v.day >= ${s} AND v.day < ${e} GROUP BY v.condition ORDER BY count(*) DESC, v.condition`,
    a.values,
  );
  const p = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM programme_prescription x JOIN programme_facility f ON f.org_id = x.org_id WHERE ${place} AND x.day >= ${s} AND x.day < ${e}`,
    a.values,
  );
  const x = m.rows[0] ?? { held: 0, sites: 0, minutes: 0 };
  return {
    meetings: {
      held: suppress(x.held),
      sitesJoined: suppress(x.sites),
      hours: x.held >= SMALL_CELL || x.held === 0 ? Math.round((x.minutes / 60) * 10) / 10 : null,
    },
    visitsByCondition: v.rows.map((y) => ({ condition: y.condition || 'không ghi', visits: suppress(y.n) })),
    prescriptions: suppress(p.rows[0]?.n ?? 0),
  };
}

async function provinceTable(sql: DomainSql, r: Resolved, silent: Map<number, number>): Promise<ProvinceRow[]> {
  const a = new Args();
  const place = placeWhere({ ...r, facility: undefined }, a);
  const s = a.add(firstDay(r.from));
  const e = a.add(endExclusive(r.to));
  const fac = await sql.query<{ p: number; n: number; pub: number; approved: number; meetings: number; visits: number }>(
    `SELECT f.province_code AS p, count(*)::int AS n, count(*) FILTER (WHERE f.owner = 'public')::int AS pub,
            count(*) FILTER (WHERE f.owner = 'public' AND f.unit_status = 'approved')::int AS approved,
            coalesce(sum(ms.n), 0)::int AS meetings, coalesce(sum(vs.n), 0)::int AS visits
       FROM programme_facility f
       LEFT JOIN (SELECT org_id, count(*) AS n FROM programme_meeting_site WHERE day >= ${s} AND day < ${e} GROUP BY org_id) ms ON ms.org_id = f.org_id
       LEFT JOIN (SELECT org_id, count(*) AS n FROM programme_visit WHERE day >= ${s} AND day < ${e} GROUP BY org_id) vs ON vs.org_id = f.org_id
      WHERE ${place} GROUP BY f.province_code`,
    a.values,
  );
  const consults = await consultCounts(sql, { ...r, facility: undefined }, 'province');
  return fac.rows
    .map((x) => {
      const c = consults.get(String(x.p)) ?? { requested: 0, accepted: 0, concluded: 0 };
      return {
        provinceCode: x.p,
        provinceName: province(x.p)?.name ?? String(x.p),
        facilities: x.n,
        publicFacilities: x.pub,
        approvedUnits: x.approved,
        coverage: x.pub ? x.approved / x.pub : null,
        ...cells(c),
        meetingsJoined: suppress(x.meetings),
        visits: suppress(x.visits),
        silent90: silent.get(x.p) ?? 0,
      };
    })
    .sort((x, y) => x.provinceName.localeCompare(y.provinceName, 'vi'));
}

/** Facilities of one province (drill-down), or the one facility in scope. */
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
    // Grouped scans restricted to the facilities in view (not one probe per facility and source).
    `WITH fv AS (SELECT f.org_id FROM programme_facility f WHERE ${place}),
          c AS (SELECT requesting_org AS org_id, count(*) FILTER (WHERE requested_at >= ${s} AND requested_at < ${e}) AS sent, 0 AS received, max(requested_at)::date AS last
                  FROM programme_consult WHERE requesting_org IN (SELECT org_id FROM fv) GROUP BY 1
                UNION ALL
                SELECT receiving_org, 0, count(*) FILTER (WHERE requested_at >= ${s} AND requested_at < ${e}), max(requested_at)::date
                  FROM programme_consult WHERE receiving_org IN (SELECT org_id FROM fv) GROUP BY 1),
          cc AS (SELECT org_id, sum(sent) AS sent, sum(received) AS received, max(last) AS last FROM c GROUP BY 1),
          m AS (SELECT org_id, count(*) FILTER (WHERE day >= ${s} AND day < ${e}) AS n, max(day) AS last FROM programme_meeting_site WHERE org_id IN (SELECT org_id FROM fv) GROUP BY 1),
          v AS (SELECT org_id, count(*) FILTER (WHERE day >= ${s} AND day < ${e}) AS n, max(day) AS last FROM programme_visit WHERE org_id IN (SELECT org_id FROM fv) GROUP BY 1)
     SELECT f.org_id, f.code, f.name, f.level, f.unit_status, coalesce(cc.sent, 0)::int AS sent, coalesce(cc.received, 0)::int AS received,
            coalesce(m.n, 0)::int AS meetings, coalesce(v.n, 0)::int AS visits, to_char(greatest(cc.last, m.last, v.last), 'YYYY-MM-DD') AS last
       FROM programme_facility f LEFT JOIN cc ON cc.org_id = f.org_id LEFT JOIN m ON m.org_id = f.org_id LEFT JOIN v ON v.org_id = f.org_id
      WHERE ${place} ORDER BY f.name LIMIT 1000`,
    a.values,
  );
  return res.rows.map((x) => ({
    id: x.org_id,
    code: x.code,
    name: x.name,
    level: x.level,
    unitStatus: x.unit_status,
    requested: suppress(x.sent),
    received: suppress(x.received),
    meetingsJoined: suppress(x.meetings),
    visits: suppress(x.visits),
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
    consultsByMonth: monthsOf(r.from, r.to).map((month) => ({ month, ...cells(byMonth.get(month) ?? zero) })),
    consultsBySpecialty: [...bySpecialty].map(([specialty, c]) => ({ specialty, ...cells(c) })).sort((x, y) => (y.requested ?? 0) - (x.requested ?? 0)),
    consultsByLevel: [...byLevel].map(([level, c]) => ({ level, ...cells(c) })),
    durations: await durations(sql, r),
    ...act,
    coverage: await coverage(sql, r),
    provinces: r.facility ? [] : await provinceTable(sql, r, silent.perProvince),
    facilities: await facilityTable(sql, r),
    silent: silent.list,
  };
}

export const allProvinces = () => provinces().map((p) => ({ code: p.code, name: p.name }));
