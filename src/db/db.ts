/**
 * One database interface over embedded PGlite and a PostgreSQL server.
 * Both speak the same SQL dialect; callers never know which one they have.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { assertCopyFromStdin, copyAllInto, copyData, type CopyInput } from './copy-pg.ts';
import { BEGIN_ALONE, BeginGone, beginPrepared, forgetBegin, pipelined } from './pg-begin.ts';

export type { CopyInput } from './copy-pg.ts';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Keep the statement prepared on the connection (PostgreSQL plans it once instead of on every
   * call). Only for hot statements whose text comes from a small, fixed set.
   */
  prepare?: boolean;
  /**
   * The transaction's last statement: it commits with it (on PostgreSQL COMMIT goes in the same
   * pipeline, src/db/pg-begin.ts — a write that is one statement is one round trip). The
   * transaction's handle refuses any statement after it. Only on a transaction's handle; a failure
   * of the statement or of the COMMIT rolls everything back as usual.
   */
  last?: boolean;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], opts?: QueryOptions): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * `COPY table (cols) FROM STDIN` statements, each with its rows in COPY's text format
   * (src/db/copy-text.ts), run in order: the bulk write path. On PostgreSQL they go as one query,
   * every statement's rows sent without waiting for the server (src/db/copy-pg.ts: one round trip);
   * PGlite reads each from its blob device instead. The first failure stops the rest. Only a
   * transaction's handle has it (a bulk write is never half done); absent elsewhere, and callers
   * fall back to INSERT.
   */
  copyFrom?(statements: readonly CopyInput[]): Promise<void>;
  /**
   * The smallest write (in resources) for which COPY beats one INSERT statement on this database
   * (storage-copy.ts): 64 on both (on PGlite on disk, its blob-device COPY is level with the INSERT
   * at 64 resources and 20–30 % faster at a Synthea bundle's 226, docs/benchmarks.md). A database
   * and its transactions' handles say the same.
   */
  readonly copyWorthFrom?: number;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction: all of its writes commit together or not at all. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// int8 (bigint) as a JS number: our row ids stay far below 2^53.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
pg.types.setTypeParser(INT8_OID, (v) => Number(v));
pg.types.setTypeParser(NUMERIC_OID, (v) => Number(v));

/** PGlite has no STDIN: the same COPY reads the blob passed with the query. */
function blobCopy(sql: string): string {
  assertCopyFromStdin(sql);
  return sql.replace(/FROM\s+STDIN\s*$/i, "FROM '/dev/blob'");
}

