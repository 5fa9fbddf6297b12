/**
 * The signalling server, with real WebSocket clients, on both databases: who may enter (invited
 * staff, a citizen's invitation link, not an uninvited account nor an expired link), the lobby,
 * per-message checks, chat saved as a Communication, host controls, the mesh limit, sign-out
 * ending the connection, attendance; the holes found in review (who hosts, ended rooms, the
 * lobby's view, app tokens' scopes and expiry, family reach); recording with every participant's
 * consent through a Janus the platform starts; and, with the case-conference domain, each bridge
 * point's presence on the meeting's Encounter.
 *
 * Longer than 400 lines on purpose: the signalling rules share one set of rooms and people.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Appointment, Bundle, Communication, Consent, DocumentReference, Encounter, Organization } from '@medplum/fhirtypes';
import { RECORDING_ID_SYSTEM, RECORDING_ROOM_SYSTEM } from './recordings.ts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import type { MeetingView } from '../consult/contract.ts';
import { connect, makeCitizen, makeMeeting, makeStaff, videoTables, type Client, type Staff } from '../testing/video.ts';

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

  /** A family link (as staff record it): the manager's patient manages the visit's patient. */
  async function manages(managerPatient: string, roomId: string): Promise<void> {
    await p.db.query(
      "INSERT INTO family_link (id, manager_patient_id, patient_id, related_person_id, relationship, proof, recorded_by) VALUES ($1, $2, $3, $4, 'PRN', 'giấy khai sinh', 'test')",
      [`fl-${managerPatient}-${roomId}`, managerPatient, patientId, `rp-${managerPatient}`],
    );
  }

  async function invite(roomId: string): Promise<string> {
    const r = await call(
      p,
      'POST',
      `/api/video/rooms/${roomId}/invitations`,
      { patientId, label: 'Nguyễn Văn An', validMinutes: 30 },
      { ...doctor.headers, ...json },
    );
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
    // Nor may they see its attendance or make links into it.
    expect((await call(p, 'GET', `/api/video/rooms/${roomId}/attendance`, undefined, stranger.headers)).status).toBe(403);
    expect(
      (await call(p, 'POST', `/api/video/rooms/${roomId}/invitations`, { patientId, label: 'Người lạ', validMinutes: 30 }, { ...stranger.headers, ...json }))
        .status,
    ).toBe(403);

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
    await expect
      .poll(
        () =>
          host.messages
            .filter((m) => m.type === 'members')
            .at(-1)
            ?.members.find((m: any) => m.state === 'lobby')?.atHome,
      )
      .toBe(true);
    const waiting = host.messages
      .filter((m) => m.type === 'members')
      .at(-1)
      .members.find((m: any) => m.state === 'lobby');

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
    const joins = await p.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM audit_log WHERE action = 'video.join' AND outcome = 'success' AND resource_id = $1",
      [appointment.id],
    );
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

  it('admits the staff of an invited bridge point to a meeting room (not as a host), with their site', async () => {
    const host = await makeStaff(p, 'PGS Chủ Trì Phiên', demo.ids.organizations.bachmai);
    const site = await makeStaff(p, 'BS Trạm Y Tế', demo.ids.organizations.batxat); // not named on the meeting
    const { meeting } = await makeMeeting(p, host, demo.ids.organizations.batxat);
    const room = (await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: meeting.id }, { ...host.headers, ...json })).body;
    // Opening it again finds the same room.
    expect((await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: meeting.id }, { ...host.headers, ...json })).body.id).toBe(room.id);
    const h = connect(base, `/api/video/rooms/${room.id}/ws`, host.headers.cookie);
    expect((await h.next('welcome')).you.host).toBe(true);
    const s = connect(base, `/api/video/rooms/${room.id}/ws`, site.headers.cookie);
    const sw = await s.next('welcome');
    expect(sw.you).toMatchObject({ host: false, state: 'in' });
    expect(sw.members.find((m: any) => m.id === sw.you.id).site).toBe(
      (await p.fixtures.read<Organization>('Organization', demo.ids.organizations.batxat)).name,
    );
    // Staff of a site that was not invited stay out.
    const elsewhere = await makeStaff(p, 'BS Nơi Khác', demo.ids.organizations.bachmai);
    expect((await connect(base, `/api/video/rooms/${room.id}/ws`, elsewhere.headers.cookie).closed).code).toBe(4403);
    s.send({ type: 'leave' });
    await s.closed;
    h.ws.close();
  });

  // ---------------------------------------------------------------- holes found in review (each failed before its fix)

  it('a meeting’s room is a meeting room whatever the client says: a participant who is not the chair cannot make it a visit room and host it', async () => {
    const chair = await makeStaff(p, 'PGS Chủ Tọa', demo.ids.organizations.bachmai);
    const member = await makeStaff(p, 'BS Thành Viên', demo.ids.organizations.bachmai);
    const { meeting } = await makeMeeting(p, chair, demo.ids.organizations.batxat, [member.practitionerId]);
    // As a visit room every clinician on the appointment would host (end it, remove the chair, record).
    const asVisit = await call(p, 'POST', '/api/video/rooms', { kind: 'appointment', appointmentId: meeting.id }, { ...member.headers, ...json });
    expect(asVisit.status).toBe(400);
    expect(asVisit.body.title).toContain('chủ trì');
    // A visit cannot be made a meeting room either (nobody would host it: its citizen would wait forever).
    expect((await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: appointment.id }, { ...doctor.headers, ...json })).status).toBe(400);
    const room = (await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: meeting.id }, { ...member.headers, ...json })).body;
    expect(room.kind).toBe('session');
    const c = connect(base, `/api/video/rooms/${room.id}/ws`, member.headers.cookie);
    expect((await c.next('welcome')).you.host).toBe(false);
    c.send({ type: 'end' });
    expect((await c.next('error')).message).toContain('chủ trì');
    c.ws.close();
  });

  it('whoever opens a meeting’s room first does not host it: staff of an invited site who opened it are not hosts', async () => {
    const chair = await makeStaff(p, 'PGS Chủ Tọa Hai', demo.ids.organizations.bachmai);
    const site = await makeStaff(p, 'BS Điểm Cầu Mở Trước', demo.ids.organizations.batxat);
    const { meeting } = await makeMeeting(p, chair, demo.ids.organizations.batxat);
    const room = await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: meeting.id }, { ...site.headers, ...json });
    expect(room.status, room.text).toBe(201);
    const s = connect(base, `/api/video/rooms/${room.body.id}/ws`, site.headers.cookie);
    expect((await s.next('welcome')).you).toMatchObject({ host: false, state: 'in' });
    s.send({ type: 'record-request' });
    expect((await s.next('error')).message).toContain('chủ trì');
    const c = connect(base, `/api/video/rooms/${room.body.id}/ws`, chair.headers.cookie);
    expect((await c.next('welcome')).you.host).toBe(true);
    for (const x of [s, c]) x.ws.close();
  });

  it('an invitation link does not open a room that has ended (no lobby in an ended call), nor its page', async () => {
    const roomId = await visitRoom();
    const token = await invite(roomId);
    const host = connect(base, `/api/video/rooms/${roomId}/ws`, doctor.headers.cookie);
    await host.next('welcome');
    host.send({ type: 'end' });
    await host.next('ended');
    const late = connect(base, `/api/video/rooms/${roomId}/ws?invite=${token}`);
    expect((await late.next('refused')).message).toContain('kết thúc');
    expect((await late.closed).code).toBe(4403);
    expect(late.messages.some((m) => m.type === 'welcome')).toBe(false);
    expect((await call(p, 'GET', `/api/video/rooms/${roomId}?invite=${token}`, undefined, { authorization: '' })).status).toBe(403);
    // The report of who attended stays available to the room's staff after the call.
    const att = await call(p, 'GET', `/api/video/rooms/${roomId}/attendance`, undefined, doctor.headers);
    expect(att.status, att.text).toBe(200);
    expect(att.body.entries.every((e: any) => e.leftAt)).toBe(true);
  });

  it('someone waiting in the lobby does not see who is in the call until a host lets them in', async () => {
    const roomId = await visitRoom();
    const token = await invite(roomId);
    const host = connect(base, `/api/video/rooms/${roomId}/ws`, doctor.headers.cookie);
    const hw = await host.next('welcome');
    const citizen = connect(base, `/api/video/rooms/${roomId}/ws?invite=${token}`);
    const cw = await citizen.next('welcome');
    expect(cw.members.map((m: any) => m.id)).toEqual([cw.you.id]);
    // Members updates while waiting (the host changing media, another person joining) show only themselves.
    host.send({ type: 'hand', up: true });
    await expect
      .poll(
        () =>
          host.messages
            .filter((m) => m.type === 'members')
            .at(-1)
            ?.members.find((m: any) => m.id === hw.you.id)?.hand,
      )
      .toBe(true);
    for (const m of citizen.messages.filter((x) => x.type === 'members')) expect(m.members.map((x: any) => x.id)).toEqual([cw.you.id]);
    host.send({ type: 'admit', id: cw.you.id });
    await citizen.next('admitted');
    await expect
      .poll(() =>
        citizen.messages
          .filter((m) => m.type === 'members')
          .at(-1)
          ?.members.map((x: any) => x.id)
          .sort(),
      )
      .toEqual([cw.you.id, hw.you.id].sort());
    for (const x of [host, citizen]) x.ws.close();
  });

  it('an app’s token is held to its scopes here as on the FHIR API: no recordings, no call, no chat beyond them', async () => {
    const roomId = await visitRoom();
    // A citizen's app allowed to read observations only.
    const narrow = await p.tokenFor('citizen', { patient: patientId, scope: 'patient/Observation.read' });
    const recs = await call(p, 'GET', `/api/video/rooms/${roomId}/recordings`, undefined, { authorization: `Bearer ${narrow}` });
    expect(recs.status).toBe(403);
    expect(recs.body.title).toContain('DocumentReference');
    expect((await call(p, 'GET', `/api/video/rooms/${roomId}`, undefined, { authorization: `Bearer ${narrow}` })).status).toBe(403);
    const refused = connect(base, `/api/video/rooms/${roomId}/ws`, undefined, `Bearer ${narrow}`);
    expect((await refused.closed).code).toBe(4403);
    // A read-only app may see the call, not speak in the record.
    const reader = await p.tokenFor('citizen', { patient: patientId, scope: 'patient/*.read' });
    expect((await call(p, 'GET', `/api/video/rooms/${roomId}/recordings`, undefined, { authorization: `Bearer ${reader}` })).status).toBe(200);
    const host = connect(base, `/api/video/rooms/${roomId}/ws`, doctor.headers.cookie);
    await host.next('welcome');
    const app = connect(base, `/api/video/rooms/${roomId}/ws`, undefined, `Bearer ${reader}`);
    const aw = await app.next('welcome');
    host.send({ type: 'admit', id: aw.you.id });
    await app.next('admitted');
    app.send({ type: 'chat', text: 'Tin nhắn từ ứng dụng chỉ đọc' });
    expect((await app.next('error')).message).toContain('create Communication');
    for (const x of [host, app]) x.ws.close();
  });

  it('a family manager goes with the member they manage only when signed in themselves, not through an app’s token', async () => {
    const roomId = await visitRoom();
    const managerPatient = demo.ids.patients[1];
    await manages(managerPatient, roomId);
    const manager = await makeCitizen(p, 'Nguyễn Thị Mẹ', managerPatient);
    expect((await call(p, 'GET', `/api/video/rooms/${roomId}`, undefined, manager.headers)).status).toBe(200);
    const token = await p.tokenFor('citizen', { patient: managerPatient, scope: 'patient/*.read' });
    expect((await call(p, 'GET', `/api/video/rooms/${roomId}`, undefined, { authorization: `Bearer ${token}` })).status).toBe(403);
    expect((await call(p, 'GET', `/api/video/rooms/${roomId}/recordings`, undefined, { authorization: `Bearer ${token}` })).status).toBe(403);
    const viaApp = connect(base, `/api/video/rooms/${roomId}/ws`, undefined, `Bearer ${token}`);
    expect((await viaApp.closed).code).toBe(4403);
    // Another citizen, not managing anyone on the visit, stays out.
    const neighbour = await makeCitizen(p, 'Hàng Xóm', demo.ids.patients[2]);
    expect((await call(p, 'GET', `/api/video/rooms/${roomId}`, undefined, neighbour.headers)).status).toBe(403);
  });

  it('a recording watched in one credential is checked and audited again in another: a family manager’s app token gets no file their session watched', async () => {
    const roomId = await visitRoom();
    const managerPatient = demo.ids.patients[3];
    await manages(managerPatient, roomId);
    // A stored recording of this room, as the archive leaves it: its file and its DocumentReference.
    const key = `videoroom-1-user-2-${Date.now()}000`;
    mkdirSync(join(p.recordings.dir, roomId), { recursive: true });
    writeFileSync(join(p.recordings.dir, roomId, `${key}.webm`), Buffer.alloc(2048, 7));
    await p.fixtures.create<DocumentReference>({
      resourceType: 'DocumentReference',
      identifier: [
        { system: RECORDING_ID_SYSTEM, value: `${roomId}/${key}` },
        { use: 'secondary', system: RECORDING_ROOM_SYSTEM, value: roomId },
      ],
      status: 'current',
      subject: { reference: `Patient/${patientId}` },
      date: new Date().toISOString(),
      content: [{ attachment: { contentType: 'video/webm', url: `/api/video/rooms/${roomId}/recordings/${key}`, size: 2048 } }],
    });
    const url = `/api/video/rooms/${roomId}/recordings/${key}`;
    const audited = async () =>
      (await p.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = 'video.recordings.read' AND detail->>'key' = $1", [key]))
        .rows[0].n;
    const manager = await makeCitizen(p, 'Nguyễn Thị Bà', managerPatient);
    const watched = await call(p, 'GET', url, undefined, manager.headers);
    expect(watched.status, watched.text).toBe(200);
    expect(await call(p, 'GET', url, undefined, { ...manager.headers, range: 'bytes=0-99' }).then((r) => r.status)).toBe(206);
    expect(await audited()).toBe(1); // one viewing, however many byte ranges
    // The same person's app token may not enter this room (see above): it gets no file either.
    const app = (await p.tokens.issue({ sub: manager.accountId, role: 'citizen', patient: managerPatient, scope: 'patient/*.read' } as never)).token;
    const refused = await call(p, 'GET', url, undefined, { authorization: `Bearer ${app}` });
    expect(refused.status).toBe(403);
    // The doctor's own viewing is checked and audited on its own.
    expect((await call(p, 'GET', url, undefined, doctor.headers)).status).toBe(200);
    expect(await audited()).toBe(2);
  });

  it('a member a host removes while their message is being checked does not act: the chat is not written', async () => {
    const roomId = await visitRoom();
    const token = await invite(roomId);
    const host = connect(base, `/api/video/rooms/${roomId}/ws`, doctor.headers.cookie);
    await host.next('welcome');
    const citizen = connect(base, `/api/video/rooms/${roomId}/ws?invite=${token}`);
    const cw = await citizen.next('welcome');
    host.send({ type: 'admit', id: cw.you.id });
    await citizen.next('admitted');
    // The citizen's sign-in check is slow (a busy database): the host removes them meanwhile.
    const live = p.app.live.get(await p.rooms.get(videoTables(p), roomId));
    const member = live.members.get(cw.you.id)!;
    let release!: () => void;
    const checking = new Promise<void>((r) => (release = r));
    let asked!: () => void;
    const wasAsked = new Promise<void>((r) => (asked = r));
    member.stillValid = async () => {
      asked();
      await checking;
      return true;
    };
    const text = `Tin nhắn sau khi bị mời ra ${roomId}`;
    citizen.send({ type: 'chat', text });
    await wasAsked;
    host.send({ type: 'remove', id: cw.you.id });
    expect((await citizen.closed).code).toBe(4403);
    release();
    // The host's next message is handled after the citizen's: by then the chat would have been written.
    host.send({ type: 'ping' });
    await host.next('pong');
    await new Promise((r) => setTimeout(r, 200));
    expect(host.messages.some((m) => m.type === 'chat' && m.text === text)).toBe(false);
    const comms = await call<Bundle>(p, 'GET', `/fhir/R4/Communication?subject=Patient/${patientId}&_count=200`);
    expect((comms.body.entry ?? []).some((e) => (e.resource as Communication).payload?.[0]?.contentString === text)).toBe(false);
    host.ws.close();
  });

  it('an app’s token enters no call, ad hoc ones included, without an Appointment scope (the room routes are public)', async () => {
    const adhoc = (
      await call(
        p,
        'POST',
        '/api/video/rooms',
        { kind: 'adhoc', title: 'Hội chẩn nhanh ca khó', invitePractitionerIds: [doctor.practitionerId] },
        { ...doctor.headers, ...json },
      )
    ).body.id;
    const account = await p.accounts.create({
      username: `app.chat.${Date.now() % 100000}`,
      displayName: 'Ứng dụng trò chuyện',
      kind: 'service',
      roles: [{ role: 'specialist', organizationId: doctor.organizationId }],
    });
    const issue = async (scope: string) =>
      (await p.tokens.issue({ sub: account.id, role: 'specialist', scope, practitioner: doctor.practitionerId, org: doctor.organizationId })).token;
    const chatOnly = await issue('user/Communication.read user/Observation.read');
    const page = await call(p, 'GET', `/api/video/rooms/${adhoc}`, undefined, { authorization: `Bearer ${chatOnly}` });
    expect(page.status).toBe(403);
    expect(page.text).not.toContain('Hội chẩn nhanh ca khó');
    const refused = connect(base, `/api/video/rooms/${adhoc}/ws`, undefined, `Bearer ${chatOnly}`);
    expect((await refused.next('refused')).message).toMatch(/search on Appointment/);
    expect((await refused.closed).code).toBe(4403);
    // With the scope (and those for the names the call shows), the same app is in the call.
    const c = connect(
      base,
      `/api/video/rooms/${adhoc}/ws`,
      undefined,
      `Bearer ${await issue('user/Communication.read user/Appointment.read user/Organization.read user/Practitioner.read')}`,
    );
    expect((await c.next('welcome')).you.state).toBe('in');
    c.send({ type: 'leave' });
    await c.closed;
  });

  it('a clinician’s read-only app token watches the call but hosts nothing: no admitting, no ending', async () => {
    const roomId = await visitRoom();
    const account = await p.accounts.create({
      username: `app.ro.${Date.now() % 100000}`,
      displayName: 'Ứng dụng chỉ đọc',
      kind: 'service',
      roles: [{ role: 'specialist', organizationId: doctor.organizationId }],
    });
    const { token } = await p.tokens.issue({
      sub: account.id,
      role: 'specialist',
      scope: 'user/*.read',
      practitioner: doctor.practitionerId,
      org: doctor.organizationId,
    });
    const c = connect(base, `/api/video/rooms/${roomId}/ws`, undefined, `Bearer ${token}`);
    expect((await c.next('welcome')).you).toMatchObject({ state: 'in', host: false });
    c.send({ type: 'end' });
    expect((await c.next('error')).message).toMatch(/only a host/);
    const room = await p.db.query<{ ended_at: Date | null }>('SELECT ended_at FROM video_room WHERE id = $1', [roomId]);
    expect(room.rows[0].ended_at).toBeNull();
    c.send({ type: 'leave' }); // the visit's room stays open for the next test: one seat fewer taken
    await c.closed;
  });

  it('an app’s token that expires during the call ends its connection at the next message', async () => {
    const roomId = await visitRoom();
    const account = await p.accounts.create({
      username: `app.${Date.now() % 100000}`,
      displayName: 'Ứng dụng bác sĩ',
      kind: 'service',
      roles: [{ role: 'specialist', organizationId: doctor.organizationId }],
    });
    const { token, expiresIn } = await p.tokens.issue(
      { sub: account.id, role: 'specialist', scope: 'user/*.read user/*.write', practitioner: doctor.practitionerId, org: doctor.organizationId },
      60,
    );
    const c = connect(base, `/api/video/rooms/${roomId}/ws`, undefined, `Bearer ${token}`);
    expect((await c.next('welcome')).you.state).toBe('in');
    c.send({ type: 'ping' });
    await c.next('pong');
    // The clock (only the date: timers and sockets run as usual) moves past the token's expiry.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + (expiresIn + 5) * 1000 });
    try {
      c.send({ type: 'ping' });
      expect((await c.closed).code).toBe(4401);
    } finally {
      vi.useRealTimers();
    }
  });

  it('holds at most four in a peer-to-peer call, refuses large sessions without Janus, and closes the socket at sign-out', async () => {
    const people = [doctor];
    for (let i = 0; i < 4; i++) people.push(await makeStaff(p, `BS Thứ ${i}`, demo.ids.organizations.bachmai));
    const room = await call(
      p,
      'POST',
      '/api/video/rooms',
      { kind: 'adhoc', title: 'Gọi nhanh', invitePractitionerIds: people.slice(1).map((x) => x.practitionerId) },
      { ...doctor.headers, ...json },
    );
    // Five people were invited: that is over the mesh limit, and this platform has no Janus.
    expect(room.status).toBe(400);
    expect(room.body.title).toMatch(/janus/i);
    const small = (
      await call(
        p,
        'POST',
        '/api/video/rooms',
        { kind: 'adhoc', title: 'Gọi nhanh', invitePractitionerIds: people.slice(1, 4).map((x) => x.practitionerId) },
        { ...doctor.headers, ...json },
      )
    ).body;
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
    const room = (
      await call(
        p,
        'POST',
        '/api/video/rooms',
        { kind: 'adhoc', title: 'Đào tạo', invitePractitionerIds: [b.practitionerId], large: true },
        { ...a.headers, ...json },
      )
    ).body;
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

describe('a meeting room with the case-conference domain: each bridge point on the meeting’s Encounter', () => {
  let p: TestPlatform;
  let base: string;
  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['family', 'consult', 'video'] });
    base = await p.listen();
  });
  afterAll(async () => p?.close());

  it('records the site’s joining and leaving on the meeting’s Encounter', async () => {
    const demo = await seedDemo(p.store, 2);
    const chair = await makeStaff(p, 'PGS Chủ Trì Phiên', demo.ids.organizations.bachmai);
    const site = await makeStaff(p, 'BS Trạm Y Tế', demo.ids.organizations.batxat);
    const { meeting, bridge } = await makeMeeting(p, chair, demo.ids.organizations.batxat);
    const room = (await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: meeting.id }, { ...chair.headers, ...json })).body;
    const h = connect(base, `/api/video/rooms/${room.id}/ws`, chair.headers.cookie);
    await h.next('welcome');
    const s = connect(base, `/api/video/rooms/${room.id}/ws`, site.headers.cookie);
    await s.next('welcome');
    const encounter = async () =>
      ((await call<Bundle>(p, 'GET', `/fhir/R4/Encounter?appointment=Appointment/${meeting.id}`)).body.entry ?? [])[0]?.resource as Encounter | undefined;
    await expect.poll(async () => (await encounter())?.location?.find((l) => l.location.reference === `Location/${bridge.id}`)?.status).toBe('active');
    s.send({ type: 'leave' });
    await expect.poll(async () => (await encounter())?.location?.find((l) => l.location.reference === `Location/${bridge.id}`)?.period?.end).toBeTruthy();
    h.ws.close();
  });

  it('shows each bridge point’s people connected now and the connection quality their clients report on the meeting page', async () => {
    const demo = await seedDemo(p.store, 2);
    const chair = await makeStaff(p, 'PGS Chủ Trì Chất Lượng', demo.ids.organizations.bachmai);
    const site = await makeStaff(p, 'BS Điểm Cầu Xã', demo.ids.organizations.batxat);
    const { meeting } = await makeMeeting(p, chair, demo.ids.organizations.batxat);
    const details = async () => (await call<MeetingView>(p, 'GET', `/api/meetings/${meeting.id}`, undefined, chair.headers)).body.details!.sites[0];
    expect(await details()).toMatchObject({ state: 'invited' });
    expect((await details()).live).toBeUndefined();
    const room = (await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: meeting.id }, { ...chair.headers, ...json })).body;
    const h = connect(base, `/api/video/rooms/${room.id}/ws`, chair.headers.cookie);
    await h.next('welcome');
    const s = connect(base, `/api/video/rooms/${room.id}/ws`, site.headers.cookie);
    await s.next('welcome');
    await expect.poll(async () => (await details()).live).toEqual({ connected: 1, quality: 'unknown' });
    s.send({ type: 'media', audio: true, video: true, screen: false, audioOnly: false, quality: 'poor' });
    await expect.poll(async () => (await details()).live?.quality).toBe('poor');
    expect((await details()).state).toBe('joined');
    expect((await details()).name).not.toMatch(/^(Location|Organization)\//);
    s.send({ type: 'leave' });
    await expect.poll(async () => (await details()).state).toBe('left');
    expect((await details()).live).toBeUndefined();
    h.ws.close();
  });
});
