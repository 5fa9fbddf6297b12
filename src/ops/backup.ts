/**
 * `cauyte backup` / `cauyte restore`: one encrypted file holding
 *   - the embedded database (PGlite) as a consistent copy taken while the server runs: PGlite runs
 *     one statement at a time, and dumpDataDir() packs its data folder between statements, so the
 *     copy is a committed state (never half a transaction);
 *   - every file under $CAUYTE_DATA_DIR except the live database folder and run-time state:
 *     recordings, attachments, DICOM files, the outbox, the server secret (the audit chain is keyed
 *     by it: without it a restored chain cannot be verified). The database is copied first, so a
 *     file a committed row names is already on disk when the files are copied.
 * With PostgreSQL (DATABASE_URL) the database itself is covered by base backups + WAL archiving
 * (docs/operations.md); `cauyte backup` then copies the files only and says so in the manifest.
 *
 * Plaintext layout (then encrypted, src/ops/backup-crypto.ts): a sequence of entries, each a JSON
 * header line then `size` raw bytes: manifest, pglite (a gzipped tar), file…, end.
 */
import { randomBytes, createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  lstatSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { PgliteDb, type Db } from '../db/db.ts';
import { decryptTo, encryptTo } from './backup-crypto.ts';

/** Top-level entries of the data folder that are never copied: the live database (copied through its dump), locks, run-time config. */
const SKIP_TOP = new Set(['db', 'cauyte.pid', 'janus', 'backups']);

export interface Manifest {
  t: 'manifest';
  version: 1;
  createdAt: string;
  database: 'pglite' | 'postgres';
  files: number;
  note?: string;
}

type Header = Manifest | { t: 'pglite'; size: number } | { t: 'file'; path: string; size: number; mode: number; sha256: string } | { t: 'end' };

export interface BackupResult {
  file: string;
  database: 'pglite' | 'postgres';
  files: number;
  bytes: number;
}

/** Regular files under dataDir to copy (relative paths, sorted). */
function listFiles(dataDir: string, exclude: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, top: boolean) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      if (top && SKIP_TOP.has(name)) continue;
      const full = join(dir, name);
      if (full === exclude || name.endsWith('.cbk')) continue;
      const st = lstatSync(full);
      if (st.isDirectory()) walk(full, false);
      else if (st.isFile()) out.push(relative(dataDir, full));
    }
  };
  walk(dataDir, true);
  return out;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolvePromise(h.digest('hex')))
      .on('error', reject);
  });
}

function line(h: Header): Buffer {
  return Buffer.from(`${JSON.stringify(h)}\n`);
}

