/**
 * Two inbox notices of a working day: a patient waiting in the lobby of their remote visit (to the
 * station's clinical staff, once however often the patient reconnects) and a meeting reminder
 * before a case conference (to every invited practitioner and bridge point's facility, once —
 * also across a restart of the scheduler). Nobody else sees them.
 */
import type { Appointment, HealthcareService } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeetingReminders, REMINDER_LEAD_MINUTES } from '../consult/reminders.ts';
import { CONSULT_CATEGORY } from '../consult/model.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { connect, makeCitizen, makeMeeting, makeStaff, type Staff } from '../testing/video.ts';
import type { NotificationItem } from './contract.ts';

const json = { 'content-type': 'application/json' };

describe.each(DB_KINDS)('waiting patients and meeting reminders on %s', (kind) => {
  let p: TestPlatform;
  let base: string;
  let demo: DemoSummary;
  let doctor: Staff;
  let colleague: Staff;
  let stranger: Staff;
  let admin: Staff;

  const inbox = async (who: Staff) => (await call<NotificationItem[]>(p, 'GET', '/api/notifications', undefined, who.headers)).body;
  const eventually = async <T>(fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> => {
    for (let i = 0; i < 50; i++) {
      const v = await fn();
      if (ok(v)) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    return fn();
  };

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: ['consult', 'video'] });
    demo = await seedDemo(p.store, 4);
    base = await p.listen();
    doctor = await makeStaff(p, 'BS Phạm Thu Hà', demo.ids.organizations.batxat, 'commune_clinician');
    colleague = await makeStaff(p, 'YS Lù Thị Mai', demo.ids.organizations.batxat, 'commune_clinician');
    stranger = await makeStaff(p, 'BS Trạm Khác', demo.ids.organizations.muongnhe, 'commune_clinician');
    admin = await makeStaff(p, 'Quản trị Bát Xát', demo.ids.organizations.batxat, 'facility_admin');
  }, 120_000);
  afterAll(async () => p?.close());

  it('tells the station’s clinical staff once when a citizen enters the waiting room of a visit', async () => {
    const service = await p.fixtures.create<HealthcareService>({
      resourceType: 'HealthcareService',
      active: true,
      name: 'Khám từ xa tăng huyết áp',
      providedBy: { reference: `Organization/${demo.ids.organizations.batxat}` },
    });
    const patientId = demo.ids.patients[0];
    const visit = await p.fixtures.create<Appointment>({
      resourceType: 'Appointment',
      status: 'booked',
      description: 'Khám từ xa: tái khám tăng huyết áp',
      start: new Date(Date.now() + 300_000).toISOString(),
      end: new Date(Date.now() + 1_500_000).toISOString(),
      participant: [
        { actor: { reference: `Patient/${patientId}` }, status: 'accepted' },
        { actor: { reference: `Practitioner/${doctor.practitionerId}` }, status: 'accepted' },
        { actor: { reference: `HealthcareService/${service.id}` }, status: 'accepted' },
      ],
    });
    const room = await call(p, 'POST', '/api/video/rooms', { kind: 'appointment', appointmentId: visit.id }, { ...doctor.headers, ...json });
    expect(room.status, room.text).toBe(201);
    const citizen = await makeCitizen(p, 'Nguyễn Văn An', patientId);
    const waitingFor = (n: NotificationItem) => n.kind === 'visit-queue' && n.link === `/visits/${visit.id}`;

    const first = connect(base, `/api/video/rooms/${room.body.id}/ws`, citizen.headers.cookie);
    expect((await first.next('welcome')).you.state).toBe('lobby');
    const seen = await eventually(
      () => inbox(colleague),
      (l) => l.some(waitingFor),
    );
    const notice = seen.find(waitingFor)!;
    expect(notice.title).toMatch(/phòng chờ/);
    expect(notice.title).not.toContain(patientId);
    expect((await inbox(doctor)).some(waitingFor)).toBe(true);
    // Reconnecting does not ring again.
    first.ws.close();
    await first.closed;
    const again = connect(base, `/api/video/rooms/${room.body.id}/ws`, citizen.headers.cookie);
    await again.next('welcome');
    await new Promise((r) => setTimeout(r, 500));
    expect((await inbox(colleague)).filter(waitingFor)).toHaveLength(1);
    again.ws.close();
    // Another station's clinician and an administrator (no clinical reach) see nothing.
    expect((await inbox(stranger)).some(waitingFor)).toBe(false);
    expect((await inbox(admin)).some(waitingFor)).toBe(false);
    expect((await call(p, 'POST', `/api/notifications/${notice.id}/read`, {}, { ...stranger.headers, ...json })).status).toBe(404);
  });

  it('reminds every invited participant and bridge point once before a meeting, across restarts', async () => {
    const chair = await makeStaff(p, 'PGS Trần Quốc Hưng', demo.ids.organizations.bachmai);
    const member = await makeStaff(p, 'BS Nguyễn Thị Lan', demo.ids.organizations.bachmai);
    const outsider = await makeStaff(p, 'BS Không Mời', demo.ids.organizations.bachmai);
    const { meeting } = await makeMeeting(p, chair, demo.ids.organizations.batxat, [member.practitionerId]);
    const start = new Date(Date.now() + 10 * 60_000).toISOString();
    await p.fixtures.update<Appointment>({ ...meeting, start, end: new Date(Date.now() + 70 * 60_000).toISOString() });
    // A meeting further away than the lead time, and a cancelled one, get nothing yet.
    const later = await p.fixtures.create<Appointment>({
      resourceType: 'Appointment',
      status: 'booked',
      description: 'Phiên hội chẩn ngày mai',
      serviceCategory: [{ coding: [CONSULT_CATEGORY] }],
      start: new Date(Date.now() + (REMINDER_LEAD_MINUTES + 60) * 60_000).toISOString(),
      end: new Date(Date.now() + (REMINDER_LEAD_MINUTES + 120) * 60_000).toISOString(),
      participant: [{ actor: { reference: `Practitioner/${member.practitionerId}` }, status: 'accepted' }],
    });
    const cancelled = await p.fixtures.create<Appointment>({ ...later, id: undefined, status: 'cancelled', start, description: 'Phiên đã hủy' });

    const first = await p.app.meetingReminders.run();
    expect(first).toBeGreaterThanOrEqual(3); // chair, member, the bridge point's facility
    const about = (id: string) => (n: NotificationItem) => n.kind === 'meeting' && n.link === `/meetings/${id}` && /Nhắc lịch/.test(n.title);
    for (const who of [chair, member, doctor, colleague]) expect((await inbox(who)).filter(about(meeting.id!)), who.name).toHaveLength(1);
    expect((await inbox(member)).find(about(meeting.id!))!.title).toMatch(/bắt đầu sau (9|10) phút/);
    for (const who of [outsider, stranger, admin]) expect((await inbox(who)).some(about(meeting.id!)), who.name).toBe(false);
    expect((await inbox(member)).some(about(later.id!))).toBe(false);
    expect((await inbox(member)).some(about(cancelled.id!))).toBe(false);

    // Run again, and as a freshly started scheduler (a restart or a second node): nothing twice.
    expect(await p.app.meetingReminders.run()).toBe(0);
    const restarted = new MeetingReminders(p.store, p.app.bus);
    expect(await restarted.run()).toBe(0);
    await restarted.stop();
    expect((await inbox(member)).filter(about(meeting.id!))).toHaveLength(1);
    // The audit trail says the platform sent them, and why.
    const trail = await p.audit.list({ limit: 100 });
    expect(trail.some((e) => e.action === 'consult.meeting.remind' && e.reason?.includes('meeting reminders'))).toBe(true);
  });
});
