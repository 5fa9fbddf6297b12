/**
 * The write listeners: what observes every write inside its transaction (derived tables, a
 * domain's indicator rows, queues, counters), and whether they would write anything for a write.
 *
 * A write that is one statement can carry its transaction's COMMIT (one round trip, issue #19
 * item 4) only if no listener issues a statement after it. Whether one would is found by running
 * the listeners first on a handle that refuses every statement (a dry run). A listener must do
 * nothing but statements (no counters, no events, no swallowed errors), so one that finishes
 * there without touching the handle has done all it would do for this write: the dry run is then
 * its run, and it is not called again (its answer cannot change between two runs — a cache that
 * expires in between, say). One that reaches for the database (to write or even to read) makes
 * the write keep its separate COMMIT, and all listeners run after the statement as usual. A
 * listener that never issues statements and keeps state (a counter) registers with
 * `{ statements: false }`: left out of the dry run, it is always called after the write.
 *
 * Rules: the dry run is conservative — any error in it, or any touch of the handle even if the
 * listener caught the refusal, counts as "would write".
 */
import type { CopyInput, Queryable, QueryResult } from '../db/db.ts';
import type { HistoryEntry } from './storage.ts';

export type Entry = HistoryEntry & { rid: number };
/** Something that can observe writes inside their transaction (derived tables, events). */
export type WriteListener = (tx: Queryable, entry: Entry) => Promise<void>;
/** The same for all the resources one statement wrote (a bundle's or a batch's creates) at once. */
export type BatchWriteListener = (tx: Queryable, entries: Entry[]) => Promise<void>;

class WouldWrite extends Error {}

/** A handle on which every statement is refused, remembering whether anything was tried: the dry run's. */
function refusing(): Queryable & { touched: boolean } {
  const h = {
    touched: false,
    query: <T>(): Promise<QueryResult<T>> => {
      h.touched = true;
      return Promise.reject(new WouldWrite('a listener would issue a statement'));
    },
    exec: () => {
      h.touched = true;
      return Promise.reject(new WouldWrite('a listener would issue a script'));
    },
    copyFrom: (_: readonly CopyInput[]) => {
      h.touched = true;
      return Promise.reject(new WouldWrite('a listener would COPY'));
    },
  };
  return h;
}

export class WriteListeners {
  private readonly each: WriteListener[] = [];
  private readonly batch: { listener: BatchWriteListener; statements: boolean }[] = [];

  add(listener: WriteListener): void {
    this.each.push(listener);
  }

  /** A listener called once per statement with every resource it wrote; `statements: false` for one that never issues any. */
  addBatch(listener: BatchWriteListener, opts: { statements?: boolean } = {}): void {
    this.batch.push({ listener, statements: opts.statements ?? true });
  }

  /**
   * Tells the listeners about the written entries, inside the write's transaction. `dryRunQuiet`:
   * quiet() said true for exactly these entries — the listeners it ran have done their part, and
   * only those that never issue statements are left to call.
   */
  async notify(q: Queryable, entries: Entry[], opts: { dryRunQuiet?: boolean } = {}): Promise<void> {
    for (const b of this.batch) if (!opts.dryRunQuiet || !b.statements) await b.listener(q, entries);
    if (opts.dryRunQuiet) return;
    for (const e of entries) for (const l of this.each) await l(q, e);
  }

  /** Whether no listener would issue a statement for these entries (their rid not yet known: 0). */
  async quiet(entries: Entry[]): Promise<boolean> {
    const h = refusing();
    try {
      for (const b of this.batch) if (b.statements) await b.listener(h, entries);
      for (const e of entries) for (const l of this.each) await l(h, e);
      return !h.touched;
    } catch {
      return false;
    }
  }
}
