/**
 * The record store's planner statistics (statistics.ts), on both databases: a bulk load leaves the
 * planner thinking the tables are empty until they are analysed; the demo seed analyses them; the
 * upkeep counts the resources written and analyses again past autovacuum's threshold, and only then;
 * it runs where no autovacuum does.
 */
import type { Observation } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/db.ts';
import { seedDemo } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { StatisticsUpkeep, STORE_TABLES } from './statistics.ts';

/** What the planner believes: the rows it expects `resource_type = 'Observation'` to give. */
async function plannedObservations(db: Db): Promise<number> {
  const r = await db.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
    "EXPLAIN (FORMAT JSON) SELECT rid FROM resource WHERE resource_type = 'Observation'",
  );
  return r.rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
}

const tuples = async (db: Db, table: string) =>
  Number((await db.query<{ n: string }>('SELECT reltuples::bigint AS n FROM pg_class WHERE relname = $1', [table])).rows[0].n);

describe.each(DB_KINDS)('record store statistics on %s', (kind) => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: [] });
  });
  afterAll(async () => p?.close());

  it('the demo seed leaves the planner knowing the store it loaded', async () => {
    const s = await seedDemo(p.store, 20);
    const observations = Number((await p.db.query<{ n: string }>("SELECT count(*) AS n FROM resource WHERE resource_type = 'Observation'")).rows[0].n);
    expect(observations).toBeGreaterThan(100);
    // Within a sample's error of the truth (ANALYZE reads the whole of a table this small).
    expect(await plannedObservations(p.db)).toBe(observations);
    expect(await tuples(p.db, 'resource')).toBeGreaterThanOrEqual(s.total);
    for (const table of STORE_TABLES) expect(await tuples(p.db, table), table).toBeGreaterThanOrEqual(0);
  });

  // PostgreSQL keeps what its operator configured (docs/operations.md recommends 1.1 on SSDs).
  if (kind === 'pglite')
    it('plans with the cost of a page read that PGlite really has (everything in memory: random ≈ in order)', async () => {
      const r = await p.db.query<{ random_page_cost: string }>('SHOW random_page_cost');
      expect(r.rows[0].random_page_cost).toBe('1.1');
    });

  it('runs where no autovacuum does: always on PGlite, on PostgreSQL when its autovacuum is off', async () => {
    const setting = kind === 'postgres' ? (await p.db.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0].autovacuum : 'none';
    const up = new StatisticsUpkeep(p.db);
    try {
      expect(await up.start(() => undefined)).toBe(setting !== 'on');
      expect(up.replacesAutovacuum).toBe(setting === 'off');
      expect(await up.start(() => undefined)).toBe(setting !== 'on'); // a second start changes nothing
    } finally {
      await up.stop();
    }
    expect(up.replacesAutovacuum).toBe(false);
  });

  it('counts the resources written and analyses again once past the threshold, not before', async () => {
    const up = new StatisticsUpkeep(p.db);
    // Nothing written yet: nothing to do.
    expect(up.due()).toBe(false);
    expect(await up.check()).toBe(false);
    up.note(1);
    expect(await up.check()).toBe(true); // the first time it knows nothing of the store's size
    const rows = Number((await p.db.query<{ n: string }>('SELECT count(*) AS n FROM resource')).rows[0].n);
    const threshold = 50 + 0.1 * rows;
    up.note(Math.floor(threshold));
    expect(up.due()).toBe(false);
    up.note(1);
    expect(up.due()).toBe(true);
  });

  it('the store notes every write, so the running server brings the statistics up to date', async () => {
    await p.store.refreshStatistics();
    expect(p.store.statistics.due()).toBe(false);
    const before = await plannedObservations(p.db);
    const repo = p.store.system('statistics test');
    const patient = (await repo.search('Patient', { _count: '1' }))[0];
    const obs: Observation[] = Array.from({ length: 400 }, (_, i) => ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${patient.id}` },
      valueQuantity: { value: 60 + (i % 40), unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    }));
    await repo.createMany(obs);
    expect(p.store.statistics.due()).toBe(true);
    expect(await p.store.statistics.check()).toBe(true);
    expect(await plannedObservations(p.db)).toBe(before + 400);
    expect(p.store.statistics.due()).toBe(false);
  });
});
