/**
 * Device-programme indicators (docs/indicators.md): people enrolled in home monitoring (a home
 * device in use) and alerts answered in time (acknowledged within ALERT_TARGET_MINUTES of being
 * opened), for one scope and period — part of the one IndicatorReport the screen, the CSV, the
 * XLSX, the PDF and the MeasureReports show.
 *
 * Sources: programme_monitoring_device and programme_patient_facility (migration 123, kept by the
 * write listener), and the devices domain's alert_episode (read-only). Computed from those rows at
 * each evaluation (they are one row per device span and per alert, far fewer than consults): no
 * kept aggregate, so nothing here can drift from its source.
 *
 * Rules: aggregates only — no patient key, device or alert id leaves this file; a count from 1 to
 * 4 is null (suppressed); a share is shown only when its numerator and denominator are.
 */
import type { DomainSql } from '../db/domain-sql.ts';
import type { Cell, DeviceCells, DeviceIndicators } from './contract.ts';
import { Args, endExclusive, firstDay, monthsOf, placeWhere, SMALL_CELL, suppress, type Resolved } from './indicators.ts';
import { province } from './places.ts';

/**
 * Target time to acknowledge a device alert, in minutes: the platform's default escalation time
 * (CAUYTE_ALERT_ESCALATE_MINUTES), after which an unanswered alert goes to the whole facility.
 * A platform default written as data, not a regulation.
 */
export const ALERT_TARGET_MINUTES = 15;

interface Raw {
  enrolled: number;
  newly: number;
  alerts: number;
  ack: number;
  in_time: number;
  escalated: number;
}
const ZERO: Raw = { enrolled: 0, newly: 0, alerts: 0, ack: 0, in_time: 0, escalated: 0 };

function cells(x: Raw): DeviceCells {
  const alerts = suppress(x.alerts);
  const inTime = suppress(x.in_time);
  return {
    enrolled: suppress(x.enrolled),
    newlyEnrolled: suppress(x.newly),
    alerts,
    acknowledged: suppress(x.ack),
    answeredInTime: inTime,
    shareInTime: alerts !== null && alerts >= SMALL_CELL && inTime !== null ? x.in_time / x.alerts : null,
  };
}

const PREFIX: Record<string, string> = { province_code: 'p', org_id: 'f' };
/** Group key of a GROUPING SETS row over these columns: '' (the whole view), 'p:<province>', 'f:<facility>'. */
const keyOf = (cols: string[]) => `CASE ${cols.map((c) => `WHEN GROUPING(${c}) = 0 THEN '${PREFIX[c]}:' || ${c}`).join(' ')} ELSE '' END`;

