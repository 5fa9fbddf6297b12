/**
 * Migration 230 (compact search index) on a populated store: the Synthea bundles and the demo
 * network are loaded on the schema before it, with the index rows the code before it wrote
 * (every parameter its own rows, identical rows kept; a registry view with no derived
 * parameters and no trigram table reproduces that code's rows and search SQL). Searches of every
 * kind are run, the migration runs, and the same searches give the same results through
 * today's code; every resource's index rows are then exactly what a fresh write extracts (no
 * derived-parameter rows, no duplicates, :contains rows).
 * The migration repeats search-derived.ts's lists; this test checks that they agree.
 * Migration 240 (each resource row's patients) runs after it on the same store: the next start
 * fills every row's patients, and each equals what a fresh write of its content names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, Observation, Patient, Practitioner, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../audit/audit.ts';
import { ServerSecret } from '../auth/secret.ts';
import { FhirStore } from '../fhir/store.ts';
import { CONTAINS_PARAMS } from '../fhir/search-derived.ts';
import { extractIndexRows, type IndexRows } from '../fhir/searchparams.ts';
import { seedDemo } from '../seed/demo.ts';
import { createTestDb, DB_KINDS, type DbKind } from '../testing/databases.ts';
import type { Db } from './db.ts';
import { listMigrations, migrate } from './migrate.ts';

const VERSION = 230;
const FIXTURES = new URL('../../test/fixtures/synthea-r4/', import.meta.url);
const MIGRATION = listMigrations().find((m) => m.version === VERSION)!;

/** A database with no schema at all (the test template is already migrated past 230). */
const emptyDb = (kind: DbKind) => createTestDb(kind, { empty: true });

const openStore = (db: Db) =>
  FhirStore.open(db, {
    baseUrl: 'http://localhost',
    audit: new AuditLog(db, new ServerSecret('m230-test-secret-0123456789abcdefghijklmnop')),
    breakGlassMinutes: 60,
  });

/** Each row as text, per resource, sorted: the index as stored, or as a fresh write would store it. */
type RowsByRid = Map<number, string[]>;
const canon = {
  string: (r: any) => `s|${r.param}|${r.norm}|${r.exact}`,
  token: (r: any) => `t|${r.param}|${r.system}|${r.code}`,
  reference: (r: any) => `r|${r.param}|${r.target_type ?? r.targetType}|${r.target_id ?? r.targetId}`,
  date: (r: any) => `d|${r.param}|${new Date(r.low).toISOString()}|${new Date(r.high).toISOString()}`,
  quantity: (r: any) => `q|${r.param}|${Number(r.value)}|${r.system}|${r.code}`,
  uri: (r: any) => `u|${r.param}|${r.value}`,
  contains: (r: any) => `c|${r.param}|${r.norm}`,
};
const TABLE: Record<keyof typeof canon, string> = {
  string: 'idx_string',
  token: 'idx_token',
  reference: 'idx_reference',
  date: 'idx_date',
  quantity: 'idx_quantity',
  uri: 'idx_uri',
  contains: 'idx_string_contains',
};

async function storedRows(db: Db): Promise<RowsByRid> {
  const out: RowsByRid = new Map();
  for (const [key, table] of Object.entries(TABLE) as [keyof typeof canon, string][]) {
    for (const row of (await db.query<any>(`SELECT * FROM ${table}`)).rows) {
      const list = out.get(Number(row.rid)) ?? [];
      list.push(canon[key](row));
      out.set(Number(row.rid), list);
    }
  }
  for (const list of out.values()) list.sort();
  return out;
}

async function freshRows(db: Db, store: FhirStore): Promise<RowsByRid> {
  const out: RowsByRid = new Map();
  const current = await db.query<{ rid: number; content: string }>(
    'SELECT r.rid, v.content::text AS content FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id WHERE NOT r.deleted',
  );
  for (const { rid, content } of current.rows) {
    const r = JSON.parse(content) as Resource;
    const rows: IndexRows = extractIndexRows(r, store.registry.forType(r.resourceType));
    const list = (Object.keys(canon) as (keyof typeof canon)[]).flatMap((k) => (rows[k] as object[]).map(canon[k]));
    if (list.length) out.set(Number(rid), list.sort());
  }
  return out;
}

/** Pairs ('Type', 'code') in the part of the migration between two of its numbered comments. */
function pairsIn(from: string, to: string): string[] {
  const part = MIGRATION.sql.slice(MIGRATION.sql.indexOf(from), MIGRATION.sql.indexOf(to));
  return [...part.matchAll(/\('([A-Za-z]+)', '([a-z-]+)'\)/g)].map((m) => `${m[1]}.${m[2]}`).sort();
}

