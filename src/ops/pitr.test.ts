/**
 * Restore drill, PostgreSQL: base backup + WAL archiving + point-in-time recovery on a cluster of
 * our own (another port, its own folders; the machine's main cluster is never touched).
 * Write, take a base backup, write more, note the time, write more after it, destroy the primary,
 * restore the base backup and replay the archived WAL up to that time: exactly the writes before
 * the target are there, and the audit chain verifies.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { PostgresDb, type Db } from '../db/db.ts';
import { buildPlatform, type Platform } from '../server.ts';
import { freePort, TEST_SECRET } from '../testing/platform.ts';
import { giveToPostgres, ownedDir, pgBin, PgCluster } from './pgctl.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cauyte-pitr-'));
chmodSync(tmp, 0o755);
const clusters: PgCluster[] = [];
afterAll(() => {
  for (const c of clusters) c.stopQuietly();
  rmSync(tmp, { recursive: true, force: true });
});

async function start(url: string): Promise<{ p: Platform; db: Db }> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATABASE_URL: url,
    CAUYTE_SECRET_KEY: TEST_SECRET,
    CAUYTE_DATA_DIR: join(tmp, 'node'),
    CAUYTE_JANUS: 'off',
    CAUYTE_MQTT_PORT: '0',
    CAUYTE_OUTBOX: 'off',
  });
  const db = new PostgresDb(url, 4);
  const p = await buildPlatform(config, { db, domains: [], logger: false });
  return { p, db };
}

async function writePatients(p: Platform, n: number, tag: string): Promise<void> {
  const repo = p.store.system('restore drill', 'ops-test');
  for (let i = 0; i < n; i++) await repo.create({ resourceType: 'Patient', name: [{ family: 'Phạm', given: [`${tag} ${i}`] }] });
}

async function patients(db: Db): Promise<number> {
  return (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM resource WHERE resource_type = 'Patient' AND NOT deleted")).rows[0].n;
}

describe.skipIf(!pgBin())('PostgreSQL: base backup, WAL archive, point-in-time recovery', () => {
  it('restores to a point in time: the writes before it, none after, the audit chain intact', async () => {
    const port = await freePort();
    const archive = ownedDir(join(tmp, 'wal-archive'));
    const primary = PgCluster.init(join(tmp, 'primary'), port, { archive });
    clusters.push(primary);
    primary.start();
    const admin = new pg.Client({ connectionString: `${primary.url}/postgres` });
    await admin.connect();
    await admin.query('CREATE DATABASE cauyte');
    await admin.end();
    const url = `${primary.url}/cauyte`;

    let { p, db } = await start(url);
    await writePatients(p, 10, 'trước sao lưu');
    await p.audit.seal();
    PgCluster.baseBackup(primary, join(tmp, 'base'), port);
    await writePatients(p, 7, 'trước mốc');
    await p.audit.seal();
    await new Promise((r) => setTimeout(r, 1100));
    const target = (await db.query<{ t: string }>("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS t")).rows[0].t;
    await new Promise((r) => setTimeout(r, 1100));
    await writePatients(p, 6, 'sau mốc');
    await p.audit.seal();
    expect(await patients(db)).toBe(23);
    // Close the WAL segment holding the last writes so it is archived.
    const seg = (await db.query<{ f: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS f')).rows[0].f;
    for (let i = 0; i < 100; i++) {
      const a = (await db.query<{ last: string | null }>('SELECT last_archived_wal AS last FROM pg_stat_archiver')).rows[0].last;
      if (a && a >= seg) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await p.close();
    await db.close();

    // Lose the primary.
    primary.stop('immediate');
    rmSync(primary.data, { recursive: true, force: true });

    // Restore: the base backup, then the archived WAL up to the target time.
    const restoredDir = ownedDir(join(tmp, 'restored'));
    cpSync(join(tmp, 'base', 'data'), join(restoredDir, 'data'), { recursive: true });
    const restored = new PgCluster(restoredDir, port);
    clusters.push(restored);
    appendFileSync(
      join(restored.data, 'postgresql.conf'),
      `\narchive_mode = off\nunix_socket_directories = '${restoredDir}'\nrestore_command = 'cp ${archive}/%f %p'\nrecovery_target_time = '${target}'\nrecovery_target_action = 'promote'\n`,
    );
    writeFileSync(join(restored.data, 'recovery.signal'), '');
    giveToPostgres(restoredDir);
    restored.start();
    for (let i = 0; i < 150; i++) {
      const c = new pg.Client({ connectionString: `${restored.url}/cauyte` });
      try {
        await c.connect();
        const r = await c.query<{ rec: boolean }>('SELECT pg_is_in_recovery() AS rec');
        if (!r.rows[0].rec) break;
      } catch {
      } finally {
        await c.end().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 200));
    }

    ({ p, db } = await start(url));
    try {
      const n = await patients(db);
      expect(n).toBe(17);
      const v = await p.audit.verify();
      expect(v.firstBad).toBeUndefined();
      expect(v.ok).toBe(true);
      console.log(
        `PITR drill (PostgreSQL): 10 before the base backup, 7 before the target, 6 after; restored ${n} patients; audit chain verified (${v.checked} entries, ${v.unsealed} unsealed)`,
      );
    } finally {
      await p.close();
      await db.close();
    }
  }, 240_000);
});
