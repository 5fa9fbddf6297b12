/**
 * A transaction's BEGIN sent with its first statement, so that opening a transaction costs no round
 * trip of its own (issue #19 item 4: a single create was BEGIN, its write, a listener's statement
 * and COMMIT — four round trips, each 130–200 µs of client CPU and 0.2–1 ms of wall time here).
 *
 * Protocol (PostgreSQL docs, "Extended Query"): the messages up to a Sync are one pipeline; the
 * server answers them in order and sends one ReadyForQuery after the Sync. So Bind + Execute of a
 * BEGIN prepared on the connection, then the statement's own Parse/Bind/Describe/Execute, then one
 * Sync: BEGIN runs, then the statement inside the transaction it opened, one answer. If either
 * fails, the server skips to the Sync and the caller's transaction is rolled back as usual.
 *
 * A node-postgres Query whose submit sends the BEGIN first (as src/db/copy-pg.ts, a Submittable
 * the client routes the backend messages to). The BEGIN is bound by name, never parsed here: a
 * ParseComplete would be taken by the client for the statement's own and mark it prepared. So a
 * connection's first transaction sends BEGIN by itself, prepared under BEGIN_STATEMENT
 * (`BEGIN_ALONE`); later ones on that connection pipeline it (`QueryAfterBegin`).
 *
 * Rules: only statements with parameters or prepared (single statements, extended protocol) are
 * pipelined; a plain text query (it may hold several statements), a script (exec) or a COPY as a
 * transaction's first step sends the BEGIN by itself first. If the server lost the prepared BEGIN
 * (BeginGone: nothing ran), the caller prepares it again and runs the statement after it.
 */
import pg from 'pg';

/** The name BEGIN is prepared under on each connection. */
export const BEGIN_STATEMENT = 'cauyte_begin';

/** The query config that prepares (once per connection) and runs BEGIN on its own. */
export const BEGIN_ALONE = { name: BEGIN_STATEMENT, text: 'BEGIN' } as const;

/** The parts of node-postgres's Connection this uses (not in its type declarations). */
interface WireConnection {
  parsedStatements: Record<string, string>;
  parse(config: { text: string; name: string; types: unknown[] }): void;
  bind(config: { statement: string; values: unknown[] }): void;
  execute(config: object): void;
  sync(): void;
}

const wire = (client: pg.PoolClient) => (client as unknown as { connection?: WireConnection }).connection;

/** Whether BEGIN is already prepared on this client's connection (so QueryAfterBegin may bind it). */
export function beginPrepared(client: pg.PoolClient): boolean {
  return wire(client)?.parsedStatements[BEGIN_STATEMENT] !== undefined;
}

/** The server no longer holds the prepared BEGIN (DEALLOCATE, DISCARD, a pooler that switched backends): nothing of the pipeline ran. */
export class BeginGone extends Error {
  constructor(override readonly cause: Error) {
    super(`the prepared BEGIN is gone from this connection: ${cause.message}`);
  }
}

/** Makes the client prepare BEGIN again on its next transaction (after BeginGone). */
export function forgetBegin(client: pg.PoolClient): void {
  const connection = wire(client);
  if (connection) delete connection.parsedStatements[BEGIN_STATEMENT];
}

type QueryInternals = {
  portal?: string;
  prepare(connection: WireConnection): void;
  _getRows(connection: WireConnection, rows?: number): void;
  handleCommandComplete(msg: unknown, connection: WireConnection): void;
};
const Base = pg.Query as unknown as new (config: pg.QueryConfig) => pg.Query & QueryInternals & { callback?: unknown };

/** What goes on the wire around a pipelined statement. */
export interface Pipeline {
  /** BEGIN (prepared on the connection: beginPrepared) before the statement. */
  begin: boolean;
  /**
   * COMMIT after the statement, in the same pipeline (the transaction's last statement): parsed
   * unnamed each time, so nothing needs preparing and nothing can be "gone". Its ParseComplete
   * comes after the statement's own, so it cannot mark a statement prepared whose Parse failed;
   * if the statement fails, the server skips to the Sync and COMMIT never runs.
   */
  commit: boolean;
}

/**
 * One statement with BEGIN before it and/or COMMIT after it on the wire, all answered by one
 * ReadyForQuery. Resolves with the statement's result alone.
 */
export class PipelinedQuery extends Base {
  /** CommandCompletes seen: BEGIN's (when sent) comes first, COMMIT's (when sent) last. */
  private completes = 0;
  /** Whether BEGIN had run when the statement failed or finished (BeginGone is told from other errors by it). */
  get beginDone(): boolean {
    return !this.pipeline.begin || this.completes > 0;
  }
  constructor(
    config: pg.QueryConfig,
    private readonly pipeline: Pipeline,
  ) {
    super(config);
    // Rows fetched a page at a time would leave the COMMIT unsent and the transaction open.
    if (pipeline.commit && (config as { rows?: number }).rows) throw new Error('a statement carrying the COMMIT cannot fetch its rows by pages');
  }

  /** Always the extended protocol: one Sync after every part. */
  requiresPreparation(): boolean {
    return true;
  }

  override prepare(connection: WireConnection): void {
    if (this.pipeline.begin) {
      connection.bind({ statement: BEGIN_STATEMENT, values: [] });
      connection.execute({});
    }
    super.prepare(connection);
  }

  /** The statement's Execute, then (when asked) COMMIT's Parse/Bind/Execute, then the one Sync. */
  override _getRows(connection: WireConnection, rows?: number): void {
    if (!this.pipeline.commit || rows) return super._getRows(connection, rows);
    connection.execute({ portal: this.portal, rows });
    connection.parse({ text: 'COMMIT', name: '', types: [] });
    connection.bind({ statement: '', values: [] });
    connection.execute({});
    connection.sync();
  }

  override handleCommandComplete(msg: unknown, connection: WireConnection): void {
    const n = this.completes++;
    if (this.pipeline.begin && n === 0) return;
    if (this.pipeline.commit && n === (this.pipeline.begin ? 2 : 1)) return;
    super.handleCommandComplete(msg, connection);
  }
}

/** Runs one statement with BEGIN before it and/or COMMIT after it; the promise of its result. */
export function pipelined(client: pg.PoolClient, config: pg.QueryConfig, pipeline: Pipeline): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    const q = new PipelinedQuery(config, pipeline);
    q.callback = (err: (Error & { code?: string }) | null, res: pg.QueryResult) => {
      // 26000: no prepared statement of that name — BEGIN did not run, so neither did the statement.
      if (err) reject(!q.beginDone && err.code === '26000' && err.message.includes(BEGIN_STATEMENT) ? new BeginGone(err) : err);
      else resolve(res);
    };
    void client.query(q as unknown as pg.Submittable);
  });
}

/** Runs one statement with the BEGIN before it; the promise of its result. */
export const queryAfterBegin = (client: pg.PoolClient, config: pg.QueryConfig) => pipelined(client, config, { begin: true, commit: false });
