/**
 * The case-conference workflow through the API, on both databases: request with an image,
 * triage, a multi-site session, signed conclusion, the requester's different decision, follow-up;
 * immutability of signed conclusions and detection of a tampered signature; illegal transitions;
 * concurrent triage; exactly-once submission.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../auth/demo.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { QUEUE_PAGE, STATE_SYSTEM } from './service.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

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
    p = await startTestPlatform(kind);
    demo = await seedDemo(p.fhir, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    // A second specialist at the same hospital, to co-sign.
    await p.accounts.create({ username: 'bs.hang', displayName: 'TS.BS Lê Thị Minh Hằng', kind: 'staff', password: 'CauYTe-Demo-2026', practitionerId: demo.ids.practitioners[1], roles: [{ role: 'specialist', organizationId: demo.ids.organizations.bachmai }], totpSecret: accounts.get('bs.bachmai')!.totpSecret });
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
      summary: { history: 'Phát hiện khối u vú phải 3 tháng', findings: 'Khối 4 cm, hạch nách', vitals: 'HA 120/80', treatment: 'Chưa điều trị', question: 'Chẩn đoán giai đoạn và hướng điều trị?' },
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
    const bad = await call(p, 'POST', '/api/attachments', { clientId: randomUUID(), patientId: demo.ids.patients[0], contentType: 'image/png', title: 'x', data: Buffer.from('not a png').toString('base64') }, as(commune));
    expect(bad.status).toBe(400);
    const att = await call(p, 'POST', '/api/attachments', { clientId: randomUUID(), patientId: demo.ids.patients[0], contentType: 'image/png', title: 'Siêu âm vú', data: PNG }, as(commune));
    expect(att.status, att.text).toBe(201);
    const first = await newCase(demo.ids.patients[0], { attachmentIds: [att.body.id] });
    const second = await newCase(demo.ids.patients[4]);

    // The receiving hospital sees both in its queue, most urgent first.
    const queue = await call(p, 'GET', '/api/consults?view=queue', undefined, specialist);
    expect(queue.status).toBe(200);
    expect(queue.body.map((r: any) => r.caseId)).toEqual(expect.arrayContaining([first.caseId, second.caseId]));
    expect(queue.body[0].targetMinutes).toBe(24 * 60);

    for (const c of [first, second]) {
      const r = await call(p, 'POST', `/api/consults/${c.caseId}/triage`, { action: 'accept', specialistIds: [demo.ids.practitioners[0], demo.ids.practitioners[1]] }, as(specialist));
      expect(r.status, r.text).toBe(200);
      expect(r.body.state).toBe('accepted');
    }
    // The specialist can now open the patient's record (a care relationship through the request).
    expect((await call(p, 'GET', `/fhir/R4/Patient/${demo.ids.patients[0]}`, undefined, specialist)).status).toBe(200);
    const image = await p.app.inject({ method: 'GET', url: `/api/attachments/${att.body.id}`, headers: { cookie: specialist.cookie } });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');

    const start = new Date(Date.now() + 3 * 86_400_000);
    const session = await call(p, 'POST', '/api/sessions', {
      title: 'Hội chẩn ung bướu tháng 12',
      topic: 'Cập nhật điều trị ung thư vú giai đoạn III',
      start: start.toISOString(),
      end: new Date(start.getTime() + 2 * 3_600_000).toISOString(),
      hostPractitionerId: demo.ids.practitioners[0],
      caseIds: [first.caseId, second.caseId],
      siteOrganizationIds: [demo.ids.organizations.bachmai, demo.ids.organizations.laocai, demo.ids.organizations.batxat],
      participantPractitionerIds: [demo.ids.practitioners[1], demo.ids.practitioners[6]],
    }, as(coordinator));
    expect(session.status, session.text).toBe(201);
    expect(session.body.basedOn.map((r: any) => r.reference)).toEqual([`ServiceRequest/${first.caseId}`, `ServiceRequest/${second.caseId}`]);
    expect(session.body.participant.filter((x: any) => x.actor.reference.startsWith('Location/'))).toHaveLength(3);
    const ics = await p.app.inject({ method: 'GET', url: `/api/sessions/${session.body.id}/ics`, headers: { cookie: coordinator.cookie } });
    expect(ics.body).toContain('BEGIN:VCALENDAR');
    expect(ics.body).toContain('Hội chẩn ung bướu tháng 12');
    // Invitations and reminders go through the outbox; the worker sends them.
    await p.outbox.run();
    expect(p.sent.sent.some((m) => m.recipient === 'hung.tq@bachmai.example' && m.subject.startsWith('Mời tham dự'))).toBe(true);
    const pending = await p.db.query<{ n: number }>("SELECT count(*)::int AS n FROM message_outbox WHERE sent_at IS NULL AND subject LIKE 'Nhắc lịch%'");
    expect(pending.rows[0].n).toBeGreaterThanOrEqual(2);
    // Attendance per site.
    const join = await call(p, 'POST', `/api/sessions/${session.body.id}/attendance`, { organizationId: demo.ids.organizations.batxat, event: 'join' }, as(commune));
    expect(join.status, join.text).toBe(200);
    expect(join.body.location).toHaveLength(1);

    const conclusion = { assessment: 'Ung thư vú phải cT3N2M0', diagnosis: { code: 'C50.9', display: 'U ác của vú' }, recommendations: 'Hóa trị tân bổ trợ, sau đó phẫu thuật', transfer: true, actionUrgency: 'urgent' };
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

    const ack = await call(p, 'POST', `/api/consults/${first.caseId}/acknowledge`, { decision: 'different', reason: 'Gia đình xin điều trị tại tỉnh do điều kiện kinh tế', followUpDays: 30 }, as(commune));
    expect(ack.status, ack.text).toBe(200);
    const follow = await call(p, 'POST', `/api/consults/${first.caseId}/follow-up`, { outcome: 'stable', note: 'Đã hóa trị 2 đợt' }, as(commune));
    expect(follow.body.state).toBe('closed');

    const view = await call(p, 'GET', `/api/consults/${first.caseId}`, undefined, commune);
    expect(view.status).toBe(200);
    expect(view.body.timeline.map((t: any) => t.state)).toEqual(['submitted', 'accepted', 'scheduled', 'scheduled', 'concluded', 'acknowledged', 'closed']);
    expect(view.body.advisedBy.map((a: any) => a.practitioner)).toEqual([`Practitioner/${demo.ids.practitioners[0]}`, `Practitioner/${demo.ids.practitioners[1]}`]);
    expect(view.body.decision).toMatchObject({ decision: 'different', reason: 'Gia đình xin điều trị tại tỉnh do điều kiện kinh tế' });
    expect(view.body.outcome).toBe('stable');
    expect(view.body.attachments).toHaveLength(1);
    await p.audit.seal();
    const trail = await p.audit.list({ limit: 500, patientId: demo.ids.patients[0] });
    const actions = new Set(trail.map((e) => e.action));
    for (const a of ['consult.submit', 'consult.accept', 'consult.schedule', 'consult.sign', 'consult.acknowledge', 'consult.follow-up']) expect(actions, a).toContain(a);
    expect((await p.audit.verify()).ok).toBe(true);
  });

  it('keeps a signed conclusion unchangeable and detects a tampered signature', async () => {
    const { caseId } = await newCase(demo.ids.patients[0]);
    await call(p, 'POST', `/api/consults/${caseId}/triage`, { action: 'accept', specialistIds: [demo.ids.practitioners[0]] }, as(specialist));
    const drafted = await call(p, 'PUT', `/api/consults/${caseId}/conclusion`, { assessment: 'Viêm tuyến vú', diagnosis: { code: 'N61' }, recommendations: 'Kháng sinh', transfer: false, actionUrgency: 'routine' }, as(specialist));
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
    await p.db.query(`UPDATE resource_version SET content = jsonb_set(content, '{title}', '"Kết luận đã bị sửa"') WHERE resource_type = 'Composition' AND id = $1`, [docId]);
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
    expect((await call(p, 'POST', `/api/consults/${declined.caseId}/triage`, { action: 'decline', reason: 'Ngoài chuyên môn của khoa' }, as(specialist))).body.state).toBe('declined');
    const schedule = await call(p, 'POST', '/api/sessions', { title: 'x', start: new Date(Date.now() + 86_400_000).toISOString(), end: new Date(Date.now() + 90_000_000).toISOString(), hostPractitionerId: demo.ids.practitioners[0], caseIds: [declined.caseId], siteOrganizationIds: [demo.ids.organizations.bachmai] }, as(coordinator));
    expect(schedule.status).toBe(422);
    expect(schedule.body.title).toMatch(/Từ chối/);

    // Sign a sample flow to the end and acknowledge twice.
    await call(p, 'PUT', `/api/consults/${caseId}/conclusion`, { assessment: 'a', diagnosis: { code: 'I10' }, recommendations: 'r', transfer: false, actionUrgency: 'routine' }, as(specialist));
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
    const n = await p.db.query<{ n: number }>("SELECT count(*)::int AS n FROM idx_token t JOIN search_param s ON s.id = t.param WHERE s.resource_type = 'ServiceRequest' AND s.code = 'identifier' AND t.code = $1", [body.clientId]);
    expect(n.rows[0].n).toBe(1);
  });

  it('keeps other facilities out of a case', async () => {
    const { caseId } = await newCase(demo.ids.patients[0]);
    const outsider = await p.tokenFor('specialist', { org: demo.ids.organizations.dienbien, practitioner: demo.ids.practitioners[5] });
    const res = await call(p, 'GET', `/api/consults/${caseId}`, undefined, { authorization: `Bearer ${outsider}` });
    expect(res.status).toBe(403);
    const triage = await call(p, 'POST', `/api/consults/${caseId}/triage`, { action: 'decline', reason: 'xxxxxx' }, { authorization: `Bearer ${outsider}`, ...json });
    expect(triage.status).toBe(403);
    const eligibility = await call(p, 'GET', '/api/eligibility?icd10=I63.9', undefined, commune);
    expect(eligibility.body.eligible).toBe(false);
    const picker = await call(p, 'GET', `/api/terminology/icd10?q=${encodeURIComponent('ung thu vu')}`, undefined, commune);
    expect(picker.body.map((e: Resource & { code: string }) => e.code)).toContain('C50');
  });

  it('puts a new emergency at the top of the triage queue even behind a backlog longer than a page', async () => {
    const org = demo.ids.organizations.laocai;
    const task = (priority: string, minutesAgo: number) => ({
      resourceType: 'Task', status: 'requested', intent: 'order', priority,
      businessStatus: { coding: [{ system: STATE_SYSTEM, code: 'submitted' }] },
      owner: { reference: `Organization/${org}` },
      authoredOn: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    }) as Resource;
    // A page and a half of routine cases, all waiting longer than the emergency that comes in now.
    await p.fhir.repo.createMany(Array.from({ length: QUEUE_PAGE + 100 }, (_, i) => task('routine', 600 + i)));
    const [urgent, stat] = await p.fhir.repo.createMany([task('urgent', 30), task('stat', 1)]);
    const ctx = { actor: { via: 'test' as const, role: 'coordinator' as const, organizationId: org } };
    const queue = (await p.consults.queue(ctx)) as { urgency: string; waitingMinutes: number }[];
    expect(queue).toHaveLength(QUEUE_PAGE);
    expect(queue.slice(0, 2).map((r) => r.urgency)).toEqual(['emergency', 'urgent']);
    // The routine ones follow, longest waiting first: the oldest of the backlog is on the page.
    expect(queue[2].waitingMinutes).toBeGreaterThanOrEqual(600 + QUEUE_PAGE + 99 - 1);
    expect(queue.slice(2).every((r, i, a) => r.urgency === 'routine' && (i === 0 || a[i - 1].waitingMinutes >= r.waitingMinutes))).toBe(true);
    // The queue follows every write of the Task, whichever way it comes: triaged (deleted here) or re-prioritised.
    await p.fhir.repo.delete('Task', stat.id!);
    await p.fhir.repo.update({ ...urgent, priority: 'routine' } as Resource);
    const after = (await p.consults.queue(ctx)) as { urgency: string; waitingMinutes: number }[];
    expect(after).toHaveLength(QUEUE_PAGE);
    expect(after.every((r) => r.urgency === 'routine')).toBe(true);
    expect(after[0].waitingMinutes).toBeGreaterThanOrEqual(600 + QUEUE_PAGE + 99 - 1);
  });
});
