/**
 * The hooks fired at the end of prescribing and of a visit, and by the citizen while booking,
 * through the HTTP API on both back ends, with the bundled CDS service (its own Fastify app,
 * registered and approved like any service):
 *   - order-sign: a drug the patient is allergic to → a critical card; the override needs a reason
 *     and its feedback reaches the service;
 *   - encounter-discharge after the visit note is signed: the follow-up card; accepting it writes a
 *     draft ServiceRequest the doctor confirms (Provenance naming the service's Device);
 *   - appointment-book by the citizen (POST /api/cds/booking-advice, cds.advice) for a visit not
 *     booked yet: a card in plain words; the call is audited and in the citizen's access log.
 * Denials: a citizen for someone else's patient, a clinician on the citizen's route, a citizen on
 * the clinicians' hooks and cards, another facility's clinician on the discharge hook.
 */
import type { ServiceRequest } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoSummary } from '../seed/demo.ts';
import type { VisitDemo } from '../seed/visits.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { registerApproved as registerApprovedAs, startCdsTestPlatform } from '../testing/cds.ts';
import { call, type TestPlatform } from '../testing/platform.ts';
import type { buildBundledServer } from './bundled/server.ts';
import type { AccessLogEntry } from '../audit/contract.ts';
import type { Accepted, Confirmed, HookResult } from './contract.ts';