export class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  readonly copyWorthFrom = 64;
  readonly pool: pg.Pool;

  constructor(connectionString: string, poolSize = 10) {
    this.pool = new pg.Pool({ connectionString, max: poolSize });
    // An idle client that errors (server restart) must not crash the process.
    this.pool.on('error', () => undefined);
    // Sessions in UTC whatever the server, the database, DATABASE_URL's options or PGOPTIONS say
    // (src/db/session-timezone.test.ts): SQL's day and month arithmetic gives what it gives on
    // PGlite; Vietnamese days are computed explicitly. Queued on a new connection before any
    // statement of its user (a client runs its queries in order); a failure fails that statement.
    this.pool.on('connect', (client) => {
      client.query("SET TimeZone = 'UTC'").catch(() => undefined);
    });
  }

  async query<T>(sql: string, params?: readonly unknown[], opts?: QueryOptions): Promise<QueryResult<T>> {
    const r = opts?.prepare
      ? await this.pool.query({ name: statementName(sql), text: sql, values: params as unknown[] })
      : await this.pool.query(sql, params as unknown[]);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client whose server goes away (failover) emits 'error' between statements;
    // unhandled, that would end the process. The statement in progress fails on its own.
    const onError = () => undefined;
    client.on('error', onError);
    // BEGIN goes with the transaction's first statement (src/db/pg-begin.ts), or by itself before
    // a script or a COPY, and on a connection's first transaction (which prepares it there).
    let begun: Promise<unknown> | undefined;
    let over = false;
    /** The last statement ran with its COMMIT: nothing is left to send. */
    let committed = false;
    let broken = false;
    // A statement sent after the transaction ended would run on a connection back in the pool.
    const assertOpen = () => {
      if (over || committed) throw new Error('this transaction is over: its handle cannot run statements');
    };
    const beginAlone = () => (begun ??= client.query(BEGIN_ALONE));
    /** The first statement with BEGIN before it (and COMMIT after it when last); if the server lost the prepared BEGIN (nothing ran), prepared again and run after it. */
    const firstAfterBegin = (config: pg.QueryConfig, commit: boolean) =>
      pipelined(client, config, { begin: true, commit }).catch(async (err) => {
        if (!(err instanceof BeginGone)) throw err;
        forgetBegin(client);
        await client.query(BEGIN_ALONE);
        return commit ? pipelined(client, config, { begin: false, commit }) : client.query(config);
      });
    try {
      const tx: Queryable = {
        query: async <R>(sql: string, params?: readonly unknown[], opts?: QueryOptions) => {
          assertOpen();
          const config = { ...(opts?.prepare ? { name: statementName(sql) } : {}), text: sql, values: params as unknown[] };
          const last = !!opts?.last;
          // A plain text query may hold several statements (simple protocol): it never pipelines.
          const extended = !!(params?.length || opts?.prepare);
          if (last) committed = true;
          let r;
          if (!begun && extended && beginPrepared(client)) {
            const first = firstAfterBegin(config, last);
            // Statements issued meanwhile wait until the transaction is open.
            begun = first.then(
              () => undefined,
              () => undefined,
            );
            r = await first;
          } else {
            await beginAlone();
            if (last && extended) r = await pipelined(client, config, { begin: false, commit: true });
            else {
              r = await client.query(config);
              if (last) await client.query('COMMIT');
            }
          }
          return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
        },
        exec: async (sql: string) => {
          assertOpen();
          await beginAlone();
          await client.query(sql);
        },
        copyFrom: async (statements: readonly CopyInput[]) => {
          assertOpen();
          await beginAlone();
          await copyAllInto(client, statements);
        },
        copyWorthFrom: this.copyWorthFrom,
      };
      const result = await fn(tx);
      // A transaction that ran no statement has nothing to commit; one whose last statement carried it neither.
      if (begun && !committed) await client.query('COMMIT');
      return result;
    } catch (err) {
      // After a failed statement (or a failed COMMIT) the server holds an aborted transaction, or none: ROLLBACK either way.
      if (begun)
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
      throw err;
    } finally {
      over = true;
      client.off('error', onError);
      // A connection whose ROLLBACK failed may still be inside a transaction: closed, not pooled.
      client.release(broken || undefined);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  readonly copyWorthFrom = 64;

  constructor(
    readonly pglite: PGlite,
    private readonly lockFile?: string,
  ) {}

  /** dataDir undefined = in memory; loadDataDir = start from a dump (fast test databases). */
  static async open(dataDir?: string, loadDataDir?: Blob): Promise<PgliteDb> {
    let lockFile: string | undefined;
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      lockFile = takeLock(dataDir);
    }
    const pglite = await PGlite.create({
      dataDir,
      loadDataDir,
      extensions: { pg_trgm },
      parsers: { [INT8_OID]: (v: string) => Number(v), [NUMERIC_OID]: (v: string) => Number(v) },
    });
    // The whole database is in memory or the page cache: a page read out of order costs what the
    // next one in order does. At PostgreSQL's default (4, for spinning disks) a read of one type's
    // 500–1,500 rows scanned all 10,000 versions instead of looking each up (≈ 2× slower, measured
    // 2026-12-01); 1.1 is the usual setting for SSDs and memory.
    await pglite.exec('SET random_page_cost = 1.1');
    return new PgliteDb(pglite, lockFile);
  }

  /** Statements prepared on the embedded database (name), or refused for preparing (null). */
  private readonly prepared = new Map<string, string | null>();

  async query<T>(sql: string, params?: readonly unknown[], opts?: QueryOptions): Promise<QueryResult<T>> {
    if (opts?.prepare) {
      const name = await this.prepare(sql);
      if (name) {
        // PGlite has no named statements in its query API: EXECUTE with each parameter as a quoted
        // literal, which PostgreSQL coerces to the type PREPARE inferred (planned once, not per call).
        return executePrepared<T>(this.pglite, name, params);
      }
    }
    const r = await this.pglite.query<T>(sql, params as unknown[]);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  /** PREPAREs a hot statement once (outside any transaction: PREPARE is not transactional); null when it cannot be. */
  private async prepare(sql: string): Promise<string | null> {
    const known = this.prepared.get(sql);
    if (known !== undefined) return known;
    if (this.prepared.size >= 500) return null;
    const name = statementName(sql);
    try {
      await this.pglite.exec(`PREPARE ${name} AS ${sql}`);
      this.prepared.set(sql, name);
      return name;
    } catch {
      this.prepared.set(sql, null); // e.g. a parameter whose type PostgreSQL cannot infer: run it plainly
      return null;
    }
  }

  async exec(sql: string): Promise<void> {
    await this.pglite.exec(sql);
  }

  /** Hot statements first seen inside a transaction: prepared once it is over (PREPARE must not fail inside one). */
  private readonly toPrepare = new Set<string>();

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    // The same rule as on PostgreSQL: nothing after the last statement (PGlite commits when fn returns).
    let ended = false;
    const assertOpen = () => {
      if (ended) throw new Error('this transaction is over: its handle cannot run statements');
    };
    try {
      return await this.pglite.transaction(async (t) =>
        fn({
          query: async <R>(sql: string, params?: readonly unknown[], opts?: QueryOptions) => {
            assertOpen();
            if (opts?.last) ended = true;
            if (opts?.prepare) {
              const name = this.prepared.get(sql);
              if (name) return executePrepared<R>(t, name, params);
              if (name === undefined) this.toPrepare.add(sql);
            }
            const r = await t.query<R>(sql, params as unknown[]);
            return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
          },
          exec: async (sql: string) => {
            assertOpen();
            await t.exec(sql);
          },
          copyFrom: async (statements: readonly CopyInput[]) => {
            assertOpen();
            for (const s of statements) await t.query(blobCopy(s.sql), [], { blob: new Blob([copyData(s) as BlobPart]) });
          },
          copyWorthFrom: this.copyWorthFrom,
        }),
      );
    } finally {
      ended = true;
      if (this.toPrepare.size) {
        const pending = [...this.toPrepare];
        this.toPrepare.clear();
        for (const sql of pending) await this.prepare(sql);
      }
    }
  }

  async close(): Promise<void> {
    await this.pglite.close();
    if (this.lockFile) rmSync(this.lockFile, { force: true });
  }
}

