/**
 * The write listeners' dry run (write-listeners.ts): it says "quiet" only when no listener touched
 * the database, even one that caught the refusal; after a quiet dry run the listeners are not run
 * again (an answer that would change in between — a cache expiring — cannot make them write after
 * the COMMIT went), and the statement-free stateful ones are called exactly once.
 */
import { describe, expect, it } from 'vitest';
import type { Queryable } from '../db/db.ts';
import { WriteListeners, type Entry } from './write-listeners.ts';

const entry: Entry = { resourceType: 'Observation', id: 'o1', versionId: 1, lastUpdated: new Date(), deleted: false, method: 'POST', rid: 0 };
const recording = () => {
  const sent: string[] = [];
  const q: Queryable = {
    query: async <T>(sql: string) => {
      sent.push(sql);
      return { rows: [] as T[], rowCount: 0 };
    },
    exec: async (sql: string) => void sent.push(sql),
  };
  return { q, sent };
};

describe('the write listeners’ dry run', () => {
  it('is quiet when nothing touches the database, and binding: the listeners are not run again', async () => {
    const l = new WriteListeners();
    let writeNow = false; // a decision that changes between the dry run and the write (a cache expiring)
    let counted = 0;
    l.add(async (q, e) => {
      if (writeNow && e.resourceType === 'Observation') await q.query('INSERT INTO x VALUES (1)');
    });
    l.addBatch(async (_q, es) => void (counted += es.length), { statements: false });
    expect(await l.quiet([entry])).toBe(true);
    expect(counted).toBe(0);
    writeNow = true;
    const { q, sent } = recording();
    await l.notify(q, [{ ...entry, rid: 7 }], { dryRunQuiet: true });
    expect(sent).toEqual([]);
    expect(counted).toBe(1);
    // Without a quiet dry run every listener runs.
    await l.notify(q, [{ ...entry, rid: 8 }]);
    expect(sent).toEqual(['INSERT INTO x VALUES (1)']);
    expect(counted).toBe(2);
  });

  it('is not quiet when a listener reads, writes, or tries and swallows the refusal', async () => {
    const reads = new WriteListeners();
    reads.add(async (q) => void (await q.query('SELECT 1')));
    expect(await reads.quiet([entry])).toBe(false);
    const swallows = new WriteListeners();
    swallows.add(async (q) => {
      try {
        await q.query('INSERT INTO x VALUES (1)');
      } catch {
        /* a listener must not do this; the dry run still sees it */
      }
    });
    expect(await swallows.quiet([entry])).toBe(false);
    const batch = new WriteListeners();
    batch.addBatch(async (q, es) => void (es.length && (await q.exec('DELETE FROM x'))));
    expect(await batch.quiet([entry])).toBe(false);
    const throws = new WriteListeners();
    throws.add(async () => {
      throw new Error('a rule');
    });
    expect(await throws.quiet([entry])).toBe(false);
  });
});
