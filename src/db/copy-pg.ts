/**
 * Several `COPY … FROM STDIN` statements sent to PostgreSQL as one simple query, each statement's
 * rows written right behind the query without waiting for the server's CopyInResponse: one round
 * trip for the lot instead of two per statement (a round trip on this machine costs 130–200 µs of
 * client CPU; an import file is eight COPY statements — docs/benchmarks.md).
 *
 * Protocol (PostgreSQL docs, "COPY Operations" and "Simple Query"): the statements of one Query
 * message run in turn; each COPY FROM STDIN enters copy-in mode and reads the CopyData messages
 * that follow, up to its CopyDone, then the next statement runs; one ReadyForQuery ends the lot.
 * If one fails, "the rest of that message is discarded" and the CopyData, CopyDone and CopyFail
 * messages already sent "will simply be dropped", so a failure leaves the connection usable and,
 * inside the caller's transaction, nothing written. A statement's text must not fail half-built:
 * when building it throws, a CopyFail is sent instead, which fails the query the same way.
 *
 * A node-postgres Submittable (as pg-copy-streams' `from` is): the client routes this query's
 * backend messages to the handle* methods.
 */
import type pg from 'pg';

/** One COPY … FROM STDIN and its rows in COPY text (src/db/copy-text.ts); a function builds them when its statement's turn comes. */
export interface CopyInput {
  sql: string;
  data: string | Uint8Array | (() => string | Uint8Array);
}

/** A statement copyFrom takes: one `COPY … FROM STDIN`, nothing after it (the statements are joined into one query). */
export function assertCopyFromStdin(sql: string): void {
  if (!/^\s*COPY\s[^;]*\sFROM\s+STDIN\s*$/i.test(sql)) throw new Error(`copyFrom takes single COPY … FROM STDIN statements, got ${sql.slice(0, 80)}`);
}

/** The text a statement sends: its data, built now when it is a function. */
export function copyData(s: CopyInput): string | Uint8Array {
  return typeof s.data === 'function' ? s.data() : s.data;
}

const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);
/** Rows go in CopyData messages of at most 1 MiB (one message may not pass the server's 1 GiB limit). */
const CHUNK = 1 << 20;

/** A frontend message: its type byte, its length (itself included) and its body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function cString(text: string): Buffer {
  return Buffer.from(`${text}\0`, 'utf8');
}

interface Connection {
  stream: { write(b: Uint8Array): boolean; cork(): void; uncork(): void };
}

class CopyAll {
  /** Rows the server reported per statement (CommandComplete `COPY n`). */
  readonly counts: number[] = [];
  private failed = false;

  constructor(
    private readonly statements: readonly CopyInput[],
    private readonly settle: (err?: Error) => void,
  ) {}

  submit(connection: Connection): void {
    const out = connection.stream;
    out.write(message('Q', cString(this.statements.map((s) => s.sql).join(';\n'))));
    try {
      for (const s of this.statements) {
        const d = copyData(s);
        const data = typeof d === 'string' ? Buffer.from(d, 'utf8') : d;
        // Written as built: the server works on one statement while the next one's text is made.
        out.cork();
        for (let at = 0; at < data.length; at += CHUNK) {
          const part = data.subarray(at, Math.min(data.length, at + CHUNK));
          const head = Buffer.alloc(5);
          head[0] = 0x64; // CopyData
          head.writeUInt32BE(part.length + 4, 1);
          out.write(head);
          out.write(part);
        }
        out.write(COPY_DONE);
        out.uncork();
      }
    } catch (err) {
      // The query is under way: fail it (the server drops whatever follows) rather than leave it waiting.
      out.uncork();
      out.write(message('f', cString(`the rows could not be built: ${(err as Error).message}`.replace(/\0/g, ''))));
    }
  }

  /**
   * node-postgres wraps this to clear its query_timeout timer (client.js): called once the query
   * has ended, as pg-copy-streams does, or the timer outlives the query.
   */
  callback(): void {}

  handleCopyInResponse(): void {}

  handleCommandComplete(msg: { text?: string }): void {
    const m = /^COPY (\d+)/.exec(msg.text ?? '');
    this.counts.push(m ? Number(m[1]) : 0);
  }

  handleReadyForQuery(): void {
    this.callback();
    if (!this.failed) this.settle();
  }

  handleError(err: Error): void {
    this.callback();
    this.failed = true;
    this.settle(err);
  }

  // A COPY FROM STDIN returns no rows; these are never called for it.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
}

/** Runs the statements on this client as one query (see the header); resolves with each one's row count. */
export function copyAllInto(client: pg.ClientBase, statements: readonly CopyInput[]): Promise<number[]> {
  if (statements.length === 0) return Promise.resolve([]);
  for (const s of statements) assertCopyFromStdin(s.sql);
  return new Promise<number[]>((resolve, reject) => {
    const q = new CopyAll(statements, (err) => (err ? reject(err) : resolve(q.counts)));
    void client.query(q as unknown as pg.Submittable);
  });
}
