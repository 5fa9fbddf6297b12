/**
 * Remote training through the API, with real people in a real video room (WebSocket signalling):
 * a hub coordinator creates a course with two sessions; two commune clinicians from two sites
 * enrol (a third goes on the waiting list); all join the first session's room, one leaves at once
 * and does not reach the minimum share; a de-identified teaching case from a real consult is
 * shown; the post-test is taken; exactly one certificate is issued and its QR link verifies;
 * credits appear on the clinician's page and in the indicators. Then a technology-transfer
 * package: independence before the signed-off supervised cases is a 422. Denials for every route.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { connect, makeStaff, type Staff } from '../testing/video.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { createDemoAccounts } from '../seed/accounts.ts';
import { pdfText } from '../testing/pdf.ts';
import type { CourseView, LearningPage, ProgrammeView, SessionResult, TeachingCaseView, TrainingIndicators, TransferView } from './contract.ts';
import { cardiologyConsult } from '../testing/consults.ts';

const json = { 'content-type': 'application/json' };
const as = (h: Record<string, string>) => ({ ...h, ...json });
const bearer = (t: string) => ({ authorization: `Bearer ${t}`, ...json });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DB_KINDS)('remote training on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let base: string;
  let coordinator: Record<string, string>;
  let teacher: Record<string, string>;
  let commune: Record<string, string>;
  let second: Staff;
  let third: Staff;
  let outsider: Staff;
  let courseId: string;
  let course: CourseView;
  let caseId: string;
  const communeName = 'Giàng A Sử';

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: ['consult', 'video', 'programme', 'training'] });
    demo = await seedDemo(p.store, 8);
    const accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    const secret = (u: string) => accounts.get(u)!.totpSecret;
    coordinator = await signIn(p, 'dieuphoi', secret('dieuphoi'));
    teacher = await signIn(p, 'bs.bachmai', secret('bs.bachmai'));
    commune = await signIn(p, 'bs.batxat', secret('bs.batxat'));
    second = await makeStaff(p, 'BS Lò Thị Mai', demo.ids.organizations.simacai, 'commune_clinician');
    third = await makeStaff(p, 'BS Vàng A Páo', demo.ids.organizations.muongnhe, 'commune_clinician');
    outsider = await makeStaff(p, 'BS Nguyễn Văn Ngoài', demo.ids.organizations.dienbien, 'specialist');
    base = await p.listen();
    // Consult requests here go without a support agreement (recorded as a warning).
    const admin = await p.tokenFor('system_admin');
    expect((await call(p, 'PUT', '/api/programme/settings', { agreementRule: 'warn' }, bearer(admin))).status).toBe(200);
  }, 120_000);
  afterAll(async () => p?.close());

  const question = (text: string, correct: number) => ({ text, options: ['A', 'B', 'C'], correct });

  it('a hub coordinator creates a programme and a course with two sessions; others may not', async () => {
    const prog = await call<ProgrammeView>(
      p,
      'POST',
      '/api/training/programmes',
      { title: 'Tăng huyết áp và đái tháo đường tại trạm y tế xã', description: 'Chương trình ECHO hằng tuần' },
      as(coordinator),
    );
    expect(prog.status, prog.text).toBe(201);
    expect(prog.body.hubOrganizationId).toBe(demo.ids.organizations.bachmai);
    // A clinician may not create programmes; nor may another hub create courses in this one.
    expect((await call(p, 'POST', '/api/training/programmes', { title: 'Không được' }, as(commune))).status).toBe(403);
    const otherHub = await p.tokenFor('coordinator', { org: demo.ids.organizations.dienbien });
    const start = Date.now() - 60_000;
    const body = {
      programmeId: prog.body.id,
      title: 'Quản lý tăng huyết áp ở tuyến xã',
      capacity: 2,
      minShare: 0.75,
      passMark: 60,
      teacherPractitionerIds: [demo.ids.practitioners[0]],
      materials: [
        { title: 'Hướng dẫn chẩn đoán và điều trị tăng huyết áp', url: 'https://example.org/huong-dan-tha.pdf' },
        { title: 'Bài giảng', contentType: 'application/pdf', data: Buffer.from('%PDF-1.4 bài giảng').toString('base64') },
      ],
      sessions: [
        { title: 'Buổi 1: đo huyết áp đúng cách', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), credits: 4 },
        {
          title: 'Buổi 2: thuốc hạ áp',
          start: new Date(start + 7 * 86_400_000).toISOString(),
          end: new Date(start + 7 * 86_400_000 + 3_600_000).toISOString(),
          credits: 4,
        },
      ],
      preTest: [question('Huyết áp mục tiêu?', 1), question('Thuốc đầu tay?', 2)],
      postTest: [question('Huyết áp mục tiêu?', 1), question('Thuốc đầu tay?', 2)],
    };
    expect((await call(p, 'POST', '/api/training/courses', body, bearer(otherHub))).status).toBe(403);
    expect((await call(p, 'POST', '/api/training/courses', body, as(teacher))).status).toBe(403);
    const c = await call<CourseView>(p, 'POST', '/api/training/courses', body, as(coordinator));
    expect(c.status, c.text).toBe(201);
    courseId = c.body.id;
    course = c.body;
    expect(course.sessions).toHaveLength(2);
    expect(course.materials[1].url).toMatch(/^\/fhir\/R4\/Binary\//);
    expect(course.teachers).toEqual(['Trần Quốc Hưng']);
    // Learners see the questions, never the right answers.
    expect(JSON.stringify(course.postTest)).not.toContain('correct');
    // A session is an Appointment owned by training: a plain FHIR write is refused.
    const integration = await p.tokenFor('integration');
    const appt = await p.fixtures.read<any>('Appointment', course.sessions[0].id);
    const put = await call(
      p,
      'PUT',
      `/fhir/R4/Appointment/${appt.id}`,
      { ...appt, description: 'sửa' },
      { ...bearer(integration), 'content-type': 'application/fhir+json' },
    );
    expect(put.status, put.text).toBe(422);
    expect(put.text).toContain('POST /api/training/courses');
  });

  it('enrols two clinicians from two sites; the third waits; a citizen cannot', async () => {
    const a = await call(p, 'POST', `/api/training/courses/${courseId}/enrol`, {}, as(commune));
    expect(a.status, a.text).toBe(200);
    expect(a.body.status).toBe('enrolled');
    expect((await call(p, 'POST', `/api/training/courses/${courseId}/enrol`, {}, as(commune))).status).toBe(409);
    expect((await call(p, 'POST', `/api/training/courses/${courseId}/enrol`, {}, as(second.headers))).body.status).toBe('enrolled');
    const w = await call(p, 'POST', `/api/training/courses/${courseId}/enrol`, {}, as(third.headers));
    expect(w.body).toEqual({ status: 'waiting', position: 1 });
    const citizen = await p.tokenFor('citizen', { patient: demo.ids.patients[0] });
    expect((await call(p, 'POST', `/api/training/courses/${courseId}/enrol`, {}, bearer(citizen))).status).toBe(403);
    expect((await call(p, 'GET', `/api/training/courses/${courseId}`, undefined, bearer(citizen))).status).toBe(403);
    const v = await call<CourseView>(p, 'GET', `/api/training/courses/${courseId}`, undefined, as(second.headers));
    expect(v.body).toMatchObject({ enrolled: 2, waiting: 1, mine: 'enrolled' });
  });

  it('a course with a prerequisite names it, and refuses enrolment until it is passed', async () => {
    const start = Date.now() + 30 * 86_400_000;
    const next = await call<CourseView>(
      p,
      'POST',
      '/api/training/courses',
      {
        programmeId: course.programmeId,
        title: 'Đái tháo đường ở tuyến xã (nâng cao)',
        capacity: 10,
        teacherPractitionerIds: [demo.ids.practitioners[1]], // another teacher: the first one's results below stay the first course's
        prerequisiteCourseIds: [courseId],
        sessions: [{ title: 'Buổi 1: insulin', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), credits: 2 }],
      },
      as(coordinator),
    );
    expect(next.status, next.text).toBe(201);
    expect(next.body.prerequisites).toEqual([{ id: courseId, title: 'Quản lý tăng huyết áp ở tuyến xã' }]);
    const refused = await call(p, 'POST', `/api/training/courses/${next.body.id}/enrol`, {}, as(commune));
    expect(refused.status, refused.text).toBe(400);
    expect(refused.text).toContain('Cần hoàn thành các khoá học tiên quyết');
  });

  it('counts attendance from the video room: one stays, one leaves early and does not count', async () => {
    const sessionId = course.sessions[0].id;
    const room = await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: sessionId }, as(teacher));
    expect(room.status, room.text).toBe(201);
    const path = `/api/video/rooms/${room.body.id}/ws`;
    const host = connect(base, path, teacher.cookie);
    expect((await host.next('welcome')).you.host).toBe(true);
    const a = connect(base, path, commune.cookie);
    expect((await a.next('welcome')).you.state).toBe('in');
    const b = connect(base, path, second.headers.cookie);
    expect((await b.next('welcome')).you.state).toBe('in');
    // Someone not enrolled is not let into the room.
    const o = connect(base, path, third.headers.cookie);
    expect((await o.closed).code).toBeGreaterThanOrEqual(4000);
    b.send({ type: 'leave' });
    await b.closed;
    await sleep(2500);
    host.send({ type: 'end' });
    await Promise.all([host.closed, a.closed]);

    // Only the course's teachers close it.
    expect((await call(p, 'POST', `/api/training/sessions/${sessionId}/close`, {}, as(commune))).status).toBe(403);
    expect((await call(p, 'POST', `/api/training/sessions/${sessionId}/close`, {}, as(outsider.headers))).status).toBe(403);
    const closed = await call<SessionResult>(p, 'POST', `/api/training/sessions/${sessionId}/close`, {}, as(teacher));
    expect(closed.status, closed.text).toBe(200);
    const byName = new Map(closed.body.attendance.map((r) => [r.name, r]));
    expect(byName.get(communeName)).toMatchObject({ counted: true, credits: 4, source: 'video', organizationName: 'Trạm Y tế xã Bát Xát' });
    expect(byName.get('BS Lò Thị Mai')).toMatchObject({ counted: false, credits: 0 });
    expect(closed.body.attendance).toHaveLength(2);
    expect((await call(p, 'POST', `/api/training/sessions/${sessionId}/close`, {}, as(teacher))).status).toBe(409);
    expect((await call(p, 'GET', `/api/training/sessions/${sessionId}/attendance`, undefined, as(second.headers))).status).toBe(403);
    expect((await call(p, 'GET', `/api/training/sessions/${sessionId}/attendance`, undefined, as(coordinator))).status).toBe(200);

    // The held session's recordings are course material for the enrolled (the one who left early too), not for the waiting.
    const enrolledView = await call<CourseView>(p, 'GET', `/api/training/courses/${courseId}`, undefined, as(second.headers));
    expect(enrolledView.body.sessions.find((s) => s.id === sessionId)?.roomId).toBe(room.body.id);
    expect(enrolledView.body.sessions.find((s) => s.id !== sessionId)?.roomId).toBeUndefined(); // not held yet
    expect((await call(p, 'GET', `/api/video/rooms/${room.body.id}/recordings`, undefined, as(second.headers))).status).toBe(200);
    const waitingView = await call<CourseView>(p, 'GET', `/api/training/courses/${courseId}`, undefined, as(third.headers));
    expect(waitingView.body.sessions.find((s) => s.id === sessionId)?.roomId).toBeUndefined();
    expect((await call(p, 'GET', `/api/video/rooms/${room.body.id}/recordings`, undefined, as(third.headers))).status).toBe(403);
  });

  it('shows a de-identified teaching case from a real consult to those enrolled', async () => {
    const patient = demo.ids.patients[0];
    const pt = await p.fixtures.read<any>('Patient', patient);
    const name = pt.name[0].text ?? [pt.name[0].family, ...pt.name[0].given].join(' ');
    const r = await call(
      p,
      'POST',
      '/api/consults',
      cardiologyConsult(demo, {
        summary: {
          history: `Bệnh nhân ${name}, CCCD ${pt.identifier?.[0]?.value ?? '001085012345'}, khám ngày 12/03/2025, vợ là Lò Thị Xuân.`,
          findings: 'HA 170/100 mmHg',
          treatment: 'Amlodipin 5 mg',
          question: 'Phối hợp thuốc?',
        },
      }),
      as(commune),
    );
    expect(r.status, r.text).toBe(201);
    caseId = r.body.caseId;
    const sessionId = course.sessions[0].id;
    expect((await call(p, 'POST', `/api/training/sessions/${sessionId}/teaching-cases`, { caseId }, as(commune))).status).toBe(403);
    const t = await call<TeachingCaseView>(p, 'POST', `/api/training/sessions/${sessionId}/teaching-cases`, { caseId }, as(teacher));
    expect(t.status, t.text).toBe(201);
    const text = JSON.stringify(t.body.content);
    expect(text).not.toContain(name);
    expect(text).not.toContain('Lò Thị Xuân');
    expect(text).not.toContain('12/03/2025');
    expect(text).toContain('03/2025');
    expect(text).toContain('HA 170/100');
    const list = await call<TeachingCaseView[]>(p, 'GET', `/api/training/sessions/${sessionId}/teaching-cases`, undefined, as(second.headers));
    expect(list.status).toBe(200);
    expect(list.body.map((x) => x.id)).toEqual([t.body.id]);
    // Not enrolled, not teaching: refused.
    expect((await call(p, 'GET', `/api/training/sessions/${sessionId}/teaching-cases`, undefined, as(outsider.headers))).status).toBe(403);
  });

  it('scores the tests; exactly one certificate, verified through its QR link', async () => {
    const pre = await call(p, 'POST', `/api/training/courses/${courseId}/answers`, { phase: 'pre', answers: [0, 0] }, as(commune));
    expect(pre.body).toMatchObject({ phase: 'pre', score: 0, passed: false });
    expect((await call(p, 'POST', `/api/training/courses/${courseId}/answers`, { phase: 'post', answers: [1] }, as(commune))).status).toBe(400);
    expect((await call(p, 'POST', `/api/training/courses/${courseId}/answers`, { phase: 'post', answers: [1, 2] }, as(third.headers))).status).toBe(403);
    const post = await call(p, 'POST', `/api/training/courses/${courseId}/answers`, { phase: 'post', answers: [1, 2] }, as(commune));
    expect(post.status, post.text).toBe(200);
    expect(post.body).toMatchObject({ score: 100, passed: true });
    expect(post.body.certificate).toMatchObject({ name: communeName, credits: 4 });
    // The one who left early passes the test but has no certificate.
    const other = await call(p, 'POST', `/api/training/courses/${courseId}/answers`, { phase: 'post', answers: [1, 2] }, as(second.headers));
    expect(other.body.passed).toBe(true);
    expect(other.body.certificate).toBeUndefined();
    expect(Number((await p.db.query<{ n: string }>('SELECT count(*) AS n FROM training_certificate')).rows[0].n)).toBe(1);

    const cert = post.body.certificate;
    const url = new URL(cert.verifyUrl);
    expect(url.pathname).toMatch(/^\/chung-chi\/[A-Za-z0-9_-]{32}$/);
    const page = await fetch(`${base}${url.pathname}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(communeName);
    expect(html).toContain('Quản lý tăng huyết áp ở tuyến xã');
    expect(html).not.toContain('Bát Xát');
    const token = url.pathname.split('/').pop()!;
    const check = await call(p, 'GET', `/api/training/verify/${token}`, undefined, { authorization: '' });
    expect(Object.keys(check.body).sort()).toEqual(['course', 'credits', 'date', 'name']);
    expect((await fetch(`${base}/chung-chi/${'x'.repeat(32)}`)).status).toBe(404);

    // The PDF is the holder's only; its text reads in Vietnamese.
    const pdf = await p.app.inject({ method: 'GET', url: cert.pdfUrl, headers: commune });
    expect(pdf.statusCode).toBe(200);
    const text = await pdfText(pdf.rawPayload);
    expect(text).toContain('GIẤY CHỨNG NHẬN');
    expect(text).toContain(communeName);
    expect(text).toContain('Số tiết được công nhận: 4');
    expect((await p.app.inject({ method: 'GET', url: cert.pdfUrl, headers: second.headers })).statusCode).toBe(404);
  });

  it('shows credits on the clinician’s page and the teacher’s results, and in the indicators', async () => {
    const me = await call<LearningPage>(p, 'GET', '/api/training/me', undefined, as(commune));
    expect(me.status).toBe(200);
    expect(me.body.credits).toMatchObject({ total: 4, required: 120, cycleYears: 5 });
    expect(me.body.certificates).toHaveLength(1);
    expect(me.body.upcoming.map((s) => s.title)).toEqual(['Buổi 2: thuốc hạ áp']);
    const theirs = await call<LearningPage>(p, 'GET', '/api/training/me', undefined, as(second.headers));
    expect(theirs.body.credits.total).toBe(0);
    expect(theirs.body.certificates).toHaveLength(0);
    const tp = await call(p, 'GET', '/api/training/teaching', undefined, as(teacher));
    expect(tp.body.sessions[0]).toMatchObject({ attended: 2, counted: 1 });
    expect(tp.body.results[0]).toMatchObject({ learners: 2, preMean: 0, postMean: 100, gain: 100, passed: 2 });
    expect((await call(p, 'GET', '/api/training/teaching', undefined, as(commune))).status).toBe(403);

    const analyst = await p.tokenFor('analyst');
    const ind = await call<TrainingIndicators>(p, 'GET', '/api/training/indicators', undefined, bearer(analyst));
    expect(ind.status).toBe(200);
    expect(ind.body).toMatchObject({ sessions: 1, hours: 1, peopleTrained: 1 });
    expect(ind.body.byFacility).toEqual([expect.objectContaining({ organizationId: demo.ids.organizations.batxat, people: 1, credits: 4 })]);
    expect(ind.body.neverTrained.map((f) => f.organizationId)).toContain(demo.ids.organizations.simacai);
    expect(ind.body.neverTrained.map((f) => f.organizationId)).not.toContain(demo.ids.organizations.batxat);
    expect((await call(p, 'GET', '/api/training/indicators', undefined, as(commune))).status).toBe(403);
  });

  it('registers people watching together at a bridge point (site enrolled), counted with the site’s presence', async () => {
    const s2 = course.sessions[1].id;
    // Not enrolled: refused.
    expect((await call(p, 'POST', `/api/training/sessions/${s2}/signin`, { people: [{ name: 'Y sĩ Hà' }] }, as(third.headers))).status).toBe(403);
    const ok = await call(
      p,
      'POST',
      `/api/training/sessions/${s2}/signin`,
      { people: [{ name: 'Y sĩ Lường Văn Hải' }, { name: 'Điều dưỡng Lò Thị Lan' }] },
      as(commune),
    );
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.registered).toBe(2);
  });

  it('moves the first on the waiting list up when someone withdraws', async () => {
    const w = await call(p, 'POST', `/api/training/courses/${courseId}/withdraw`, {}, as(second.headers));
    expect(w.body).toEqual({ promoted: true });
    const v = await call<CourseView>(p, 'GET', `/api/training/courses/${courseId}`, undefined, as(third.headers));
    expect(v.body.mine).toBe('enrolled');
    const appt = await p.fixtures.read<any>('Appointment', course.sessions[1].id);
    expect(appt.participant.map((x: any) => x.actor.reference)).toContain(`Practitioner/${third.practitionerId}`);
  });

  it('counts the people signed in at a bridge point for as long as their site was in the room', async () => {
    const s2 = course.sessions[1].id;
    const room = await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: s2 }, as(teacher));
    expect(room.status, room.text).toBe(201);
    const path = `/api/video/rooms/${room.body.id}/ws`;
    const host = connect(base, path, teacher.cookie);
    await host.next('welcome');
    const site = connect(base, path, commune.cookie);
    expect((await site.next('welcome')).you.state).toBe('in');
    await sleep(1500);
    host.send({ type: 'end' });
    await Promise.all([host.closed, site.closed]);
    const closed = await call<SessionResult>(p, 'POST', `/api/training/sessions/${s2}/close`, {}, as(teacher));
    expect(closed.status, closed.text).toBe(200);
    const rows = closed.body.attendance;
    const signedIn = rows.filter((r) => r.source === 'signin').sort((a, b) => a.name.localeCompare(b.name, 'vi'));
    expect(signedIn.map((r) => [r.name, r.counted, r.organizationName])).toEqual([
      ['Điều dưỡng Lò Thị Lan', true, 'Trạm Y tế xã Bát Xát'],
      ['Y sĩ Lường Văn Hải', true, 'Trạm Y tế xã Bát Xát'],
    ]);
    // The promoted learner never joined: not on the list.
    expect(rows.map((r) => r.name)).not.toContain('BS Vàng A Páo');
    // Sign-in after the count is refused.
    expect((await call(p, 'POST', `/api/training/sessions/${s2}/signin`, { people: [{ name: 'Muộn Quá' }] }, as(commune))).status).toBe(409);
  });

  it('technology transfer: independence before enough signed-off supervised cases is a 422 in Vietnamese', async () => {
    const t = await call<TransferView>(
      p,
      'POST',
      '/api/training/transfers',
      { facilityOrganizationId: demo.ids.organizations.batxat, technique: 'Siêu âm tim cơ bản', minSupervisedCases: 2 },
      as(coordinator),
    );
    expect(t.status, t.text).toBe(201);
    const id = t.body.id;
    expect(t.body.steps.map((s) => s.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
    const early = await call(p, 'POST', `/api/training/transfers/${id}/independent`, {}, as(coordinator));
    expect(early.status).toBe(422);
    expect(early.text).toContain('mới có 0/2 ca thực hiện có giám sát');
    // Only the hub: the facility itself, another hub, and a clinician are refused.
    const otherHub = await p.tokenFor('coordinator', { org: demo.ids.organizations.dienbien });
    expect((await call(p, 'POST', `/api/training/transfers/${id}/independent`, {}, bearer(otherHub))).status).toBe(403);
    expect((await call(p, 'POST', `/api/training/transfers/${id}/independent`, {}, as(commune))).status).toBe(403);
    expect((await call(p, 'POST', `/api/training/transfers/${id}/cases`, { ref: `ServiceRequest/${caseId}` }, as(commune))).status).toBe(403);
    expect((await call(p, 'POST', `/api/training/transfers/${id}/cases`, { ref: `ServiceRequest/${caseId}` }, as(outsider.headers))).status).toBe(403);
    expect((await call(p, 'POST', `/api/training/transfers/${id}/steps`, { step: 'training' }, as(teacher))).status).toBe(403);
    expect((await call(p, 'GET', `/api/training/transfers/${id}`, undefined, as(second.headers))).status).toBe(403);
    expect((await call(p, 'GET', `/api/training/transfers/${id}`, undefined, as(commune))).status).toBe(200);

    // One real consult signed off: still one short.
    const one = await call<TransferView>(
      p,
      'POST',
      `/api/training/transfers/${id}/cases`,
      { ref: `ServiceRequest/${caseId}`, note: 'Làm đúng quy trình' },
      as(teacher),
    );
    expect(one.status, one.text).toBe(200);
    expect(one.body.signedOffCases).toBe(1);
    expect((await call(p, 'POST', `/api/training/transfers/${id}/cases`, { ref: `ServiceRequest/${caseId}` }, as(teacher))).status).toBe(409);
    expect((await call(p, 'POST', `/api/training/transfers/${id}/cases`, { ref: 'ServiceRequest/khong-co' }, as(teacher))).status).toBe(400);
    expect((await call(p, 'POST', `/api/training/transfers/${id}/independent`, {}, as(coordinator))).text).toContain('1/2');

    const another = await call(
      p,
      'POST',
      '/api/consults',
      cardiologyConsult(demo, {
        reason: 'Siêu âm tim có giám sát',
        summary: { history: 'Khó thở khi gắng sức', findings: 'Thổi tâm thu', treatment: 'Chưa', question: 'Đánh giá chức năng tâm thu?' },
      }),
      as(commune),
    );
    expect(another.status).toBe(201);
    const two = await call<TransferView>(p, 'POST', `/api/training/transfers/${id}/cases`, { ref: `ServiceRequest/${another.body.caseId}` }, as(teacher));
    expect(two.body.steps.find((s) => s.step === 'supervised')!.status).toBe('done');
    // Training and assessment still pending: still a 422, naming them.
    expect((await call(p, 'POST', `/api/training/transfers/${id}/independent`, {}, as(coordinator))).text).toContain('đào tạo');
    for (const step of ['training', 'assessment'])
      expect((await call(p, 'POST', `/api/training/transfers/${id}/steps`, { step, evidence: [{ title: 'Biên bản' }] }, as(coordinator))).status).toBe(200);
    const done = await call<TransferView>(p, 'POST', `/api/training/transfers/${id}/independent`, {}, as(coordinator));
    expect(done.status, done.text).toBe(200);
    expect(done.body.independentSince).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(done.body.steps.every((s) => s.status === 'done')).toBe(true);
  });

  it('refuses every route without the action', async () => {
    const citizen = await p.tokenFor('citizen', { patient: demo.ids.patients[0] });
    const sid = course.sessions[1].id;
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/training/programmes'],
      ['GET', '/api/training/hub/programmes'],
      ['POST', '/api/training/programmes', { title: 'x x x' }],
      ['POST', '/api/training/courses', {}],
      ['GET', `/api/training/courses/${courseId}`],
      ['POST', `/api/training/courses/${courseId}/enrol`, {}],
      ['POST', `/api/training/courses/${courseId}/withdraw`, {}],
      ['POST', `/api/training/courses/${courseId}/answers`, { phase: 'post', answers: [1, 2] }],
      ['POST', `/api/training/sessions/${sid}/signin`, { people: [{ name: 'Ai đó' }] }],
      ['POST', `/api/training/sessions/${sid}/close`, {}],
      ['GET', `/api/training/sessions/${sid}/attendance`],
      ['POST', `/api/training/sessions/${sid}/teaching-cases`, { caseId }],
      ['GET', `/api/training/sessions/${sid}/teaching-cases`],
      ['GET', '/api/training/me'],
      ['GET', '/api/training/teaching'],
      ['GET', `/api/training/certificates/${randomUUID()}/pdf`],
      ['GET', '/api/training/transfers'],
      ['POST', '/api/training/transfers', {}],
      ['GET', `/api/training/transfers/${randomUUID()}`],
      ['POST', `/api/training/transfers/${randomUUID()}/steps`, {}],
      ['POST', `/api/training/transfers/${randomUUID()}/cases`, {}],
      ['POST', `/api/training/transfers/${randomUUID()}/independent`, {}],
      ['GET', '/api/training/indicators'],
      ['POST', `/api/training/sessions/${sid}/feedback`, { rating: 5 }],
      ['GET', `/api/training/courses/${courseId}/feedback`],
    ];
    const failures: string[] = [];
    for (const [method, url, body] of routes) {
      const r = await call(p, method, url, body, bearer(citizen));
      if (r.status !== 403) failures.push(`${method} ${url}: ${r.status}`);
    }
    expect(failures).toEqual([]);
    // Every training route is in the list above (or public on purpose).
    const listed = new Set(
      routes.map(
        ([m, u]) =>
          `${m} ${u
            .replace(courseId, ':id')
            .replace(sid, ':id')
            .replace(/[0-9a-f-]{36}/, ':id')}`,
      ),
    );
    const all = p.routes.filter((r) => r.url.startsWith('/api/training/') && r.access !== 'public').map((r) => `${r.method} ${r.url}`);
    expect(all.filter((r) => !listed.has(r))).toEqual([]);
  });
});