/** Writes an encrypted backup of the database (embedded) and the data folder's files to `out`. */
export async function createBackup(opts: { db: Db; dataDir: string; key: Buffer; out: string }): Promise<BackupResult> {
  const out = resolve(opts.out);
  mkdirSync(dirname(out), { recursive: true });
  // The database first (see the header), then the files as they are now.
  const dump = opts.db instanceof PgliteDb ? Buffer.from(await (await opts.db.pglite.dumpDataDir('gzip')).arrayBuffer()) : undefined;
  const files = listFiles(opts.dataDir, out);
  const entries: { path: string; size: number; mode: number; sha256: string }[] = [];
  for (const f of files) {
    const full = join(opts.dataDir, f);
    const st = statSync(full);
    entries.push({ path: f.split(sep).join('/'), size: st.size, mode: st.mode & 0o777, sha256: await sha256File(full) });
  }
  const manifest: Manifest = {
    t: 'manifest',
    version: 1,
    createdAt: new Date().toISOString(),
    database: opts.db.kind,
    files: entries.length,
    ...(dump
      ? {}
      : { note: 'PostgreSQL: the database is backed up by base backups and WAL archiving (docs/operations.md); this file holds the data folder only' }),
  };
  let bytes = 0;
  async function* plaintext(): AsyncGenerator<Buffer> {
    yield line(manifest);
    if (dump) {
      yield line({ t: 'pglite', size: dump.length });
      yield dump;
      bytes += dump.length;
    }
    for (const e of entries) {
      yield line({ t: 'file', ...e });
      let n = 0;
      for await (const chunk of createReadStream(join(opts.dataDir, e.path), { end: e.size - 1 })) {
        n += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (e.size === 0) continue;
      if (n !== e.size) throw new Error(`${e.path} changed size while being backed up`);
      bytes += n;
    }
    yield line({ t: 'end' });
  }
  await encryptTo(Readable.from(plaintext()), out, opts.key);
  return { file: out, database: opts.db.kind, files: entries.length, bytes };
}

/** Reads the plaintext entries one by one (positional reads: files may be larger than memory). */
class EntryReader {
  private pos = 0;
  constructor(private readonly fd: number) {}

  header(): Header {
    const bytes: number[] = [];
    const one = Buffer.alloc(1);
    for (;;) {
      if (readSync(this.fd, one, 0, 1, this.pos++) !== 1) throw new Error('the backup ends early');
      if (one[0] === 0x0a) break;
      bytes.push(one[0]);
      if (bytes.length > 64 * 1024) throw new Error('the backup is damaged (header too long)');
    }
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as Header;
  }

  /** Copies the next `size` bytes to `target` (a file) or returns them. */
  copy(size: number, target?: string, mode = 0o600): Buffer | undefined {
    const fd = target ? openSync(target, 'w', mode) : undefined;
    const chunks: Buffer[] = [];
    try {
      let left = size;
      while (left > 0) {
        const buf = Buffer.alloc(Math.min(left, 1 << 20));
        const n = readSync(this.fd, buf, 0, buf.length, this.pos);
        if (n <= 0) throw new Error('the backup ends early');
        this.pos += n;
        left -= n;
        if (fd !== undefined) writeSync(fd, buf, 0, n);
        else chunks.push(buf.subarray(0, n));
      }
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return target ? undefined : Buffer.concat(chunks);
  }
}

function safePath(dataDir: string, rel: string): string {
  if (!rel || rel.startsWith('/') || rel.split('/').some((p) => p === '..' || p === ''))
    throw new Error(`the backup names an unsafe path: ${JSON.stringify(rel)}`);
  return join(dataDir, ...rel.split('/'));
}

export interface RestoreResult {
  manifest: Manifest;
  files: number;
  database: boolean;
  /** Where the database folder that was there before went (kept, never deleted). */
  previous?: string;
}

/**
 * Restores a backup into dataDir (the server must be stopped: the embedded database's lock is
 * taken). The file is decrypted and authenticated completely before anything is written; an
 * existing database folder is kept beside the restored one (db.before-restore-<time>), never deleted.
 */
export async function restoreBackup(opts: { file: string; dataDir: string; key: Buffer }): Promise<RestoreResult> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const work = join(dataDir, `.restore-${randomBytes(6).toString('hex')}`);
  mkdirSync(work, { mode: 0o700 });
  try {
    const plain = join(work, 'plain');
    await decryptTo(resolve(opts.file), plain, opts.key);
    const fd = openSync(plain, 'r');
    try {
      const r = new EntryReader(fd);
      const manifest = r.header();
      if (manifest.t !== 'manifest' || manifest.version !== 1) throw new Error('the backup has no manifest');
      let files = 0;
      let database = false;
      let previous: string | undefined;
      for (;;) {
        const h = r.header();
        if (h.t === 'end') break;
        if (h.t === 'pglite') {
          const tar = r.copy(h.size)!;
          const dbDir = join(dataDir, 'db');
          if (existsSync(dbDir) && readdirSync(dbDir).length > 0) {
            previous = join(dataDir, `db.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`);
            renameSync(dbDir, previous);
          }
          const db = await PgliteDb.open(dbDir, new Blob([new Uint8Array(tar)]));
          await db.query('SELECT 1');
          await db.close();
          database = true;
        } else if (h.t === 'file') {
          const target = safePath(dataDir, h.path);
          mkdirSync(dirname(target), { recursive: true });
          r.copy(h.size, target, h.mode);
          if ((await sha256File(target)) !== h.sha256) throw new Error(`${h.path} does not match its checksum`);
          files++;
        } else {
          throw new Error('the backup is damaged (unknown entry)');
        }
      }
      if (files !== manifest.files) throw new Error(`the backup lists ${manifest.files} files but holds ${files}`);
      return { manifest, files, database, previous };
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A backup file name for now: cauyte-backup-20261130T120000Z.cbk */
export function backupFileName(now = new Date()): string {
  return `cauyte-backup-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.cbk`;
}