describe.each(DB_KINDS)('CDS hooks order-sign, encounter-discharge, appointment-book (%s)', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let visitDemo: VisitDemo;
  let doctor: Record<string, string>;
  let stranger: Record<string, string>;
  let citizen: Record<string, string>;
  let admin: Record<string, string>;
  let bundled: ReturnType<typeof buildBundledServer>;
  let bundledUrl: string;
  let an: string;
  const json = { 'content-type': 'application/json' };
  const as = (h: Record<string, string>, method: string, url: string, body?: unknown) => call(p, method, url, body, body === undefined ? h : { ...h, ...json });

  const registerApproved = (serviceId: string, hook: string, scopes: string[]) =>
    registerApprovedAs(p, admin, {
      baseUrl: bundledUrl,
      serviceId,
      hook,
      scopes,
      vendor: 'Cầu Y Tế (test)',
      intendedUse: 'Decision support checked in tests',
      evidence: { title: 'Validation study (test set)', url: 'https://example.org/study.pdf' },
    });

  beforeAll(async () => {
    ({ p, demo, visitDemo, an, doctor, admin, citizen, stranger, bundled, bundledUrl } = await startCdsTestPlatform(kind));
    await registerApproved('cauyte-rx-safety-sign', 'order-sign', ['AllergyIntolerance', 'MedicationRequest', 'MedicationStatement']);
    await registerApproved('cauyte-visit-closure', 'encounter-discharge', ['Encounter', 'Condition', 'MedicationRequest']);
    await registerApproved('cauyte-remote-visit-advice', 'appointment-book', ['QuestionnaireResponse', 'Appointment']);
  }, 180_000);
  afterAll(async () => {
    await bundled?.app.close();
    await p?.close();
  });

  it('order-sign: a critical card for a drug the patient is allergic to; the override needs a reason; the feedback reaches the service', async () => {
    const r = await as(doctor, 'POST', '/api/cds/hooks/order-sign', {
      patientId: an,
      items: [
        { name: 'Amlodipin 5 mg', atc: 'C08CA01' },
        { name: 'Amoxicilin 250 mg', atc: 'J01CA04' },
      ],
    });
    expect(r.status, r.text).toBe(200);
    const result = r.body as HookResult;
    const critical = result.cards.find((c) => c.indicator === 'critical');
    expect(critical?.summary).toBe('Dị ứng: Amoxicilin 250 mg — người bệnh dị ứng Penicillin');
    expect(critical?.service.name).toBe('Test cauyte-rx-safety-sign');
    const short = await as(doctor, 'POST', `/api/cds/cards/${critical!.id}/override`, { reason: 'ok' });
    expect(short.status).toBe(400);
    expect(bundled.feedback.filter((f) => f.service === 'cauyte-rx-safety-sign')).toEqual([]);
    const over = await as(doctor, 'POST', `/api/cds/cards/${critical!.id}/override`, { reason: 'Đã dùng amoxicilin an toàn', code: 'tolerated-before' });
    expect(over.status, over.text).toBe(200);
    expect(over.body.feedback).toBe('sent');
    expect(bundled.feedback.filter((f) => f.service === 'cauyte-rx-safety-sign')).toEqual([
      expect.objectContaining({ outcome: 'overridden', overrideReason: expect.objectContaining({ userComment: 'Đã dùng amoxicilin an toàn' }) }),
    ]);
    const audit = await p.db.query<{ reason: string; detail: { hook: string; sent: string[] } }>(
      "SELECT reason, detail FROM audit_log WHERE action = 'cds.call' AND detail->>'hook' = 'order-sign' AND $1 = ANY(patient_ids)",
      [an],
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0].reason).toMatch(/đã đọc .*dị ứng.* của bạn — để gợi ý khi bác sĩ ký đơn thuốc$/);
  });

  it('encounter-discharge after the note is signed: a follow-up card, accepted as a draft ServiceRequest the doctor confirms', async () => {
    const slots = await as(citizen, 'GET', `/api/visits/services/${visitDemo.services['kham-tu-xa-man-tinh']}/slots?days=8`);
    const booked = await as(citizen, 'POST', '/api/visits', {
      patientId: an,
      slotId: slots.body[0].id,
      icd10: { code: 'I10', display: 'Tăng huyết áp' },
      reason: 'Tái khám huyết áp',
      answers: { 'red-flags': false, duration: 'gt1m' },
    });
    expect(booked.status, booked.text).toBe(201);
    const done = await as(doctor, 'POST', `/api/visits/${booked.body.id}/complete`, {
      findings: 'Tỉnh, huyết áp tự đo 150/90 mmHg.',
      assessment: 'Tăng huyết áp',
      diagnosis: { code: 'I10', display: 'Tăng huyết áp vô căn (nguyên phát)' },
      instructions: 'Ăn nhạt, đo huyết áp hằng ngày.',
      prescription: { items: [{ name: 'Amlodipin 5 mg', atc: 'C08CA01', quantity: 28, unit: 'viên', dosage: 'Uống 1 viên mỗi sáng', days: 28 }] },
    });
    expect(done.status, done.text).toBe(200);
    const encounterId = done.body.encounterId as string;
    // Another facility's clinician does not reach the patient: refused before anything leaves.
    expect((await as(stranger, 'POST', '/api/cds/hooks/encounter-discharge', { patientId: an, encounterId })).status).toBe(403);
    const r = await as(doctor, 'POST', '/api/cds/hooks/encounter-discharge', { patientId: an, encounterId });
    expect(r.status, r.text).toBe(200);
    const cards = (r.body as HookResult).cards;
    expect(cards.map((c) => c.summary)).toEqual([expect.stringMatching(/^Hẹn tái khám trước khi hết thuốc: đơn đủ 28 ngày \(đến \d{2}\/\d{2}\/\d{4}\)$/)]);
    const audit = await p.db.query<{ detail: { sent: string[] } }>(
      "SELECT detail FROM audit_log WHERE action = 'cds.call' AND detail->>'hook' = 'encounter-discharge' AND $1 = ANY(patient_ids)",
      [an],
    );
    expect(audit.rows.map((x) => x.detail.sent.sort())).toEqual([['Condition', 'Encounter', 'MedicationRequest']]);
    const accepted = await as(doctor, 'POST', `/api/cds/cards/${cards[0].id}/accept`, { suggestion: cards[0].suggestions[0].uuid });
    expect(accepted.status, accepted.text).toBe(200);
    const drafts = (accepted.body as Accepted).drafts;
    expect(drafts).toEqual([expect.stringMatching(/^ServiceRequest\//)]);
    const draft = (await as(doctor, 'GET', `/fhir/R4/${drafts[0]}`)).body as ServiceRequest;
    expect(draft).toMatchObject({ status: 'draft', subject: { reference: `Patient/${an}` }, encounter: { reference: `Encounter/${encounterId}` } });
    expect(bundled.feedback.some((f) => f.service === 'cauyte-visit-closure' && f.outcome === 'accepted')).toBe(true);
    const confirmed = await as(doctor, 'POST', `/api/cds/drafts/${drafts[0]}/confirm`);
    expect(confirmed.status, confirmed.text).toBe(200);
    expect((confirmed.body as Confirmed).provenance).toHaveLength(2);
    expect(((await as(doctor, 'GET', `/fhir/R4/${drafts[0]}`)).body as ServiceRequest).status).toBe('active');
  });

  it('appointment-book by the citizen before the visit exists: plain words, audited, in the access log; denials', async () => {
    const proposed = { icd10: { code: 'I10', display: 'Tăng huyết áp' }, answers: { 'red-flags': false, duration: 'gt1m' } };
    const r = await as(citizen, 'POST', '/api/cds/booking-advice', { patientId: an, proposed });
    expect(r.status, r.text).toBe(200);
    const cards = (r.body as HookResult).cards;
    expect(cards).toHaveLength(1);
    expect(cards[0].summary).toMatch(/^(Bệnh này có thể khám từ xa|Có thể khám từ xa): Tăng huyết áp/);
    expect(cards[0].source.label).toMatch(/Thông tư 30\/2023/);
    const danger = await as(citizen, 'POST', '/api/cds/booking-advice', { patientId: an, proposed: { ...proposed, answers: { 'red-flags': true } } });
    expect((danger.body as HookResult).cards.map((c) => [c.indicator, c.summary])).toEqual([['critical', 'Bạn có dấu hiệu nguy hiểm: đừng chờ khám từ xa']]);
    // For a family member the citizen manages, too.
    const child = await as(citizen, 'POST', '/api/cds/booking-advice', { patientId: visitDemo.childId, proposed });
    expect(child.status, child.text).toBe(200);

    const rows = await p.db.query<{ username: string; reason: string; detail: { sent: string[]; hook: string } }>(
      "SELECT username, reason, detail FROM audit_log WHERE action = 'cds.call' AND detail->>'hook' = 'appointment-book' AND $1 = ANY(patient_ids) ORDER BY id",
      [an],
    );
    expect(rows.rows).toHaveLength(2);
    expect(rows.rows.every((x) => x.username === 'nguoidan')).toBe(true);
    expect(rows.rows[0].detail.sent).toEqual(expect.arrayContaining(['Appointment', 'QuestionnaireResponse']));
    const log = await as(citizen, 'GET', '/api/me/access-log');
    expect(log.status, log.text).toBe(200);
    expect(
      (log.body as AccessLogEntry[]).some((e) =>
        /Dịch vụ AI «Test cauyte-remote-visit-advice» đã đọc .*câu trả lời trước khi khám.*khi đặt lịch khám từ xa/.test(e.reason ?? ''),
      ),
    ).toBe(true);

    // Denials: someone else's patient, bad input, the clinician on the citizen's route, the citizen on the clinicians' routes.
    const other = demo.ids.patients.find((x) => x !== an && x !== visitDemo.childId)!;
    expect((await as(citizen, 'POST', '/api/cds/booking-advice', { patientId: other, proposed })).status).toBe(403);
    expect((await as(citizen, 'POST', '/api/cds/booking-advice', { patientId: an, proposed: { icd10: { code: 'not-a-code' } } })).status).toBe(400);
    expect((await as(citizen, 'POST', '/api/cds/booking-advice', { patientId: an, proposed, extra: 1 })).status).toBe(400);
    expect((await as(doctor, 'POST', '/api/cds/booking-advice', { patientId: an, proposed })).status).toBe(403);
    expect((await as(citizen, 'POST', '/api/cds/hooks/appointment-book', { patientId: an, proposed })).status).toBe(403);
    expect((await as(citizen, 'POST', `/api/cds/cards/${cards[0].id}/override`, { reason: 'Tôi vẫn muốn khám từ xa' })).status).toBe(403);
    expect([401, 403]).toContain((await call(p, 'POST', '/api/cds/booking-advice', { patientId: an, proposed }, json)).status);
  });
});
