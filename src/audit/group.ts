/**
 * Grouped audit appends ("group commit" of the audit trail), for accesses that write nothing else:
 * a plain FHIR read decides access and fetches the content in one read-only statement, then waits
 * here until its audit row is durable, and only then answers. Entries that arrive while one group
 * is being written form the next group, written together (one transaction, one commit, one WAL
 * flush on PostgreSQL; already linked into the hash chain: src/audit/chain-append.ts) — so a busy
 * server pays one commit for many reads, and an idle one waits for nobody (a lone entry is written
 * on the next turn of the event loop; there is no timer).
 *
 * Rules: `append` resolves only after the entry's group has committed; if the write fails, every
 * entry of the group is rejected, so the caller answers an error and no data leaves without its
 * entry ("no access without its audit entry"). Accesses inside a transaction, and every write,
 * keep appending in their own transaction instead.
 */
import type { AuditEntry } from './audit.ts';

/** The most entries one group carries (a longer queue is written as several groups, one after another). */
const MAX_GROUP = 500;

interface Waiting {
  entry: AuditEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class AuditGroup {
  private queue: Waiting[] = [];
  private writing?: Promise<void>;
  /** Groups written and entries in them (for tests and metrics). */
  readonly stats = { groups: 0, entries: 0 };

  /** write: calls take() once it can write, and commits the entries it got (all or none) before it resolves. */
  constructor(private readonly write: (take: () => AuditEntry[]) => Promise<void>) {}

  /** Resolves once the entry is committed (with whichever others arrived meanwhile). */
  append(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      // Cleared by drain itself in the step that sees the queue empty, so no entry is left waiting.
      this.writing ??= this.drain();
    });
  }

  /** Waits until every entry handed in so far is written (or refused). */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Each group starts after the event loop's pending I/O: requests already received reach
        // their own statements first, and their entries join this group.
        await new Promise<void>((r) => setImmediate(r));
        const taken: { group?: Waiting[] } = {};
        // The writer takes the group when it is ready to write it (chain-append.ts: at once, for its
        // one statement); entries that arrive while that statement runs form the next group.
        const take = () => {
          taken.group = this.queue.splice(0, MAX_GROUP);
          return taken.group.map((w) => w.entry);
        };
        try {
          await this.write(take);
          const group = taken.group ?? [];
          this.stats.groups += 1;
          this.stats.entries += group.length;
          for (const w of group) w.resolve();
        } catch (err) {
          // A writer that failed before taking refuses the entries waiting now (no retry loop).
          if (!taken.group) take();
          for (const w of taken.group ?? []) w.reject(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}
