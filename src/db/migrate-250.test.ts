/**
 * Migration 250 (the programme's Vietnamese days) on a populated store, on both databases: the
 * demo network and a year of programme demo data are written on the schema before it by the
 * write listener as the code before wrote them (every day the UTC day of its instant). The
 * migration then runs, and:
 *   - every case is filed in the month of its Vietnamese request day;
 *   - the meeting sites', examinations' and prescriptions' days are exactly what today's listener
 *     writes for the same resources (replayed into emptied tables and compared row by row), with
 *     bridge points that joined on another day than their meeting began and a prescription group
 *     written out of order among them; a stored date PostgreSQL cannot read keeps its row's day;
 *   - every kept aggregate equals a full recount from the source tables, and the monthly consult
 *     counts equal a recomputation from the FHIR record.
 * The old writer is today's listener with vietnamDay() answering UTC days (the code before took
 * the first ten characters of the ISO instants it wrote, which the demo writes in UTC).
 */
import type { Encounter, MedicationRequest, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../audit/audit.ts';
import { ServerSecret } from '../auth/secret.ts';
import { FhirStore } from '../fhir/store.ts';
import { checkAggregates } from '../programme/aggregate-check.ts';
import { programmeOnWrite } from '../programme/listeners.ts';
import { recomputeConsultMonths } from '../programme/recompute.ts';
import { seedProgrammeDemo } from '../programme/seed.ts';
import { seedDemo } from '../seed/demo.ts';
import { createTestDb, DB_KINDS, type DbKind } from '../testing/databases.ts';
import { CONSULT_CATEGORY } from '../consult/model.ts';
import { vietnamDay } from '../platform/vietnam-time.ts';
import type { Db } from './db.ts';
import { listMigrations, migrate } from './migrate.ts';

const VERSION = 250;
const VR = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' };
const NOW = new Date('2026-11-20T09:00:00.000Z');

/** While set, vietnamDay answers the UTC day of an instant: the listener writes as the code before did. */
const writer = vi.hoisted(() => ({ utc: false }));
vi.mock('../platform/vietnam-time.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../platform/vietnam-time.ts')>();
  return {
    ...real,
    vietnamDay: (at?: Date | string | number) =>
      writer.utc && at !== undefined && real.isInstant(at)
        ? new Date(typeof at === 'string' && at.length === 10 ? `${at}T00:00:00Z` : at).toISOString().slice(0, 10)
        : real.vietnamDay(at),
  };
});

const emptyDb = (kind: DbKind) => createTestDb(kind, { empty: true });
const openStore = (db: Db) =>
  FhirStore.open(db, {
    baseUrl: 'http://localhost',
    audit: new AuditLog(db, new ServerSecret('m250-test-secret-0123456789abcdefghijklmnop')),
    breakGlassMinutes: 60,
  });

const SOURCES = {
  visit: `SELECT encounter_id, org_id, to_char(day, 'YYYY-MM-DD') AS day, condition, minutes FROM programme_visit ORDER BY 1`,
  site: `SELECT meeting_id, org_id, to_char(day, 'YYYY-MM-DD') AS day, minutes FROM programme_meeting_site ORDER BY 1, 2`,
  rx: `SELECT rx_key, org_id, to_char(day, 'YYYY-MM-DD') AS day FROM programme_prescription ORDER BY 1`,
  consult: `SELECT case_id, requested_at, to_char(agg_month, 'YYYY-MM-DD') AS agg_month FROM programme_consult ORDER BY 1`,
};
type Rows = Record<keyof typeof SOURCES, Record<string, unknown>[]>;

async function sources(db: Db): Promise<Rows> {
  const out = {} as Rows;
  for (const [k, q] of Object.entries(SOURCES)) out[k as keyof Rows] = (await db.query<Record<string, unknown>>(q)).rows;
  return out;
}

const changed = (a: Record<string, unknown>[], b: Record<string, unknown>[]) => a.filter((x, i) => JSON.stringify(x) !== JSON.stringify(b[i])).length;

