/**
 * The operator commands: `cauyte backup [--out FILE]` and `cauyte restore FILE` (src/ops/backup.ts).
 *
 * The embedded database belongs to one process. When a server runs on it, `cauyte backup` asks
 * that server for the copy (SIGUSR2 to the pid in the database's lock; the server writes the
 * backup into $CAUYTE_DATA_DIR/backups, a folder never copied into backups) and waits for the
 * file; otherwise it opens the database itself. `cauyte restore` needs the server stopped.
 */
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import type { Config } from '../config.ts';
import { openDatabase, type Db } from '../db/db.ts';
import type { AuditLog } from '../audit/audit.ts';
import { parseBackupKey } from './backup-crypto.ts';
import { backupFileName, createBackup, restoreBackup } from './backup.ts';
import { openCore } from '../platform/core.ts';
import { CLASS_LABELS, loadRetentionRules } from './retention-rules.ts';
import { placeHold, releaseHold, runRetention } from './retention.ts';
import { parseArgs } from 'node:util';

export function backupDir(config: Config): string {
  return join(config.dataDir, 'backups');
}

/** In `cauyte serve`: SIGUSR2 writes a backup (embedded database) into the backups folder. */
export function backupOnSignal(
  config: Config,
  db: Db,
  audit: AuditLog,
  log: { info: (o: object, m: string) => void; error: (o: object, m: string) => void },
): void {
  if (config.DATABASE_URL || !config.CAUYTE_BACKUP_KEY) return;
  const key = parseBackupKey(config.CAUYTE_BACKUP_KEY);
  let running = false;
  process.on('SIGUSR2', () => {
    if (running) return;
    running = true;
    const out = join(backupDir(config), backupFileName());
    createBackup({ db, dataDir: config.dataDir, key, out: `${out}.partial` })
      .then(async (r) => {
        renameSync(`${out}.partial`, out);
        await audit.record({ username: 'system:ops', action: 'ops.backup', outcome: 'success', detail: { file: out, files: r.files, database: r.database } });
        log.info({ file: out, files: r.files }, 'backup written');
      })
      .catch((err: Error) => log.error({ err: err.message }, 'backup failed'))
      .finally(() => (running = false));
  });
}

async function backupThroughServer(config: Config, pid: number): Promise<string> {
  const dir = backupDir(config);
  const before = new Set(existsSync(dir) ? readdirSync(dir) : []);
  process.kill(pid, 'SIGUSR2');
  const until = Date.now() + 10 * 60_000;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    const fresh = (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.endsWith('.cbk') && !before.has(f));
    if (fresh.length) return join(dir, fresh[0]);
  }
  throw new Error(`the running server (pid ${pid}) wrote no backup within 10 minutes; see its log`);
}

export async function backupCommand(config: Config, out: string | undefined): Promise<void> {
  const key = parseBackupKey(config.CAUYTE_BACKUP_KEY);
  let db: Db;
  try {
    db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
  } catch (err) {
    const m = /in use by process (\d+)/.exec((err as Error).message);
    if (!m) throw err;
    const file = await backupThroughServer(config, Number(m[1]));
    console.log(`The running server (pid ${m[1]}) wrote ${file}`);
    return;
  }
  try {
    const r = await createBackup({ db, dataDir: config.dataDir, key, out: resolve(out ?? backupFileName()) });
    console.log(
      `Wrote ${r.file}: ${r.database === 'pglite' ? 'the embedded database and ' : ''}${r.files} files (${(r.bytes / 1e6).toFixed(1)} MB before encryption).` +
        (r.database === 'postgres' ? ' The PostgreSQL database is backed up by base backups and WAL archiving (docs/operations.md).' : ''),
    );
  } finally {
    await db.close();
  }
}

export async function restoreCommand(config: Config, file: string | undefined): Promise<void> {
  if (!file) throw new Error('usage: cauyte restore FILE (stop the server first)');
  const key = parseBackupKey(config.CAUYTE_BACKUP_KEY);
  const lock = join(config.dataDir, 'db', 'cauyte.pid');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    try {
      if (pid && pid !== process.pid) {
        process.kill(pid, 0);
        throw new Error(`the server (pid ${pid}) is running on ${config.dataDir}: stop it before restoring`);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  const r = await restoreBackup({ file, dataDir: config.dataDir, key });
  console.log(
    `Restored the backup of ${r.manifest.createdAt} into ${config.dataDir}: ${r.database ? 'the embedded database and ' : ''}${r.files} files.` +
      (r.previous ? ` The database that was there is kept in ${r.previous}.` : '') +
      ` Restored by ${userInfo().username}; run \`cauyte audit verify\` next.`,
  );
}

/** `cauyte retention run [--dry-run]` | `hold --target Patient/ID --reason TEXT` | `release --id N` */
export async function retentionCommand(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { 'dry-run': { type: 'boolean', default: false }, target: { type: 'string' }, reason: { type: 'string' }, id: { type: 'string' } },
  });
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
  try {
    const core = await openCore(config, db);
    const by = `os:${userInfo().username}`;
    if (sub === 'run') {
      const r = await runRetention(core.store, {
        rules: loadRetentionRules(config.CAUYTE_RETENTION_RULES),
        archiveDir: join(config.dataDir, 'archive', 'retention'),
        dryRun: values['dry-run']!,
      });
      for (const i of r.items)
        console.log(
          `${i.action === 'hold' ? 'GIỮ (hold)   ' : r.dryRun ? 'SẼ LƯU TRỮ (would archive)' : 'ĐÃ LƯU TRỮ (archived)'}  ${i.target}  ${CLASS_LABELS[i.class].vi}  ${i.recordDate.slice(0, 10)} → ${i.keepUntil}  (${i.resources} resources)`,
        );
      console.log(
        `${r.dryRun ? 'Dry run: nothing changed. ' : ''}Examined ${r.examined}, ${r.dryRun ? 'would archive' : 'archived'} ${r.archived}, held ${r.held}, kept ${r.kept}.`,
      );
    } else if (sub === 'hold') {
      if (!values.target || !values.reason) throw new Error('usage: cauyte retention hold --target Patient/ID|Encounter/ID --reason TEXT');
      console.log(`Legal hold ${await placeHold(core.store, values.target, values.reason, by)} placed on ${values.target}.`);
    } else if (sub === 'release') {
      if (!values.id) throw new Error('usage: cauyte retention release --id N');
      console.log((await releaseHold(core.store, Number(values.id), by)) ? `Hold ${values.id} released.` : `No active hold ${values.id}.`);
    } else throw new Error('usage: cauyte retention run [--dry-run] | hold --target T --reason R | release --id N');
    await core.audit.seal();
  } finally {
    await db.close();
  }
}
