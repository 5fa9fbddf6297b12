/**
 * The training indicators, scoped as the programme dashboard is: two commune clinicians from two
 * provinces attend a session (a real video room); the Ministry's analyst sees both, an analyst of
 * one province's health department sees only that province (its trained facility, its facilities
 * never trained, no other province's figures), a facility administrator their facility only.
 */
import type { Organization } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { connect, makeStaff } from '../testing/video.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { createDemoAccounts } from '../seed/accounts.ts';
import type { CourseView, ProgrammeView, TrainingIndicators } from './contract.ts';

const json = { 'content-type': 'application/json' };
const as = (h: Record<string, string>) => ({ ...h, ...json });
const bearer = (t: string) => ({ authorization: `Bearer ${t}`, ...json });

describe.each(DB_KINDS)('training indicators by scope on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let province: Record<string, number>;

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: ['video', 'programme', 'training'] });
    demo = await seedDemo(p.store, 4);
    const accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((x) => [x.username, x]));
    const coordinator = await signIn(p, 'dieuphoi', accounts.get('dieuphoi')!.totpSecret);
    const teacher = await signIn(p, 'bs.bachmai', accounts.get('bs.bachmai')!.totpSecret);
    const o = demo.ids.organizations;
    province = Object.fromEntries(
      (await p.db.query<{ org_id: string; province_code: number }>('SELECT org_id, province_code FROM programme_facility')).rows.map((r) => [
        r.org_id,
        r.province_code,
      ]),
    );
    expect(province[o.batxat]).not.toBe(province[o.muongnhe]);
    const a = await makeStaff(p, 'BS Hoàng Văn An', o.batxat, 'commune_clinician');
    const b = await makeStaff(p, 'BS Vàng A Páo', o.muongnhe, 'commune_clinician');
    const base = await p.listen();
    const prog = await call<ProgrammeView>(p, 'POST', '/api/training/programmes', { title: 'Chương trình ECHO lao phổi' }, as(coordinator));
    const start = Date.now() - 60_000;
    const course = await call<CourseView>(
      p,
      'POST',
      '/api/training/courses',
      {
        programmeId: prog.body.id,
        title: 'Phát hiện lao phổi tại trạm y tế xã',
        capacity: 10,
        minShare: 0.05,
        teacherPractitionerIds: [demo.ids.practitioners[0]],
        sessions: [{ title: 'Buổi 1', start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), credits: 2 }],
      },
      as(coordinator),
    );
    expect(course.status, course.text).toBe(201);
    for (const s of [a, b]) expect((await call(p, 'POST', `/api/training/courses/${course.body.id}/enrol`, {}, as(s.headers))).status).toBe(200);
    const sessionId = course.body.sessions[0].id;
    const room = await call(p, 'POST', '/api/video/rooms', { kind: 'session', appointmentId: sessionId }, as(teacher));
    const path = `/api/video/rooms/${room.body.id}/ws`;
    const host = connect(base, path, teacher.cookie);
    await host.next('welcome');
    const ca = connect(base, path, a.headers.cookie);
    const cb = connect(base, path, b.headers.cookie);
    await Promise.all([ca.next('welcome'), cb.next('welcome')]);
    // A stay long enough to count (the share is of the session as held: opened → ended).
    await new Promise((r) => setTimeout(r, 2000));
    host.send({ type: 'end' });
    await Promise.all([host.closed, ca.closed, cb.closed]);
    expect((await call(p, 'POST', `/api/training/sessions/${sessionId}/close`, {}, as(teacher))).status).toBe(200);
  }, 120_000);
  afterAll(async () => p?.close());

  const report = async (token: string) => {
    const r = await call<TrainingIndicators>(p, 'GET', '/api/training/indicators', undefined, bearer(token));
    expect(r.status, r.text).toBe(200);
    return r.body;
  };

  it('the Ministry sees the country', async () => {
    const r = await report(await p.tokenFor('analyst'));
    expect(r.scope.kind).toBe('national');
    expect(r).toMatchObject({ sessions: 1, peopleTrained: 2 });
    expect(r.byFacility.map((f) => f.organizationId).sort()).toEqual([demo.ids.organizations.batxat, demo.ids.organizations.muongnhe].sort());
    expect(r.byProvince).toHaveLength(2);
  });

  it('a provincial department sees its province only', async () => {
    const o = demo.ids.organizations;
    const dept = await p.fixtures.create<Organization>({ resourceType: 'Organization', active: true, name: 'Sở Y tế (phân tích)' });
    await p.db.query('INSERT INTO programme_authority (org_id, province_code) VALUES ($1, $2)', [dept.id, province[o.batxat]]);
    const r = await report(await p.tokenFor('analyst', { org: dept.id }));
    expect(r.scope).toMatchObject({ kind: 'province' });
    expect(r).toMatchObject({ sessions: 1, hours: 1, peopleTrained: 1 });
    expect(r.byFacility.map((f) => f.organizationId)).toEqual([o.batxat]);
    expect(r.byProvince).toEqual([{ provinceCode: province[o.batxat], people: 1, sessions: 1 }]);
    expect(r.neverTrained.every((f) => f.provinceCode === province[o.batxat])).toBe(true);
    expect(r.neverTrained.map((f) => f.organizationId)).not.toContain(o.muongnhe);
    expect(JSON.stringify(r)).not.toContain(o.muongnhe);
    // The other province's department: the session is not theirs unless someone of theirs counted.
    const other = await p.fixtures.create<Organization>({ resourceType: 'Organization', active: true, name: 'Sở Y tế khác' });
    const empty = Object.values(province).find((c) => c !== province[o.batxat] && c !== province[o.muongnhe]);
    if (empty !== undefined) {
      await p.db.query('INSERT INTO programme_authority (org_id, province_code) VALUES ($1, $2)', [other.id, empty]);
      expect(await report(await p.tokenFor('analyst', { org: other.id }))).toMatchObject({ sessions: 0, hours: 0, peopleTrained: 0, byFacility: [] });
    }
  });

  it('a facility administrator sees their facility only; a clinician is refused', async () => {
    const o = demo.ids.organizations;
    const r = await report(await p.tokenFor('facility_admin', { org: o.muongnhe }));
    expect(r.scope).toMatchObject({ kind: 'facility' });
    expect(r).toMatchObject({ sessions: 1, peopleTrained: 1 });
    expect(r.byFacility.map((f) => f.organizationId)).toEqual([o.muongnhe]);
    expect(r.neverTrained).toEqual([]);
    expect(JSON.stringify(r)).not.toContain(o.batxat);
    const clinician = await p.tokenFor('commune_clinician', { org: o.batxat });
    expect((await call(p, 'GET', '/api/training/indicators', undefined, bearer(clinician))).status).toBe(403);
  });
});
