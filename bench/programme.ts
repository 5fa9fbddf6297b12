/**
 * `npm run bench -- --suite programme [--quick]`: the programme dashboard on PostgreSQL with 13,000
 * facilities, 1,000,000 consult requests, 100,000 meetings (3 bridge points each), 200,000 remote
 * examinations and 100,000 prescriptions (quick: 50,000 consults, 5,000 meetings, 10,000
 * examinations, 5,000 prescriptions; same 13,000 facilities), generated straight into the
 * programme's tables (src/db/migrations/030_programme.sql) in a database of its own.
 *
 * Measured: p50/p95 of the whole national and province reports (`evaluate`, every indicator, as
 * the dashboard asks); then N incremental case events (new cases and state changes) through the
 * same function the write listener uses (`saveConsult`, one transaction each), and the monthly
 * aggregate compared with a full recomputation over the per-case rows in the same run (time of
 * both), and so is every aggregate the database's triggers keep (migration 031: durations,
 * per-facility and per-province activity, meetings, examinations by reason). Nothing is asserted;
 * the table says what was seen.
 */
import pg from 'pg';
import { PostgresDb } from '../src/db/db.ts';
import { migrate } from '../src/db/migrate.ts';
import { DomainSql } from '../src/db/domain-sql.ts';
import { evaluate, resolve } from '../src/programme/indicators.ts';
import { loadRow, saveConsult, type ConsultRow } from '../src/programme/listeners.ts';
import { provinces } from '../src/programme/places.ts';
import { checkAggregates } from '../src/programme/aggregate-check.ts';
import { fmt, median, percentile, rows } from './lib.ts';

export interface ProgrammeSizes {
  facilities: number;
  consults: number;
  meetings: number;
  visits: number;
  prescriptions: number;
  events: number;
  samples: number;
}

const DB_NAME = 'cauyte_bench_programme';

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

