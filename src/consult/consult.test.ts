/**
 * The case-conference workflow through the API, on both databases: request with an image,
 * triage, a multi-site meeting, signed conclusion, the requester's different decision, follow-up;
 * immutability of signed conclusions and detection of a tampered signature; illegal transitions;
 * concurrent triage; exactly-once submission; what the workflow owns (no plain FHIR shortcut
 * around it); attachments that point at another patient's content; loading the eligibility list.
 *
 * Longer than 400 lines on purpose: one case followed through its whole workflow on one fixture.
 */
import { randomUUID } from 'node:crypto';
import type { DocumentReference, Patient, Resource, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { CONSULT_ID_SYSTEM, QUEUE_PAGE, STATE_SYSTEM } from './model.ts';
import { call, sessionFor, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

// A real 1×1 PNG.
export const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe.each(DB_KINDS)('case conferences on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let commune: Record<string, string>;
  let specialist: Record<string, string>;
  let coordinator: Record<string, string>;
  let specialist2: Record<string, string>;
  const json = { 'content-type': 'application/json' };
  const as = (who: Record<string, string>) => ({ ...who, ...json });

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: ['consult'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    // A second specialist at the same hospital, to co-sign.
    await p.accounts.create({
      username: 'bs.hang',
      displayName: 'TS.BS Lê Thị Minh Hằng',
      kind: 'staff',
      password: 'CauYTe-Demo-2026',
      practitionerId: demo.ids.practitioners[1],
      roles: [{ role: 'specialist', organizationId: demo.ids.organizations.bachmai }],
      totpSecret: accounts.get('bs.bachmai')!.totpSecret,
    });
    commune = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    specialist = await signIn(p, 'bs.bachmai', accounts.get('bs.bachmai')!.totpSecret);
    specialist2 = await signIn(p, 'bs.hang', accounts.get('bs.bachmai')!.totpSecret);
    coordinator = await signIn(p, 'dieuphoi', accounts.get('dieuphoi')!.totpSecret);
  });
  afterAll(async () => p?.close());

  async function newCase(patient = demo.ids.patients[0], extra: Record<string, unknown> = {}) {
    const body = {
      clientId: randomUUID(),
      patientId: patient,
      receivingOrganizationId: demo.ids.organizations.bachmai,
      specialty: { code: 'oncology', display: 'Ung bướu' },
      urgency: 'urgent',
      reason: 'Khối u vú phải, nghi ung thư',
      icd10: { code: 'C50.9', display: 'U ác của vú' },
      summary: {
        history: 'Phát hiện khối u vú phải 3 tháng',
        findings: 'Khối 4 cm, hạch nách',
        vitals: 'HA 120/80',
        treatment: 'Chưa điều trị',
        question: 'Chẩn đoán giai đoạn và hướng điều trị?',
      },
      attachmentIds: [],
      submit: true,
      ...extra,
    };
    const res = await call(p, 'POST', '/api/consults', body, as(commune));
    expect(res.status, res.text).toBe(201);
    return { caseId: res.body.caseId as string, body };
  }

  it('runs the whole flow, and the timeline and audit trail show every step', async () => {
    // An image: the wrong content for the type is refused, a real PNG is stored.
    const bad = await call(
      p,
      'POST',
      '/api/attachments',
      { clientId: randomUUID(), patientId: demo.ids.patients[0], contentType: 'image/png', title: 'x', data: Buffer.from('not a png').toString('base64') },
      as(commune),
    );
    expect(bad.status).toBe(400);
    const att = await call(
      p,
      'POST',
      '/api/attachments',
      { clientId: randomUUID(), patientId: demo.ids.patients[0], contentType: 'image/png', title: 'Siêu âm vú', data: PNG },
      as(commune),
    );
    expect(att.status, att.text).toBe(201);
    const first = await newCase(demo.ids.patients[0], { attachmentIds: [att.body.id] });
    const second = await newCase(demo.ids.patients[4]);

    // The receiving hospital sees both in its queue, most urgent first.
    const queue = await call(p, 'GET', '/api/consults?view=queue', undefined, specialist);
    expect(queue.status).toBe(200);
    expect(queue.body.map((r: any) => r.caseId)).toEqual(expect.arrayContaining([first.caseId, second.caseId]));
    expect(queue.body[0].targetMinutes).toBe(24 * 60);

    for (const c of [first, second]) {
      const r = await call(
        p,
        'POST',
        `/api/consults/${c.caseId}/triage`,
        { action: 'accept', specialistIds: [demo.ids.practitioners[0], demo.ids.practitioners[1]] },
        as(specialist),
      );
      expect(r.status, r.text).toBe(200);
      expect(r.body.state).toBe('accepted');
    }
    // The specialist can now open the patient's record (a care relationship through the request).
    expect((await call(p, 'GET', `/fhir/R4/Patient/${demo.ids.patients[0]}`, undefined, specialist)).status).toBe(200);
    const image = await p.app.inject({ method: 'GET', url: `/api/attachments/${att.body.id}`, headers: { cookie: specialist.cookie } });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');

    const start = new Date(Date.now() + 3 * 86_400_000);
    const meeting = await call(
      p,
      'POST',
      '/api/meetings',
      {
        title: 'Hội chẩn ung bướu tháng 12',
        topic: 'Cập nhật điều trị ung thư vú giai đoạn III',
        start: start.toISOString(),
        end: new Date(start.getTime() + 2 * 3_600_000).toISOString(),
        hostPractitionerId: demo.ids.practitioners[0],
        caseIds: [first.caseId, second.caseId],
        siteOrganizationIds: [demo.ids.organizations.bachmai, demo.ids.organizations.laocai, demo.ids.organizations.batxat],
        participantPractitionerIds: [demo.ids.practitioners[1], demo.ids.practitioners[6]],
      },
      as(coordinator),
    );
    expect(meeting.status, meeting.text).toBe(201);
    expect(meeting.body.basedOn.map((r: any) => r.reference)).toEqual([`ServiceRequest/${first.caseId}`, `ServiceRequest/${second.caseId}`]);
    expect(meeting.body.participant.filter((x: any) => x.actor.reference.startsWith('Location/'))).toHaveLength(3);
    const ics = await p.app.inject({ method: 'GET', url: `/api/meetings/${meeting.body.id}/ics`, headers: { cookie: coordinator.cookie } });
    expect(ics.body).toContain('BEGIN:VCALENDAR');
    expect(ics.body).toContain('Hội chẩn ung bướu tháng 12');
    // Invitations and reminders go through the outbox; the worker sends them.
    await p.outbox.run();
    expect(p.sent.sent.some((m) => m.recipient === 'hung.tq@bachmai.example' && m.subject.startsWith('Mời tham dự'))).toBe(true);
    const pending = await p.db.query<{ n: number }>("SELECT count(*)::int AS n FROM message_outbox WHERE sent_at IS NULL AND subject LIKE 'Nhắc lịch%'");
    expect(pending.rows[0].n).toBeGreaterThanOrEqual(2);
    // Attendance per site.
    const join = await call(
      p,
      'POST',
      `/api/meetings/${meeting.body.id}/attendance`,
      { organizationId: demo.ids.organizations.batxat, event: 'join' },
      as(commune),
    );
    expect(join.status, join.text).toBe(200);
    expect(join.body.location).toHaveLength(1);
    // Only for one's own site; the meeting page shows who is there.
    expect(
      (await call(p, 'POST', `/api/meetings/${meeting.body.id}/attendance`, { organizationId: demo.ids.organizations.laocai, event: 'join' }, as(commune)))
        .status,
    ).toBe(403);
    const page = await call(p, 'GET', `/api/meetings/${meeting.body.id}`, undefined, commune);
    expect(page.status, page.text).toBe(200);
    expect(page.body.attendance.location).toHaveLength(1);
    // Names, not record ids: the chair, the sites with their state, the cases by patient and question.
    const details = page.body.details;
    expect(details.chair.practitionerId).toBe(demo.ids.practitioners[0]);
    expect(details.chair.name).not.toMatch(/Practitioner\//);
    expect(details.sites.map((x: any) => x.state).sort()).toEqual(['invited', 'invited', 'joined']);
    expect(details.sites.find((x: any) => x.state === 'joined').organizationId).toBe(demo.ids.organizations.batxat);
    expect(JSON.stringify(details)).not.toMatch(/(Location|ServiceRequest|Organization)\//);
    expect(details.cases.map((x: any) => x.caseId)).toEqual([first.caseId, second.caseId]);
    expect(details.cases.every((x: any) => typeof x.patient === 'string' && x.patient.length > 3)).toBe(true);
    // The calendar lists it for an invited site's staff, not for an uninvited facility.
    const day = (d: Date) => new Date(d.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
    const range = `from=${day(new Date())}&to=${day(new Date(Date.now() + 7 * 86_400_000))}`;
    const list = await call(p, 'GET', `/api/meetings?${range}`, undefined, commune);
    expect(list.body.map((m: any) => m.id)).toContain(meeting.body.id);
    const outsiderList = await call(p, 'GET', `/api/meetings?${range}`, undefined, {
      authorization: `Bearer ${await p.tokenFor('commune_clinician', { org: demo.ids.organizations.tuachua })}`,
    });
    expect(outsiderList.body.map((m: any) => m.id)).not.toContain(meeting.body.id);
    // A facility that was not invited does not see it.
    const outsider = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.tuachua });
    expect((await call(p, 'GET', `/api/meetings/${meeting.body.id}`, undefined, { authorization: `Bearer ${outsider}` })).status).toBe(403);

    const conclusion = {
      assessment: 'Ung thư vú phải cT3N2M0',
      diagnosis: { code: 'C50.9', display: 'U ác của vú' },
      recommendations: 'Hóa trị tân bổ trợ, sau đó phẫu thuật',
      transfer: true,
      actionUrgency: 'urgent',
    };
    const drafted = await call(p, 'PUT', `/api/consults/${first.caseId}/conclusion`, conclusion, as(specialist));
    expect(drafted.status, drafted.text).toBe(200);
    const sign1 = await call(p, 'POST', `/api/consults/${first.caseId}/conclusion/sign`, {}, as(specialist));
    expect(sign1.body).toMatchObject({ signed: 1, required: 2, final: false });
    // Once signed, the conclusion cannot be edited any more.
    const edit = await call(p, 'PUT', `/api/consults/${first.caseId}/conclusion`, { ...conclusion, assessment: 'khác' }, as(specialist2));
    expect(edit.status).toBe(409);
    const sign2 = await call(p, 'POST', `/api/consults/${first.caseId}/conclusion/sign`, {}, as(specialist2));
    expect(sign2.body).toMatchObject({ signed: 2, required: 2, final: true });
    const verify = await call(p, 'GET', `/api/consults/${first.caseId}/conclusion/verify`, undefined, commune);
    expect(verify.body.valid).toBe(true);
    expect(verify.body.checks).toHaveLength(2);

    const ack = await call(
      p,
      'POST',
      `/api/consults/${first.caseId}/acknowledge`,
      { decision: 'different', reason: 'Gia đình xin điều trị tại tỉnh do điều kiện kinh tế', followUpDays: 30 },
      as(commune),
    );
    expect(ack.status, ack.text).toBe(200);
    const follow = await call(p, 'POST', `/api/consults/${first.caseId}/follow-up`, { outcome: 'stable', note: 'Đã hóa trị 2 đợt' }, as(commune));
    expect(follow.body.state).toBe('closed');

    const view = await call(p, 'GET', `/api/consults/${first.caseId}`, undefined, commune);
    expect(view.status).toBe(200);
    expect(view.body.timeline.map((t: any) => t.state)).toEqual(['submitted', 'accepted', 'scheduled', 'scheduled', 'concluded', 'acknowledged', 'closed']);
    expect(view.body.advisedBy.map((a: any) => a.practitioner)).toEqual([
      `Practitioner/${demo.ids.practitioners[0]}`,
      `Practitioner/${demo.ids.practitioners[1]}`,
    ]);
    expect(view.body.decision).toMatchObject({ decision: 'different', reason: 'Gia đình xin điều trị tại tỉnh do điều kiện kinh tế' });
    expect(view.body.outcome).toBe('stable');
    expect(view.body.attachments).toHaveLength(1);
    expect(view.body.meetings.map((m: any) => m.id)).toEqual([meeting.body.id]);
    await p.audit.seal();
    const trail = await p.audit.list({ limit: 500, patientId: demo.ids.patients[0] });
    const actions = new Set(trail.map((e) => e.action));
    for (const a of ['consult.submit', 'consult.accept', 'consult.schedule', 'consult.sign', 'consult.acknowledge', 'consult.follow-up'])
      expect(actions, a).toContain(a);
    expect((await p.audit.verify()).ok).toBe(true);
  });

  it('keeps a signed conclusion unchangeable and detects a tampered signature', async () => {
    const { caseId } = await newCase(demo.ids.patients[0]);
    await call(p, 'POST', `/api/consults/${caseId}/triage`, { action: 'accept', specialistIds: [demo.ids.practitioners[0]] }, as(specialist));
    const drafted = await call(
      p,
      'PUT',
      `/api/consults/${caseId}/conclusion`,
      { assessment: 'Viêm tuyến vú', diagnosis: { code: 'N61' }, recommendations: 'Kháng sinh', transfer: false, actionUrgency: 'routine' },
      as(specialist),
    );
    await call(p, 'POST', `/api/consults/${caseId}/conclusion/sign`, {}, as(specialist));
    const docId = drafted.body.id;
    // Through the plain FHIR API too (an integration system): 409 with the reason.
    const current = await call(p, 'GET', `/fhir/R4/Composition/${docId}`);
    const put = await call(p, 'PUT', `/fhir/R4/Composition/${docId}`, { ...current.body, title: 'đã sửa' });
    expect(put.status).toBe(409);
    expect(put.body.issue[0].diagnostics).toMatch(/đã ký/);
    expect((await call(p, 'DELETE', `/fhir/R4/Composition/${docId}`)).status).toBe(409);
    expect((await call(p, 'GET', `/api/consults/${caseId}/conclusion/verify`, undefined, specialist)).body.valid).toBe(true);
    // Someone with database access changes the signed content: verification fails.
    await p.db.query(
      `UPDATE resource_version SET content = jsonb_set(content, '{title}', '"Kết luận đã bị sửa"') WHERE resource_type = 'Composition' AND id = $1`,
      [docId],
    );
    const after = await call(p, 'GET', `/api/consults/${caseId}/conclusion/verify`, undefined, specialist);
    expect(after.body.valid).toBe(false);
    expect(after.body.checks[0].problem).toMatch(/does not match/);
  });

  it('refuses illegal transitions with 422 and a message', async () => {
    const { caseId } = await newCase(demo.ids.patients[4]);
    const signEarly = await call(p, 'POST', `/api/consults/${caseId}/conclusion/sign`, {}, as(specialist));
    expect([403, 422]).toContain(signEarly.status); // not assigned yet, and not accepted
    await call(p, 'POST', `/api/consults/${caseId}/triage`, { action: 'accept', specialistIds: [demo.ids.practitioners[0]] }, as(specialist));
    const signBeforeDraft = await call(p, 'POST', `/api/consults/${caseId}/conclusion/sign`, {}, as(specialist));
    expect(signBeforeDraft.status).toBe(422);
    const ackEarly = await call(p, 'POST', `/api/consults/${caseId}/acknowledge`, { decision: 'accept' }, as(commune));
    expect(ackEarly.status).toBe(422);
    expect(ackEarly.body.title).toMatch(/Không thể xác nhận kết luận/);

    const declined = await newCase(demo.ids.patients[0]);
    expect(
      (await call(p, 'POST', `/api/consults/${declined.caseId}/triage`, { action: 'decline', reason: 'Ngoài chuyên môn của khoa' }, as(specialist))).body.state,
    ).toBe('declined');
    const schedule = await call(
      p,
      'POST',
      '/api/meetings',
      {
        title: 'x',
        start: new Date(Date.now() + 86_400_000).toISOString(),
        end: new Date(Date.now() + 90_000_000).toISOString(),
        hostPractitionerId: demo.ids.practitioners[0],
        caseIds: [declined.caseId],
        siteOrganizationIds: [demo.ids.organizations.bachmai],
      },
      as(coordinator),
    );
    expect(schedule.status).toBe(422);
    expect(schedule.body.title).toMatch(/Từ chối/);

    // Sign a sample flow to the end and acknowledge twice.
    await call(
      p,
      'PUT',
      `/api/consults/${caseId}/conclusion`,
      { assessment: 'a', diagnosis: { code: 'I10' }, recommendations: 'r', transfer: false, actionUrgency: 'routine' },
      as(specialist),
    );
    await call(p, 'POST', `/api/consults/${caseId}/conclusion/sign`, {}, as(specialist));
    expect((await call(p, 'POST', `/api/consults/${caseId}/acknowledge`, { decision: 'accept' }, as(commune))).status).toBe(200);
    const twice = await call(p, 'POST', `/api/consults/${caseId}/acknowledge`, { decision: 'accept' }, as(commune));
    expect(twice.status).toBe(422);
    const noReason = await newCase(demo.ids.patients[0]);
    expect((await call(p, 'POST', `/api/consults/${noReason.caseId}/acknowledge`, { decision: 'different' }, as(commune))).status).toBe(400);
  });

  it('lets exactly one of two concurrent triage decisions win', async () => {
    const { caseId } = await newCase(demo.ids.patients[0]);
    const [a, b] = await Promise.all([
      call(p, 'POST', `/api/consults/${caseId}/triage`, { action: 'accept', specialistIds: [demo.ids.practitioners[0]], version: '1' }, as(specialist)),
      call(p, 'POST', `/api/consults/${caseId}/triage`, { action: 'decline', reason: 'Không đủ thông tin', version: '1' }, as(specialist2)),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const view = await call(p, 'GET', `/api/consults/${caseId}`, undefined, specialist);
    expect(['accepted', 'declined']).toContain(view.body.state);
    expect(view.body.timeline).toHaveLength(2);
  });

  it('submits a request exactly once when the same draft is sent again', async () => {
    const { caseId, body } = await newCase(demo.ids.patients[0]);
    const again = await call(p, 'POST', '/api/consults', body, as(commune));
    expect(again.status).toBe(200);
    expect(again.body.caseId).toBe(caseId);
    const n = await p.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM idx_token t JOIN search_param s ON s.id = t.param WHERE s.resource_type = 'ServiceRequest' AND s.code = 'identifier' AND t.code = $1",
      [body.clientId],
    );
    expect(n.rows[0].n).toBe(1);
  });

  it('keeps other facilities out of a case', async () => {
    const { caseId } = await newCase(demo.ids.patients[0]);
    const outsider = await p.tokenFor('specialist', { org: demo.ids.organizations.dienbien, practitioner: demo.ids.practitioners[5] });
    const res = await call(p, 'GET', `/api/consults/${caseId}`, undefined, { authorization: `Bearer ${outsider}` });
    expect(res.status).toBe(403);
    const triage = await call(
      p,
      'POST',
      `/api/consults/${caseId}/triage`,
      { action: 'decline', reason: 'xxxxxx' },
      { authorization: `Bearer ${outsider}`, ...json },
    );
    expect(triage.status).toBe(403);
    const eligibility = await call(p, 'GET', '/api/eligibility?icd10=I63.9', undefined, commune);
    expect(eligibility.body.eligible).toBe(false);
    const picker = await call(p, 'GET', `/api/terminology/icd10?q=${encodeURIComponent('ung thu vu')}`, undefined, commune);
    expect(picker.body.map((e: Resource & { code: string }) => e.code)).toContain('C50');
  });

  it('puts a new emergency at the top of the triage queue even behind a backlog longer than a page', async () => {
    const org = demo.ids.organizations.laocai;
    // A patient registered at the provincial hospital, so its coordinator reaches the cases.
    const patient = await p.fixtures.create<Patient>({
      resourceType: 'Patient',
      name: [{ family: 'Lò', given: ['Văn Páo'] }],
      managingOrganization: { reference: `Organization/${org}` },
    });
    const task = (priority: string, minutesAgo: number) =>
      ({
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        priority,
        businessStatus: { coding: [{ system: STATE_SYSTEM, code: 'submitted' }] },
        for: { reference: `Patient/${patient.id}` },
        owner: { reference: `Organization/${org}` },
        authoredOn: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
      }) as Task;
    // A page and a half of routine cases, all waiting longer than the emergency that comes in now.
    await p.fixtures.createMany(Array.from({ length: QUEUE_PAGE + 100 }, (_, i) => task('routine', 600 + i)));
    const [urgent, stat] = await p.fixtures.createMany([task('urgent', 30), task('stat', 1)]);
    const coordinator = { authorization: `Bearer ${await p.tokenFor('coordinator', { org })}` };
    const first = await call(p, 'GET', '/api/consults?view=queue', undefined, coordinator);
    expect(first.status, first.text).toBe(200);
    const queue = first.body as { urgency: string; waitingMinutes: number }[];
    expect(queue).toHaveLength(QUEUE_PAGE);
    expect(queue.slice(0, 2).map((r) => r.urgency)).toEqual(['emergency', 'urgent']);
    // The routine ones follow, longest waiting first: the oldest of the backlog is on the page.
    expect(queue[2].waitingMinutes).toBeGreaterThanOrEqual(600 + QUEUE_PAGE + 99 - 1);
    expect(queue.slice(2).every((r, i, a) => r.urgency === 'routine' && (i === 0 || a[i - 1].waitingMinutes >= r.waitingMinutes))).toBe(true);
    // The queue follows every write of the Task, whichever way it comes: triaged (deleted here) or re-prioritised.
    await p.fixtures.delete('Task', stat.id!);
    await p.fixtures.update({ ...urgent, priority: 'routine' } as Task);
    const after = (await call(p, 'GET', '/api/consults?view=queue', undefined, coordinator)).body as { urgency: string; waitingMinutes: number }[];
    expect(after).toHaveLength(QUEUE_PAGE);
    expect(after.every((r) => r.urgency === 'routine')).toBe(true);
    expect(after[0].waitingMinutes).toBeGreaterThanOrEqual(600 + QUEUE_PAGE + 99 - 1);
  });

  it('refuses plain FHIR writes that would skip the workflow (gap 13)', async () => {
    const { caseId } = await newCase(demo.ids.patients[0]);
    // The commune clinician may read the case's Task and request through plain FHIR …
    const tasks = await call(p, 'GET', `/fhir/R4/Task?focus=ServiceRequest/${caseId}`, undefined, commune);
    expect(tasks.status, tasks.text).toBe(200);
    const task = tasks.body.entry[0].resource as Task;
    // … but not conclude the case with a PUT on its Task.
    const concluded = { ...task, status: 'completed', businessStatus: { coding: [{ system: STATE_SYSTEM, code: 'concluded' }] } };
    const put = await call(p, 'PUT', `/fhir/R4/Task/${task.id}`, concluded, commune);
    expect(put.status, put.text).toBe(422);
    expect(put.body.resourceType).toBe('OperationOutcome');
    expect(put.body.issue[0].diagnostics).toContain('POST /api/consults/{id}/triage');
    const view = await call(p, 'GET', `/api/consults/${caseId}`, undefined, commune);
    expect(view.body.state).toBe('submitted');
    expect(view.body.version).toBe(task.meta!.versionId);
    expect(view.body.timeline).toHaveLength(1);
    expect((await call(p, 'POST', `/api/consults/${caseId}/acknowledge`, { decision: 'accept' }, as(commune))).status).toBe(422);
    // Nor through the request, nor by deleting either.
    const sr = await call(p, 'GET', `/fhir/R4/ServiceRequest/${caseId}`, undefined, commune);
    const srPut = await call(p, 'PUT', `/fhir/R4/ServiceRequest/${caseId}`, { ...sr.body, status: 'completed' }, commune);
    expect(srPut.status, srPut.text).toBe(422);
    expect(srPut.body.issue[0].diagnostics).toContain('POST /api/consults');
    expect((await call(p, 'DELETE', `/fhir/R4/Task/${task.id}`, undefined, commune)).status).toBe(403); // commune clinicians delete nothing
    expect((await call(p, 'DELETE', `/fhir/R4/Task/${task.id}`)).status).toBe(422); // an integration system may, but not this
    expect((await call(p, 'GET', `/fhir/R4/ServiceRequest/${caseId}`, undefined, commune)).body.status).toBe('active');
    // Nor by making a Task of its own for the case: with the consult identifier, or with a consult state.
    const forged = {
      resourceType: 'Task',
      status: 'completed',
      intent: 'order',
      for: { reference: `Patient/${demo.ids.patients[0]}` },
      focus: { reference: `ServiceRequest/${caseId}` },
    };
    const withId = await call(p, 'POST', '/fhir/R4/Task', { ...forged, identifier: [{ system: CONSULT_ID_SYSTEM, value: randomUUID() }] }, commune);
    expect(withId.status, withId.text).toBe(422);
    const withState = await call(p, 'POST', '/fhir/R4/Task', { ...forged, businessStatus: { coding: [{ system: STATE_SYSTEM, code: 'concluded' }] } }, commune);
    expect(withState.status, withState.text).toBe(422);
    // An integration system (unrestricted FHIR) is refused the same way; so is a forged meeting.
    expect((await call(p, 'PUT', `/fhir/R4/Task/${task.id}`, concluded)).status).toBe(422);
    const meeting = await call(p, 'POST', '/fhir/R4/Appointment', {
      resourceType: 'Appointment',
      status: 'booked',
      serviceCategory: [{ coding: [{ system: 'https://fhir.cauyte.vn/CodeSystem/service-category', code: 'teleconsultation' }] }],
      participant: [{ actor: { reference: `Practitioner/${demo.ids.practitioners[0]}` }, status: 'accepted' }],
    });
    expect(meeting.status, meeting.text).toBe(422);
    // The case still goes its normal way.
    const accept = await call(p, 'POST', `/api/consults/${caseId}/triage`, { action: 'accept', specialistIds: [demo.ids.practitioners[0]] }, as(specialist));
    expect(accept.status, accept.text).toBe(200);
  });

  it('serves no attachment content that belongs to another patient (gap 2)', async () => {
    const own = demo.ids.patients[0]; // registered at Bát Xát
    const other = demo.ids.patients[1]; // registered at Si Ma Cai: out of the Bát Xát clinician's reach
    const binary = await p.fixtures.create({
      resourceType: 'Binary',
      contentType: 'image/png',
      securityContext: { reference: `Patient/${other}` },
      data: PNG,
    } as Resource);
    const doc = {
      resourceType: 'DocumentReference',
      status: 'current',
      subject: { reference: `Patient/${own}` },
      content: [{ attachment: { contentType: 'image/png', url: `Binary/${binary.id}`, title: 'ảnh của người khác' } }],
    } as DocumentReference;
    // Written through plain FHIR by a clinician of the patient's facility (the FHIR layer may refuse it
    // already; the download must hold on its own, so the document is then stored by the platform).
    const posted = await call(p, 'POST', '/fhir/R4/DocumentReference', doc, commune);
    expect([201, 400, 403, 422]).toContain(posted.status);
    const docId = posted.status === 201 ? (posted.body.id as string) : (await p.fixtures.create(doc)).id!;
    const download = await p.app.inject({ method: 'GET', url: `/api/attachments/${docId}`, headers: { cookie: commune.cookie } });
    expect([403, 404]).toContain(download.statusCode);
    expect(download.rawPayload.includes(Buffer.from(PNG, 'base64'))).toBe(false);
    expect(download.headers['content-type']).not.toBe('image/png');
    await p.audit.seal();
    const rows = await p.audit.list({ limit: 20, patientId: other });
    expect(rows.some((r) => r.outcome === 'denied' && r.resource_id === docId)).toBe(true);
    // A request naming it as an attachment is refused too.
    const res = await call(
      p,
      'POST',
      '/api/consults',
      {
        clientId: randomUUID(),
        patientId: own,
        receivingOrganizationId: demo.ids.organizations.bachmai,
        specialty: { code: 'oncology', display: 'Ung bướu' },
        urgency: 'routine',
        reason: 'x',
        icd10: { code: 'C50.9' },
        summary: { history: 'h', findings: 'f', treatment: 't', question: 'q' },
        attachmentIds: [docId],
      },
      as(commune),
    );
    expect(res.status, res.text).toBe(400);
    expect(res.body.title).toMatch(/không thuộc người bệnh này/);
    // The owner's own facility still gets the bytes.
    const simacai = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.simacai });
    const ownDoc = await p.fixtures.create({ ...doc, subject: { reference: `Patient/${other}` } } as DocumentReference);
    const ok = await p.app.inject({ method: 'GET', url: `/api/attachments/${ownDoc.id}`, headers: { authorization: `Bearer ${simacai}` } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.rawPayload.equals(Buffer.from(PNG, 'base64'))).toBe(true);
  });

  it('loads a new version of the eligibility list (administrators only), audited', async () => {
    const csv = 'seq,specialty,condition_vi,icd10,confidence,evidence\n1,Nội tiết,Béo phì,E66,verified,test\n';
    // Loading the official list is a person's act (no app token).
    const admin = { ...(await sessionFor(p, 'system_admin')), ...json };
    expect((await call(p, 'POST', '/api/eligibility/list', { version: 'T-1', source: 'Bản thử nghiệm', csv }, as(commune))).status).toBe(403);
    const bad = await call(p, 'POST', '/api/eligibility/list', { version: 'T-1', source: 'Bản thử nghiệm', csv: 'no,header,here\n1,2,3' }, admin);
    expect(bad.status).toBe(400);
    const loaded = await call(p, 'POST', '/api/eligibility/list', { version: 'T-1', source: 'Bản thử nghiệm', csv }, admin);
    expect(loaded.status, loaded.text).toBe(201);
    expect(loaded.body).toEqual({ version: 'T-1', entries: 1 });
    expect((await call(p, 'GET', '/api/eligibility?icd10=E66.0', undefined, commune)).body).toMatchObject({ eligible: true, listVersion: 'T-1' });
    expect((await call(p, 'GET', '/api/eligibility?icd10=J00', undefined, commune)).body.eligible).toBe(false);
    expect((await p.audit.list({ limit: 5, action: 'consult.eligibility-load' }))[0]?.detail).toMatchObject({ version: 'T-1', entries: 1 });
  });
});
