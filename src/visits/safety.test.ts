/**
 * Prescribing safety. The rules alone (pure): an allergy to a group (penicillins, J01C) matches a
 * substance of it; an allergy written as text only still matches; a medicine already taken, or one
 * of the same ATC subgroup, is a duplicate. Through the HTTP API: prescribing amoxicillin for the
 * demo patient with a penicillin allergy shows the warning, cannot be saved without a reason, and
 * the reason is in the record (DetectedIssue with its mitigation, referenced by the
 * MedicationRequest); the check is only for the visit's side (a citizen is refused).
 */
import type { AllergyIntolerance, DetectedIssue, MedicationRequest, MedicationStatement } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { seedVisitDemo, type VisitDemo } from '../seed/visits.ts';
import { searchDrugs } from '../terminology/drugs.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { prescribingIssues } from './safety.ts';

const ATC = 'http://www.whocc.no/atc';
const allergy = (code: AllergyIntolerance['code'], id = 'a1'): AllergyIntolerance =>
  ({ resourceType: 'AllergyIntolerance', id, patient: { reference: 'Patient/p' }, code, criticality: 'high' }) as AllergyIntolerance;
const taking = (name: string, atc?: string): MedicationStatement => ({
  resourceType: 'MedicationStatement',
  id: 'm1',
  status: 'active',
  subject: { reference: 'Patient/p' },
  medicationCodeableConcept: { text: name, ...(atc ? { coding: [{ system: ATC, code: atc }] } : {}) },
});

describe('prescribing rules', () => {
  it('matches a group allergy, a text-only allergy, and neither for an unrelated drug', () => {
    const penicillins = allergy({ coding: [{ system: ATC, code: 'J01C' }], text: 'Penicillin' });
    expect(prescribingIssues([{ name: 'Amoxicilin 500 mg', atc: 'J01CA04' }], [penicillins], [])).toEqual([
      expect.objectContaining({ kind: 'allergy', item: 0, key: 'allergy:0:AllergyIntolerance/a1', severity: 'high' }),
    ]);
    expect(prescribingIssues([{ name: 'Amoxicilin 500 mg' }], [allergy({ text: 'Dị ứng penicilin' })], [])[0]?.kind).toBe('allergy');
    expect(prescribingIssues([{ name: 'Azithromycin', atc: 'J01FA10' }], [penicillins], [])).toEqual([]);
    expect(prescribingIssues([{ name: 'Paracetamol', atc: 'N02BE01' }], [allergy({ text: 'Hải sản' })], [])).toEqual([]);
    // A resolved allergy warns no more.
    const resolved = { ...penicillins, clinicalStatus: { coding: [{ code: 'resolved' }] } } as AllergyIntolerance;
    expect(prescribingIssues([{ name: 'Amoxicilin', atc: 'J01CA04' }], [resolved], [])).toEqual([]);
  });

  it('warns on the same substance or the same subgroup already taken', () => {
    expect(prescribingIssues([{ name: 'Bisoprolol 5 mg', atc: 'C07AB07' }], [], [taking('Bisoprolol 2,5 mg', 'C07AB07')])[0]).toMatchObject({
      kind: 'duplicate',
      text: 'Bisoprolol 5 mg: trùng với thuốc đang dùng Bisoprolol 2,5 mg.',
    });
    expect(prescribingIssues([{ name: 'Enalapril', atc: 'C09AA02' }], [], [taking('Captopril 25 mg', 'C09AA01')])[0]?.text).toContain('cùng nhóm');
    expect(prescribingIssues([{ name: 'Amlodipin', atc: 'C08CA01' }], [], [taking('Bisoprolol 2,5 mg', 'C07AB07')])).toEqual([]);
  });

  it('finds drugs by Vietnamese name without accents, or by ATC code', () => {
    expect(searchDrugs('amox').map((d) => d.atc)).toEqual(expect.arrayContaining(['J01CA04', 'J01CR02']));
    expect(searchDrugs('J01C').every((d) => d.atc.startsWith('J01C'))).toBe(true);
    expect(searchDrugs('hydroclorothiazid')[0]).toMatchObject({ atc: 'C03AA03', name: 'Hydroclorothiazid' });
  });
});

