/**
 * The signalling server, with real WebSocket clients, on both databases: who may enter (invited
 * staff, a citizen's invitation link, not an uninvited account nor an expired link), the lobby,
 * per-message checks, chat saved as a Communication, host controls, the mesh limit, sign-out
 * ending the connection, attendance; and recording with every participant's consent through a
 * Janus the platform starts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Appointment, Bundle, Communication, Consent, Encounter, Location, Organization } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { makeStaff, videoTables, type Staff } from '../testing/video.ts';

interface Client {
  ws: WebSocket;
  messages: any[];
  next(type: string, timeoutMs?: number): Promise<any>;
  send(msg: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
}

function connect(base: string, path: string, cookie?: string): Client {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${path}`, { headers: cookie ? { cookie } : {} });
  const messages: any[] = [];
  // next(type) returns that type's messages one after another, waiting for the next if needed.
  const taken = new Map<string, number>();
  const waiters: { type: string; index: number; resolve: (m: any) => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    messages.push(m);
    const index = messages.filter((x) => x.type === m.type).length - 1;
    for (const w of waiters.filter((w) => w.type === m.type && w.index === index)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return {
    ws,
    messages,
    closed,
    next(type, timeoutMs = 5000) {
      const index = taken.get(type) ?? 0;
      taken.set(type, index + 1);
      const have = messages.filter((m) => m.type === type)[index];
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} #${index + 1} within ${timeoutMs} ms; got ${messages.map((m) => m.type).join(', ')}`)), timeoutMs);
        waiters.push({ type, index, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
    send(msg) {
      ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
    },
  };
}

const json = { 'content-type': 'application/json' };

describe.each(DB_KINDS)('video signalling on %s', (kind) => {
  let p: TestPlatform;
  let base: string;
  let demo: DemoSummary;
  let doctor: Staff;
  let stranger: Staff;
  let patientId: string;
  let appointment: Appointment;

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: ['video'] });
    demo = await seedDemo(p.store, 4);
    base = await p.listen();
    doctor = await makeStaff(p, 'BS Phạm Thu Hà', demo.ids.organizations.batxat);
    stranger = await makeStaff(p, 'BS Không Được Mời', demo.ids.organizations.bachmai);
    patientId = demo.ids.patients[0];
    appointment = (await p.fixtures.create<Appointment>({
      resourceType: 'Appointment',
      status: 'booked',
      description: 'Khám từ xa: tái khám tăng huyết áp',
      start: new Date(Date.now() + 600_000).toISOString(),
      end: new Date(Date.now() + 1_800_000).toISOString(),
      participant: [
        { actor: { reference: `Patient/${patientId}` }, status: 'accepted' },
        { actor: { reference: `Practitioner/${doctor.practitionerId}` }, status: 'accepted' },
      ],
    })) as Appointment;
  });
  afterAll(async () => p?.close());

  async function visitRoom(): Promise<string> {
    const r = await call(p, 'POST', '/api/video/rooms', { kind: 'appointment', appointmentId: appointment.id }, { ...doctor.headers, ...json });
    expect(r.status, r.text).toBe(201);
    return r.body.id;
  }

  async function invite(roomId: string): Promise<string> {
    const r = await call(p, 'POST', `/api/video/rooms/${roomId}/invitations`, { patientId, label: 'Nguyễn Văn An', validMinutes: 30 }, { ...doctor.headers, ...json });
    expect(r.status, r.text).toBe(201);
    expect(r.headers['cache-control']).toBe('no-store');
    return r.body.token;
  }

  it('refuses an account that is not invited, and an expired or foreign invitation link', async () => {
    const roomId = await visitRoom();
    expect((await call(p, 'GET', `/api/video/rooms/${roomId}`, undefined, stranger.headers)).status).toBe(403);
    const s = connect(base, `/api/video/rooms/${roomId}/ws`, stranger.headers.cookie);
    expect((await s.next('refused')).message).toContain('không được mời');
    expect((await s.closed).code).toBe(4403);

    const nobody = connect(base, `/api/video/rooms/${roomId}/ws`);
    expect((await nobody.closed).code).toBe(4401);

    const token = await invite(roomId);
    await p.db.query("UPDATE video_invite SET expires_at = now() - interval '1 minute' WHERE room_id = $1", [roomId]);
    const expired = connect(base, `/api/video/rooms/${roomId}/ws?invite=${token}`);
    expect((await expired.next('refused')).message).toContain('hết hạn');
    expect((await expired.closed).code).toBe(4401);

    // A link for one room does not open another.
    const other = (await call(p, 'POST', '/api/video/rooms', { kind: 'adhoc', title: 'Gọi nhanh' }, { ...doctor.headers, ...json })).body.id;
    const fresh = await invite(roomId);
    const foreign = connect(base, `/api/video/rooms/${other}/ws?invite=${fresh}`);
    expect((await foreign.closed).code).toBe(4401);
    // Refusals are in the audit trail.
    const denied = await p.db.query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE outcome = 'denied' AND action = 'video.join'");
    expect(Number(denied.rows[0].n)).toBeGreaterThanOrEqual(4);
  });

  it('lets a citizen in by link through the lobby; checks every message; saves chat to the record; host controls', async () => {
    const roomId = await visitRoom();
    const token = await invite(roomId);
    const host = connect(base, `/api/video/rooms/${roomId}/ws`, doctor.headers.cookie);
    const hw = await host.next('welcome');
    expect(hw.you).toMatchObject({ host: true, state: 'in' });

    const citizen = connect(base, `/api/video/rooms/${roomId}/ws?invite=${token}`);
    const cw = await citizen.next('welcome');
    expect(cw.you.state).toBe('lobby');
    expect(cw.chat).toEqual([]);
    // In the lobby: nothing but waiting.
    citizen.send({ type: 'chat', text: 'Chào bác sĩ' });
    expect((await citizen.next('error')).message).toContain('chờ chủ trì');
    // The host sees the person waiting, with their site.
    await expect.poll(() => host.messages.filter((m) => m.type === 'members').at(-1)?.members.find((m: any) => m.state === 'lobby')?.site).toContain('Tại nhà');
    const waiting = host.messages.filter((m) => m.type === 'members').at(-1).members.find((m: any) => m.state === 'lobby');

    // Only a host admits; malformed and misaddressed messages are refused with a reason.
    citizen.send({ type: 'admit', id: waiting.id });
    expect((await citizen.next('error')).message).toContain('chờ chủ trì');
    host.send('{not json');
    expect((await host.next('error')).message).toContain('JSON');
    host.send({ type: 'signal', to: 'm-nobodyhere123', data: {} });
    expect((await host.next('error')).message).toContain('Không có người này');
    host.send({ type: 'chat', text: 'x'.repeat(2001) });
    expect((await host.next('error')).message).toContain('text');

    host.send({ type: 'admit', id: waiting.id });
    await citizen.next('admitted');
    citizen.send({ type: 'chat', text: 'Chào bác sĩ, tôi đo huyết áp sáng nay 150/95' });
    const line = await host.next('chat');
    expect(line).toMatchObject({ name: 'Nguyễn Văn An', text: 'Chào bác sĩ, tôi đo huyết áp sáng nay 150/95' });
    // The chat is in the patient's record, tied to the appointment.
    const comms = await call<Bundle>(p, 'GET', `/fhir/R4/Communication?subject=Patient/${patientId}`);
    const saved = comms.body.entry!.map((e) => e.resource as Communication).find((c) => c.payload?.[0]?.contentString?.includes('150/95'));
    expect(saved?.about?.[0]?.reference).toBe(`Appointment/${appointment.id}`);

    // A citizen cannot use host controls; the host can mute and remove.
    citizen.send({ type: 'remove', id: hw.you.id });
    expect((await citizen.next('error')).message).toContain('chủ trì');
    host.send({ type: 'mute', id: waiting.id });
    expect((await citizen.next('muted')).by).toBe('BS Phạm Thu Hà');
    host.send({ type: 'remove', id: waiting.id });
    expect((await citizen.closed).code).toBe(4403);
    const again = connect(base, `/api/video/rooms/${roomId}/ws?invite=${token}`);
    expect((await again.closed).code).toBe(4403);

    // Attendance: the citizen's stay is closed; the audit trail has both joins.
    const att = await call(p, 'GET', `/api/video/rooms/${roomId}/attendance`, undefined, doctor.headers);
    expect(att.body.entries.find((e: any) => e.name === 'Nguyễn Văn An').leftAt).toBeTruthy();
    const joins = await p.db.query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE action = 'video.join' AND outcome = 'success' AND resource_id = $1", [appointment.id]);
    expect(Number(joins.rows[0].n)).toBe(2);

    // Recording needs the SFU here: refused with a reason.
    host.send({ type: 'record-request' });
    expect((await host.next('error')).message).toContain('SFU');
    host.send({ type: 'end' });
    await host.next('ended');
    expect((await p.rooms.get(videoTables(p), roomId)).ended_at).toBeTruthy();
    expect((await call(p, 'GET', `/api/video/rooms/${roomId}`, undefined, doctor.headers)).body.title).toContain('kết thúc');
    const late = connect(base, `/api/video/rooms/${roomId}/ws`, doctor.headers.cookie);
    expect((await late.closed).code).toBe(4403);
  });

  it('admits the staff of an invited bridge point to a session room and records the site on the session Encounter', async () => {
    const host = await makeStaff(p, 'PGS Chủ Trì Phiên', demo.ids.organizations.bachmai);
    const site = await makeStaff(p, 'BS Trạm Y Tế', demo.ids.organizations.batxat); // not named on the session
    const bridge = await p.fixtures.create<Location>({
      resourceType: 'Location', status: 'active', name: 'Điểm cầu Trạm Y tế xã Bát Xát', mode: 'instance',
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'VR', display: 'virtual' }] }],
      managingOrganization: { reference: `Organization/${demo.ids.organizations.batxat}` },
    });
    const session = await p.fixtures.create<Appointment>({
      resourceType: 'Appointment', status: 'booked', description: 'Phiên hội chẩn tim mạch',
      start: new Date().toISOString(), end: new Date(Date.now() + 3_600_000).toISOString(),
      participant: [
        { type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PPRF' }] }], actor: { reference: `Practitioner/${host.practitionerId}` }, status: 'accepted' },
        { actor: { reference: `Location/${bridge.id}` }, status: 'accepted' },
      ],
    });
    const room = (await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: session.id }, { ...host.headers, ...json })).body;
    // Opening it again finds the same room.
    expect((await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: session.id }, { ...host.headers, ...json })).body.id).toBe(room.id);
    const h = connect(base, `/api/video/rooms/${room.id}/ws`, host.headers.cookie);
    expect((await h.next('welcome')).you.host).toBe(true);
    const s = connect(base, `/api/video/rooms/${room.id}/ws`, site.headers.cookie);
    const sw = await s.next('welcome');
    expect(sw.you).toMatchObject({ host: false, state: 'in' });
    expect(sw.members.find((m: any) => m.id === sw.you.id).site).toBe((await p.fixtures.read<Organization>('Organization', demo.ids.organizations.batxat)).name);
    const encounter = async () => ((await call<Bundle>(p, 'GET', `/fhir/R4/Encounter?appointment=Appointment/${session.id}`)).body.entry ?? [])[0]?.resource as Encounter | undefined;
    await expect.poll(async () => (await encounter())?.location?.find((l) => l.location.reference === `Location/${bridge.id}`)?.status).toBe('active');
    s.send({ type: 'leave' });
    await expect.poll(async () => (await encounter())?.location?.find((l) => l.location.reference === `Location/${bridge.id}`)?.period?.end).toBeTruthy();
    h.ws.close();
  });

  it('holds at most four in a peer-to-peer call, refuses large sessions without Janus, and closes the socket at sign-out', async () => {
    const people = [doctor];
    for (let i = 0; i < 4; i++) people.push(await makeStaff(p, `BS Thứ ${i}`, demo.ids.organizations.bachmai));
    const room = await call(p, 'POST', '/api/video/rooms', { kind: 'adhoc', title: 'Gọi nhanh', invitePractitionerIds: people.slice(1).map((x) => x.practitionerId) }, { ...doctor.headers, ...json });
    // Five people were invited: that is over the mesh limit, and this platform has no Janus.
    expect(room.status).toBe(400);
    expect(room.body.title).toMatch(/janus/i);
    const small = (await call(p, 'POST', '/api/video/rooms', { kind: 'adhoc', title: 'Gọi nhanh', invitePractitionerIds: people.slice(1, 4).map((x) => x.practitionerId) }, { ...doctor.headers, ...json })).body;
    expect(small.mode).toBe('mesh');
    const clients = people.slice(0, 4).map((x) => connect(base, `/api/video/rooms/${small.id}/ws`, x.headers.cookie));
    for (const c of clients) await c.next('welcome');
    // The fifth (invited afterwards by database edit, as a host would) is refused: the call is full.
    await p.db.query('UPDATE video_room SET invited = invited || $2::text[] WHERE id = $1', [small.id, [people[4].practitionerId]]);
    const fifth = connect(base, `/api/video/rooms/${small.id}/ws`, people[4].headers.cookie);
    expect((await fifth.closed).code).toBe(4429);
    // Sign-out ends the session: the next message closes the socket.
    await call(p, 'POST', '/api/auth/logout', {}, { ...people[3].headers, ...json });
    clients[3].send({ type: 'ping' });
    expect((await clients[3].closed).code).toBe(4401);
    for (const c of clients.slice(0, 3)) c.ws.close();
  });
});

describe('recording needs every participant’s consent (Janus)', () => {
  let p: TestPlatform;
  let dataDir: string;
  let base: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cauyte-rec-'));
    p = await startTestPlatform('pglite', { CAUYTE_JANUS: 'auto', CAUYTE_DATA_DIR: dataDir }, undefined, { domains: ['video'] });
    base = await p.listen();
  });
  afterAll(async () => {
    await p?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records only when everyone agreed; one refusal stops it; each answer is a Consent', async () => {
    const demo = await seedDemo(p.store, 2);
    const a = await makeStaff(p, 'BS Chủ Trì', demo.ids.organizations.bachmai);
    const b = await makeStaff(p, 'BS Điểm Cầu', demo.ids.organizations.batxat);
    const room = (await call(p, 'POST', '/api/video/rooms', { kind: 'adhoc', title: 'Đào tạo', invitePractitionerIds: [b.practitionerId], large: true }, { ...a.headers, ...json })).body;
    expect(room.mode).toBe('sfu');
    const ca = connect(base, `/api/video/rooms/${room.id}/ws`, a.headers.cookie);
    expect((await ca.next('welcome')).recording.state).toBe('off'); // no recording by default
    const cb = connect(base, `/api/video/rooms/${room.id}/ws`, b.headers.cookie);
    await cb.next('welcome');
    const states = async (c: Client, n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push((await c.next('recording')).recording.state);
      return out;
    };
    ca.send({ type: 'record-request' });
    expect(await states(cb, 1)).toEqual(['asking']);
    ca.send({ type: 'record-consent', agree: true });
    expect(await states(cb, 1)).toEqual(['asking']); // B has not answered yet
    cb.send({ type: 'record-consent', agree: true });
    expect(await states(cb, 1)).toEqual(['on']);
    expect(await states(ca, 3)).toEqual(['asking', 'asking', 'on']);
    // Two Consents, both permits, for this recording.
    const consents = ((await call<Bundle>(p, 'GET', '/fhir/R4/Consent?_count=50')).body.entry ?? []).map((e) => e.resource as Consent);
    const recording = consents.filter((c) => c.category?.some((x) => x.coding?.some((y) => y.code === 'video-recording')));
    expect(recording.map((c) => c.provision?.type)).toEqual(['permit', 'permit']);
    // Stopped; asked again; one participant refuses: recording stays off, and says why.
    ca.send({ type: 'record-stop' });
    expect(await states(cb, 1)).toEqual(['off']);
    ca.send({ type: 'record-request' });
    expect(await states(cb, 1)).toEqual(['asking']);
    cb.send({ type: 'record-consent', agree: false });
    const [, , last] = [await ca.next('recording'), await ca.next('recording'), await ca.next('recording')];
    expect(last.recording.state).toBe('off');
    expect(last.recording.note).toContain('không đồng ý');
    ca.ws.close();
    cb.ws.close();
  });
});
