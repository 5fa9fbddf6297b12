/**
 * Attacker's review of remote training (2026-11-30), kept as tests. Each `it` asserts the secure
 * behaviour and failed on the code as reviewed.
 *
 * A4. A course's linked material took any URL zod accepts (`javascript:`, `data:`): the hub's
 *     course author could put a script link on every enrolled learner's page (rendered as
 *     `<a href>` in Learning.tsx) — at other facilities too. Only http(s) links are taken.
 * A8. A bridge point's host signed people in with any `practitionerId` — a doctor of another
 *     facility (or province) who never sat there: when the session closes, the sign-in becomes
 *     that practitioner's attendance, CME credits (and, with a passed post-test, a certificate).
 *     A practitioner id must be the host's own or one who works at the host's facility
 *     (PractitionerRole); a name alone stays possible.
 */
import type { Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { courseBody, type CourseView, type ProgrammeView } from './contract.ts';

describe('attack review: training', () => {
  const course = (url: string) =>
    courseBody.safeParse({
      programmeId: 'prog-1',
      title: 'Điện tâm đồ cơ bản',
      capacity: 30,
      teacherPractitionerIds: ['pr-1'],
      materials: [{ title: 'Bài giảng', url }],
      sessions: [{ title: 'Buổi 1', start: '2026-12-01T02:00:00+07:00', end: '2026-12-01T04:00:00+07:00', credits: 2 }],
    });

  it('A4. a course material link must be http(s)', () => {
    const ok = course('https://example.org/ecg.pdf');
    expect(ok.success, JSON.stringify(ok.error?.issues)).toBe(true);
    for (const bad of ['javascript:alert(document.cookie)', 'data:text/html,<script>alert(1)</script>']) expect(course(bad).success, bad).toBe(false);
  });
});

describe('attack review: bridge-point sign-in', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let coordinator: Record<string, string>;
  let commune: Record<string, string>;
  let course: CourseView;
  const json = { 'content-type': 'application/json' };
  const as = (h: Record<string, string>) => ({ ...h, ...json });

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['consult', 'video', 'programme', 'training'] });
    demo = await seedDemo(p.store, 4);
    const accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    coordinator = await signIn(p, 'dieuphoi', accounts.get('dieuphoi')!.totpSecret);
    commune = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    const prog = await call<ProgrammeView>(
      p,
      'POST',
      '/api/training/programmes',
      { title: 'Tăng huyết áp tại trạm y tế xã', description: 'ECHO' },
      as(coordinator),
    );
    expect(prog.status, prog.text).toBe(201);
    const start = Date.now() + 86_400_000;
    const c = await call<CourseView>(
      p,
      'POST',
      '/api/training/courses',
      {
        programmeId: prog.body.id,
        title: 'Quản lý tăng huyết áp ở tuyến xã',
        capacity: 10,
        teacherPractitionerIds: [demo.ids.practitioners[0]],
        sessions: [{ title: 'Buổi 1', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), credits: 4 }],
      },
      as(coordinator),
    );
    expect(c.status, c.text).toBe(201);
    course = c.body;
    const e = await call(p, 'POST', `/api/training/courses/${course.id}/enrol`, { facility: true }, as(commune));
    expect(e.status, e.text).toBe(200);
  }, 120_000);
  afterAll(async () => p?.close());

  it('A8. a host cannot sign in a practitioner of another facility (their attendance, credits and certificate)', async () => {
    const sid = course.sessions[0].id;
    // Colleagues by name, and the host themself: fine.
    const ok = await call(
      p,
      'POST',
      `/api/training/sessions/${sid}/signin`,
      { people: [{ name: 'Y sĩ Lường Văn Hải' }, { name: 'BS Giàng A Sử', practitionerId: demo.ids.practitioners[6] }] },
      as(commune),
    );
    expect(ok.status, ok.text).toBe(200);
    // A colleague who works at Bát Xát (PractitionerRole there): fine.
    const colleague = await p.fixtures.create<Practitioner>({ resourceType: 'Practitioner', active: true, name: [{ text: 'YS Lò Văn Pao' }] });
    await p.fixtures.create<PractitionerRole>({
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: { reference: `Practitioner/${colleague.id}` },
      organization: { reference: `Organization/${demo.ids.organizations.batxat}` },
    });
    const mate = await call(
      p,
      'POST',
      `/api/training/sessions/${sid}/signin`,
      { people: [{ name: 'YS Lò Văn Pao', practitionerId: colleague.id }] },
      as(commune),
    );
    expect(mate.status, mate.text).toBe(200);
    // A Bạch Mai specialist (practitioner 0) who never sat at Bát Xát.
    const far = await call(
      p,
      'POST',
      `/api/training/sessions/${sid}/signin`,
      { people: [{ name: 'PGS Trần Quốc Hưng', practitionerId: demo.ids.practitioners[0] }] },
      as(commune),
    );
    expect(far.status, far.text).toBe(400);
    const rows = await p.db.query<{ practitioner_id: string | null }>('SELECT practitioner_id FROM training_signin WHERE session_id = $1', [sid]);
    expect(rows.rows.map((r) => r.practitioner_id)).not.toContain(demo.ids.practitioners[0]);
  });
});
