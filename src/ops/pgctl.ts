/**
 * PostgreSQL clusters of our own on loopback, for drills and the one-machine cluster: initdb,
 * start/stop, pg_basebackup, promote — the Debian PostgreSQL tools, run as the `postgres` user
 * when we are root (PostgreSQL refuses to run as root). Never touches the machine's main cluster
 * (5432): every cluster here has its own folder, port and socket directory.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';

/** The PostgreSQL binaries folder (PG_BIN, or the newest /usr/lib/postgresql/<v>/bin), or undefined. */
export function pgBin(): string | undefined {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'initdb'))) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : undefined;
}

const asRoot = process.getuid?.() === 0;

function ids(): { uid: number; gid: number } {
  return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
}

/** Makes a folder the cluster's user owns. */
export function ownedDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (asRoot) {
    const { uid, gid } = ids();
    chownSync(path, uid, gid);
  }
  return path;
}

/** Hands a copied cluster folder to the cluster's user (a copy made as root belongs to root). */
export function giveToPostgres(dir: string): void {
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  execFileSync('chmod', ['700', join(dir, 'data')]);
}

/** Runs a PostgreSQL tool (as postgres when root); throws with its output when it fails. */
export function pgTool(tool: string, args: string[], opts: { timeoutMs?: number } = {}): string {
  const bin = pgBin();
  if (!bin) throw new Error('PostgreSQL server tools are not installed (apt-get install postgresql)');
  const cmd = asRoot ? 'runuser' : join(bin, tool);
  const argv = asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args;
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, cwd: '/tmp' });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').slice(-2000)}`);
  return r.stdout;
}

export class PgCluster {
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get data(): string {
    return join(this.dir, 'data');
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}`;
  }

  /** A new primary: WAL for replication, and archiving into `archive` when given. */
  static init(dir: string, port: number, opts: { archive?: string; extra?: string[] } = {}): PgCluster {
    ownedDir(dir);
    const c = new PgCluster(dir, port);
    pgTool('initdb', ['-D', c.data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    c.configure([
      "wal_level = 'replica'",
      'max_wal_senders = 10',
      'wal_keep_size = 256MB',
      ...(opts.archive ? ['archive_mode = on', `archive_command = 'test ! -f ${ownedDir(opts.archive)}/%f && cp %p ${opts.archive}/%f'`] : []),
      ...(opts.extra ?? []),
    ]);
    return c;
  }

  /** Settings every cluster of ours has (own port, loopback, own socket folder), plus `lines`. */
  configure(lines: string[]): void {
    appendFileSync(
      join(this.data, 'postgresql.conf'),
      [
        '',
        '# cauyte drill settings',
        `port = ${this.port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${this.dir}'`,
        'shared_buffers = 32MB',
        'max_connections = 60',
        'fsync = on',
        ...lines,
        '',
      ].join('\n'),
    );
  }

  start(): void {
    pgTool('pg_ctl', ['-D', this.data, '-l', join(this.dir, 'server.log'), '-w', '-t', '60', 'start']);
  }

  /** mode 'immediate' = a crash (no shutdown checkpoint), as when the server is lost. */
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    pgTool('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** Stops it if it runs (cleanup). */
  stopQuietly(): void {
    try {
      this.stop('immediate');
    } catch {}
  }

  /** The server's pid (from postmaster.pid), for a kill -9 drill. */
  pid(): number | undefined {
    try {
      return Number(
        execFileSync('head', ['-1', join(this.data, 'postmaster.pid')])
          .toString()
          .trim(),
      );
    } catch {
      return undefined;
    }
  }

  promote(): void {
    pgTool('pg_ctl', ['-D', this.data, '-w', '-t', '60', 'promote']);
  }

  /** A copy of `from` as a base backup in this cluster's folder (-R: a standby that streams from it). */
  static baseBackup(from: PgCluster, dir: string, port: number, opts: { standby?: boolean; appName?: string } = {}): PgCluster {
    ownedDir(dir);
    const c = new PgCluster(dir, port);
    pgTool('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(from.port),
      '-U',
      'postgres',
      '-D',
      c.data,
      '-X',
      'stream',
      '-c',
      'fast',
      ...(opts.standby ? ['-R'] : []),
      ...(opts.appName ? ['-d', `application_name=${opts.appName}`] : []),
    ]);
    return c;
  }
}