export async function deviceIndicators(sql: DomainSql, r: Resolved): Promise<DeviceIndicators> {
  const start = firstDay(r.from);
  const end = endExclusive(r.to);
  const drill = r.province !== undefined || !!r.facility;
  // Per province for a national or province view, per facility for a province or facility view.
  const cols = [...(r.facility ? [] : ['province_code']), ...(drill ? ['org_id'] : [])];
  const sets = ['()', ...cols.map((c) => `(${c})`)].join(', ');
  const KEY = cols.length ? keyOf(cols) : "''";
  const acc = new Map<string, Raw>();
  const add = (k: string, part: Partial<Raw>) => acc.set(k, { ...(acc.get(k) ?? ZERO), ...part });

  // People with a home device in use on some day of the period, filed under their facility.
  const spans = (a: Args) => `
    SELECT d.patient_key, d.start_day, d.end_day, f.org_id, f.province_code
      FROM programme_monitoring_device d
      JOIN programme_patient_facility pf ON pf.patient_key = d.patient_key
      JOIN programme_facility f ON f.org_id = pf.org_id
     WHERE ${placeWhere(r, a)} AND d.start_day < ${a.add(end)}::date AND (d.end_day IS NULL OR d.end_day >= ${a.add(start)}::date)`;
  let a = new Args();
  for (const x of (
    await sql.query<{ k: string; n: number }>(
      `SELECT ${KEY} AS k, count(DISTINCT patient_key)::int AS n FROM (${spans(a)}) s GROUP BY GROUPING SETS (${sets})`,
      a.values,
    )
  ).rows)
    add(x.k, { enrolled: x.n });
  a = new Args();
  const s0 = a.add(start);
  const e0 = a.add(end);
  const enrolledByMonth = await sql.query<{ month: string; n: number }>(
    `SELECT to_char(m.m, 'YYYY-MM') AS month, count(DISTINCT s.patient_key)::int AS n
       FROM generate_series(${s0}::date, ${e0}::date - 1, interval '1 month') AS m(m)
       JOIN (${spans(a)}) s ON s.start_day < m.m + interval '1 month' AND (s.end_day IS NULL OR s.end_day >= m.m::date)
      GROUP BY 1`,
    a.values,
  );
  for (const x of enrolledByMonth.rows) add(`m:${x.month}`, { enrolled: x.n });

  // People whose first home device ever started in the period.
  a = new Args();
  for (const x of (
    await sql.query<{ k: string; m: string | null; n: number }>(
      `SELECT CASE WHEN GROUPING(m) = 0 THEN 'm:' || m ELSE ${KEY} END AS k, count(*)::int AS n
         FROM (SELECT to_char(fs.day, 'YYYY-MM') AS m, f.org_id, f.province_code
                 FROM (SELECT patient_key, min(start_day) AS day FROM programme_monitoring_device GROUP BY 1) fs
                 JOIN programme_patient_facility pf ON pf.patient_key = fs.patient_key
                 JOIN programme_facility f ON f.org_id = pf.org_id
                WHERE ${placeWhere(r, a)} AND fs.day >= ${a.add(start)}::date AND fs.day < ${a.add(end)}::date) n
        GROUP BY GROUPING SETS (${sets}, (m))`,
      a.values,
    )
  ).rows)
    add(x.k, { newly: x.n });

  // Alerts opened in the period at facilities in the view: acknowledged, within the target, escalated.
  a = new Args();
  const target = a.add(ALERT_TARGET_MINUTES);
  for (const x of (
    await sql.query<{ k: string } & Omit<Raw, 'enrolled' | 'newly'>>(
      `SELECT CASE WHEN GROUPING(m) = 0 THEN 'm:' || m ELSE ${KEY} END AS k, count(*)::int AS alerts, count(acknowledged_at)::int AS ack,
              count(*) FILTER (WHERE acknowledged_at <= opened_at + make_interval(mins => ${target}::int))::int AS in_time,
              count(escalated_at)::int AS escalated
         FROM (SELECT to_char(vietnam_day(x.opened_at), 'YYYY-MM') AS m, x.opened_at, x.acknowledged_at, x.escalated_at, f.org_id, f.province_code
                 FROM alert_episode x JOIN programme_facility f ON f.org_id = x.organization_id
                WHERE ${placeWhere(r, a)} AND x.opened_at >= vietnam_midnight(${a.add(start)}::date) AND x.opened_at < vietnam_midnight(${a.add(end)}::date)) al
        GROUP BY GROUPING SETS (${sets}, (m))`,
      a.values,
    )
  ).rows)
    add(x.k, { alerts: x.alerts, ack: x.ack, in_time: x.in_time, escalated: x.escalated });

  const names = new Map<string, { code: string; name: string }>();
  const orgs = [...acc.keys()].filter((k) => k.startsWith('f:')).map((k) => k.slice(2));
  if (orgs.length)
    for (const x of (
      await sql.query<{ org_id: string; code: string; name: string }>('SELECT org_id, code, name FROM programme_facility WHERE org_id = ANY($1::text[])', [
        orgs,
      ])
    ).rows)
      names.set(x.org_id, x);
  const total = acc.get('') ?? ZERO;
  const escalated: Cell = suppress(total.escalated);
  return {
    ...cells(total),
    targetMinutes: ALERT_TARGET_MINUTES,
    escalated,
    byMonth: monthsOf(r.from, r.to).map((month) => ({ month, ...cells(acc.get(`m:${month}`) ?? ZERO) })),
    provinces: [...acc]
      .filter(([k]) => k.startsWith('p:'))
      .map(([k, v]) => ({ provinceCode: Number(k.slice(2)), provinceName: province(Number(k.slice(2)))?.name ?? k.slice(2), ...cells(v) }))
      .sort((x, y) => x.provinceName.localeCompare(y.provinceName, 'vi')),
    facilities: [...acc]
      .filter(([k]) => k.startsWith('f:'))
      .map(([k, v]) => ({ id: k.slice(2), code: names.get(k.slice(2))?.code ?? '', name: names.get(k.slice(2))?.name ?? '', ...cells(v) }))
      .sort((x, y) => x.name.localeCompare(y.name, 'vi')),
  };
}
