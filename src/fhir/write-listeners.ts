/**
 * The write listeners: what observes every write inside its transaction (derived tables, a
 * domain's indicator rows, queues, counters), and whether they would write anything for a write.
 *
 * A write that is one statement can carry its transaction's COMMIT (one round trip, issue #19
 * item 4) only if no listener issues a statement after it. Whether one would is found by running
 * the listeners first on a handle that refuses every statement (a dry run): a listener that
 * finishes there without touching the database decided so from the write alone, and does the same
 * when it runs for real; one that reaches for the database (to write or even to read) makes the
 * write keep its separate COMMIT. So listeners must do nothing but statements before their first
 * statement (no counters, no events); a listener that never issues statements and keeps state
 * (a counter) registers with `{ statements: false }` and is left out of the dry run.
 *
 * Rules: the dry run is conservative — any error in it (a refused statement or anything else)
 * counts as "would write"; a listener that wrote after all runs into the transaction's refusal of
 * statements after its last, and the write fails rather than lose a derived row.
 */
import type { CopyInput, Queryable, QueryResult } from '../db/db.ts';
import type { HistoryEntry } from './storage.ts';

export type Entry = HistoryEntry & { rid: number };
/** Something that can observe writes inside their transaction (derived tables, events). */
export type WriteListener = (tx: Queryable, entry: Entry) => Promise<void>;
/** The same for all the resources one statement wrote (a bundle's or a batch's creates) at once. */
export type BatchWriteListener = (tx: Queryable, entries: Entry[]) => Promise<void>;

class WouldWrite extends Error {}

/** A handle on which every statement is refused: the dry run's. */
const REFUSING: Queryable = {
  query: <T>(): Promise<QueryResult<T>> => Promise.reject(new WouldWrite('a listener would issue a statement')),
  exec: () => Promise.reject(new WouldWrite('a listener would issue a script')),
  copyFrom: (_: readonly CopyInput[]) => Promise.reject(new WouldWrite('a listener would COPY')),
};

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

  /** Tells every listener about the written entries, inside the write's transaction. */
  async notify(q: Queryable, entries: Entry[]): Promise<void> {
    for (const b of this.batch) await b.listener(q, entries);
    for (const e of entries) for (const l of this.each) await l(q, e);
  }

  /** Whether no listener would issue a statement for these entries (their rid not yet known: 0). */
  async quiet(entries: Entry[]): Promise<boolean> {
    try {
      for (const b of this.batch) if (b.statements) await b.listener(REFUSING, entries);
      for (const e of entries) for (const l of this.each) await l(REFUSING, e);
      return true;
    } catch {
      return false;
    }
  }
}
