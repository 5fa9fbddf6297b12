/**
 * Session feedback and withdrawal, through the API with a real video room (WebSocket signalling):
 * three clinicians enrol in a course of two sessions (a fourth waits); two attend the first
 * session. Only those on the attendance give feedback, only after the session is closed; a second
 * answer replaces the first; the teachers and the hub's coordinator see the aggregate per session
 * without names, nobody else does. Withdrawing declines the person's place on the coming session's
 * Appointment (the held one stays), the room then refuses them, the first waiting takes the place,
 * and enrolling again accepts the place again.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { connect, makeStaff, type Staff } from '../testing/video.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { createDemoAccounts } from '../seed/accounts.ts';
import type { CourseFeedback, CourseView, FeedbackGiven, LearningPage, ProgrammeView } from './contract.ts';

const json = { 'content-type': 'application/json' };
const as = (h: Record<string, string>) => ({ ...h, ...json });
const bearer = (t: string) => ({ authorization: `Bearer ${t}`, ...json });

describe.each(DB_KINDS)('session feedback and withdrawal on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let base: string;
  let coordinator: Record<string, string>;
  let teacher: Record<string, string>;
  let a: Staff;
  let b: Staff;
  let c: Staff;
  let d: Staff;
  let outsider: Staff;
  let course: CourseView;

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: ['video', 'training'] });
    demo = await seedDemo(p.store, 4);
    const accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((x) => [x.username, x]));
    coordinator = await signIn(p, 'dieuphoi', accounts.get('dieuphoi')!.totpSecret);
    teacher = await signIn(p, 'bs.bachmai', accounts.get('bs.bachmai')!.totpSecret);
    a = await makeStaff(p, 'BS Hoàng Văn An', demo.ids.organizations.batxat, 'commune_clinician');
    b = await makeStaff(p, 'BS Lò Thị Mai', demo.ids.organizations.simacai, 'commune_clinician');
    c = await makeStaff(p, 'BS Vàng A Páo', demo.ids.organizations.muongnhe, 'commune_clinician');
    d = await makeStaff(p, 'BS Sùng Thị Dợ', demo.ids.organizations.muongnhe, 'commune_clinician');
    outsider = await makeStaff(p, 'BS Nguyễn Văn Ngoài', demo.ids.organizations.dienbien, 'specialist');
    base = await p.listen();
    const prog = await call<ProgrammeView>(p, 'POST', '/api/training/programmes', { title: 'Chương trình ECHO đái tháo đường' }, as(coordinator));
    expect(prog.status, prog.text).toBe(201);
    const start = Date.now() - 60_000;
    const created = await call<CourseView>(
      p,
      'POST',
      '/api/training/courses',
      {
        programmeId: prog.body.id,
        title: 'Đái tháo đường type 2 tại trạm y tế xã',
        capacity: 3,
        minShare: 0.05,
        teacherPractitionerIds: [demo.ids.practitioners[0]],
        sessions: [
          { title: 'Buổi 1: chẩn đoán', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), credits: 3 },
          {
            title: 'Buổi 2: insulin',
            start: new Date(start + 7 * 86_400_000).toISOString(),
            end: new Date(start + 7 * 86_400_000 + 3_600_000).toISOString(),
            credits: 3,
          },
        ],
      },
      as(coordinator),
    );
    expect(created.status, created.text).toBe(201);
    course = created.body;
    for (const s of [a, b, c]) expect((await call(p, 'POST', `/api/training/courses/${course.id}/enrol`, {}, as(s.headers))).body.status).toBe('enrolled');
    expect((await call(p, 'POST', `/api/training/courses/${course.id}/enrol`, {}, as(d.headers))).body.status).toBe('waiting');
  }, 120_000);
  afterAll(async () => p?.close());

  const feedback = (s: Staff | Record<string, string>, body: unknown, session = course.sessions[0].id) =>
    call<FeedbackGiven>(
      p,
      'POST',
      `/api/training/sessions/${session}/feedback`,
      body,
      as('headers' in s ? (s as Staff).headers : (s as Record<string, string>)),
    );

  it('takes feedback only after the session is closed, only from those on its attendance', async () => {
    const sessionId = course.sessions[0].id;
    const room = await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: sessionId }, as(teacher));
    expect(room.status, room.text).toBe(201);
    const path = `/api/video/rooms/${room.body.id}/ws`;
    const host = connect(base, path, teacher.cookie);
    await host.next('welcome');
    const ca = connect(base, path, a.headers.cookie);
    const cb = connect(base, path, b.headers.cookie);
    await Promise.all([ca.next('welcome'), cb.next('welcome')]);
    // During the session: not yet.
    const early = await feedback(a, { rating: 5 });
    expect(early.status, early.text).toBe(409);
    // A stay long enough to count (the share is of the session as held: opened → ended).
    await new Promise((r) => setTimeout(r, 2000));
    host.send({ type: 'end' });
    await Promise.all([host.closed, ca.closed, cb.closed]);
    expect((await call(p, 'POST', `/api/training/sessions/${sessionId}/close`, {}, as(teacher))).status).toBe(200);

    const due = await call<LearningPage>(p, 'GET', '/api/training/me', undefined, as(a.headers));
    expect(due.body.feedbackDue.map((s) => s.id)).toEqual([sessionId]);
    const given = await feedback(a, { rating: 5, comment: 'Rất hữu ích, cảm ơn BS Hưng' });
    expect(given.status, given.text).toBe(200);
    expect(given.body).toMatchObject({ sessionId, rating: 5 });
    expect((await call<LearningPage>(p, 'GET', '/api/training/me', undefined, as(a.headers))).body.feedbackDue).toEqual([]);
    expect((await feedback(b, { rating: 2, comment: 'Đường truyền bị giật' })).status).toBe(200);
    // A second answer replaces the first: one per person.
    expect((await feedback(b, { rating: 4, comment: '' })).body.rating).toBe(4);

    // Enrolled but not in the room, another facility's specialist, a citizen: refused.
    expect((await feedback(c, { rating: 1 })).status).toBe(403);
    expect((await feedback(outsider, { rating: 1 })).status).toBe(403);
    const citizen = await p.tokenFor('citizen', { patient: demo.ids.patients[0] });
    expect((await call(p, 'POST', `/api/training/sessions/${sessionId}/feedback`, { rating: 1 }, bearer(citizen))).status).toBe(403);
    // The session not yet held: not yet.
    expect((await feedback(a, { rating: 3 }, course.sessions[1].id)).status).toBe(409);
    // Invalid input.
    for (const bad of [
      { rating: 0 },
      { rating: 6 },
      { rating: 4.5 },
      { rating: 4, extra: 1 },
      { comment: 'không có điểm' },
      { rating: 3, comment: 'x'.repeat(2001) },
    ])
      expect((await feedback(a, bad)).status, JSON.stringify(bad).slice(0, 60)).toBe(400);
    expect((await feedback(a, { rating: 5 }, 'khong-co')).status).toBe(404);
  });

  it('shows the aggregate per session to the teachers and the hub, without names; nobody else', async () => {
    const r = await call<CourseFeedback>(p, 'GET', `/api/training/courses/${course.id}/feedback`, undefined, as(coordinator));
    expect(r.status, r.text).toBe(200);
    const [first, second] = r.body.sessions;
    expect(first).toMatchObject({ seq: 1, closed: true, attended: 2, responses: 2, mean: 4.5, distribution: [0, 0, 0, 1, 1] });
    expect(first.comments.map((x) => x.text)).toEqual(['Rất hữu ích, cảm ơn BS Hưng']);
    expect(second).toMatchObject({ closed: false, responses: 0, mean: null, distribution: [0, 0, 0, 0, 0], comments: [] });
    // No names or record ids of those who answered.
    for (const s of [a, b]) {
      expect(r.text).not.toContain(s.name);
      expect(r.text).not.toContain(s.practitionerId);
    }
    expect((await call(p, 'GET', `/api/training/courses/${course.id}/feedback`, undefined, as(teacher))).status).toBe(200);
    expect((await call(p, 'GET', `/api/training/courses/${course.id}/feedback`, undefined, as(a.headers))).status).toBe(403);
    expect((await call(p, 'GET', `/api/training/courses/${course.id}/feedback`, undefined, as(outsider.headers))).status).toBe(403);
    const otherHub = await p.tokenFor('coordinator', { org: demo.ids.organizations.dienbien });
    expect((await call(p, 'GET', `/api/training/courses/${course.id}/feedback`, undefined, bearer(otherHub))).status).toBe(403);
  });

  it('withdrawing declines the place on the coming session, the room refuses, the first waiting takes it', async () => {
    const [held, coming] = course.sessions;
    const place = async (id: string, who: Staff) =>
      (await p.fixtures.read<Appointment>('Appointment', id)).participant.find((x) => x.actor?.reference === `Practitioner/${who.practitionerId}`);
    expect((await place(coming.id, c))?.status).toBe('accepted');
    expect(await place(coming.id, d)).toBeUndefined();
    const w = await call(p, 'POST', `/api/training/courses/${course.id}/withdraw`, {}, as(c.headers));
    expect(w.status, w.text).toBe(200);
    expect(w.body).toEqual({ promoted: true });
    expect((await place(coming.id, c))?.status).toBe('declined');
    // The session already held keeps its record as it was.
    expect((await place(held.id, c))?.status).toBe('accepted');
    expect((await place(coming.id, d))?.status).toBe('accepted');
    // The room of the coming session refuses the one who withdrew, lets in the one promoted.
    const room = await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: coming.id }, as(teacher));
    expect(room.status, room.text).toBe(201);
    const path = `/api/video/rooms/${room.body.id}/ws`;
    const refused = connect(base, path, c.headers.cookie);
    expect((await refused.next('refused')).code).toBe(4403);
    const promoted = connect(base, path, d.headers.cookie);
    expect((await promoted.next('welcome')).you.state).toBe('in');
    promoted.send({ type: 'leave' });
    await promoted.closed;
    expect((await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: coming.id }, as(c.headers))).status).toBe(403);
    // Withdrawing twice, or from a course one is not on: 404.
    expect((await call(p, 'POST', `/api/training/courses/${course.id}/withdraw`, {}, as(c.headers))).status).toBe(404);
    expect((await call(p, 'POST', `/api/training/courses/${course.id}/withdraw`, {}, as(outsider.headers))).status).toBe(404);
    // Enrolling again: the course is full, so the waiting list; once a place frees up, the place is accepted again.
    expect((await call(p, 'POST', `/api/training/courses/${course.id}/enrol`, {}, as(c.headers))).body).toEqual({ status: 'waiting', position: 1 });
    expect((await place(coming.id, c))?.status).toBe('declined');
    expect((await call(p, 'POST', `/api/training/courses/${course.id}/withdraw`, {}, as(b.headers))).body).toEqual({ promoted: true });
    expect((await place(coming.id, c))?.status).toBe('accepted');
    expect((await place(coming.id, b))?.status).toBe('declined');
    const appt = await p.fixtures.read<Appointment>('Appointment', coming.id);
    expect(appt.participant.filter((x) => x.actor?.reference === `Practitioner/${c.practitionerId}`)).toHaveLength(1);
  });
});
