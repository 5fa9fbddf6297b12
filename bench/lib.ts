/**
 * Benchmark helpers: timing, percentiles, a results table, server processes on free ports, the
 * COPY baseline, and `interleaved` — the two sides of every ratio run round by round (ABAB…), each
 * side and the per-round ratio reported as a median with its spread.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { announcedUrl } from '../src/platform/demo-banner.ts';
import { PgliteDb, PostgresDb, type Db } from '../src/db/db.ts';
import { freePort } from '../src/testing/platform.ts';

export interface Row {
  benchmark: string;
  db: string;
  value: string;
  unit: string;
  baseline?: string;
  ratio?: string;
  note?: string;
}

export const rows: Row[] = [];

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function printTable(): void {
  const headers = ['benchmark', 'db', 'median', 'unit', 'baseline (same run)', 'ratio', 'note'];
  const data = rows.map((r) => [r.benchmark, r.db, r.value, r.unit, r.baseline ?? '', r.ratio ?? '', r.note ?? '']);
  const widths = headers.map((h, i) => Math.max(h.length, ...data.map((d) => d[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const d of data) console.log(line(d));
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export interface Server {
  url: string;
  /** The bare Fastify app (baseline server only). */
  bareUrl?: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const CLI = new URL('../bin/cauyte.js', import.meta.url).pathname;

const BASELINE = new URL('./baseline-server.ts', import.meta.url).pathname;

/** The platform (`cauyte serve`), or with `baseline` the bench-only server without access control (bench/baseline-server.ts). */
export async function startServer(env: Record<string, string>, opts: { baseline?: boolean } = {}): Promise<Server> {
  // Free ports for everything the server listens on: other benches and tests share this machine.
  // (A target fixes PORT up front: tokens name the server's base URL.)
  const ports = { PORT: String(await freePort()), BENCH_BARE_PORT: String(await freePort()) };
  return new Promise((resolve, reject) => {
    const argv = opts.baseline ? ['--import', 'tsx', BASELINE] : [CLI, 'serve'];
    const child = spawn(process.execPath, argv, {
      env: { ...process.env, CAUYTE_DEMO: 'off', LOG_LEVEL: 'warn', CAUYTE_MQTT_PORT: '0', CAUYTE_JANUS: 'off', ...ports, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = announcedUrl(out);
      if (url) {
        clearTimeout(timer);
        resolve({
          url,
          bareUrl: /bare at (http:\/\/\S+)/.exec(out)?.[1],
          child,
          stop: () =>
            new Promise((r) => {
              child.once('exit', () => r());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
}

/** Raw COPY of JSON documents into a bare jsonb table: the physical floor for any import. */
export async function copyBaseline(db: Db, docs: string[]): Promise<number> {
  await db.exec('DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (content jsonb NOT NULL)');
  // COPY text format: backslashes must be doubled; JSON.stringify leaves no raw tabs or newlines.
  const text = docs.map((d) => d.replace(/\\/g, '\\\\')).join('\n') + '\n';
  const t0 = performance.now();
  if (db instanceof PgliteDb) {
    await db.pglite.query("COPY bench_copy (content) FROM '/dev/blob'", [], { blob: new Blob([text]) });
  } else if (db instanceof PostgresDb) {
    const { from } = await import('pg-copy-streams');
    const client = await db.pool.connect();
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = client.query(from('COPY bench_copy (content) FROM STDIN'));
        stream.on('finish', resolve);
        stream.on('error', reject);
        stream.end(text);
      });
    } finally {
      client.release();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const n = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_copy')).rows[0].n;
  if (n !== docs.length) throw new Error(`COPY baseline stored ${n} of ${docs.length} rows`);
  await db.exec('DROP TABLE bench_copy');
  return docs.length / seconds;
}

/** Runs fn with at most `concurrency` calls in flight until `total` calls are done. */
export async function pool(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (next < total) await fn(next++);
  });
  await Promise.all(workers);
}

/** "median (min–max)" */
export function spread(xs: number[], digits = 0): string {
  return `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
}

export interface Interleaved {
  a: number[];
  b: number[];
  /** a ÷ b per round. */
  ratios: number[];
}

/**
 * Runs the two sides of a ratio alternately, round by round (A B A B …), after one warm-up of
 * each; every call returns a rate. Drift on a shared machine then hits both sides alike, and the
 * per-round ratios show how much it moved.
 */
export async function interleaved(rounds: number, a: () => Promise<number>, b: () => Promise<number>, warmUp = true): Promise<Interleaved> {
  if (warmUp) {
    await a();
    await b();
  }
  const out: Interleaved = { a: [], b: [], ratios: [] };
  for (let r = 0; r < rounds; r++) {
    out.a.push(await a());
    out.b.push(await b());
    out.ratios.push(out.a[r] / out.b[r]);
  }
  return out;
}
