/**
 * `npm run bench -- --suite cluster`: the one-machine cluster (deploy/cluster.ts) under a mixed
 * load through HAProxy with 1, 2 and 3 API nodes (same nodes, same database; HAProxy pointed at
 * the first k), then the PostgreSQL failover clock: kill -9 the primary under write load, promote
 * the standby, and time the first write sent after the kill that is acknowledged, with the count
 * of acknowledged writes lost.
 *
 * The load is a bounded script (not autocannon: its latency summary has no p95): `CONCURRENCY`
 * clients for `seconds`, each request drawn from reads by id (40 %), searches by name (30 %) and
 * creates (30 %). Everything runs on this machine's two cores — PostgreSQL, HAProxy, the nodes and
 * the load itself — so more nodes mostly show the cost of sharing them; the ratios are same-run.
 */
import pg from 'pg';
import { Cluster } from '../deploy/cluster.ts';
import { writeLoad } from '../deploy/load.ts';
import { fmt, log, median, percentile, rows } from './lib.ts';

const CONCURRENCY = 16;

interface MixResult {
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

async function mixedLoad(url: string, token: string, ids: string[], seconds: number): Promise<MixResult> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' };
  const names = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng'];
  const r: MixResult = { requests: 0, errors: 0, seconds, latencies: [] };
  const end = Date.now() + seconds * 1000;
  let n = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const i = n++;
      const pick = i % 10;
      const t0 = performance.now();
      let res: Response;
      try {
        if (pick < 4) res = await fetch(`${url}/fhir/R4/Patient/${ids[i % ids.length]}`, { headers });
        else if (pick < 7) res = await fetch(`${url}/fhir/R4/Patient?name=${encodeURIComponent(names[i % names.length])}&_count=10`, { headers });
        else
          res = await fetch(`${url}/fhir/R4/Patient`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ resourceType: 'Patient', name: [{ family: names[i % names.length], given: [`Tải ${i}`] }], gender: 'female' }),
          });
        await res.arrayBuffer();
        if (res.status >= 400) r.errors++;
      } catch {
        r.errors++;
      }
      r.latencies.push(performance.now() - t0);
      r.requests++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return r;
}

export async function benchCluster(quick: boolean): Promise<void> {
  const seconds = quick ? 8 : 20;
  const rounds = quick ? 1 : 2;
  const c = new Cluster({ nodes: 3 });
  log('cluster: starting PostgreSQL primary + synchronous standby, HAProxy, 3 API nodes');
  await c.start();
  try {
    const t = await c.cli(['token', 'issue', '--role', 'integration', '--ttl', '1h']);
    if (t.code !== 0) throw new Error(t.err);
    const token = t.out.trim();
    // A store to read: 500 patients.
    const ids: string[] = [];
    for (let i = 0; i < 500; i++) {
      const res = await fetch(`${c.url}/fhir/R4/Patient`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', name: [{ family: ['Nguyễn', 'Trần', 'Lê'][i % 3], given: [`Mẫu ${i}`] }] }),
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    const results = new Map<number, MixResult[]>();
    // Alternate node counts round by round, so drift in the machine's load falls on all of them.
    for (let round = 0; round < rounds; round++) {
      for (const k of [1, 2, 3]) {
        await c.useNodes(k);
        log(`cluster: ${k} node(s), round ${round + 1}: ${seconds} s of mixed load, concurrency ${CONCURRENCY}`);
        const r = await mixedLoad(c.url, token, ids, seconds);
        results.set(k, [...(results.get(k) ?? []), r]);
        log(`cluster: ${k} node(s): ${fmt(r.requests / seconds)} req/s, p95 ${fmt(percentile(r.latencies, 95), 1)} ms, errors ${r.errors}`);
      }
    }
    const rate = (k: number) => median(results.get(k)!.map((r) => r.requests / r.seconds));
    const p95 = (k: number) => median(results.get(k)!.map((r) => percentile(r.latencies, 95)));
    for (const k of [1, 2, 3]) {
      const errors = results.get(k)!.reduce((s, r) => s + r.errors, 0);
      rows.push({
        benchmark: `cluster mixed load, ${k} API node${k > 1 ? 's' : ''} (throughput)`,
        db: 'postgres+standby',
        value: fmt(rate(k)),
        unit: 'req/s',
        baseline: k === 1 ? undefined : `${fmt(rate(1))} (1 node)`,
        ratio: k === 1 ? undefined : fmt(rate(k) / rate(1), 2),
        note: `40% read, 30% search, 30% create; concurrency ${CONCURRENCY}; ${rounds}×${seconds} s; errors ${errors}; 2 cores shared by all`,
      });
      rows.push({
        benchmark: `cluster mixed load, ${k} API node${k > 1 ? 's' : ''} (p95 latency)`,
        db: 'postgres+standby',
        value: fmt(p95(k), 1),
        unit: 'ms',
        baseline: k === 1 ? undefined : `${fmt(p95(1), 1)} (1 node)`,
        ratio: k === 1 ? undefined : fmt(p95(k) / p95(1), 2),
      });
    }

    // The failover clock.
    await c.useNodes(3);
    log('cluster: failover — kill -9 the primary under write load, promote the standby');
    let killedAt = 0;
    let promotedAt = 0;
    const start = Date.now();
    const timer = setTimeout(() => {
      killedAt = Date.now();
      c.killPrimary();
      void c.promoteStandby().then(() => (promotedAt = Date.now()));
    }, 3000);
    const w = await writeLoad({
      url: c.url,
      token,
      workers: 8,
      tag: 'bench-failover',
      until: () => Date.now() - start > 60_000 || (promotedAt > 0 && Date.now() - promotedAt > 3000),
    });
    clearTimeout(timer);
    const first = w.ackTimes.find((_t, i) => w.sentTimes[i] > killedAt);
    const db = new pg.Client({ connectionString: `${c.standby.url}/cauyte` });
    await db.connect();
    const found = (
      await db.query("SELECT count(DISTINCT id)::int AS n FROM resource WHERE resource_type = 'Patient' AND NOT deleted AND id = ANY($1)", [w.acked])
    ).rows[0].n as number;
    await db.end();
    rows.push({
      benchmark: 'cluster failover: primary killed → first acknowledged write on the promoted standby',
      db: 'postgres+standby',
      value: first ? fmt(first - killedAt) : 'never',
      unit: 'ms',
      note: `target ≤ 10 000 ms; promote took ${fmt(promotedAt - killedAt)} ms; acknowledged ${w.acked.length}, found ${found}, lost ${w.acked.length - found}; failed attempts ${w.failures}`,
    });
    log(`cluster: failover ${first ? first - killedAt : 'never'} ms, acknowledged ${w.acked.length}, found ${found}, lost ${w.acked.length - found}`);
  } finally {
    await c.stop();
  }
}
