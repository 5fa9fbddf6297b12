/**
 * The bundled CDS services as pure functions of a CDS Hooks request (no platform, no database):
 * encounter-discharge (cauyte-visit-closure: missing ICD-10 code, follow-up before the medicines
 * run out, medicines without supply days) and appointment-book for a proposed appointment whose
 * answers are contained (plain words for the citizen, the clinician's wording otherwise), and the
 * discovery of the service process.
 */
import type { Bundle, Condition, Encounter, MedicationRequest, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { proposedAppointmentOf, scopedContext } from '../client.ts';
import { buildBundledServer } from './server.ts';
import { CdsClientKey } from '../client-key.ts';
import { BUNDLED_SERVICES, type HookCall } from './services.ts';
import { vnDate } from './discharge.ts';

const ICD = 'http://hl7.org/fhir/sid/icd-10';
let n = 0;
const uuid = () => `u-${++n}`;
const bundle = (...r: Resource[]): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: r.map((resource) => ({ resource })) });
const service = (id: string) => BUNDLED_SERVICES.find((s) => s.id === id)!;

// ------------------------------------------------------------------ encounter-discharge

const END = '2026-03-10T03:00:00.000Z'; // 10:00 in Vietnam
const encounter: Encounter = { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'VR' }, period: { start: END, end: END } };
const condition = (code?: string): Condition => ({
  resourceType: 'Condition',
  id: `c-${code ?? 'none'}`,
  subject: { reference: 'Patient/p1' },
  code: code ? { coding: [{ system: ICD, code, display: 'Tăng huyết áp' }], text: 'Tăng huyết áp' } : { text: 'Đau đầu (chưa mã)' },
  verificationStatus: { coding: [{ code: 'confirmed' }] },
});
const med = (name: string, days?: number): MedicationRequest => ({
  resourceType: 'MedicationRequest',
  id: `m-${name}`,
  status: 'active',
  intent: 'order',
  subject: { reference: 'Patient/p1' },
  medicationCodeableConcept: { text: name },
  ...(days ? { dispenseRequest: { expectedSupplyDuration: { value: days, unit: 'ngày', code: 'd' } } } : {}),
});
const discharge = (conditions: Condition[], meds: MedicationRequest[]) =>
  service('cauyte-visit-closure').answer(
    {
      hook: 'encounter-discharge',
      context: { patientId: 'p1', encounterId: 'e1', userId: 'Practitioner/d1' },
      prefetch: { encounter, conditions: bundle(...conditions), medications: bundle(...meds) },
    },
    uuid,
  );

describe('the bundled service trusts only its CDS Client (CDS Hooks §Trusting CDS Clients)', () => {
  it('refuses discovery, hook calls, feedback and GET /feedback without the client’s JWT, with another key, another audience or a replayed one', async () => {
    const key = await CdsClientKey.create('http://127.0.0.1:9');
    const other = await CdsClientKey.create('http://127.0.0.1:9');
    const { app, feedback } = buildBundledServer({ jwk: key.publicJwk, issuer: key.issuer });
    const at = (path: string) => `http://localhost:80${path}`;
    const send = (method: 'GET' | 'POST', url: string, authorization?: string, payload?: object) =>
      app.inject({ method, url, headers: { host: 'localhost:80', ...(authorization ? { authorization } : {}) }, ...(payload ? { payload } : {}) });
    const fb = { feedback: [{ card: 'c1', outcome: 'overridden', overrideReason: { reason: { code: 'x' } } }] };
    for (const [method, path, body] of [
      ['GET', '/feedback'],
      ['GET', '/cds-services'],
      ['POST', '/cds-services/cauyte-visit-closure', { hook: 'encounter-discharge', hookInstance: 'h', context: { patientId: 'p', encounterId: 'e' } }],
      ['POST', '/cds-services/cauyte-visit-closure/feedback', fb],
    ] as const) {
      expect((await send(method, path, undefined, body)).statusCode, `${method} ${path} without a token`).toBe(401);
      expect((await send(method, path, await other.bearer(at(path)), body)).statusCode, `${method} ${path} another key`).toBe(401);
      expect((await send(method, path, await key.bearer(at('/cds-services/elsewhere')), body)).statusCode, `${method} ${path} another audience`).toBe(401);
    }
    expect(feedback).toEqual([]);
    const token = await key.bearer(at('/cds-services/cauyte-visit-closure/feedback'));
    expect((await send('POST', '/cds-services/cauyte-visit-closure/feedback', token, fb)).statusCode).toBe(200);
    expect((await send('POST', '/cds-services/cauyte-visit-closure/feedback', token, fb)).statusCode).toBe(401); // replay
    const list = await send('GET', '/feedback', await key.bearer(at('/feedback')));
    expect(list.statusCode).toBe(200);
    expect(list.json()).toHaveLength(1);
    await app.close();
  });
});

