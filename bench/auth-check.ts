/**
 * `node --import tsx bench/auth-check.ts [--db pglite|postgres|both] [--n 400] [--rounds 6]`
 *
 * What the per-request token revocation check (src/auth/tokens.ts `live`: the account's state, read
 * at most once a second per account) costs a signed-in read: bearer GET /fhir/R4/Patient/:id through the whole app
 * (Fastify inject, or real HTTP on loopback with --http; every hook, the guarded read and its
 * audit row), with the check on and off,
 * alternating request by request so drift hits both alike. Prints medians; nothing is asserted.
 */
import type { Patient } from '@medplum/fhirtypes';
import { parseArgs } from 'node:util';
import { startTestPlatform } from '../src/testing/platform.ts';
import type { DbKind } from '../src/testing/databases.ts';
import { fmt, median, percentile } from './lib.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: 'both' },
    n: { type: 'string', default: '400' },
    rounds: { type: 'string', default: '6' },
    http: { type: 'boolean', default: false },
  },
});
const N = Number(values.n);
const ROUNDS = Number(values.rounds);

async function measure(kind: DbKind): Promise<void> {
  const p = await startTestPlatform(kind, {}, undefined, { domains: [] });
  try {
    const pt = await p.fixtures.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Đo', given: ['Thử'] }] });
    const headers = { authorization: `Bearer ${p.token}` };
    const tokens = p.tokens as unknown as { live: (id: string, gen: number) => Promise<boolean> };
    const live = tokens.live.bind(p.tokens);
    const base = values.http ? await p.listen() : undefined;
    const read = async () => {
      const t = performance.now();
      if (base) {
        const r = await fetch(`${base}/fhir/R4/Patient/${pt.id}`, { headers });
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`read ${r.status}`);
      } else {
        const r = await p.app.inject({ method: 'GET', url: `/fhir/R4/Patient/${pt.id}`, headers });
        if (r.statusCode !== 200) throw new Error(`read ${r.statusCode}`);
      }
      return performance.now() - t;
    };
    for (let i = 0; i < 200; i++) await read(); // warm-up (JIT, prepared statements, token cache)
    const samples: Record<'on' | 'off', number[]> = { on: [], off: [] };
    // Alternate request by request (and the order within each pair) so drift, GC and the audit
    // sealer's timer hit both modes alike.
    for (let i = 0; i < N * ROUNDS; i++) {
      for (const mode of i % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        tokens.live = mode === 'on' ? live : async () => true;
        samples[mode].push(await read());
      }
    }
    tokens.live = live;
    // The check by itself: from the account-state copy, and reading the account (once a second per account).
    const alone: number[] = [];
    const fresh: number[] = [];
    const claims = await p.tokens.verify(p.token);
    for (let i = 0; i < N; i++) {
      let t = performance.now();
      await live(claims!.sub, 0);
      alone.push(performance.now() - t);
      p.tokens.forget(claims!.sub);
      t = performance.now();
      await live(claims!.sub, 0);
      fresh.push(performance.now() - t);
    }
    const on = median(samples.on);
    const off = median(samples.off);
    console.log(
      `${kind}${base ? ' (HTTP, loopback)' : ' (inject)'}: bearer read median ${fmt(off, 3)} ms without the check, ${fmt(on, 3)} ms with it (+${fmt(on - off, 3)} ms, ${fmt(((on - off) / off) * 100, 1)} %); p95 ${fmt(percentile(samples.off, 95), 3)} → ${fmt(percentile(samples.on, 95), 3)} ms; the check alone: median ${fmt(median(alone), 4)} ms, ${fmt(median(fresh), 3)} ms when it reads the account (${samples.on.length} reads each way)`,
    );
  } finally {
    await p.close();
  }
}

for (const kind of values.db === 'both' ? (['pglite', 'postgres'] as const) : [values.db as DbKind]) await measure(kind);
