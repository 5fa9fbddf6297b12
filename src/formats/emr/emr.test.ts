/**
 * The EMR exchange export (HoSoBenhAn): the XML parsed back (fast-xml-parser) — root, the 11
 * groups in the source's order, every value against its field's type and length, every
 * placeholder listed in ChuaXacDinh — the JSON form with the same content, a value that does not
 * fit listed as a problem and left out, and who may export (caring clinician, the citizen for
 * themself; another facility, another citizen and the anonymous refused; audited).
 */
import type { Bundle, MedicationRequest, Patient } from '@medplum/fhirtypes';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../../seed/demo.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../../testing/platform.ts';
import { CCCD_SYSTEM } from '../../terminology/identifiers.ts';
import { ACTIVE_INGREDIENT_SYSTEM } from '../model.ts';
import { EMR_GROUPS } from './spec.ts';

// Row elements (x_…) and ChuaXacDinh's items repeat: always arrays.
const parser = new XMLParser({ parseTagValue: false, isArray: (name) => (name.startsWith('x_') && /^x_[A-Z]/.test(name)) || name === 'Muc' });

describe('EMR export (HoSoBenhAn)', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let clinician: Record<string, string>;
  let citizen: Record<string, string>;
  let own: string;

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['family', 'consult', 'visits', 'formats'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    own = demo.ids.patients[0];
    clinician = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    citizen = await signIn(p, 'nguoidan');
    await p.fixtures.create<MedicationRequest>({
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      subject: { reference: `Patient/${own}` },
      authoredOn: '2026-11-20T03:15:00Z',
      medicationCodeableConcept: { text: 'Amlodipin 5 mg', coding: [{ system: ACTIVE_INGREDIENT_SYSTEM, code: '40.12' }] },
      dispenseRequest: { quantity: { value: 30, unit: 'viên' } },
      dosageInstruction: [{ text: 'Uống 1 viên buổi sáng' }],
      groupIdentifier: { value: '10010ab12cd3-c' },
    });
  }, 180_000);
  afterAll(async () => p?.close());

  it('exports the XML with the 11 groups in order, every value within its field, placeholders listed', async () => {
    const res = await call(p, 'GET', `/api/emr/patients/${own}?format=xml`, undefined, clinician);
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/xml/);
    const doc = parser.parse(res.text);
    const root = doc.HoSoBenhAn as Record<string, unknown>;
    expect(Object.keys(root)).toEqual([...EMR_GROUPS.map((g) => g.name), 'ChuaXacDinh']);
    expect(res.text.indexOf('<ThongTinBenhNhan>')).toBeLessThan(res.text.indexOf('<KetQuaXetNghiem>'));
    let values = 0;
    for (const g of EMR_GROUPS) {
      const rows = ((root[g.name] as Record<string, unknown> | '') || {})[g.row] as Record<string, string>[] | undefined;
      for (const row of rows ?? []) {
        for (const [name, value] of Object.entries(row)) {
          const field = g.fields.find((f) => f.name === name);
          expect(field, `${g.name}/${name} is in the spec`).toBeDefined();
          expect(value.length, `${g.name}/${name}`).toBeLessThanOrEqual(field!.max);
          if (field!.type === 'N') expect(value).toMatch(/^\d+$/);
          if (field!.type === 'D') expect(value).toMatch(/^\d{8}$/);
          if (field!.type === 'T') expect(value).toMatch(/^\d{12}$/);
          values++;
        }
        for (const f of g.fields.filter((x) => x.required)) expect(row[f.name], `${g.name}/${f.name} required`).toBeTruthy();
      }
    }
    expect(values).toBeGreaterThan(10);
    const patient = await p.fixtures.read<Patient>('Patient', own);
    const person = (root.ThongTinBenhNhan as { x_BenhNhan: Record<string, string>[] }).x_BenhNhan[0];
    expect(person.cccd_so).toBe(patient.identifier!.find((i) => i.system === CCCD_SYSTEM)!.value);
    expect(person.x_ngay_sinh).toBe(patient.birthDate!.replace(/-/g, ''));
    const observations = await call<Bundle>(p, 'GET', `/fhir/R4/Observation?subject=Patient/${own}&_count=500&_summary=count`, undefined, clinician);
    expect((root.KetQuaXetNghiem as { x_KetQua: unknown[] }).x_KetQua.length).toBe(observations.body.total);
    const order = (root.YLenhThuocVatTu as { x_YLenh: Record<string, string>[] }).x_YLenh[0];
    expect(order).toMatchObject({
      mathuocvattu_byt: '40.12',
      x_ten_thuoc: 'Amlodipin 5 mg',
      x_so_luong: '30',
      x_ngay_y_lenh: '202611201015',
      x_ma_don_thuoc: '10010ab12cd3-c',
    });
    // Groups the platform holds nothing for are present and empty, not made up.
    expect(root.HoSoCapCuu).toBe('');
    // Every placeholder field is listed as not defined by the sources.
    const listed = (root.ChuaXacDinh as { Muc: string[] }).Muc;
    for (const g of EMR_GROUPS) for (const f of g.fields.filter((x) => !x.named)) expect(listed).toContain(`${g.name}/${f.name}`);
    expect(listed.some((m) => m.includes('cccd_so'))).toBe(true);
    expect(listed.some((m) => m.startsWith('ThongTinBenhNhan/cccd_so'))).toBe(false); // a named field is no placeholder
  });

  it('exports the same content as JSON', async () => {
    const xml = parser.parse((await call(p, 'GET', `/api/emr/patients/${own}`, undefined, clinician)).text).HoSoBenhAn;
    const json = await call(p, 'GET', `/api/emr/patients/${own}?format=json`, undefined, clinician);
    expect(json.status).toBe(200);
    for (const g of EMR_GROUPS) expect(json.body.HoSoBenhAn[g.name], g.name).toEqual(xml[g.name] === '' ? [] : xml[g.name][g.row]);
    expect(json.body.HoSoBenhAn.ChuaXacDinh).toEqual(xml.ChuaXacDinh.Muc);
  });

  it('lists a value that does not fit its field as a problem and leaves it out', async () => {
    const other = demo.ids.patients[1];
    await p.fixtures.create<MedicationRequest>({
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      subject: { reference: `Patient/${other}` },
      medicationCodeableConcept: { text: 'Metformin 500 mg' },
      dosageInstruction: [{ text: 'Uống sau ăn. '.repeat(100) }],
    });
    const res = await call(p, 'GET', `/api/emr/patients/${other}?format=json`, undefined, { authorization: `Bearer ${p.token}` });
    expect(res.status).toBe(200);
    expect(res.body.problems).toContainEqual({ group: 'YLenhThuocVatTu', row: 1, field: 'x_cach_dung', problem: 'dài 1299 > 1024' });
    expect(res.body.HoSoBenhAn.YLenhThuocVatTu[0]).toEqual({ x_ten_thuoc: 'Metformin 500 mg' });
    expect(res.headers['x-emr-problems']).not.toBe('0');
  });

  it('is refused to another facility, another citizen and the anonymous; audited against the caller', async () => {
    const seen = await call<Bundle>(p, 'GET', '/fhir/R4/Patient?_count=100', undefined, clinician);
    const reachable = new Set(seen.body.entry!.map((e) => e.resource!.id!));
    const unreachable = demo.ids.patients.find((id) => !reachable.has(id))!;
    expect((await call(p, 'GET', `/api/emr/patients/${unreachable}`, undefined, clinician)).status).toBe(403);
    expect((await call(p, 'GET', `/api/emr/patients/${own}`, undefined, citizen)).status).toBe(200);
    expect((await call(p, 'GET', `/api/emr/patients/${demo.ids.patients[1]}`, undefined, citizen)).status).toBe(403);
    expect((await call(p, 'GET', `/api/emr/patients/${own}`, undefined, { authorization: '' })).status).toBe(401);
    const analyst = await p.tokenFor('analyst');
    expect((await call(p, 'GET', `/api/emr/patients/${own}`, undefined, { authorization: `Bearer ${analyst}` })).status).toBe(403);
    expect((await call(p, 'GET', `/api/emr/patients/bad!id`, undefined, clinician)).status).toBe(400);
    const audit = await p.audit.list({ limit: 200 });
    expect(audit.some((e) => e.username === 'bs.batxat' && e.outcome === 'success' && e.patient_ids?.includes(own))).toBe(true);
    expect(audit.some((e) => e.username === 'bs.batxat' && e.outcome === 'denied' && e.patient_ids?.includes(unreachable))).toBe(true);
  });
});