describe('prescribing through the visit', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let visitDemo: VisitDemo;
  let accounts: Map<string, DemoAccount>;
  let citizen: Record<string, string>;
  let doctor: Record<string, string>;
  const json = { 'content-type': 'application/json' };
  const as = (h: Record<string, string>, method: string, url: string, body?: unknown) => call(p, method, url, body, body === undefined ? h : { ...h, ...json });

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['family', 'consult', 'visits'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    visitDemo = await seedVisitDemo(p.store, p.visits, demo);
    citizen = await signIn(p, 'nguoidan');
    doctor = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
  }, 120_000);
  afterAll(async () => p?.close());

  it('warns on amoxicillin for the patient allergic to penicillin, needs a reason, and records it', async () => {
    const slots = await as(citizen, 'GET', `/api/visits/services/${visitDemo.services['kham-tu-xa-man-tinh']}/slots?days=8`);
    const booked = await as(citizen, 'POST', '/api/visits', {
      patientId: demo.ids.patients[0],
      slotId: slots.body[0].id,
      icd10: { code: 'I10', display: 'Tăng huyết áp' },
      reason: 'Ho, sốt mấy hôm nay',
      answers: { 'red-flags': false, duration: 'gt1m', 'home-bp': '150/90' },
    });
    expect(booked.status, booked.text).toBe(201);
    const id = booked.body.id as string;
    const items = [
      { name: 'Amoxicilin 500 mg', atc: 'J01CA04', quantity: 21, unit: 'viên', dosage: 'Uống 1 viên x 3 lần/ngày', days: 7 },
      { name: 'Paracetamol 500 mg', atc: 'N02BE01', quantity: 10, unit: 'viên', dosage: 'Uống 1 viên khi sốt trên 38,5 °C' },
    ];

    // The check shows the warning; a citizen may not ask it.
    expect((await as(citizen, 'POST', `/api/visits/${id}/prescription-check`, { items: [{ name: 'Amoxicilin', atc: 'J01CA04' }] })).status).toBe(403);
    const check = await as(doctor, 'POST', `/api/visits/${id}/prescription-check`, { items: items.map(({ name, atc }) => ({ name, atc })) });
    expect(check.status, check.text).toBe(200);
    expect(check.body.issues).toEqual([
      expect.objectContaining({ kind: 'allergy', item: 0, against: 'Penicillin', severity: 'high', text: expect.stringContaining('dị ứng Penicillin') }),
    ]);
    const key = check.body.issues[0].key as string;

    const note = {
      findings: 'Sốt 38,2 °C, họng đỏ, amidan sưng có mủ.',
      assessment: 'Viêm họng do liên cầu',
      diagnosis: { code: 'J02.0', display: 'Viêm họng do liên cầu' },
      instructions: 'Uống nhiều nước, súc họng nước muối.',
      prescription: { items },
    };
    // Without acknowledging, nothing is written.
    const refused = await as(doctor, 'POST', `/api/visits/${id}/complete`, note);
    expect(refused.status).toBe(422);
    expect(refused.body.title).toContain('dị ứng Penicillin');
    // An acknowledgement without a reason is not one.
    expect((await as(doctor, 'POST', `/api/visits/${id}/complete`, { ...note, acknowledgements: [{ key, reason: '' }] })).status).toBe(400);
    expect(await p.fixtures.search('MedicationRequest', { subject: `Patient/${demo.ids.patients[0]}`, code: `${ATC}|J01CA04` })).toEqual([]);

    const reason = 'Phản ứng cũ chỉ nổi mẩn nhẹ, đã test da âm tính tại BV tỉnh';
    const done = await as(doctor, 'POST', `/api/visits/${id}/complete`, { ...note, acknowledgements: [{ key, reason }] });
    expect(done.status, done.text).toBe(200);
    const [amox] = await p.fixtures.search<MedicationRequest>('MedicationRequest', { subject: `Patient/${demo.ids.patients[0]}`, code: `${ATC}|J01CA04` });
    expect(amox.detectedIssue).toHaveLength(1);
    const issue = await p.fixtures.read<DetectedIssue>('DetectedIssue', amox.detectedIssue![0].reference!.split('/')[1]);
    expect(issue).toMatchObject({
      status: 'final',
      severity: 'high',
      patient: { reference: `Patient/${demo.ids.patients[0]}` },
      implicated: [{ reference: expect.stringMatching(/^AllergyIntolerance\//) }],
      author: { reference: expect.stringMatching(/^Practitioner\//) },
    });
    expect(issue.mitigation![0].action.text).toContain(reason);
    // Paracetamol raised nothing and names no issue.
    const [para] = await p.fixtures.search<MedicationRequest>('MedicationRequest', { subject: `Patient/${demo.ids.patients[0]}`, code: `${ATC}|N02BE01` });
    expect(para.detectedIssue).toBeUndefined();
    const audited = await p.db.query<{ detail: { overridden: number } }>("SELECT detail FROM audit_log WHERE action = 'visit.complete' AND resource_id = $1", [
      done.body.encounterId,
    ]);
    expect(audited.rows[0].detail.overridden).toBe(1);
  });
});
