/**
 * Failover drills on one machine (npm run test:cluster, the end of npm test; it fails naming what
 * is missing without HAProxy and the PostgreSQL server tools): HAProxy in front of three API nodes,
 * PostgreSQL primary + synchronous standby behind HAProxy's TCP frontend.
 *   1. kill -9 an API node under write load: no acknowledged write is lost, the same token keeps
 *      working on the other nodes, video room routes stay on one node per room;
 *   2. kill -9 the PostgreSQL primary under write load, promote the standby: zero acknowledged
 *      writes lost, the nodes reconnect, the audit chain verifies across the switch;
 *   3. kill -9 the node holding a video room: its participants resume through HAProxy on the node
 *      left, which rebuilds the room from the database.
 * Each drill prints its counts (acknowledged, found, lost) or times.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDb } from '../src/db/db.ts';
import { EventBus } from '../src/events/bus.ts';
import { Cluster } from './cluster.ts';
import { writeLoad } from './load.ts';
import { connect, type Client } from '../src/testing/video.ts';

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

describe('cluster drills (HAProxy, 3 API nodes, PostgreSQL primary + synchronous standby)', () => {
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

  /** Which node serves each of these rooms now. */
  async function roomNodes(rooms: string[]): Promise<Map<string, string>> {
    const m = new Map<string, string>();
    for (const id of rooms) m.set(id, (await fetch(`${c.url}/api/video/rooms/${id}/ws`)).headers.get('x-served-by') ?? '?');
    return m;
  }

  it("kill -9 one API node under load: no acknowledged write lost; tokens and sign-in sessions work on the other nodes; only the lost node's rooms move", async () => {
    // A citizen signs in through HAProxy (a session cookie, kept in the database).
    const patient = await fetch(`${c.url}/fhir/R4/Patient`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Vũ', given: ['Thị Lan'] }] }),
    });
    const patientId = ((await patient.json()) as { id: string }).id;
    const password = 'Drill-Passw0rd-2026!';
    const u = await c.cli(['user', 'create', '--username', 'drill.citizen', '--name', 'Vũ Thị Lan', '--kind', 'citizen', '--patient', patientId], {
      CAUYTE_NEW_PASSWORD: password,
    });
    expect(u.code, u.err).toBe(0);
    const login = await fetch(`${c.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'drill.citizen', password }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    expect(cookie).toMatch(/=/);
    const rooms = Array.from({ length: 24 }, (_, i) => `move-${i}-${Math.random().toString(36).slice(2, 8)}`);
    const roomsBefore = await roomNodes(rooms);

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
    // The session made before the kill, on both nodes left.
    const sessionOn = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${c.url}/api/auth/me`, { headers: { cookie } });
      expect(res.status).toBe(200);
      sessionOn.add(res.headers.get('x-served-by') ?? '?');
    }
    expect([...sessionOn].sort()).toEqual(['n1', 'n3']);
    // Consistent hashing: rooms of the lost node move (each to one node), the others stay where they were.
    const roomsAfter = await roomNodes(rooms);
    const again = await roomNodes(rooms);
    let moved = 0;
    for (const id of rooms) {
      expect(roomsAfter.get(id), id).toBe(again.get(id));
      expect(roomsAfter.get(id)).not.toBe('n2');
      if (roomsBefore.get(id) === 'n2') moved++;
      else expect(roomsAfter.get(id), id).toBe(roomsBefore.get(id));
    }
    console.log(`rooms: ${moved} of ${rooms.length} were on the lost node and moved; the other ${rooms.length - moved} stayed on their node`);
  });

  /** Live events between two "nodes" (event buses on the database through HAProxy): resolves with whether one arrived within ms. */
  async function crosses(from: EventBus, to: EventBus, tag: string, ms = 1500): Promise<boolean> {
    let seen = false;
    const off = to.subscribe((e) => {
      if ((e.data as { id?: string }).id === tag) seen = true;
    });
    try {
      const until = Date.now() + ms;
      await from.publish({ kind: 'visit.completed', to: { practitionerIds: ['drill'] }, data: { id: tag } }).catch(() => undefined);
      while (!seen && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return seen;
    } finally {
      off();
    }
  }

  it('kill -9 the PostgreSQL primary under load, promote the standby: zero acknowledged writes lost, the audit chain verifies, live events cross nodes again', async () => {
    const dbA = new PostgresDb(c.databaseUrl, 2);
    const dbB = new PostgresDb(c.databaseUrl, 2);
    dbA.pool.on('error', () => undefined);
    const busA = new EventBus(dbA);
    const busB = new EventBus(dbB);
    await busA.start();
    await busB.start();
    expect(await crosses(busA, busB, 'before')).toBe(true);
    const start = Date.now();
    let killedAt = 0;
    let promotedAt = 0;
    const killer = setTimeout(() => {
      killedAt = Date.now();
      c.killPrimary();
      // The operator (Patroni in production) promotes the standby.
      void c.promoteStandby().then(() => (promotedAt = Date.now()));
    }, 2500);
    // Run until 2 s after the first write sent after the kill was acknowledged (at most 60 s).
    const recovered = (r: { ackTimes: number[]; sentTimes: number[] }) => {
      const i = r.sentTimes.findIndex((t) => killedAt > 0 && t > killedAt);
      return i >= 0 && Date.now() - r.ackTimes[i] > 2000;
    };
    const r = await writeLoad({ url: c.url, token, workers: 6, until: (sofar) => Date.now() - start > 60_000 || recovered(sofar), tag: 'pg-drill' });
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
    if (!firstAfter) console.log(log.slice(-30).join('\n'));
    expect(firstAfter).toBeDefined();
    expect(n).toBe(r.acked.length);
    // The nodes rode the switch out (a checked-out database client losing its server once ended the process).
    expect(c.nodes[0].proc?.exitCode).toBeNull();
    expect(c.nodes[2].proc?.exitCode).toBeNull();
    const v = await c.cli(['audit', 'verify']);
    console.log(`audit verify after failover: ${v.out.trim() || v.err.trim()}`);
    expect(v.code, v.err).toBe(0);
    expect(v.out).toMatch(/Audit chain intact/);
    // The listening connection was cut with the primary; the bus listens again on the promoted standby.
    let again = false;
    for (let i = 0; i < 20 && !again; i++) again = await crosses(busA, busB, `after-${i}`, 1000);
    console.log(`live events (NOTIFY) between two buses through HAProxy after the failover: ${again ? 'delivered' : 'NOT delivered'}`);
    await busA.stop();
    await busB.stop();
    await dbA.close();
    await dbB.close();
    expect(again).toBe(true);
  });

  /** A clinician of their own facility (`cauyte token issue` makes one account per role and facility): a Practitioner and a bearer token for them. */
  async function clinician(name: string, facility: string): Promise<{ practitionerId: string; token: string }> {
    const orgRes = await fetch(`${c.url}/fhir/R4/Organization`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Organization', active: true, name: facility }),
    });
    const organizationId = ((await orgRes.json()) as { id: string }).id;
    const res = await fetch(`${c.url}/fhir/R4/Practitioner`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Practitioner', active: true, name: [{ text: name }] }),
    });
    expect(res.status).toBe(201);
    const practitionerId = ((await res.json()) as { id: string }).id;
    const t = await c.cli(['token', 'issue', '--role', 'specialist', '--org', organizationId, '--practitioner', practitionerId, '--ttl', '1h']);
    expect(t.code, t.err).toBe(0);
    return { practitionerId, token: t.out.trim() };
  }

  it('a room survives the loss of its API node: its participants reconnect through HAProxy to another node, which takes the room over from the database', async () => {
    const [a, b] = [
      await clinician('Bác sĩ Trần Văn Hải', 'Bệnh viện Đa khoa tỉnh Lào Cai'),
      await clinician('Bác sĩ Lê Thị Mai', 'Trung tâm Y tế huyện Bát Xát'),
    ];
    const opened = await fetch(`${c.url}/api/video/rooms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'adhoc', title: 'Hội chẩn nhanh', invitePractitionerIds: [b.practitionerId] }),
    });
    expect(opened.status).toBe(201);
    const roomId = ((await opened.json()) as { id: string }).id;
    const path = `/api/video/rooms/${roomId}/ws`;
    const open = (who: { token: string }, resume?: string): Client => {
      const client = connect(c.url, resume ? `${path}?resume=${encodeURIComponent(resume)}` : path, undefined, `Bearer ${who.token}`);
      client.ws.on('error', () => undefined); // a refused connection while HAProxy notices the lost node: retried
      return client;
    };
    const ca = open(a);
    const wa = await ca.next('welcome', 10_000);
    const cb = open(b);
    const wb = await cb.next('welcome', 10_000);
    expect([wa.you.state, wb.you.state, wa.you.host]).toEqual(['in', 'in', true]);
    // Signalling relays through the node holding the room.
    ca.send({ type: 'signal', to: wb.you.id, data: { restart: true } });
    expect((await cb.next('signal', 5000)).from).toBe(wa.you.id);
    const holder = (await fetch(`${c.url}${path}`)).headers.get('x-served-by');
    const lost = c.nodes.find((n) => n.name === holder)!;
    expect(lost).toBeDefined();

    const killedAt = Date.now();
    c.killNode(lost);
    await Promise.all([ca.closed, cb.closed]);
    // The pages reconnect with their resume token, as the web app does (back-off, through HAProxy).
    const back = async (who: { token: string }, resume: string): Promise<{ client: Client; welcome: any; at: number }> => {
      for (let i = 0; Date.now() - killedAt < 30_000; i++) {
        const client = open(who, resume);
        const welcome = await client.next('welcome', 3000).catch(() => undefined);
        if (welcome) return { client, welcome, at: Date.now() - killedAt };
        client.ws.terminate();
        await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** i)));
      }
      throw new Error('not back in the room within 30 s');
    };
    const [ra, rb] = await Promise.all([back(a, wa.you.resume), back(b, wb.you.resume)]);
    const newHolder = (await fetch(`${c.url}${path}`)).headers.get('x-served-by');
    console.log(
      `Room takeover drill: room on ${holder} (killed); ${newHolder} took it over; participants back in ${ra.at} ms and ${rb.at} ms after the kill (same member ids, same stays)`,
    );
    expect(newHolder).not.toBe(holder);
    // The same places: same member ids, resumed, still in, the host still host; each sees the other.
    expect([ra.welcome.resumed, ra.welcome.you.id, ra.welcome.you.state, ra.welcome.you.host]).toEqual([true, wa.you.id, 'in', true]);
    expect([rb.welcome.resumed, rb.welcome.you.id, rb.welcome.you.state, rb.welcome.you.host]).toEqual([true, wb.you.id, 'in', false]);
    const seen = async (client: Client, id: string) => {
      for (let i = 0; i < 20; i++) {
        const last = [...client.messages].reverse().find((m) => m.type === 'members' || m.type === 'welcome');
        if (last?.members.some((m: { id: string; connected: boolean }) => m.id === id && m.connected)) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    expect(await seen(ra.client, wb.you.id)).toBe(true);
    expect(await seen(rb.client, wa.you.id)).toBe(true);
    // The new node relays between them.
    rb.client.send({ type: 'signal', to: wa.you.id, data: { restart: true } });
    expect((await ra.client.next('signal', 5000)).from).toBe(wb.you.id);
    // The stays went on (two open entries, none new); the takeover is on the record once.
    const att = await fetch(`${c.url}/api/video/rooms/${roomId}/attendance`, { headers: { authorization: `Bearer ${a.token}` } });
    const entries = ((await att.json()) as { entries: { leftAt: string | null }[] }).entries;
    expect(entries.map((e) => e.leftAt)).toEqual([null, null]);
    const db = new pg.Client({ connectionString: c.databaseUrl }); // the promoted standby, through HAProxy
    await db.connect();
    try {
      const audit = await db.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'video.takeover' AND detail->>'room' = $1", [roomId]);
      expect(audit.rows[0].n).toBe(1);
    } finally {
      await db.end();
    }
    // Leaving on the new node ends the stay there.
    rb.client.send({ type: 'leave' });
    await rb.client.closed;
    ra.client.ws.close();
  });
});
