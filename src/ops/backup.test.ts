/**
 * Restore drill, embedded database: write, back up while the platform runs, write more, destroy
 * the data folder, restore, and check counts, files and the audit chain. Plus: a wrong key or a
 * changed byte restores nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { openDatabase, type Db } from '../db/db.ts';
import { buildPlatform, type Platform } from '../server.ts';
import { createBackup, restoreBackup } from './backup.ts';

const KEY = randomBytes(32);
const tmp = mkdtempSync(join(tmpdir(), 'cauyte-backup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function start(dataDir: string): Promise<{ p: Platform; db: Db }> {
  const config = loadConfig({ LOG_LEVEL: 'silent', CAUYTE_DATA_DIR: dataDir, CAUYTE_JANUS: 'off', CAUYTE_MQTT_PORT: '0', CAUYTE_OUTBOX: 'off' });
  const db = await openDatabase({ dataDir: config.dataDir });
  const p = await buildPlatform(config, { db, domains: [], logger: false });
  return { p, db };
}

async function patients(db: Db): Promise<number> {
  return (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM resource WHERE resource_type = 'Patient' AND NOT deleted")).rows[0].n;
}

async function writePatients(p: Platform, n: number, tag: string): Promise<void> {
  const repo = p.store.system('restore drill', 'ops-test');
  for (let i = 0; i < n; i++) await repo.create({ resourceType: 'Patient', name: [{ family: 'Lê', given: [`${tag} ${i}`] }] });
}

describe('backup and restore (embedded database)', () => {
  it('write, back up while running, write more, destroy, restore: the backed-up state, files and a verifying audit chain', async () => {
    const dataDir = join(tmp, 'data');
    const { p, db } = await start(dataDir);
    await writePatients(p, 12, 'trước');
    mkdirSync(join(dataDir, 'recordings', 'room-1'), { recursive: true });
    const recording = randomBytes(300_000);
    writeFileSync(join(dataDir, 'recordings', 'room-1', 'call.webm'), recording);
    mkdirSync(join(dataDir, 'dicom'), { recursive: true });
    writeFileSync(join(dataDir, 'dicom', 'study.dcm'), 'DICM test');
    await p.audit.seal();
    const auditBefore = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log')).rows[0].n;

    // The backup is taken while the platform runs and writes continue.
    const out = join(tmp, 'b1.cbk');
    const [result] = await Promise.all([createBackup({ db, dataDir, key: KEY, out }), writePatients(p, 3, 'trong khi')]);
    expect(result.database).toBe('pglite');
    expect(result.files).toBeGreaterThanOrEqual(3); // the recording, the DICOM file, the server secret
    const atBackup = await patients(db);
    expect(atBackup).toBeGreaterThanOrEqual(12);

    await writePatients(p, 5, 'sau');
    writeFileSync(join(dataDir, 'recordings', 'room-1', 'later.webm'), 'after the backup');
    expect(await patients(db)).toBe(20);
    await p.close();
    await db.close();

    // Destroy, restore.
    rmSync(dataDir, { recursive: true, force: true });
    const restored = await restoreBackup({ file: out, dataDir, key: KEY });
    expect(restored.database).toBe(true);
    expect(restored.files).toBe(result.files);

    const again = await start(dataDir);
    try {
      const n = await patients(again.db);
      // A consistent copy: 12 before, plus however many of the 3 concurrent writes had committed — never the 5 after.
      expect(n).toBeGreaterThanOrEqual(12);
      expect(n).toBeLessThanOrEqual(15);
      expect(readFileSync(join(dataDir, 'recordings', 'room-1', 'call.webm')).equals(recording)).toBe(true);
      expect(readFileSync(join(dataDir, 'dicom', 'study.dcm'), 'utf8')).toBe('DICM test');
      expect(existsSync(join(dataDir, 'recordings', 'room-1', 'later.webm'))).toBe(false);
      expect((await again.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log')).rows[0].n).toBeGreaterThanOrEqual(auditBefore);
      await again.p.audit.seal();
      const v = await again.p.audit.verify();
      expect(v.firstBad).toBeUndefined();
      expect(v.ok).toBe(true);
      expect(v.checked).toBeGreaterThanOrEqual(auditBefore);
      console.log(
        `restore drill (PGlite): written before backup 12, during 3, after 5; restored ${n} patients, ${restored.files} files; audit chain verified (${v.checked} entries)`,
      );
    } finally {
      await again.p.close();
      await again.db.close();
    }
  }, 120_000);

  it('a wrong key, a changed byte or a cut-short file restores nothing', async () => {
    const dataDir = join(tmp, 'small');
    mkdirSync(join(dataDir, 'attachments'), { recursive: true });
    writeFileSync(join(dataDir, 'attachments', 'a.pdf'), '%PDF-1.4 test');
    // Files only (a PostgreSQL deployment's backup): the embedded database is not part of it.
    const fake = { kind: 'postgres' } as unknown as Db;
    const out = join(tmp, 'small.cbk');
    const r = await createBackup({ db: fake, dataDir, key: KEY, out });
    expect(r.files).toBe(1);
    const target = join(tmp, 'small-restored');
    await expect(restoreBackup({ file: out, dataDir: target, key: randomBytes(32) })).rejects.toThrow(/does not authenticate/);
    const bytes = readFileSync(out);
    bytes[40] ^= 1;
    writeFileSync(join(tmp, 'changed.cbk'), bytes);
    await expect(restoreBackup({ file: join(tmp, 'changed.cbk'), dataDir: target, key: KEY })).rejects.toThrow(/does not authenticate/);
    writeFileSync(join(tmp, 'short.cbk'), readFileSync(out).subarray(0, 60));
    await expect(restoreBackup({ file: join(tmp, 'short.cbk'), dataDir: target, key: KEY })).rejects.toThrow(/does not authenticate|too short/);
    expect(readdirSync(target)).toEqual([]);
    const ok = await restoreBackup({ file: out, dataDir: target, key: KEY });
    expect(ok.files).toBe(1);
    expect(readFileSync(join(target, 'attachments', 'a.pdf'), 'utf8')).toBe('%PDF-1.4 test');
    // Nothing readable in the file itself.
    expect(readFileSync(out).includes(Buffer.from('%PDF'))).toBe(false);
  });
});
