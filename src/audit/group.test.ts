/**
 * Grouped audit appends (src/audit/group.ts, chain-append.ts) on both databases: entries
 * handed in together are committed together and already linked into the hash chain, interleaved
 * with entries the sealer links later; the chain verifies; tampering with a grouped row is found;
 * a failed group refuses every entry in it; a signed-in read answers only after its entry is
 * committed (linked into the chain, unless the sealer held the chain's lock: then the next seal links it).
 */
import type { Organization, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { AuditLog, SEAL_LOCK, type AuditEntry } from './audit.ts';
import { AuditGroup } from './group.ts';
import { ServerSecret } from '../auth/secret.ts';
import { createTestDb, DB_KINDS, type TestDb } from '../testing/databases.ts';
import { call, startTestPlatform, TEST_SECRET, type TestPlatform } from '../testing/platform.ts';

const entry = (i: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  accountId: `acc-${i % 3}`,
  username: `user ${i}`,
  role: 'commune_clinician',
  action: 'read',
  outcome: 'success',
  resourceType: 'Patient',
  resourceId: `p-${i}`,
  patientIds: [`p-${i}`, `p-${i}`, 'p-shared'],
  ...extra,
});

describe('AuditGroup', () => {
  it('writes entries that arrive during a write as the next group, and refuses a whole failed group', async () => {
    const groups: string[][] = [];
    let fail = false;
    const g = new AuditGroup(async (take) => {
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('disk full');
      groups.push(take().map((e) => e.resourceId!));
    });
    const first = g.append(entry(0));
    const rest = Array.from({ length: 9 }, (_, i) => g.append(entry(i + 1)));
    await Promise.all([first, ...rest]);
    // The first write took its group once it could write: everything handed in by then.
    expect(groups).toEqual([['p-0', 'p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-6', 'p-7', 'p-8', 'p-9']]);
    fail = true;
    const failed = await Promise.allSettled([g.append(entry(10)), g.append(entry(11))]);
    expect(failed.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await g.append(entry(12));
    expect(groups.at(-1)).toEqual(['p-12']);
    // An append made while the last group's waiters resume is written too (nothing is left waiting).
    await g.append(entry(13)).then(() => g.append(entry(14)));
    await g.flushed();
    expect(groups.flat()).toContain('p-14');
  });
});

describe.each(DB_KINDS)('grouped, pre-sealed audit appends on %s', (kind) => {
  let t: TestDb;
  let audit: AuditLog;
  beforeAll(async () => {
    t = await createTestDb(kind);
    audit = new AuditLog(t.db, new ServerSecret(TEST_SECRET));
  });
  afterAll(async () => t?.drop());

  it('commits each group linked into the chain, between entries the sealer links, and verifies', async () => {
    await audit.record(entry(100)); // unsealed: the sealer links it
    await Promise.all(Array.from({ length: 40 }, (_, i) => audit.group.append(entry(i))));
    await audit.record(entry(101));
    await audit.group.append(entry(41, { breakGlass: true, reason: 'cấp cứu' }));
    await audit.group.append(entry(42, { detail: { via: 'x', count: 2 } })); // linked too: its detail in jsonb order
    const rows = (
      await t.db.query<{ resource_id: string; chain_pos: number | null; patient_ids: string[] }>('SELECT resource_id, chain_pos, patient_ids FROM audit_log')
    ).rows;
    const grouped = rows.filter((r) => /^p-([0-9]|[1-3][0-9]|4[012])$/.test(r.resource_id));
    expect(grouped).toHaveLength(42);
    expect(grouped.every((r) => r.chain_pos !== null)).toBe(true);
    expect(grouped.find((r) => r.resource_id === 'p-5')!.patient_ids).toEqual(['p-5', 'p-shared']);
    expect(
      rows
        .filter((r) => r.chain_pos === null)
        .map((r) => r.resource_id)
        .sort(),
    ).toEqual(['p-100', 'p-101']);
    expect(audit.group.stats.groups).toBeLessThan(audit.group.stats.entries);
    expect(await audit.seal()).toBe(2);
    const v = await audit.verify();
    expect(v).toMatchObject({ ok: true, checked: rows.length, unsealed: 0 });
  });

  // PostgreSQL only: PGlite has one connection, so nothing else can hold the lock while a group writes.
  if (kind === 'postgres')
    it('never waits behind the sealer or retention: with their lock held, a group goes in unlinked for the sealer', async () => {
      const holder = new pg.Client({ connectionString: t.url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock($1)', [SEAL_LOCK]);
        const before = audit.unlinkedGroups;
        // Resolves while the lock is still held (a wait would hang this test).
        await Promise.all(Array.from({ length: 5 }, (_, i) => audit.group.append(entry(200 + i))));
        expect(audit.unlinkedGroups).toBeGreaterThan(before);
        const rows = (await t.db.query<{ chain_pos: number | null }>("SELECT chain_pos FROM audit_log WHERE resource_id LIKE 'p-20_'")).rows;
        expect(rows).toHaveLength(5);
        expect(rows.every((r) => r.chain_pos === null)).toBe(true);
      } finally {
        await holder.query('ROLLBACK');
        await holder.end();
      }
      expect(await audit.seal()).toBe(5);
      expect(await audit.verify()).toMatchObject({ ok: true, unsealed: 0 });
    });

  it('links most groups with one statement; two writers on one chain (two processes) lose nothing and keep it whole', async () => {
    // A second log on the same database stands for another API node: each links groups after the
    // head it last saw, so each will in turn find the head moved by the other.
    const other = new AuditLog(t.db, new ServerSecret(TEST_SECRET));
    const before = { ...audit.chainAppend.paths };
    const otherBefore = { ...other.chainAppend.paths };
    for (let round = 0; round < 6; round++) {
      await Promise.all([
        ...Array.from({ length: 4 }, (_, i) => audit.group.append(entry(300 + round * 10 + i))),
        ...Array.from({ length: 4 }, (_, i) => other.group.append(entry(600 + round * 10 + i))),
      ]);
      // Sequential groups of one writer: after the first, one statement each.
      for (let i = 0; i < 3; i++) await audit.group.append(entry(900 + round * 10 + i));
    }
    const oneStatement = audit.chainAppend.paths.oneStatement - before.oneStatement;
    expect(oneStatement).toBeGreaterThan(6);
    // The other writer's moves sent both back to the careful path at least once.
    expect(audit.chainAppend.paths.careful - before.careful).toBeGreaterThan(0);
    expect(other.chainAppend.paths.careful - otherBefore.careful).toBeGreaterThan(0);
    const n = (await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE resource_id ~ '^p-(3|6|9)[0-9][0-9]$'")).rows[0].n;
    expect(n).toBe(6 * (4 + 4 + 3));
    await audit.seal();
    expect(await audit.verify()).toMatchObject({ ok: true, unsealed: 0 });
    await other.stop();
  });

  it('links entries with a detail (a search and its query) as they are written, in jsonb key order', async () => {
    const detail = (i: number) => ({ query: `name=Nguyễn Văn ${i}`, matches: i, page: { é: 1, a: [2, { z: 0.1, y: 1e21 }] }, '10': 'x', '2': 'y' });
    await Promise.all(Array.from({ length: 3 }, (_, i) => audit.group.append(entry(i, { action: 'search', resourceId: `s-${i}`, detail: detail(i) }))));
    const rows = (
      await t.db.query<{ chain_pos: number | null; detail: { query: string } }>("SELECT chain_pos, detail FROM audit_log WHERE resource_id LIKE 's-_'")
    ).rows;
    expect(rows.map((r) => r.detail.query).sort()).toEqual(['name=Nguyễn Văn 0', 'name=Nguyễn Văn 1', 'name=Nguyễn Văn 2']);
    expect(rows.every((r) => r.chain_pos !== null)).toBe(true);
    expect(await audit.verify()).toMatchObject({ ok: true, unsealed: 0 });
  });

  it('writes a group once when the answer to its statement is lost after it committed', async () => {
    // A database whose one-statement append commits and then reports a failure (a dropped connection).
    let lost = 0;
    const flaky = Object.create(t.db) as typeof t.db;
    flaky.query = (async (sql: string, params?: readonly unknown[], opts?: object) => {
      const r = await t.db.query(sql, params, opts as never);
      if (sql.includes('moved AS (') && lost++ === 0) throw new Error('Connection terminated unexpectedly');
      return r;
    }) as typeof t.db.query;
    const flakyLog = new AuditLog(flaky, new ServerSecret(TEST_SECRET));
    await flakyLog.group.append(entry(700)); // careful path: learns the head
    await flakyLog.group.append(entry(701)); // one statement: committed, answer lost
    await flakyLog.group.append(entry(702));
    expect(lost).toBeGreaterThan(0);
    const rows = (await t.db.query<{ resource_id: string }>("SELECT resource_id FROM audit_log WHERE resource_id IN ('p-700', 'p-701', 'p-702')")).rows;
    expect(rows.map((r) => r.resource_id).sort()).toEqual(['p-700', 'p-701', 'p-702']);
    await audit.seal();
    expect(await audit.verify()).toMatchObject({ ok: true, unsealed: 0 });
    await flakyLog.stop();
  });

  it('finds a grouped entry changed after it was written', async () => {
    await t.db.exec('ALTER TABLE audit_log DISABLE TRIGGER audit_log_guard');
    try {
      await t.db.query("UPDATE audit_log SET username = 'someone else' WHERE resource_id = 'p-7'");
    } finally {
      await t.db.exec('ALTER TABLE audit_log ENABLE TRIGGER audit_log_guard');
    }
    const v = await audit.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBad?.problem).toMatch(/changed after it was sealed/);
  });
});

describe.each(DB_KINDS)('a signed-in read and its grouped audit entry on %s', (kind) => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: [] });
  });
  afterAll(async () => p?.close());

  it('answers after the entry is committed (and linked or sealed next); a failed entry means no data', async () => {
    const org = await p.fixtures.create<Organization>({ resourceType: 'Organization', name: 'Trạm Y tế' });
    const pt = await p.fixtures.create<Patient>({ resourceType: 'Patient', managingOrganization: { reference: `Organization/${org.id}` } });
    const token = await p.tokenFor('commune_clinician', { org: org.id, scope: 'user/*.read' });
    // The background sealer (every 500 ms) may hold the chain's lock as a group commits: that
    // group goes in unlinked (counted in unlinkedGroups) and is linked by the next seal.
    const unlinkedBefore = p.audit.unlinkedGroups;
    const reads = await Promise.all(
      Array.from({ length: 8 }, () => call(p, 'GET', `/fhir/R4/Patient/${pt.id}`, undefined, { authorization: `Bearer ${token}` })),
    );
    expect(reads.map((r) => r.status)).toEqual(Array(8).fill(200));
    const rows = (
      await p.db.query<{ chain_pos: number | null; patient_ids: string[] }>(
        "SELECT chain_pos, patient_ids FROM audit_log WHERE action = 'read' AND resource_id = $1",
        [pt.id],
      )
    ).rows;
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.patient_ids[0] === pt.id)).toBe(true);
    const unlinked = rows.filter((r) => r.chain_pos === null).length;
    // Entries are unlinked only if a group went in unlinked (the sealer may already have linked
    // them by now, so an unlinked group does not mean unlinked rows here).
    if (unlinked > 0) expect(p.audit.unlinkedGroups).toBeGreaterThan(unlinkedBefore);
    await p.audit.seal();
    expect(await p.audit.verify()).toMatchObject({ ok: true, unsealed: 0 });

    // The audit trail refuses the entry: the read fails and the record is not sent.
    await p.db.exec(
      "CREATE FUNCTION rw5_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$; CREATE TRIGGER rw5_refuse BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION rw5_refuse()",
    );
    try {
      const r = await call(p, 'GET', `/fhir/R4/Patient/${pt.id}`, undefined, { authorization: `Bearer ${token}` });
      expect(r.status).toBe(500);
      expect(JSON.stringify(r.body)).not.toContain(org.id!);
    } finally {
      await p.db.exec('DROP TRIGGER rw5_refuse ON audit_log; DROP FUNCTION rw5_refuse()');
    }
  });
});
