/**
 * Remote examinations and the personal health record through the HTTP API, on both databases:
 * booking with eligibility and the pre-visit questions, the double-booking guard under
 * simultaneous requests, cancel and reschedule, family members (and everyone else refused), the
 * visit's outputs as the citizen sees them, the prescription PDF's text, the charges export, and
 * what the workflow owns (booking, booked slot, answers, charge, prescription) refused through plain
 * FHIR with the route to use. The platform runs family, consult and visits (no video room needed).
 *
 * Longer than 400 lines on purpose: one visit followed from booking to prescription on one fixture.
 */
import type { Appointment, Bundle, ChargeItem, MedicationRequest, QuestionnaireResponse, Slot } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { pdfText } from '../testing/pdf.ts';
import { DEMO_PASSWORD } from '../seed/accounts.ts';
import { seedVisitDemo, type VisitDemo } from '../seed/visits.ts';

const ANSWERS = { 'red-flags': false, duration: 'gt1m', 'home-bp': '158/96', medications: 'Amlodipin 5 mg' };

describe.each(DB_KINDS)('remote examination on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let visitDemo: VisitDemo;
  let accounts: Map<string, DemoAccount>;
  let citizen: Record<string, string>;
  let neighbour: Record<string, string>; // another citizen of the same commune
  let doctor: Record<string, string>;
  let serviceId: string;
  const json = { 'content-type': 'application/json' };
  const as = (h: Record<string, string>, method: string, url: string, body?: unknown) => call(p, method, url, body, body === undefined ? h : { ...h, ...json });

  beforeAll(async () => {
    // The visits API needs no video room: the platform runs without the video domain.
    p = await startTestPlatform(kind, {}, undefined, { domains: ['family', 'consult', 'visits'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    visitDemo = await seedVisitDemo(p.store, p.visits, demo);
    await p.accounts.create({
      username: 'hangxom',
      displayName: 'Người dân khác',
      kind: 'citizen',
      password: DEMO_PASSWORD,
      patientId: demo.ids.patients[4],
      roles: [],
    });
    citizen = await signIn(p, 'nguoidan');
    neighbour = await signIn(p, 'hangxom');
    doctor = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    serviceId = visitDemo.services['kham-tu-xa-man-tinh'];
  }, 120_000);
  afterAll(async () => p?.close());

  let slotCursor = 0;
  async function freeSlot(): Promise<{ id: string; start: string; end: string }> {
    const r = await as(citizen, 'GET', `/api/visits/services/${serviceId}/slots?days=8`);
    expect(r.status).toBe(200);
    return r.body[slotCursor++ % r.body.length];
  }

  async function book(h: Record<string, string>, patientId: string, slotId: string, code = 'I10') {
    return as(h, 'POST', '/api/visits', {
      patientId,
      slotId,
      icd10: { code, display: 'Tăng huyết áp' },
      reason: 'Đau đầu, huyết áp cao mấy hôm nay',
      answers: ANSWERS,
    });
  }

  it('books an eligible slot with the pre-visit answers; the clinician sees it and the answers; a reminder is queued', async () => {
    const services = await as(citizen, 'GET', '/api/visits/services');
    expect(services.body.map((s: { name: string }) => s.name)).toContain('Khám từ xa bệnh mạn tính (tăng huyết áp, đái tháo đường)');
    const slot = await freeSlot();
    const bookedFrom = Date.now();
    const r = await book(citizen, demo.ids.patients[0], slot.id);
    const bookedBy = Date.now();
    expect(r.status, r.text).toBe(201);
    expect(r.body.eligibility.eligible).toBe(true);
    expect(r.body.joinUrl).toBe(`/me/visits/${r.body.id}`);
    const again = await as(citizen, 'GET', `/api/visits/services/${serviceId}/slots?days=8`);
    expect(again.body.map((s: { id: string }) => s.id)).not.toContain(slot.id);

    const day = new Date(new Date(slot.start).getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
    const queue = await as(doctor, 'GET', `/api/visits/queue?from=${day}&days=1`);
    expect(queue.status, queue.text).toBe(200);
    expect(queue.body.map((v: { id: string }) => v.id)).toContain(r.body.id);
    const view = await as(doctor, 'GET', `/api/visits/${r.body.id}`);
    expect(view.body.patient.name).toBe('Nguyễn Văn An');
    expect(view.body.homeBp).toBe('158/96');
    expect(view.body.answers.find((a: { linkId: string }) => a.linkId === 'duration').answer).toBe('Trên 1 tháng');
    const reminder = await p.db.query<{ recipient: string; send_after: Date }>('SELECT recipient, send_after FROM message_outbox WHERE dedupe_key = $1', [
      `visit-reminder:${r.body.id}:${slot.start}`,
    ]);
    expect(reminder.rows).toHaveLength(1);
    // An hour before the visit; a visit booked less than an hour ahead is reminded at once.
    const hourBefore = new Date(slot.start).getTime() - 3_600_000;
    const sendAfter = new Date(reminder.rows[0].send_after).getTime();
    if (hourBefore > bookedBy) expect(sendAfter).toBe(hourBefore);
    else {
      expect(sendAfter).toBeGreaterThanOrEqual(bookedFrom);
      expect(sendAfter).toBeLessThanOrEqual(bookedBy);
    }
  });

  it('refuses an ineligible reason with the explanation and a suggestion to book in person, and books nothing', async () => {
    const slot = await freeSlot();
    const r = await book(citizen, demo.ids.patients[0], slot.id, 'J18.9');
    expect(r.status).toBe(422);
    expect(r.headers['content-type']).toMatch(/problem\+json/);
    expect(r.body.title).toMatch(/không thuộc danh mục bệnh được khám, chữa bệnh từ xa/);
    expect(r.body.title).toMatch(/Thông tư 30\/2023/);
    expect(r.body.title).toMatch(/Đề nghị đặt lịch khám trực tiếp/);
    const held = await p.db.query('SELECT 1 FROM slot_booking WHERE slot_id = $1', [slot.id]);
    expect(held.rows).toHaveLength(0);
    // An emergency sign is not for a video visit either.
    const urgent = await as(citizen, 'POST', '/api/visits', {
      patientId: demo.ids.patients[0],
      slotId: slot.id,
      icd10: { code: 'I10' },
      reason: 'Đau ngực',
      answers: { ...ANSWERS, 'red-flags': true },
    });
    expect(urgent.status).toBe(422);
    expect(urgent.body.title).toMatch(/115/);
    // Bad answers are named.
    const bad = await as(citizen, 'POST', '/api/visits', {
      patientId: demo.ids.patients[0],
      slotId: slot.id,
      icd10: { code: 'I10' },
      reason: 'x',
      answers: { ...ANSWERS, 'home-bp': 'cao lắm' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.title).toMatch(/answers\.home-bp/);
  });

  it('lets exactly one of several simultaneous bookings of a slot succeed', async () => {
    for (let round = 0; round < 4; round++) {
      const slot = await freeSlot();
      const results = await Promise.all([
        book(citizen, demo.ids.patients[0], slot.id),
        book(neighbour, demo.ids.patients[4], slot.id),
        book(citizen, visitDemo.childId, slot.id),
      ]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses, results.map((r) => r.text).join('\n')).toEqual([201, 409, 409]);
      const rows = await p.db.query('SELECT appointment_id FROM slot_booking WHERE slot_id = $1', [slot.id]);
      expect(rows.rows).toHaveLength(1);
      const appointments = await p.fixtures.search('Appointment', { slot: `Slot/${slot.id}` });
      expect(appointments).toHaveLength(1);
    }
  });

  it('cancels and reschedules in one step each: slots freed and taken, the reminder moves', async () => {
    const first = await freeSlot();
    const second = await freeSlot();
    const r = await book(citizen, demo.ids.patients[0], first.id);
    expect(r.status).toBe(201);
    const moved = await as(citizen, 'POST', `/api/visits/${r.body.id}/reschedule`, { slotId: second.id });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body.start).toBe(second.start);
    const slots = (await as(citizen, 'GET', `/api/visits/services/${serviceId}/slots?days=8`)).body.map((s: { id: string }) => s.id);
    expect(slots).toContain(first.id);
    expect(slots).not.toContain(second.id);
    const keys = (
      await p.db.query<{ dedupe_key: string }>('SELECT dedupe_key FROM message_outbox WHERE dedupe_key LIKE $1', [`visit-reminder:${r.body.id}:%`])
    ).rows.map((x) => x.dedupe_key);
    expect(keys).toEqual([`visit-reminder:${r.body.id}:${second.start}`]);
    // Someone else cannot cancel it.
    expect((await as(neighbour, 'POST', `/api/visits/${r.body.id}/cancel`, { reason: 'không' })).status).toBe(403);
    const cancelled = await as(citizen, 'POST', `/api/visits/${r.body.id}/cancel`, { reason: 'Bận việc nhà' });
    expect(cancelled.body.status).toBe('cancelled');
    const after = (await as(citizen, 'GET', `/api/visits/services/${serviceId}/slots?days=8`)).body.map((s: { id: string }) => s.id);
    expect(after).toContain(second.id);
    expect((await as(citizen, 'POST', `/api/visits/${r.body.id}/cancel`, { reason: 'lần nữa' })).status).toBe(409);
  });

  it('keeps one person to one visit at a time: an overlapping booking or move is refused, another family member may take it', async () => {
    type FreeSlot = { id: string; start: string; end: string };
    const chronic = (await as(citizen, 'GET', `/api/visits/services/${serviceId}/slots?days=8`)).body as FreeSlot[];
    const cardio = (await as(citizen, 'GET', `/api/visits/services/${visitDemo.services['kham-tu-xa-tim-mach']}/slots?days=8`)).body as FreeSlot[];
    const overlaps = (x: FreeSlot, y: FreeSlot) => x.start < y.end && y.start < x.end;
    const overlapping = (x: FreeSlot) => cardio.filter((k) => overlaps(x, k));
    // From the end of the week (the other tests take the first free slots): a 20-minute slot that
    // two 15-minute cardiology slots overlap, and a later pair for the simultaneous bookings.
    const mine = chronic.toReversed().find((c) => overlapping(c).length === 2)!;
    expect(mine).toBeDefined();
    const [clash, clash2] = overlapping(mine);
    const later = chronic.toReversed().find((c) => c.end <= mine.start && overlapping(c).length > 0)!;
    const laterClash = overlapping(later)[0];
    const far = cardio.toReversed().find((k) => k.start >= mine.end)!;
    expect([later, laterClash, far].every(Boolean)).toBe(true);

    expect((await book(citizen, demo.ids.patients[0], mine.id)).status).toBe(201);
    const twice = await book(citizen, demo.ids.patients[0], clash.id);
    expect(twice.status, twice.text).toBe(409);
    expect(twice.body.title).toMatch(/đã có lịch khám từ xa lúc .*trùng giờ này/);
    expect((await p.db.query('SELECT 1 FROM slot_booking WHERE slot_id = $1', [clash.id])).rows).toHaveLength(0);
    // His son is another person: the same time is his to take.
    const son = await book(citizen, visitDemo.childId, clash.id, 'J00');
    expect(son.status, son.text).toBe(201);
    // Moving another of the father's visits onto a time he already holds is refused; it stays put.
    const other = await book(citizen, demo.ids.patients[0], far.id);
    expect(other.status, other.text).toBe(201);
    const move = await as(citizen, 'POST', `/api/visits/${other.body.id}/reschedule`, { slotId: clash2.id });
    expect(move.status, move.text).toBe(409);
    expect((await as(citizen, 'GET', `/api/visits/${other.body.id}`)).body.start).toBe(far.start);
    expect((await p.db.query('SELECT slot_id FROM slot_booking WHERE appointment_id = $1', [other.body.id])).rows).toEqual([{ slot_id: far.id }]);
    // The same person booking two overlapping slots at the same moment: exactly one succeeds.
    const [x, y] = await Promise.all([book(neighbour, demo.ids.patients[4], later.id), book(neighbour, demo.ids.patients[4], laterClash.id)]);
    expect([x.status, y.status].sort(), x.text + y.text).toEqual([201, 409]);
  });

  it('lets a citizen act for the family member they manage, and for nobody else', async () => {
    const family = await as(citizen, 'GET', '/api/me/family');
    expect(family.body.map((m: { name: string }) => m.name)).toEqual(['Nguyễn Văn An', 'Nguyễn Minh Khang']);
    // The managed child: record and booking work.
    expect((await as(citizen, 'GET', `/api/me/record?patientId=${visitDemo.childId}`)).status).toBe(200);
    const forChild = await book(citizen, visitDemo.childId, (await freeSlot()).id, 'J00');
    expect(forChild.status, forChild.text).toBe(201);
    // Someone who is not a managed family member: refused everywhere, even by editing the request.
    const stranger = demo.ids.patients[4];
    const refused = await book(citizen, stranger, (await freeSlot()).id);
    expect(refused.status).toBe(403);
    expect((await as(citizen, 'GET', `/api/me/record?patientId=${stranger}`)).status).toBe(403);
    expect((await as(citizen, 'GET', `/fhir/R4/Patient/${stranger}`)).status).toBe(403);
    expect((await as(citizen, 'GET', `/api/me/record/fhir?patientId=${stranger}`)).status).toBe(403);
    // And the neighbour cannot reach An's child, nor his visit.
    expect((await as(neighbour, 'GET', `/api/me/record?patientId=${visitDemo.childId}`)).status).toBe(403);
    expect((await as(neighbour, 'GET', `/api/visits/${forChild.body.id}`)).status).toBe(403);
    expect((await book(neighbour, visitDemo.childId, (await freeSlot()).id)).status).toBe(403);
    // The refusals are in the audit trail.
    const denied = await p.db.query("SELECT count(*)::int AS n FROM audit_log WHERE outcome = 'denied' AND $1 = ANY(patient_ids)", [stranger]);
    expect(denied.rows[0].n).toBeGreaterThanOrEqual(3);

    // The father exercises his son's data rights: who accessed the record, and consents.
    const log = await as(citizen, 'GET', `/api/me/access-log?patientId=${visitDemo.childId}`);
    expect(log.status, log.text).toBe(200);
    expect(log.body.some((e: { action: string }) => e.action === 'visit.book')).toBe(true);
    const looked = await p.db.query("SELECT detail FROM audit_log WHERE action = 'access-log.read' AND $1 = ANY(patient_ids)", [visitDemo.childId]);
    expect(looked.rows.length).toBeGreaterThanOrEqual(1);
    const consent = await as(citizen, 'POST', '/api/me/consents', {
      purpose: 'treatment',
      decision: 'deny',
      organizationId: demo.ids.organizations.bachmai,
      patientId: visitDemo.childId,
    });
    expect(consent.status, consent.text).toBe(201);
    expect(consent.body.patient.reference).toBe(`Patient/${visitDemo.childId}`);
    expect(consent.body.performer[0].reference).toMatch(/^RelatedPerson\//);
    expect((await as(citizen, 'GET', `/api/me/consents?patientId=${visitDemo.childId}`)).body.map((c: { id: string }) => c.id)).toContain(consent.body.id);
    expect((await as(citizen, 'GET', '/api/me/consents')).body.map((c: { id: string }) => c.id)).not.toContain(consent.body.id);
    // Nobody else: not for the stranger, not the neighbour for the son, nor his consent withdrawn by her.
    expect((await as(citizen, 'GET', `/api/me/access-log?patientId=${stranger}`)).status).toBe(403);
    expect((await as(citizen, 'POST', '/api/me/consents', { purpose: 'research', decision: 'permit', patientId: stranger })).status).toBe(403);
    expect((await as(neighbour, 'GET', `/api/me/access-log?patientId=${visitDemo.childId}`)).status).toBe(403);
    expect((await as(neighbour, 'GET', `/api/me/consents?patientId=${visitDemo.childId}`)).status).toBe(403);
    expect((await as(neighbour, 'POST', `/api/me/consents/${consent.body.id}/withdraw`, {})).status).toBe(403);
    // An app the father authorised (a patient-context token for him) reaches his record only.
    const app = await p.tokenFor('citizen', { patient: demo.ids.patients[0], scope: 'patient/*.read' });
    const viaApp = await call(p, 'GET', `/api/me/access-log?patientId=${visitDemo.childId}`, undefined, { authorization: `Bearer ${app}` });
    expect(viaApp.status, viaApp.text).toBe(403);
    const ownViaApp = await call(p, 'GET', '/api/me/access-log', undefined, { authorization: `Bearer ${app}` });
    expect(ownViaApp.status, ownViaApp.text).toBe(200);
    const withdrawn = await as(citizen, 'POST', `/api/me/consents/${consent.body.id}/withdraw`, {});
    expect(withdrawn.status, withdrawn.text).toBe(200);
    expect(withdrawn.body.status).toBe('inactive');
  });

  it('completes a visit: note, diagnosis, reported vitals, e-prescription and charge; the citizen sees them, downloads the PDF and the record', async () => {
    const slot = await freeSlot();
    const booked = await book(citizen, demo.ids.patients[0], slot.id);
    const id = booked.body.id;
    // Only the visit's clinician writes it; bad input is named.
    expect((await as(citizen, 'POST', `/api/visits/${id}/complete`, {})).status).toBe(403);
    const bad = await as(doctor, 'POST', `/api/visits/${id}/complete`, {
      findings: 'x',
      assessment: 'y',
      diagnosis: { code: 'I10' },
      instructions: 'z',
      reported: { systolic: 150 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.title).toMatch(/systolic and diastolic/);
    const body = {
      findings: 'Tỉnh, không khó thở. Huyết áp tự đo 158/96 mmHg.',
      assessment: 'Tăng huyết áp chưa kiểm soát',
      diagnosis: { code: 'I10', display: 'Tăng huyết áp vô căn (nguyên phát)' },
      instructions: 'Ăn nhạt, đo huyết áp sáng và tối, ghi lại.',
      followUpDays: 30,
      reported: { systolic: 158, diastolic: 96, heartRate: 82 },
      prescription: {
        items: [
          { name: 'Amlodipin 5 mg', drugCode: 'VD-12345-10', quantity: 30, unit: 'viên', dosage: 'Uống 1 viên mỗi sáng sau ăn', days: 30 },
          { name: 'Losartan 50 mg', quantity: 30, unit: 'viên', dosage: 'Uống 1 viên buổi tối', days: 30 },
        ],
        advice: 'Không tự ý ngừng thuốc.',
      },
    };
    const done = await as(doctor, 'POST', `/api/visits/${id}/complete`, body);
    expect(done.status, done.text).toBe(200);
    const code = done.body.prescriptionCode as string;
    expect(code).toMatch(/^[A-Z0-9]{5}[a-z0-9]{7}-c$/);
    expect((await as(doctor, 'POST', `/api/visits/${id}/complete`, body)).status).toBe(409);

    const seen = await as(citizen, 'GET', `/api/visits/${id}`);
    expect(seen.body.status).toBe('fulfilled');
    expect(seen.body.note.sections.map((s: { text: string }) => s.text).join('\n')).toContain('Ăn nhạt, đo huyết áp sáng và tối');
    expect(seen.body.note.sections.map((s: { text: string }) => s.text).join('\n')).toContain('Tái khám sau 30 ngày');
    expect(seen.body.prescription.code).toBe(code);
    expect(seen.body.prescription.items.map((i: { name: string }) => i.name)).toEqual(['Amlodipin 5 mg', 'Losartan 50 mg']);
    expect(seen.body.reported.map((o: { value: string }) => o.value)).toContain('158/96 mmHg');
    expect(seen.body.charge).toMatchObject({ price: 39000, payer: 'bhyt' });

    const pdf = await call(p, 'GET', `/api/prescriptions/${code}/pdf`, undefined, citizen);
    expect(pdf.status).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    const text = await pdfText(pdf.raw);
    for (const s of [
      'ĐƠN THUỐC',
      `Mã đơn thuốc: ${code}`,
      'Họ tên người bệnh: Nguyễn Văn An',
      'Chẩn đoán: I10 — Tăng huyết áp vô căn (nguyên phát)',
      'Amlodipin 5 mg',
      'Cách dùng: Uống 1 viên mỗi sáng sau ăn (30 ngày)',
      'Losartan 50 mg',
      'Lời dặn: Không tự ý ngừng thuốc.',
      'Tái khám: sau 30 ngày',
      'Giàng A Sử',
    ])
      expect(text).toContain(s);
    // The neighbour cannot download it; a pharmacy's check learns no name.
    expect((await call(p, 'GET', `/api/prescriptions/${code}/pdf`, undefined, neighbour)).status).toBe(403);
    const check = await call(p, 'GET', `/api/prescriptions/${code}/verify`, undefined, { authorization: '' });
    expect(check.body).toMatchObject({ code, valid: true, items: 2 });
    expect(check.text).not.toContain('Nguyễn');

    const record = await as(citizen, 'GET', '/api/me/record');
    expect(record.body.timeline.map((t: { title: string }) => t.title)).toEqual(
      expect.arrayContaining(['I10 Tăng huyết áp vô căn (nguyên phát)', 'Amlodipin 5 mg', 'Dị ứng: Penicillin']),
    );
    expect(record.body.documents.map((d: { title: string }) => d.title)).toContain(`Đơn thuốc ${code}`);
    // The discharge paper from the provincial hospital downloads; not for the neighbour.
    const discharge = record.body.documents.find((x: { title: string }) => x.title.startsWith('Giấy ra viện'));
    const file = await call(p, 'GET', discharge.link, undefined, citizen);
    expect(file.status).toBe(200);
    expect(await pdfText(file.raw)).toContain('GIẤY RA VIỆN');
    expect((await call(p, 'GET', discharge.link, undefined, neighbour)).status).toBe(403);
    const bundle = (await as(citizen, 'GET', '/api/me/record/fhir')).body as Bundle;
    expect(bundle.resourceType).toBe('Bundle');
    const meds = bundle.entry!.map((e) => e.resource!).filter((r): r is MedicationRequest => r.resourceType === 'MedicationRequest');
    expect(meds.map((m) => m.groupIdentifier?.value)).toContain(code);
    expect(bundle.entry!.some((e) => e.resource!.resourceType === 'Patient' && e.resource!.id === demo.ids.patients[0])).toBe(true);
    const recordPdf = await call(p, 'GET', '/api/me/record/pdf', undefined, citizen);
    const recordText = await pdfText(recordPdf.raw);
    for (const s of ['HỒ SƠ SỨC KHỎE ĐIỆN TỬ CÁ NHÂN', 'Họ tên: Nguyễn Văn An', 'Penicillin', 'Amlodipin 5 mg', 'Vắc xin uốn ván (VAT)'])
      expect(recordText).toContain(s);

    // The day's charges, as the station's administrator exports them.
    const admin = await p.tokenFor('facility_admin', { org: demo.ids.organizations.batxat });
    const day = new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10);
    const csv = await call(p, 'GET', `/api/visits/charges?date=${day}`, undefined, { authorization: `Bearer ${admin}` });
    expect(csv.status, csv.text).toBe(200);
    const lines = csv.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('chargeId,occurredAt,facilityId,patientId,patientName,serviceCode,serviceName,priceVnd,payer,bhytCard,encounterId,practitionerId');
    const row = lines.find((l) => l.includes(done.body.encounterId))!;
    expect(row).toContain(',39000,bhyt,');
    expect(row).toContain('Nguyễn Văn An');
    const asJson = await call(p, 'GET', `/api/visits/charges?date=${day}&format=json`, undefined, { authorization: `Bearer ${admin}` });
    expect(asJson.body.rows.find((r: { encounterId: string }) => r.encounterId === done.body.encounterId)).toMatchObject({
      priceVnd: 39000,
      payer: 'bhyt',
      serviceCode: 'kham-tu-xa-man-tinh',
    });
    // Another facility's administrator sees none of it.
    const other = await p.tokenFor('facility_admin', { org: demo.ids.organizations.muongnhe });
    const theirs = await call(p, 'GET', `/api/visits/charges?date=${day}&format=json`, undefined, { authorization: `Bearer ${other}` });
    expect(theirs.body.rows).toEqual([]);
  });

  it('keeps what the visit workflow owns out of plain FHIR: 422 naming the route, nothing changed, and the visit routes still work', async () => {
    const slot = await freeSlot();
    const other = await freeSlot();
    const booked = await book(citizen, demo.ids.patients[0], slot.id);
    expect(booked.status, booked.text).toBe(201);
    const id = booked.body.id as string;
    const appointment = await p.fixtures.read<Appointment>('Appointment', id);
    const bookedSlot = await p.fixtures.read<Slot>('Slot', slot.id);
    const freeOne = await p.fixtures.read<Slot>('Slot', other.id);
    const answers = await p.fixtures.read<QuestionnaireResponse>('QuestionnaireResponse', appointment.supportingInformation![0].reference!.split('/')[1]);
    const coordinator = { authorization: `Bearer ${await p.tokenFor('coordinator', { org: demo.ids.organizations.batxat })}` };
    const refused = (r: { status: number; text: string; body: any }, route: string) => {
      expect(r.status, r.text).toBe(422);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.body.issue[0].diagnostics).toContain(route);
    };
    const bare = <T extends { meta?: unknown }>(r: T) => ({ ...r, meta: undefined });
    // An integration system moves the visit to another time; the visit's clinician cancels it; either deletes it.
    refused(
      await call(p, 'PUT', `/fhir/R4/Appointment/${id}`, {
        ...bare(appointment),
        start: other.start,
        end: other.end,
        slot: [{ reference: `Slot/${other.id}` }],
      }),
      'POST /api/visits/{id}/reschedule',
    );
    refused(await call(p, 'PUT', `/fhir/R4/Appointment/${id}`, { ...bare(appointment), status: 'cancelled' }, doctor), 'POST /api/visits/{id}/cancel');
    refused(await call(p, 'DELETE', `/fhir/R4/Appointment/${id}`), 'POST /api/visits/{id}/cancel');
    // The booked slot set free (integration, the facility's coordinator); a free one taken without a booking.
    refused(await call(p, 'PUT', `/fhir/R4/Slot/${slot.id}`, { ...bare(bookedSlot), status: 'free' }), 'POST /api/visits/{id}/cancel');
    refused(await call(p, 'PUT', `/fhir/R4/Slot/${slot.id}`, { ...bare(bookedSlot), status: 'free' }, coordinator), 'POST /api/visits/{id}/cancel');
    refused(await call(p, 'PUT', `/fhir/R4/Slot/${other.id}`, { ...bare(freeOne), status: 'busy' }, coordinator), 'POST /api/visits/{id}/reschedule');
    // A booking made up through plain FHIR, and the pre-visit answers rewritten.
    refused(
      await call(p, 'POST', '/fhir/R4/Appointment', { ...bare(appointment), id: undefined, slot: [{ reference: `Slot/${other.id}` }] }),
      'POST /api/visits',
    );
    refused(await call(p, 'PUT', `/fhir/R4/QuestionnaireResponse/${answers.id}`, { ...bare(answers), item: [] }), 'POST /api/visits');
    // Nothing changed.
    expect((await p.fixtures.read<Appointment>('Appointment', id)).meta?.versionId).toBe(appointment.meta?.versionId);
    expect(await p.fixtures.read<Slot>('Slot', slot.id)).toMatchObject({ status: 'busy', meta: { versionId: bookedSlot.meta?.versionId } });
    expect(await p.fixtures.read<Slot>('Slot', other.id)).toMatchObject({ status: 'free', meta: { versionId: freeOne.meta?.versionId } });
    expect((await p.fixtures.read<QuestionnaireResponse>('QuestionnaireResponse', answers.id!)).item).toEqual(answers.item);
    expect((await p.db.query('SELECT slot_id FROM slot_booking WHERE appointment_id = $1', [id])).rows).toEqual([{ slot_id: slot.id }]);
    expect(await p.fixtures.search('Appointment', { slot: `Slot/${other.id}` })).toEqual([]);

    // The visit's routes still do it.
    const moved = await as(citizen, 'POST', `/api/visits/${id}/reschedule`, { slotId: other.id });
    expect(moved.status, moved.text).toBe(200);
    expect((await p.fixtures.read<Slot>('Slot', slot.id)).status).toBe('free');
    const cancelled = await as(citizen, 'POST', `/api/visits/${id}/cancel`, { reason: 'Bận việc' });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect((await p.fixtures.read<Slot>('Slot', other.id)).status).toBe('free');

    // A finished visit's charge and e-prescription, and the visit itself, stay as written.
    const seen = await book(citizen, demo.ids.patients[0], (await freeSlot()).id);
    const done = await as(doctor, 'POST', `/api/visits/${seen.body.id}/complete`, {
      findings: 'Ổn định',
      assessment: 'Tăng huyết áp',
      diagnosis: { code: 'I10' },
      instructions: 'Đo huyết áp hằng ngày',
      prescription: { items: [{ name: 'Hydroclorothiazid 25 mg', quantity: 30, unit: 'viên', dosage: 'Uống 1 viên mỗi sáng' }] },
    });
    expect(done.status, done.text).toBe(200);
    const [charge] = await p.fixtures.search<ChargeItem>('ChargeItem', { context: `Encounter/${done.body.encounterId}` });
    const [item] = await p.fixtures.search<MedicationRequest>('MedicationRequest', { encounter: `Encounter/${done.body.encounterId}` });
    refused(
      await call(p, 'PUT', `/fhir/R4/ChargeItem/${charge.id}`, { ...bare(charge), priceOverride: { value: 0, currency: 'VND' } }),
      'POST /api/visits/{id}/complete',
    );
    refused(
      await call(p, 'PUT', `/fhir/R4/MedicationRequest/${item.id}`, { ...bare(item), dispenseRequest: { quantity: { value: 300, unit: 'viên' } } }, doctor),
      'POST /api/visits/{id}/complete',
    );
    refused(await call(p, 'DELETE', `/fhir/R4/MedicationRequest/${item.id}`), 'POST /api/visits/{id}/complete');
    refused(await call(p, 'POST', '/fhir/R4/MedicationRequest', { ...bare(item), id: undefined }), 'POST /api/visits/{id}/complete');
    const finished = await p.fixtures.read<Appointment>('Appointment', seen.body.id);
    refused(await call(p, 'PUT', `/fhir/R4/Appointment/${finished.id}`, { ...bare(finished), status: 'booked' }, doctor), 'POST /api/visits/{id}/complete');
    expect((await p.fixtures.read<ChargeItem>('ChargeItem', charge.id!)).priceOverride?.value).toBe(39000);
    expect((await p.fixtures.read<MedicationRequest>('MedicationRequest', item.id!)).meta?.versionId).toBe(item.meta?.versionId);
    expect((await p.fixtures.read<Appointment>('Appointment', finished.id!)).status).toBe('fulfilled');
  });

  it('staff record a family manager by CCCD after seeing the proof; the manager gains the record and can give it up', async () => {
    const grandma = (await p.fixtures.create({
      resourceType: 'Patient',
      name: [{ text: 'Lò Thị Xuân' }],
      gender: 'female',
      birthDate: '1948-02-02',
      managingOrganization: { reference: `Organization/${demo.ids.organizations.batxat}` },
    } as never)) as { id: string };
    const cccd = ((await p.fixtures.read('Patient', demo.ids.patients[4])) as { identifier: { system: string; value: string }[] }).identifier.find((i) =>
      i.system.endsWith('/cccd'),
    )!.value;
    expect((await as(neighbour, 'GET', `/api/me/record?patientId=${grandma.id}`)).status).toBe(403);
    // Bad input is named; a citizen cannot make such a link themselves; an unknown CCCD is 404.
    expect((await as(doctor, 'POST', '/api/family-links', { patientId: grandma.id, managerCccd: cccd, relationship: 'parent', proof: '' })).status).toBe(400);
    expect(
      (await as(neighbour, 'POST', '/api/family-links', { patientId: grandma.id, managerCccd: cccd, relationship: 'parent', proof: 'Sổ hộ khẩu số 12' }))
        .status,
    ).toBe(403);
    expect(
      (await as(doctor, 'POST', '/api/family-links', { patientId: grandma.id, managerCccd: '001099000000', relationship: 'parent', proof: 'Sổ hộ khẩu số 12' }))
        .status,
    ).toBe(404);
    const link = await as(doctor, 'POST', '/api/family-links', {
      patientId: grandma.id,
      managerCccd: cccd,
      relationship: 'parent',
      proof: 'Sổ hộ khẩu số 12, thôn Na Lốc',
    });
    expect(link.status, link.text).toBe(201);
    expect(
      (
        await as(doctor, 'POST', '/api/family-links', {
          patientId: grandma.id,
          managerCccd: cccd,
          relationship: 'parent',
          proof: 'Sổ hộ khẩu số 12, thôn Na Lốc',
        })
      ).status,
    ).toBe(409);
    const family = (await as(neighbour, 'GET', '/api/me/family')).body as { name: string; relation?: string; linkId?: string }[];
    expect(family.find((m) => m.name === 'Lò Thị Xuân')?.relation).toBe('Cha/mẹ');
    expect((await as(neighbour, 'GET', `/api/me/record?patientId=${grandma.id}`)).status).toBe(200);
    const rp = await p.fixtures.read('RelatedPerson', link.body.relatedPersonId);
    expect(JSON.stringify(rp)).toContain('Sổ hộ khẩu số 12');
    // The manager gives the role up: the record is closed to them again.
    expect((await as(neighbour, 'POST', `/api/me/family/${link.body.id}/revoke`, {})).status).toBe(200);
    expect((await as(neighbour, 'GET', `/api/me/record?patientId=${grandma.id}`)).status).toBe(403);
  });
});
