/**
 * The dashboard's kept aggregates (migration 031: triggers on the indicators' source tables) stay
 * exactly equal to a full recomputation whatever sequence of writes reaches the source tables —
 * new cases, state changes, moves of a case's day or facility, deletions, meetings rewritten,
 * examinations and prescriptions added and removed, facilities entering the register and moving
 * province — on both databases (a property test: random sequences, then every aggregate compared).
 * And the duration buckets: exact to the minute up to an hour, every target a bucket bound.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, DB_KINDS, type TestDb } from '../testing/databases.ts';
import { migrate } from '../db/migrate.ts';
import { checkAggregates } from './aggregate-check.ts';
import { TARGETS } from './indicators.ts';

const ORGS = ['a', 'b', 'c', 'd'];
const DAYS = ['2026-01-31', '2026-02-01', '2026-02-15', '2026-03-01', '2026-03-31'];

const op = fc.oneof(
  fc.record({
    kind: fc.constant('consult' as const),
    id: fc.integer({ min: 1, max: 6 }),
    from: fc.constantFrom(...ORGS, 'unregistered'),
    to: fc.constantFrom(...ORGS),
    day: fc.constantFrom(...DAYS),
    triage: fc.option(fc.integer({ min: 0, max: 5000 })),
    conclude: fc.option(fc.integer({ min: 0, max: 90_000 })),
    province: fc.constantFrom(0, 11, 15),
  }),
  fc.record({ kind: fc.constant('drop-consult' as const), id: fc.integer({ min: 1, max: 6 }) }),
  fc.record({
    kind: fc.constant('meeting' as const),
    id: fc.integer({ min: 1, max: 3 }),
    sites: fc.uniqueArray(fc.constantFrom(...ORGS), { maxLength: 3 }),
    day: fc.constantFrom(...DAYS),
    minutes: fc.integer({ min: 0, max: 120 }),
  }),
  fc.record({
    kind: fc.constant('visit' as const),
    id: fc.integer({ min: 1, max: 4 }),
    org: fc.constantFrom(...ORGS),
    day: fc.constantFrom(...DAYS),
    condition: fc.constantFrom('I10', 'E11', ''),
    drop: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('rx' as const),
    id: fc.integer({ min: 1, max: 4 }),
    org: fc.constantFrom(...ORGS),
    day: fc.constantFrom(...DAYS),
    drop: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('move' as const), org: fc.constantFrom(...ORGS), province: fc.constantFrom(11, 15, 20), leave: fc.boolean() }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

const plus = (day: string, minutes: number) => new Date(Date.parse(`${day}T03:00:00Z`) + minutes * 60_000).toISOString();

async function apply(t: TestDb, o: Op): Promise<void> {
  const q = (sql: string, params: unknown[] = []) => t.db.query(sql, params);
  switch (o.kind) {
    case 'consult':
      await q(
        `INSERT INTO programme_consult (case_id, requesting_org, receiving_org, specialty, urgency, requested_at, triaged_at, concluded_at, accepted, agg_month, agg_province, agg_level)
         VALUES ($1, $2, $3, 'x', 'routine', $4, $5, $6, $7, date_trunc('month', $4::timestamptz)::date, $8, 'commune')
         ON CONFLICT (case_id) DO UPDATE SET requesting_org = EXCLUDED.requesting_org, receiving_org = EXCLUDED.receiving_org, requested_at = EXCLUDED.requested_at,
           triaged_at = EXCLUDED.triaged_at, concluded_at = EXCLUDED.concluded_at, accepted = EXCLUDED.accepted, agg_month = EXCLUDED.agg_month, agg_province = EXCLUDED.agg_province`,
        [
          `c${o.id}`,
          o.from,
          o.to,
          plus(o.day, 0),
          o.triage === null ? null : plus(o.day, o.triage),
          o.conclude === null ? null : plus(o.day, o.conclude),
          o.triage !== null,
          o.province,
        ],
      );
      return;
    case 'drop-consult':
      await q('DELETE FROM programme_consult WHERE case_id = $1', [`c${o.id}`]);
      return;
    case 'meeting':
      // As the write listener does: every site of the meeting deleted, then the current ones written.
      await q('DELETE FROM programme_meeting_site WHERE meeting_id = $1', [`m${o.id}`]);
      for (const s of o.sites)
        await q('INSERT INTO programme_meeting_site (meeting_id, org_id, day, minutes) VALUES ($1, $2, $3, $4)', [`m${o.id}`, s, o.day, o.minutes]);
      return;
    case 'visit':
      await q('DELETE FROM programme_visit WHERE encounter_id = $1', [`v${o.id}`]);
      if (!o.drop)
        await q('INSERT INTO programme_visit (encounter_id, org_id, day, condition, minutes) VALUES ($1, $2, $3, $4, 20)', [
          `v${o.id}`,
          o.org,
          o.day,
          o.condition,
        ]);
      return;
    case 'rx':
      if (o.drop) await q('DELETE FROM programme_prescription WHERE rx_key = $1', [`r${o.id}`]);
      else
        await q(
          'INSERT INTO programme_prescription (rx_key, org_id, day) VALUES ($1, $2, $3) ON CONFLICT (rx_key) DO UPDATE SET org_id = EXCLUDED.org_id, day = EXCLUDED.day',
          [`r${o.id}`, o.org, o.day],
        );
      return;
    case 'move':
      if (o.leave) await q('DELETE FROM programme_facility WHERE org_id = $1', [o.org]);
      else
        await q(
          `INSERT INTO programme_facility (org_id, code, name, level, owner, province_code, commune_code, digest) VALUES ($1, $2, $1, 'commune', 'public', $3, 0, '')
           ON CONFLICT (org_id) DO UPDATE SET province_code = EXCLUDED.province_code`,
          [o.org, `0000${ORGS.indexOf(o.org)}`, o.province],
        );
      return;
  }
}

describe.each(DB_KINDS)('programme aggregates on %s', (kind) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(kind);
    await migrate(t.db);
  });
  afterAll(async () => t?.drop());

  it('stay equal to a full recomputation after any sequence of writes', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        for (const table of ['programme_consult', 'programme_meeting_site', 'programme_visit', 'programme_prescription', 'programme_facility'])
          await t.db.query(`DELETE FROM ${table}`);
        for (const o of ops) await apply(t, o);
        const checks = await checkAggregates(t.db);
        for (const c of checks) expect({ table: c.name, differing: c.differing }).toEqual({ table: c.name, differing: 0 });
        if (checks.some((c) => c.rows > 0)) nonEmpty++;
      }),
      { numRuns: kind === 'pglite' ? 25 : 40 },
    );
    // The sequences did reach the aggregates (not only empty comparisons).
    expect(nonEmpty).toBeGreaterThan(0);
    // One case triaged after 67 minutes: filed in the 5-minute bucket (65, 70], for its province and the country.
    await t.db.query('DELETE FROM programme_consult');
    const seeded = await t.db.query<{ n: number }>(
      `INSERT INTO programme_consult (case_id, requesting_org, receiving_org, specialty, urgency, requested_at, triaged_at, accepted, agg_month, agg_province, agg_level)
       VALUES ('k', 'a', 'b', 'x', 'routine', '2026-02-01T00:00Z', '2026-02-01T01:07Z', true, '2026-02-01', 15, 'commune') RETURNING 1 AS n`,
    );
    expect(seeded.rows).toHaveLength(1);
    const hist = await t.db.query<{ province_code: number; bucket: number; n: number }>(
      `SELECT province_code, bucket, n FROM programme_duration_month WHERE metric = 'triage' AND n > 0 AND month = '2026-02-01' ORDER BY 1`,
    );
    expect(hist.rows).toEqual([
      { province_code: -1, bucket: 70, n: 1 },
      { province_code: 15, bucket: 70, n: 1 },
    ]);
    // The comparison sees a kept count that drifted.
    await t.db.query(`UPDATE programme_activity_month SET sent = sent + 1 WHERE org_id = 'a'`);
    expect((await checkAggregates(t.db)).find((c) => c.name === 'programme_activity_month')?.differing).toBeGreaterThan(0);
  });

  it('buckets durations: to the minute up to an hour, then coarser, every target a bucket bound', async () => {
    const b = async (m: number) => (await t.db.query<{ b: number }>('SELECT programme_bucket($1) AS b', [m])).rows[0].b;
    expect(await b(-3)).toBe(0);
    expect(await b(47)).toBe(47);
    expect(await b(60)).toBe(60);
    expect(await b(61)).toBe(65);
    expect(await b(361)).toBe(375);
    expect(await b(2881)).toBe(2940);
    expect(await b(43201)).toBe(44640);
    for (const urgency of Object.values(TARGETS)) for (const target of Object.values(urgency)) expect(await b(target)).toBe(target);
  });
});