describe('encounter-discharge: cauyte-visit-closure', () => {
  it('is offered in discovery with its prefetch of the encounter, its conditions and medicines', async () => {
    const key = await CdsClientKey.create('http://127.0.0.1:9');
    const { app } = buildBundledServer({ jwk: key.publicJwk, issuer: key.issuer });
    const signed = async (url: string) => ({ host: 'localhost:80', authorization: await key.bearer(`http://localhost:80${url}`) });
    const res = await app.inject({ method: 'GET', url: '/cds-services', headers: await signed('/cds-services') });
    const found = (res.json() as { services: { id: string; hook: string; prefetch: Record<string, string> }[] }).services.find(
      (s) => s.id === 'cauyte-visit-closure',
    );
    expect(found?.hook).toBe('encounter-discharge');
    expect(Object.values(found!.prefetch).sort()).toEqual([
      'Condition?encounter={{context.encounterId}}',
      'Encounter/{{context.encounterId}}',
      'MedicationRequest?encounter={{context.encounterId}}',
    ]);
    // A request for another hook is refused.
    const wrong = await app.inject({
      method: 'POST',
      url: '/cds-services/cauyte-visit-closure',
      headers: await signed('/cds-services/cauyte-visit-closure'),
      payload: { hook: 'patient-view', context: {} },
    });
    expect(wrong.statusCode).toBe(400);
    await app.close();
  });

  it('warns when no condition of the encounter has an ICD-10 code, and says nothing more for a non-chronic one', () => {
    const cards = discharge([condition()], []);
    expect(cards.map((c) => [c.indicator, c.summary])).toEqual([['warning', 'Lần khám chưa có mã chẩn đoán ICD-10']]);
    expect(discharge([condition('J06.9')], [med('Paracetamol 500 mg', 3)])).toEqual([]);
  });

  it('proposes a follow-up before the shortest supply runs out, as a draft ServiceRequest', () => {
    const cards = discharge([condition('I10')], [med('Amlodipin 5 mg', 30), med('Losartan 50 mg', 28)]);
    expect(cards).toHaveLength(1);
    const [card] = cards;
    expect(card.indicator).toBe('info');
    // 10/03 + 28 days = 07/04; the follow-up 2 days earlier, 05/04.
    expect(card.summary).toBe('Hẹn tái khám trước khi hết thuốc: đơn đủ 28 ngày (đến 07/04/2026)');
    expect(card.detail).toMatch(/Tăng huyết áp \(I10\).*Gợi ý hẹn ngày 05\/04\/2026/);
    const action = card.suggestions![0].actions[0];
    expect(action.type).toBe('create');
    const sr = action.resource as ServiceRequest;
    expect(sr).toMatchObject({
      resourceType: 'ServiceRequest',
      status: 'draft',
      subject: { reference: 'Patient/p1' },
      encounter: { reference: 'Encounter/e1' },
    });
    expect(vnDate(Date.parse(sr.occurrenceDateTime!))).toBe('05/04/2026');
    expect(card.overrideReasons?.map((r) => r.code)).toContain('follow-up-written');
  });

  it('names the medicines without supply days for a chronic disease', () => {
    const cards = discharge([condition('E11.9')], [med('Metformin 500 mg'), med('Gliclazid 30 mg', 30)]);
    expect(cards.map((c) => c.summary)).toEqual([
      'Chưa ghi số ngày dùng thuốc: Metformin 500 mg',
      'Hẹn tái khám trước khi hết thuốc: đơn đủ 30 ngày (đến 09/04/2026)',
    ]);
  });

  it('suggests a 30-day follow-up for a chronic disease seen without a prescription; a short supply is never before the next day', () => {
    expect(discharge([condition('J45.9')], []).map((c) => c.summary)).toEqual(['Bệnh mạn tính không có đơn thuốc lần này: hẹn theo dõi ngày 09/04/2026?']);
    const short = discharge([condition('I10')], [med('Amlodipin 5 mg', 1)])[0];
    expect(vnDate(Date.parse((short.suggestions![0].actions[0].resource as ServiceRequest).occurrenceDateTime!))).toBe('11/03/2026');
  });
});