export async function benchProgramme(pgUrl: string, s: ProgrammeSizes, log: (m: string) => void): Promise<void> {
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB_NAME}`);
  await admin.end();
  const u = new URL(pgUrl);
  u.pathname = `/${DB_NAME}`;
  const db = new PostgresDb(u.toString(), 4);
  try {
    await migrate(db);
    const codes = provinces().map((p) => p.code);
    log(`programme: generating ${fmt(s.facilities)} facilities, ${fmt(s.consults)} consults, ${fmt(s.meetings)} meetings`);
    const [, genMs] = await timed(async () => {
      await db.query(
        `INSERT INTO programme_facility (org_id, code, name, level, owner, province_code, commune_code, digest, unit_status, unit_since)
         SELECT 'f' || i, lpad(i::text, 5, '0'), 'Cơ sở ' || i,
                CASE WHEN i % 500 = 1 THEN 'private' WHEN i % 100 = 0 THEN 'provincial' WHEN i % 20 = 0 THEN 'regional' ELSE 'commune' END,
                CASE WHEN i % 500 = 1 THEN 'private' ELSE 'public' END,
                ($1::int[])[1 + i % array_length($1::int[], 1)], 0, '',
                CASE WHEN i % 10 < 6 THEN 'approved' ELSE 'none' END, now() - (i % 365) * interval '1 day'
           FROM generate_series(1, $2::int) i`,
        [codes, s.facilities],
      );
      await db.query(`INSERT INTO programme_declaration_event (org_id, response_id, status, actor, at)
                      SELECT org_id, 'qr-' || org_id, 'approved', 'bench', unit_since FROM programme_facility WHERE unit_status = 'approved'`);
      // Consults: requesters spread over every facility, receivers the provincial hospitals; times by urgency.
      await db.query(
        `INSERT INTO programme_consult (case_id, requesting_org, receiving_org, specialty, urgency, requested_at, triaged_at, assigned_at, concluded_at, accepted, agg_month, agg_province, agg_level)
         SELECT c.id, c.req, c.rec, c.spec, c.urg, c.t,
                c.t + c.k * (10 + (c.i % 600)) * interval '1 minute',
                CASE WHEN c.i % 12 <> 0 THEN c.t + c.k * (60 + (c.i % 1500)) * interval '1 minute' END,
                CASE WHEN c.i % 12 <> 0 AND c.i % 7 <> 0 THEN c.t + c.k * (300 + (c.i % 6000)) * interval '1 minute' END,
                c.i % 12 <> 0, date_trunc('month', vietnam_day(c.t))::date, f.province_code, f.level
           FROM (SELECT i, 'c' || i AS id, 'f' || (1 + (i::bigint * 7919) % $2::int) AS req, 'f' || (100 * (1 + i % ($2::int / 100))) AS rec,
                        (ARRAY['cardiology','internal','pediatrics','respiratory','oncology','obstetrics','infectious'])[1 + i % 7] AS spec,
                        CASE WHEN i % 13 = 0 THEN 'emergency' WHEN i % 4 = 0 THEN 'urgent' ELSE 'routine' END AS urg,
                        CASE WHEN i % 13 = 0 THEN 0.05 WHEN i % 4 = 0 THEN 0.3 ELSE 1 END AS k,
                        now() - ((i::bigint * 104729) % (365 * 1440)) * interval '1 minute' AS t
                   FROM generate_series(1, $1::int) i) c
           JOIN programme_facility f ON f.org_id = c.req`,
        [s.consults, s.facilities],
      );
      await db.query(`INSERT INTO programme_consult_month (month, province_code, level, specialty, urgency, requested, accepted, concluded)
                      SELECT agg_month, agg_province, agg_level, specialty, urgency, count(*), count(*) FILTER (WHERE accepted), count(concluded_at)
                        FROM programme_consult GROUP BY 1, 2, 3, 4, 5`);
      await db.query(
        `INSERT INTO programme_meeting_site (meeting_id, org_id, day, minutes)
         SELECT 'm' || i, 'f' || (1 + (i::bigint * 31 + k * 977) % $2::int), (now() - ((i * 7) % 365) * interval '1 day')::date, 30 + (i + k) % 90
           FROM generate_series(1, $1::int) i, generate_series(0, 2) k`,
        [s.meetings, s.facilities],
      );
      await db.query(
        `INSERT INTO programme_visit (encounter_id, org_id, day, condition, minutes)
         SELECT 'v' || i, 'f' || (1 + (i::bigint * 13) % $2::int), (now() - ((i * 11) % 365) * interval '1 day')::date, (ARRAY['I10','E11','J45.9','K29.7','M54.5','J44.9'])[1 + i % 6], 20
           FROM generate_series(1, $1::int) i`,
        [s.visits, s.facilities],
      );
      await db.query(
        `INSERT INTO programme_prescription (rx_key, org_id, day) SELECT 'rx' || i, 'f' || (1 + (i::bigint * 13) % $2::int), (now() - ((i * 11) % 365) * interval '1 day')::date FROM generate_series(1, $1::int) i`,
        [s.prescriptions, s.facilities],
      );
      await db.exec('ANALYZE');
    });
    log(`programme: generated in ${fmt(genMs / 1000, 1)} s`);

    if (process.env.PROGRAMME_BENCH_TRACE) {
      // Where the time goes: every statement of one national and one province report, slowest first.
      const seen: [number, string][] = [];
      const traced = {
        query: async (q: string, p?: readonly unknown[]) => {
          const [r, ms] = await timed(() => db.query(q, p));
          seen.push([ms, q.replace(/\s+/g, ' ').slice(0, 140)]);
          return r;
        },
        exec: (q: string) => db.exec(q),
      };
      for (const [label, r] of [
        ['national', resolve({}, { kind: 'national' })],
        ['province', resolve({}, { kind: 'province', provinceCode: 15 })],
      ] as const) {
        seen.length = 0;
        await evaluate(new DomainSql(traced as never, 'reports'), r, { kind: 'national', label });
        for (const [ms, q] of seen.sort((a, b) => b[0] - a[0]).slice(0, 6)) log(`trace ${label} ${fmt(ms)} ms  ${q}`);
      }
    }
    const reports = new DomainSql(db, 'reports');
    const national = resolve({}, { kind: 'national' });
    const province = resolve({}, { kind: 'province', provinceCode: 15 });
    await evaluate(reports, national, { kind: 'national', label: 'bench' }); // warm the cache
    const nat: number[] = [];
    const prov: number[] = [];
    for (let i = 0; i < s.samples; i++) {
      nat.push((await timed(() => evaluate(reports, national, { kind: 'national', label: 'bench' })))[1]);
      prov.push((await timed(() => evaluate(reports, province, { kind: 'province', label: 'bench' })))[1]);
    }
    log(`programme: national p95 ${fmt(percentile(nat, 95))} ms, province p95 ${fmt(percentile(prov, 95))} ms`);
    const note = `${fmt(s.consults)} consults, ${fmt(s.meetings)} meetings (×3 sites), ${fmt(s.facilities)} facilities; every indicator of the dashboard; ${s.samples} samples`;
    rows.push({
      benchmark: 'programme national report p95',
      db: 'postgres',
      value: fmt(percentile(nat, 95)),
      unit: 'ms',
      note: `p50 ${fmt(median(nat))} ms; target ≤ 300; ${note}`,
    });
    rows.push({
      benchmark: 'programme province report p95',
      db: 'postgres',
      value: fmt(percentile(prov, 95)),
      unit: 'ms',
      note: `p50 ${fmt(median(prov))} ms; target ≤ 100; province 15 (${fmt(s.facilities / 34, 0)} facilities); ${note}`,
    });

    // Incremental events through the listener's own function, then the aggregate against a full recomputation.
    log(`programme: ${fmt(s.events)} incremental case events`);
    const eventMs: number[] = [];
    for (let i = 0; i < s.events; i++) {
      const [, ms] = await timed(() =>
        db.transaction(async (tx) => {
          const sql = new DomainSql(tx, 'programme');
          if (i % 2 === 0) {
            const now = new Date(Date.now() - (i % 300) * 86_400_000).toISOString();
            const next: ConsultRow = {
              case_id: `e${i}`,
              requesting_org: `f${1 + ((i * 37) % s.facilities)}`,
              receiving_org: 'f100',
              specialty: 'cardiology',
              urgency: i % 3 ? 'routine' : 'urgent',
              requested_at: now,
              triaged_at: null,
              assigned_at: null,
              concluded_at: null,
              accepted: false,
              agg_month: null,
              agg_province: null,
              agg_level: null,
            };
            await saveConsult(sql, undefined, next);
          } else {
            const id = `c${1 + ((i * 7717) % s.consults)}`;
            const old = await loadRow(sql, id);
            if (!old) return;
            const at = new Date(Date.parse(old.requested_at!) + 3_600_000).toISOString();
            await saveConsult(sql, old, { ...old, accepted: true, triaged_at: old.triaged_at ?? at, concluded_at: old.concluded_at ?? at });
          }
        }),
      );
      eventMs.push(ms);
    }
    const q = `SELECT to_char(month, 'YYYY-MM') AS month, province_code, level, specialty, urgency, requested, accepted, concluded FROM programme_consult_month WHERE requested <> 0 OR accepted <> 0 OR concluded <> 0 ORDER BY 1, 2, 3, 4, 5`;
    const [kept, keptMs] = await timed(() => db.query(q));
    const [fresh, freshMs] = await timed(() =>
      db.query(`SELECT to_char(agg_month, 'YYYY-MM') AS month, agg_province AS province_code, agg_level AS level, specialty, urgency,
                       count(*)::int AS requested, (count(*) FILTER (WHERE accepted))::int AS accepted, count(concluded_at)::int AS concluded
                  FROM programme_consult WHERE agg_month IS NOT NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`),
    );
    const a = kept.rows.map((r) => JSON.stringify(r));
    const b = new Set(fresh.rows.map((r) => JSON.stringify(r)));
    const differing = a.filter((x) => !b.has(x)).length + Math.abs(a.length - b.size);
    log(`programme: aggregate rows ${fmt(a.length)}, differing from recomputation: ${differing}`);
    rows.push({
      benchmark: 'programme incremental case event',
      db: 'postgres',
      value: fmt(median(eventMs), 2),
      unit: 'ms',
      note: `median of ${fmt(s.events)} (half new cases, half state changes), one transaction each; p95 ${fmt(percentile(eventMs, 95), 2)} ms`,
    });
    rows.push({
      benchmark: 'programme aggregate vs full recomputation',
      db: 'postgres',
      value: `${differing} differing rows`,
      unit: `of ${fmt(a.length)}`,
      baseline: `full recomputation over ${fmt(s.consults + Math.ceil(s.events / 2))} cases ${fmt(freshMs)} ms`,
      ratio: `read of the kept aggregate ${fmt(keptMs)} ms`,
      note: 'same run, after the incremental events',
    });
    // The dashboard's other aggregates (kept by the database's triggers, migration 031) against their recomputation.
    for (const c of await checkAggregates(db)) {
      log(`programme: ${c.name} rows ${fmt(c.rows)}, differing from recomputation: ${c.differing}`);
      rows.push({
        benchmark: `programme ${c.name.replace('programme_', '')} vs full recomputation`,
        db: 'postgres',
        value: `${c.differing} differing rows`,
        unit: `of ${fmt(c.rows)}`,
        baseline: `full recomputation ${fmt(c.recomputedMs)} ms`,
        ratio: `read of the kept aggregate ${fmt(c.keptMs)} ms`,
        note: 'same run, after the incremental events',
      });
    }
  } finally {
    await db.close();
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await c.end();
  }
}