describe.each(DB_KINDS)('migration 230 on a populated %s store', (kind) => {
  let db: Db;
  let drop: () => Promise<void>;
  let store: FhirStore;
  const queries: [string, Record<string, string>][] = [];
  const before = new Map<string, string[]>();

  async function run(s: FhirStore, type: string, query: Record<string, string>): Promise<string[]> {
    const b = await s.system('migration test', 'test').searchBundle(type, query);
    return (b.entry ?? []).map((e) => `${e.search?.mode}:${e.resource!.resourceType}/${e.resource!.id}`);
  }

  beforeAll(async () => {
    ({ db, drop } = await emptyDb(kind));
    await migrate(
      db,
      listMigrations().filter((m) => m.version < VERSION),
    );
    // Only so that today's writer (which names the table) can write; it stays empty and is dropped below.
    await db.exec('CREATE TABLE idx_string_contains (rid bigint NOT NULL, param smallint NOT NULL, norm text NOT NULL)');
    // Likewise the patients column (migration 240): dropped right before the migrations run, which add it back unfilled.
    await db.exec('ALTER TABLE resource ADD COLUMN patients text[]; CREATE TABLE resource_patients_basis (links smallint[] NOT NULL)');
    store = await openStore(db);
    for (const p of store.registry.all()) {
      p.stored = [p.id];
      p.contains = false;
    }
    const sys = store.system('migration test: load', 'test');
    for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.json'))) {
      await sys.bundle(JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as Bundle, { returnMinimal: true });
    }
    await seedDemo(store, 30);
    // The code before wrote a resource's identical rows as many times as they occurred; some of each table.
    for (const table of Object.values(TABLE).filter((t) => t !== 'idx_string_contains')) {
      await db.query(`INSERT INTO ${table} SELECT * FROM ${table} WHERE rid % 5 = 0`);
    }
    await db.exec('DROP TABLE idx_string_contains');

    // Search values taken from the loaded data, one of each kind the migration touches.
    const patients = await sys.search<Patient>('Patient', { _count: '200' });
    const vn = patients.find((p) => /[ăâđêôơư]/i.test(p.name?.[0]?.family ?? ''))!;
    const us = patients.find((p) => p.address?.[0]?.city && !/[ăâđêôơư]/i.test(p.name?.[0]?.family ?? ''))!;
    const family = vn.name![0].family!;
    const given = vn.name![0].given![vn.name![0].given!.length - 1];
    const practitioner = (await sys.search<Practitioner>('Practitioner', { _count: '1' }))[0];
    const obs = (await sys.search<Observation>('Observation', { 'value-quantity': 'gt0', _count: '1' }))[0];
    const code = obs.code.coding![0];
    const withComponents = (await sys.search<Observation>('Observation', { 'component-code': 'http://loinc.org|8480-6', _count: '1' }))[0];
    const subject = obs.subject!.reference!;
    queries.push(
      ['Patient', { name: family, _count: '100' }],
      ['Patient', { name: family.slice(0, 2).toLowerCase(), _sort: 'name', _count: '100' }],
      ['Patient', { 'name:contains': given.slice(1), _count: '100' }],
      ['Patient', { 'name:contains': `${family.slice(-2)} ${vn.name![0].given![0].slice(0, 2)}`, _count: '100' }],
      ['Patient', { 'name:exact': vn.name![0].text ?? family, _count: '100' }],
      ['Patient', { phonetic: family, _count: '100' }],
      ['Patient', { 'phonetic:contains': given.slice(1), _count: '100' }],
      ['Patient', { 'address:contains': us.address![0].city!.slice(1, 4), _count: '100' }],
      ['Patient', { 'address-city': us.address![0].city!, _count: '100' }],
      ['Practitioner', { 'name:contains': practitioner.name![0].family!.slice(1, 4), _count: '100' }],
      ['Practitioner', { phonetic: practitioner.name![0].family!, _count: '100' }],
      ['Organization', { 'name:contains': 'benh vien', _sort: 'name', _count: '100' }],
      ['Observation', { code: `${code.system}|${code.code}`, _count: '100' }],
      ['Observation', { 'combo-code': `${code.system}|${code.code}`, _count: '100' }],
      ['Observation', { 'combo-code': 'http://loinc.org|8480-6', _count: '100' }],
      ['Observation', { 'combo-code:not': `${code.system}|${code.code}`, _count: '100' }],
      ['Observation', { 'combo-code:missing': 'true', _count: '100' }],
      ['Observation', { 'combo-value-quantity': 'gt100', _sort: '-combo-value-quantity', _count: '100' }],
      ['Observation', { 'combo-value-concept:missing': 'false', _count: '100' }],
      ['Observation', { _sort: 'combo-code', _count: '100' }],
      ['Observation', { 'value-quantity': 'lt50', _count: '100' }],
      ['Observation', { subject, _sort: '-date', _count: '100' }],
      ['Observation', { patient: subject, date: 'ge2015', _include: 'Observation:encounter', _count: '50' }],
      ['Observation', { _id: withComponents.id!, _include: 'Observation:subject' }],
      ['Patient', { _id: subject.split('/')[1], _revinclude: 'Encounter:subject' }],
      ['Encounter', { subject, _include: 'Encounter:participant', _sort: 'date', _count: '100' }],
      ['Condition', { subject, 'onset-date': 'le2020', _count: '100' }],
      ['Patient', { gender: 'female', birthdate: 'lt1990', _sort: '-birthdate', _count: '100' }],
      ['Claim', { patient: subject, _count: '100' }],
    );
    for (const [type, q] of queries) before.set(`${type}?${new URLSearchParams(q)}`, await run(store, type, q));
  }, 600_000);
  afterAll(async () => drop?.());

  it('agrees with search-derived.ts on which parameters are derived and which have a trigram index', async () => {
    const derived = (await openStore(db)).registry
      .all()
      .filter((p) => p.stored[0] !== p.id)
      .map((p) => `${p.resourceType}.${p.code}`)
      .sort();
    expect(derived).toEqual(pairsIn('-- 2.', '-- 3.'));
    expect(pairsIn('-- 1.', '-- 2.')).toEqual([...CONTAINS_PARAMS].sort());
  });

  it('gives the same search results after the migration, and the index rows a fresh write gives', async () => {
    const rowsBefore = (
      await db.query<{ n: number }>(`SELECT (SELECT count(*) FROM idx_string) + (SELECT count(*) FROM idx_token) + (SELECT count(*) FROM idx_quantity) AS n`)
    ).rows[0].n;
    await db.exec('ALTER TABLE resource DROP COLUMN patients; DROP TABLE resource_patients_basis');
    expect(await migrate(db)).toEqual(expect.arrayContaining([MIGRATION.name, '240_resource_patients']));
    const unfilled = await db.query<{ n: string }>('SELECT count(*) AS n FROM resource WHERE patients IS NULL');
    expect(Number(unfilled.rows[0].n)).toBeGreaterThan(1000);
    // Opening the store fills every row's patients (migration 240) before it serves.
    const after = await openStore(db);
    let nonEmpty = 0;
    for (const [type, q] of queries) {
      const key = `${type}?${new URLSearchParams(q)}`;
      const got = await run(after, type, q);
      expect(got, key).toEqual(before.get(key));
      if (got.length > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThanOrEqual(queries.length - 2);
    expect(await storedRows(db)).toEqual(await freshRows(db, after));
    // Migration 240: each live row names the patients a fresh write of its content would name.
    const live = await db.query<{ content: string; patients: string[] | null }>(
      'SELECT v.content::text AS content, r.patients FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id WHERE NOT r.deleted',
    );
    let named = 0;
    for (const row of live.rows) {
      const r = JSON.parse(row.content) as Resource;
      const want = extractIndexRows(r, after.registry.forType(r.resourceType)).patients;
      expect([...(row.patients ?? ['(unfilled)'])].sort(), `${r.resourceType}/${r.id}`).toEqual([...want].sort());
      if (want.length > 0 && r.resourceType !== 'Patient') named++;
    }
    expect(named).toBeGreaterThan(1000);
    const rowsAfter = (
      await db.query<{ n: number }>(`SELECT (SELECT count(*) FROM idx_string) + (SELECT count(*) FROM idx_token) + (SELECT count(*) FROM idx_quantity) AS n`)
    ).rows[0].n;
    expect(Number(rowsAfter)).toBeLessThan(Number(rowsBefore));
    const indexes = (await db.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'idx\\_%'")).rows.map((r) => r.indexname);
    expect(indexes).not.toContain('idx_string_trgm');
    expect(indexes).not.toContain('idx_reference_any_target');
    expect(indexes).toContain('idx_string_contains_trgm');
  }, 600_000);
});
