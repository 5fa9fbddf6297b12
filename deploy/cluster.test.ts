/**
 * Failover drills on one machine (npm run test:cluster; skipped without HAProxy and the
 * PostgreSQL server tools): HAProxy in front of three API nodes, PostgreSQL primary + synchronous
 * standby behind HAProxy's TCP frontend.
 *   1. kill -9 an API node under write load: no acknowledged write is lost, the same token keeps
 *      working on the other nodes, video room routes stay on one node per room;
 *   2. kill -9 the PostgreSQL primary under write load, promote the standby: zero acknowledged
 *      writes lost, the nodes reconnect, the audit chain verifies across the switch.
 * Each drill prints its counts (acknowledged, found, lost).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgBin } from '../src/ops/pgctl.ts';
import { Cluster, haproxyAvailable } from './cluster.ts';
import { writeLoad } from './load.ts';

async function found(url: string, ids: string[]): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query("SELECT count(DISTINCT id)::int AS n FROM resource WHERE resource_type = 'Patient' AND NOT deleted AND id = ANY($1)", [ids]);
    return r.rows[0].n;
  } finally {
    await c.end();
  }
}

describe.skipIf(!haproxyAvailable() || !pgBin())('cluster drills (HAProxy, 3 API nodes, PostgreSQL primary + synchronous standby)', () => {
  let c: Cluster;
  let token: string;
  const log: string[] = [];
  beforeAll(async () => {
    c = new Cluster({ nodes: 3, log: (l) => log.push(l) });
    await c.start();
    const t = await c.cli(['token', 'issue', '--role', 'integration', '--ttl', '1h']);
    expect(t.code, t.err).toBe(0);
    token = t.out.trim();
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('routes a video room to one node, and spreads rooms over the nodes', async () => {
    const servedBy = new Map<string, Set<string>>();
    for (let room = 0; room < 24; room++) {
      const id = `room-${room}-${Math.random().toString(36).slice(2, 8)}`;
      const nodes = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${c.url}/api/video/rooms/${id}/ws`, { headers: { authorization: `Bearer ${token}` } });
        nodes.add(res.headers.get('x-served-by') ?? '?');
      }
      servedBy.set(id, nodes);
    }
    for (const [id, nodes] of servedBy) expect([...nodes], id).toHaveLength(1);
    const used = new Set([...servedBy.values()].map((s) => [...s][0]));
    expect(used.size).toBeGreaterThan(1);
    // Ordinary requests go round the nodes.
    const rr = new Set<string>();
    for (let i = 0; i < 6; i++) rr.add((await fetch(`${c.url}/healthz`)).headers.get('x-served-by') ?? '?');
    expect(rr.size).toBe(3);
  });

  it('kill -9 one API node under load: no acknowledged write lost; the token works on the other nodes', async () => {
    const start = Date.now();
    let killedAt = 0;
    const killer = setTimeout(() => {
      killedAt = Date.now();
      c.killNode(c.nodes[1]);
    }, 2500);
    const r = await writeLoad({ url: c.url, token, workers: 6, until: () => Date.now() - start > 7000, tag: 'node-drill' });
    clearTimeout(killer);
    const n = await found(`${c.primary.url}/cauyte`, r.acked);
    const afterKill = r.ackTimes.filter((t) => t > killedAt).length;
    console.log(
      `API node drill: acknowledged ${r.acked.length}, found ${n}, lost ${r.acked.length - n}; failed attempts (retried) ${r.failures}; acknowledged after the kill ${afterKill}`,
    );
    expect(r.acked.length).toBeGreaterThan(50);
    expect(n).toBe(r.acked.length);
    expect(afterKill).toBeGreaterThan(20);
    // The same token, on the nodes that are left (round robin over both).
    const who = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${c.url}/fhir/R4/Patient?_count=1`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      who.add(res.headers.get('x-served-by') ?? '?');
    }
    expect([...who].sort()).toEqual(['n1', 'n3']);
  });

  it('kill -9 the PostgreSQL primary under load, promote the standby: zero acknowledged writes lost, the audit chain verifies', async () => {
    const start = Date.now();
    let killedAt = 0;
    let promotedAt = 0;
    const killer = setTimeout(() => {
      killedAt = Date.now();
      c.killPrimary();
      // The operator (Patroni in production) promotes the standby.
      void c.promoteStandby().then(() => (promotedAt = Date.now()));
    }, 2500);
    const r = await writeLoad({
      url: c.url,
      token,
      workers: 6,
      // Run until 3 s of writes after the switch, at most 45 s.
      until: () => Date.now() - start > 45_000 || (killedAt > 0 && r0(killedAt)),
      tag: 'pg-drill',
    });
    function r0(k: number): boolean {
      return Date.now() - k > 4000 && promotedAt > 0 && Date.now() - promotedAt > 3000;
    }
    clearTimeout(killer);
    const before = r.ackTimes.filter((t) => t < killedAt).length;
    // The first write sent after the kill that was acknowledged (a write sent before could have committed on the old primary).
    const firstAfter = r.ackTimes.find((_t, i) => r.sentTimes[i] > killedAt);
    const n = await found(`${c.standby.url}/cauyte`, r.acked);
    console.log(
      `PostgreSQL failover drill: acknowledged ${r.acked.length} (${before} before the kill), found on the promoted standby ${n}, lost ${r.acked.length - n}; ` +
        `failed attempts (retried) ${r.failures}; promote took ${promotedAt - killedAt} ms; first write sent after the kill and acknowledged: ${firstAfter ? firstAfter - killedAt : 'never'} ms after the kill`,
    );
    expect(before).toBeGreaterThan(20);
    expect(firstAfter).toBeDefined();
    expect(n).toBe(r.acked.length);
    const v = await c.cli(['audit', 'verify']);
    console.log(`audit verify after failover: ${v.out.trim() || v.err.trim()}`);
    expect(v.code, v.err).toBe(0);
    expect(v.out).toMatch(/Audit chain intact/);
  });
});
