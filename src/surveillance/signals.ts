/**
 * Detection at one cell: after a write changed the count of (disease, commune, week), the
 * commune's series and the province's (sum over communes) are read from surveillance_week for the
 * WINDOW weeks up to that week, each algorithm (detect.ts) is run, and the week's signals are kept
 * in step: an alarm opens or refreshes a signal with its statistic, threshold and data; an open
 * signal the data no longer supports is withdrawn. Confirmed or dismissed signals never change.
 */
import type { DomainSql } from '../db/domain-sql.ts';
import { ALGORITHMS, detect, type Algorithm, type Result } from './detect.ts';
import { addWeeks, weeksBetween } from './weeks.ts';

/** Weeks of history read for one evaluation (CUSUM runs over all of them; EARS needs at most 11). */
export const WINDOW = 26;

/** Counts per week (oldest first, zeros filled) from `from` to `to` for a commune, or the whole province (commune 0). */
export async function seriesOf(sql: DomainSql, disease: string, province: number, commune: number, from: string, to: string): Promise<number[]> {
  const r = await sql.query<{ week: string; n: string }>(
    `SELECT to_char(week, 'YYYY-MM-DD') AS week, sum(cases) AS n FROM surveillance_week
      WHERE disease = $1 AND province_code = $2 AND ($3::int = 0 OR commune_code = $3) AND week BETWEEN $4 AND $5 GROUP BY week`,
    [disease, province, commune, from, to],
  );
  const out = new Array<number>(weeksBetween(from, to) + 1).fill(0);
  for (const row of r.rows) out[weeksBetween(from, row.week)] = Number(row.n);
  return out;
}

/** The algorithm's result at the last week of the series, or undefined. */
export function lastResult(algorithm: Algorithm, series: number[]): Result | undefined {
  return detect(algorithm, series).at(-1);
}

async function keep(
  sql: DomainSql,
  disease: string,
  province: number,
  commune: number,
  week: string,
  algorithm: Algorithm,
  r: Result | undefined,
  series: number[],
) {
  if (!r?.alarm) {
    await sql.query(
      "DELETE FROM surveillance_signal WHERE disease = $1 AND province_code = $2 AND commune_code = $3 AND week = $4 AND algorithm = $5 AND status = 'open'",
      [disease, province, commune, week, algorithm],
    );
    return;
  }
  const data = { series, from: addWeeks(week, 1 - series.length), baseline: r.baseline, sd: r.sd };
  await sql.query(
    `INSERT INTO surveillance_signal (disease, province_code, commune_code, week, algorithm, statistic, threshold, observed, expected, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (disease, province_code, commune_code, week, algorithm) DO UPDATE SET statistic = EXCLUDED.statistic, threshold = EXCLUDED.threshold,
       observed = EXCLUDED.observed, expected = EXCLUDED.expected, data = EXCLUDED.data
     WHERE surveillance_signal.status = 'open'`,
    [disease, province, commune, week, algorithm, r.statistic, r.threshold, r.observed, r.expected, JSON.stringify(data)],
  );
}

/** Runs every algorithm for the commune and for its province at this week. */
export async function evaluateCell(sql: DomainSql, disease: string, province: number, commune: number, week: string): Promise<void> {
  const from = addWeeks(week, 1 - WINDOW);
  const places = commune ? [commune, 0] : [0];
  for (const place of places) {
    const series = await seriesOf(sql, disease, province, place, from, week);
    for (const a of ALGORITHMS) await keep(sql, disease, province, place, week, a, lastResult(a, series), series);
  }
}