describe.each(DB_KINDS)('migration %s on a populated programme', (kind) => {
  let db: Db;
  let drop: () => Promise<void>;
  let store: FhirStore;
  let before: Rows;

  let unreadable: string;

  /** What the demo lacks: bridge points that joined on another day than the meeting began, a prescription group written out of order, a stored date PostgreSQL cannot read. */
  async function edgeCases(): Promise<void> {
    const sys = store.system('migration test: edge cases', 'programme');
    const locs = (await db.query<{ location_id: string; org_id: string }>('SELECT location_id, org_id FROM programme_location ORDER BY location_id LIMIT 2'))
      .rows;
    const patient = (await db.query<{ id: string }>("SELECT id FROM resource WHERE resource_type = 'Patient' AND NOT deleted ORDER BY rid LIMIT 1")).rows[0].id;
    // The meeting began at 10:00 UTC; its bridge points joined at 18:30 UTC, already the next day in Việt Nam.
    await sys.create<Encounter>({
      resourceType: 'Encounter',
      status: 'finished',
      class: VR,
      serviceType: { coding: [CONSULT_CATEGORY] },
      period: { start: '2026-05-31T10:00:00Z', end: '2026-05-31T20:00:00Z' },
      // The first bridge point listed twice: the first entry (joined 18:30 UTC) decides its facility's day.
      location: [
        { id: locs[0].location_id, start: '2026-05-31T18:30:00Z' },
        { id: locs[0].location_id, start: '2026-05-31T10:30:00Z' },
        { id: locs[1].location_id, start: '2026-05-31T18:30:00Z' },
      ].map((l) => ({ location: { reference: `Location/${l.id}` }, period: { start: l.start, end: '2026-05-31T19:30:00Z' } })),
    });
    const visit = (start: string) =>
      sys.create<Encounter>({
        resourceType: 'Encounter',
        status: 'finished',
        class: VR,
        subject: { reference: `Patient/${patient}` },
        serviceProvider: { reference: `Organization/${locs[0].org_id}` },
        period: { start, end: start },
      });
    const v = await visit('2026-06-30T18:00:00Z');
    // A prescription group: its first item written at 18:45 UTC (1 July in Việt Nam), a later one dated earlier that day.
    for (const authoredOn of ['2026-06-30T18:45:00Z', '2026-06-30T09:00:00Z'])
      await sys.create<MedicationRequest>({
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        groupIdentifier: { system: 'https://fhir.cauyte.vn/sid/prescription', value: 'RX-250' },
        medicationCodeableConcept: { text: 'Amlodipin 5 mg' },
        subject: { reference: `Patient/${patient}` },
        encounter: { reference: `Encounter/${v.id}` },
        authoredOn,
      });
    // A visit whose stored start no longer reads as a date (as data written before dates were checked could be).
    unreadable = (await visit('2026-07-01T02:00:00Z')).id!;
    await db.query(`UPDATE resource_version SET content = jsonb_set(content, '{period,start}', '"2026-02-30T18:00:00Z"') WHERE id = $1`, [unreadable]);
  }

  beforeAll(async () => {
    ({ db, drop } = await emptyDb(kind));
    await migrate(
      db,
      listMigrations().filter((m) => m.version < VERSION),
    );
    store = await openStore(db);
    store.onWrite('programme', programmeOnWrite);
    writer.utc = true;
    try {
      await seedProgrammeDemo(store, await seedDemo(store, 30), NOW);
      await edgeCases();
    } finally {
      writer.utc = false;
    }
    before = await sources(db);
  }, 600_000);
  afterAll(async () => drop?.());

  it('moves every day and month to Việt Nam’s and rebuilds the aggregates exactly', async () => {
    expect(await migrate(db)).toContain('250_programme_vietnam_days');
    const after = await sources(db);
    // The unreadable start left its examination's day as it was.
    expect(after.visit.find((v) => v.encounter_id === unreadable)).toMatchObject({ day: '2026-07-01' });
    expect(after.rx.find((r) => String(r.rx_key).endsWith('|RX-250'))).toMatchObject({ day: '2026-07-01' });
    for (const k of Object.keys(SOURCES) as (keyof Rows)[]) expect(after[k].length, k).toBe(before[k].length);
    // The demo's instants fall at every hour: some of every kind were on another day in Việt Nam.
    expect(changed(before.visit, after.visit)).toBeGreaterThan(0);
    expect(changed(before.site, after.site)).toBeGreaterThan(0);
    expect(changed(before.rx, after.rx)).toBeGreaterThan(0);
    expect(changed(before.consult, after.consult)).toBeGreaterThan(0);

    // Each case in the month of its Vietnamese request day, which the database now keeps.
    const consults = await db.query<{ requested_at: Date; agg_month: string | null; requested_day: string | null }>(
      `SELECT requested_at, to_char(agg_month, 'YYYY-MM-DD') AS agg_month, to_char(requested_day, 'YYYY-MM-DD') AS requested_day
         FROM programme_consult WHERE requested_at IS NOT NULL`,
    );
    expect(consults.rows.length).toBeGreaterThan(100);
    for (const c of consults.rows) {
      expect(c.requested_day).toBe(vietnamDay(c.requested_at));
      expect(c.agg_month).toBe(`${vietnamDay(c.requested_at).slice(0, 7)}-01`);
    }

    // Kept aggregates against a recount, and the monthly consult counts against the record.
    const check = async () => {
      for (const c of await checkAggregates(db)) expect({ name: c.name, differing: c.differing }).toEqual({ name: c.name, differing: 0 });
      const kept = await db.query(
        `SELECT to_char(month, 'YYYY-MM') AS month, province_code, level, specialty, urgency, requested, accepted, concluded,
                followed_up, improved, stable, transferred, died, local_advised, transfers_avoided
           FROM programme_consult_month WHERE requested <> 0 OR accepted <> 0 OR concluded <> 0 ORDER BY 1, 2, 3, 4, 5`,
      );
      expect(await recomputeConsultMonths(store)).toEqual(kept.rows);
    };
    await check();

    // Today's listener, replayed over every current Encounter and MedicationRequest into emptied
    // tables, writes the very rows the migration left.
    const sql = store.system('migration test: replay', 'programme').sql;
    await sql.query('DELETE FROM programme_prescription');
    await sql.query('DELETE FROM programme_meeting_site');
    await sql.query('DELETE FROM programme_visit');
    for (const type of ['Encounter', 'MedicationRequest'] as const) {
      const rows = await db.query<{ rid: number; id: string; content: Resource }>(
        `SELECT r.rid, r.id, v.content FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
          WHERE r.resource_type = $1 AND NOT r.deleted ORDER BY r.rid`,
        [type],
      );
      expect(rows.rows.length).toBeGreaterThan(0);
      for (const r of rows.rows.filter((x) => x.id !== unreadable)) {
        const resource = (typeof r.content === 'string' ? JSON.parse(r.content) : r.content) as Encounter | MedicationRequest;
        await programmeOnWrite(sql, { rid: Number(r.rid), resourceType: type, id: r.id, resource, method: 'POST', deleted: false } as never);
      }
    }
    const replayed = await sources(db);
    expect(replayed.visit).toEqual(after.visit.filter((v) => v.encounter_id !== unreadable));
    expect(replayed.site).toEqual(after.site);
    expect(replayed.rx).toEqual(after.rx);
    // The triggers, now on Vietnamese days, kept every aggregate through the replay.
    await check();
  }, 600_000);
});