/**
 * EXECUTE of a statement PREPAREd on PGlite, its values inline as quoted literals, sent by the simple
 * query protocol (`exec`: one Query message; `query` sends Parse, Bind, Describe, Execute and Sync
 * and parses their answers): the same rows, types and errors, ≈ 40 % less time a call for a
 * short statement (`SELECT 1`: 160 against 266 µs, measured 2026-12-06 on this machine).
 */
async function executePrepared<T>(
  runner: { exec: (sql: string) => Promise<{ rows: unknown[]; affectedRows?: number }[]> },
  name: string,
  params?: readonly unknown[],
): Promise<QueryResult<T>> {
  const [r] = await runner.exec(`EXECUTE ${name}(${(params ?? []).map(literal).join(', ')})`);
  return { rows: r.rows as T[], rowCount: r.affectedRows ?? r.rows.length };
}

/**
 * An embedded database folder belongs to one process at a time (two would corrupt it): the
 * lock names the owner's pid; a lock left by a process that no longer runs is taken over.
 */
function takeLock(dataDir: string): string {
  const file = join(dataDir, 'cauyte.pid');
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return file;
  } catch {
    const owner = Number(readFileSync(file, 'utf8'));
    if (owner && owner !== process.pid && isAlive(owner)) {
      throw new Error(
        `The embedded database in ${dataDir} is in use by process ${owner}. Stop that process first (or import through its API, or use DATABASE_URL).`,
      );
    }
    writeFileSync(file, String(process.pid));
    return file;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A prepared statement's name, derived from its text so that one text always gets one name. */
const statementNames = new Map<string, string>();

/** A prepared statement's name from its text: hashed once per text (hot statements come from a small, fixed set). */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `s${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    if (statementNames.size < 2000) statementNames.set(sql, name);
  }
  return name;
}

/**
 * A parameter as an SQL literal for EXECUTE: quoted text (single quotes doubled; standard
 * conforming strings, so backslashes are plain characters) that PostgreSQL coerces to the
 * parameter's prepared type; arrays in PostgreSQL's array syntax; NULL as NULL.
 */
export function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  const quote = (x: string) => `'${x.replace(/'/g, "''")}'`;
  if (Array.isArray(v)) {
    const element = (e: unknown) => (e === null || e === undefined ? 'NULL' : `"${String(e instanceof Date ? e.toISOString() : e).replace(/[\\"]/g, '\\$&')}"`);
    return quote(`{${v.map(element).join(',')}}`);
  }
  if (v instanceof Date) return quote(v.toISOString());
  if (typeof v === 'object') return quote(JSON.stringify(v));
  return quote(String(v));
}

/** DATABASE_URL set = PostgreSQL server; otherwise PGlite in `<dataDir>/db`. */
export async function openDatabase(opts: { databaseUrl?: string; dataDir: string }): Promise<Db> {
  if (opts.databaseUrl) {
    const db = new PostgresDb(opts.databaseUrl);
    await db.query('SELECT 1');
    return db;
  }
  return PgliteDb.open(`${opts.dataDir}/db`);
}