// ------------------------------------------------------------------ appointment-book, proposed

const advice = (userId: string, answers: Record<string, string | boolean>, code = 'I10', scopes = ['QuestionnaireResponse', 'Appointment']) => {
  const appt = proposedAppointmentOf('p1', { icd10: { code, display: 'Tăng huyết áp' }, answers });
  const { context, types } = scopedContext({ patientId: 'p1', userId, appointments: bundle(appt) }, scopes);
  const call: HookCall = { hook: 'appointment-book', context, prefetch: { answers: bundle() } };
  return { cards: service('cauyte-remote-visit-advice').answer(call, uuid), types, context };
};

describe('appointment-book for a visit being booked', () => {
  it('reads the answers contained in the proposed appointment and speaks plainly to the citizen', () => {
    const ok = advice('Patient/p1', { 'red-flags': false, duration: 'gt1m' });
    expect(ok.types.sort()).toEqual(['Appointment', 'QuestionnaireResponse']);
    expect(ok.cards).toHaveLength(1);
    expect(ok.cards[0].summary).toMatch(/^Bệnh này có thể khám từ xa|^Có thể khám từ xa: .* cơ sở y tế sẽ xác nhận lại$/);
    expect(ok.cards[0].detail).toMatch(/Bác sĩ sẽ quyết định|Cán bộ y tế sẽ xác nhận/);
    expect(ok.cards[0].detail).not.toMatch(/not on the list|on the list/);

    const danger = advice('Patient/p1', { 'red-flags': true });
    expect(danger.cards.map((c) => [c.indicator, c.summary])).toEqual([['critical', 'Bạn có dấu hiệu nguy hiểm: đừng chờ khám từ xa']]);
    expect(danger.cards[0].detail).toMatch(/gọi 115/);

    const away = advice('Patient/p1', { 'red-flags': false }, 'S72.0');
    expect(away.cards.map((c) => [c.indicator, c.summary])).toEqual([['warning', 'Lý do khám này nên khám trực tiếp']]);

    const fresh = advice('Patient/p1', { 'red-flags': false, duration: 'lt1d' });
    expect(fresh.cards[0].indicator).toBe('warning');
    expect(fresh.cards[0].detail).toMatch(/chưa tới 1 ngày/);
  });

  it('keeps the clinician’s wording for a clinician, and sends no answers to a service not approved for them', () => {
    const clinician = advice('Practitioner/d1', { 'red-flags': true });
    expect(clinician.cards[0].summary).toBe('Có dấu hiệu cấp cứu: không phù hợp khám từ xa');
    const withheld = advice('Patient/p1', { 'red-flags': true }, 'I10', ['Appointment']);
    expect(withheld.types).toEqual(['Appointment']);
    const appt = (withheld.context.appointments as Bundle).entry![0].resource as { contained?: unknown; supportingInformation?: unknown };
    expect(appt.contained).toBeUndefined();
    expect(appt.supportingInformation).toBeUndefined();
    // Without the answers there is no red-flag card: the advice falls back to the list.
    expect(withheld.cards.map((c) => c.indicator)).not.toContain('critical');
  });
});
