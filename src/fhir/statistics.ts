/**
 * The planner's statistics of the record store's tables. PostgreSQL chooses each plan from what
 * it last learnt of a table's size and contents (ANALYZE); a table loaded since looks empty to it,
 * and a read of thousands of rows is then planned as thousands of single-row lookups (a bulk
 * export's file took twice as long right after the demo was loaded, measured 2026-12-01).
 *
 * - After a bulk load (the demo seed, `cauyte import`) the loader calls `analyzeStore` itself,
 *   as PostgreSQL's documentation asks of anyone who loads a table.
 * - Between loads, PostgreSQL's autovacuum keeps the statistics current; PGlite has no
 *   autovacuum, and a PostgreSQL server may have it turned off (this machine's CI server does),
 *   so there `StatisticsUpkeep` does its job: it counts the resources written, and once they pass
 *   autovacuum's threshold (50 rows plus 10 % of the store at the last analysis) it analyses the
 *   store again, checked every 10 s. Without it a plan cached while a table was small stays:
 *   on a server with autovacuum off, the foreign-key check of every version row kept a sequential
 *   scan of `resource` chosen when it held 206 rows, and an import fell from ≈ 3,600 to ≈ 180
 *   resources/s as the store grew (perf on the backend, 2026-12-03); an ANALYZE makes PostgreSQL
 *   plan such statements again.
 *
 * Rules: only the record store's own tables (`resource`, `resource_version` and the search index
 * tables); ANALYZE reads a sample, changes no row and takes no lock that stops reads or writes.
 */
import type { Db, Queryable } from '../db/db.ts';
import { INDEX_TABLES } from './storage-rows.ts';

/** The record store's tables, as ANALYZE takes them. */
export const STORE_TABLES = ['resource', 'resource_version', ...INDEX_TABLES.map((t) => t.table)];

/** Brings the record store's statistics up to date (after a bulk load). */
export async function analyzeStore(q: Queryable): Promise<void> {
  await q.query(`ANALYZE ${STORE_TABLES.join(', ')}`);
}

/** Autovacuum's defaults: analyse again after 50 rows plus 10 % of the table have changed. */
const THRESHOLD_ROWS = 50;
const THRESHOLD_FRACTION = 0.1;
const CHECK_EVERY_MS = 10_000;

/** Whether the database analyses its own tables as they change: PostgreSQL with autovacuum and its row counting on; never PGlite. */
export async function autovacuumRuns(db: Db): Promise<boolean> {
  if (db.kind === 'pglite') return false;
  const r = await db.query<{ on: boolean }>("SELECT current_setting('autovacuum') = 'on' AND current_setting('track_counts') = 'on' AS on");
  return r.rows[0].on;
}

/** Autovacuum's analyses of the record store where the database has none running (see the header). */
export class StatisticsUpkeep {
  private written = 0;
  /** Resources in the store at the last analysis (null: not known yet, so the first check analyses). */
  private rowsAtLastAnalysis: number | null = null;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly db: Db) {}

  /** Whether the upkeep stands in for a PostgreSQL server's turned-off autovacuum (worth an operator's warning). */
  get replacesAutovacuum(): boolean {
    return this.db.kind === 'postgres' && this.timer !== undefined;
  }

  /** Resources written (counted whether or not their transaction commits: it only brings a check forward). */
  note(resources: number): void {
    this.written += resources;
  }

  /** Whether enough was written since the last analysis for another. */
  due(): boolean {
    if (this.rowsAtLastAnalysis === null) return this.written > 0;
    return this.written > THRESHOLD_ROWS + THRESHOLD_FRACTION * this.rowsAtLastAnalysis;
  }

  /** Analyses the store if it is due; gives whether it did. */
  async check(): Promise<boolean> {
    if (this.running || !this.due()) return false;
    await this.analyze();
    return true;
  }

  /** Analyses the store now (after a bulk load, or when due); what was written before counts no more. */
  async analyze(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
    const written = this.written;
    this.running = (async () => {
      await analyzeStore(this.db);
      const r = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM resource');
      this.rowsAtLastAnalysis = Number(r.rows[0].n);
      this.written -= written;
    })();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /**
   * Checks every 10 s where no autovacuum runs (PGlite; PostgreSQL with autovacuum off); gives
   * whether it does (a running autovacuum does this job already).
   */
  async start(onError: (err: Error) => void): Promise<boolean> {
    if (this.timer) return true;
    if (await autovacuumRuns(this.db)) return false;
    this.timer = setInterval(() => void this.check().catch(onError), CHECK_EVERY_MS);
    this.timer.unref();
    return true;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
