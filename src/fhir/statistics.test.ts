/**
 * The record store's planner statistics (statistics.ts), on both databases: a bulk load leaves the
 * planner thinking the tables are empty until they are analysed; the demo seed analyses them; the
 * upkeep counts the resources written and analyses again past autovacuum's threshold, and only then;
 * it runs where no autovacuum does.
 */
import type { Observation } from '@medplum/fhirtypes';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/db.ts';
import { seedDemo } from '../seed/demo.ts';
import { createTestDb, DB_KINDS } from '../testing/databases.ts';
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

/**
 * Why the upkeep matters on a PostgreSQL server without autovacuum: a connection caches the plan
 * of a foreign-key check when it first makes one, and only an ANALYZE of the table makes it plan
 * again. Checked on the store's own tables through the server's per-transaction scan counters
 * (no timings): each version row's check of `resource` is a sequential scan while the plan from
 * the small table stands, an index lookup after the upkeep's analysis.
 */
describe('a plan cached while the store was small, on postgres', () => {
  it('scans resource once per version row until the upkeep analyses the store', async () => {
    const t = await createTestDb('postgres');
    const client = new pg.Client({ connectionString: t.url }); // one connection: its cached plans are what is measured
    try {
      await client.connect();
      // As on a server without autovacuum, whatever this one's setting (a throwaway database).
      await client.query('ALTER TABLE resource SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)');
      const addResources = (from: number, to: number) =>
        client.query(
          `INSERT INTO resource (rid, resource_type, id, version_id, last_updated, patients)
           SELECT g, 'Basic', 'plan-' || g, 1, now(), '{}' FROM generate_series($1::bigint, $2::bigint) g`,
          [from, to],
        );
      /** Version rows for resources from..to, in one transaction; the sequential scans of resource they took (the counters not yet flushed include earlier transactions: a difference). */
      const addVersions = async (from: number, to: number): Promise<number> => {
        const scans = async () =>
          Number((await client.query<{ n: string }>("SELECT seq_scan AS n FROM pg_stat_xact_user_tables WHERE relname = 'resource'")).rows[0].n);
        await client.query('BEGIN');
        try {
          const before = await scans();
          await client.query(
            `INSERT INTO resource_version (rid, version_id, resource_type, id, last_updated, method, content)
             SELECT g, 1, 'Basic', 'plan-' || g, now(), 'POST', '{"resourceType":"Basic"}' FROM generate_series($1::bigint, $2::bigint) g`,
            [from, to],
          );
          return (await scans()) - before;
        } finally {
          await client.query('COMMIT');
        }
      };
      await addResources(1_000_001, 1_000_200);
      await client.query('ANALYZE resource');
      expect(await addVersions(1_000_001, 1_000_010)).toBeGreaterThan(0); // the small table: scanned, and the plan is kept
      await addResources(1_000_201, 1_030_000); // the store grows; nothing analyses it
      expect(await addVersions(1_029_001, 1_029_200)).toBe(200); // still a scan of 30,000 rows per version row
      const upkeep = new StatisticsUpkeep(t.db);
      upkeep.note(30_000);
      expect(await upkeep.check()).toBe(true);
      expect(await addVersions(1_029_201, 1_029_400)).toBe(0); // planned again: index lookups
    } finally {
      await client.end().catch(() => undefined);
      await t.drop();
    }
  });
});
