/**
 * The ingest queue's two orders for batches running side by side: answers leave in arrival order,
 * and a batch claims its messages only after the batch before it has claimed (or ended), so the
 * first copy of a message wins even when a later batch is quicker.
 */
import { describe, expect, it } from 'vitest';
import { IngestQueue, type BatchProcessor } from './queue.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ingest queue', () => {
  it('lets a quicker later batch claim only after the batch before it, and answers in arrival order', async () => {
    const claims: string[] = [];
    // The first batch is slow before its claim, the second quick: without the turn the second claims first.
    const process: BatchProcessor<string> = async (jobs, earlier, claim) => {
      const name = jobs[0].payload;
      await claim.earlier;
      await sleep(name === 'a0' ? 60 : 1);
      claims.push(name);
      claim.done();
      await sleep(name === 'a0' ? 5 : 30);
      await earlier;
      for (const j of jobs) j.resolve(j.payload);
    };
    const q = new IngestQueue<string>(process, 2, 1);
    const answers: string[] = [];
    const sent = ['a0', 'a1', 'b0', 'b1'].map((payload) => q.push({ deviceId: 'd', payload, requireToken: false }).then((r) => answers.push(r)));
    await Promise.all(sent);
    expect(claims).toEqual(['a0', 'b0']);
    expect(answers).toEqual(['a0', 'a1', 'b0', 'b1']);
  });

  it('passes the turn on when a batch ends without claiming', async () => {
    const claims: string[] = [];
    const process: BatchProcessor<string> = async (jobs, earlier, claim) => {
      const name = jobs[0].payload;
      await claim.earlier;
      if (name === 'a0') {
        await earlier;
        for (const j of jobs) j.reject(new Error('database gone'));
        return; // never called claim.done(): the queue passes the turn on when the batch ends
      }
      claims.push(name);
      claim.done();
      await earlier;
      for (const j of jobs) j.resolve(j.payload);
    };
    const q = new IngestQueue<string>(process, 2, 1);
    const out = await Promise.allSettled(['a0', 'a1', 'b0', 'b1'].map((payload) => q.push({ deviceId: 'd', payload, requireToken: false })));
    expect(out.map((o) => o.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect(claims).toEqual(['b0']);
  });
});
