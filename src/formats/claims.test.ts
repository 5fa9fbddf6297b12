/**
 * Insurance claims of a finished demo visit through the HTTP API, on both databases: the visit's
 * tables read back and checked column by column, the signature verified by xmlsec1; who may see a
 * facility's claims (its coordinator or administrator — not another facility's, not a clinician,
 * not a citizen); a visit missing data listed with what is missing; the sending queue against a
 * fake BHXH gateway: a network failure retried and the visit sent exactly once, the transaction
 * code kept on the queue row and the visit's Encounter, a second submission refused here, a
 * duplicate refused by the gateway recorded; unsigned and badly signed files refused (123, 125).
 */
import type { Encounter } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { seedFormatsDemo } from '../seed/formats.ts';
import { seedVisitDemo, type VisitDemo } from '../seed/visits.ts';
import type { TestCertificate } from '../testing/certificates.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { startFacilityGateway, type FakeBhxh } from '../testing/fake-bhxh.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { checkTable, parser, xmlsecVerifies } from '../testing/xml130.ts';
import { BHXH_TRANSACTION_SYSTEM, OCCUPATION_EXT } from './model.ts';
import { BhxhGateway } from './gateway/bhxh.ts';
import { TABLES } from './xml130/spec.ts';

describe.each(DB_KINDS)('insurance claims on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let visitDemo: VisitDemo;
  let cert: TestCertificate;
  let fake: FakeBhxh;
  let citizen: Record<string, string>;
  let doctor: Record<string, string>;
  let admin: Record<string, string>; // administrator of Trạm Y tế xã Bát Xát
  const json = { 'content-type': 'application/json' };
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const as = (h: Record<string, string>, method: string, url: string, body?: unknown) => call(p, method, url, body, body === undefined ? h : { ...h, ...json });

  beforeAll(async () => {
    let env: Record<string, string>;
    ({ cert, fake, env } = await startFacilityGateway('10010', { username: 'tyt-batxat', province: '15' }));
    p = await startTestPlatform(kind, env, undefined, {
      domains: ['family', 'consult', 'visits', 'formats'],
    });
    demo = await seedDemo(p.store, 8);
    const accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    visitDemo = await seedVisitDemo(p.store, p.visits, demo);
    await seedFormatsDemo(p.store, demo);
    citizen = await signIn(p, 'nguoidan');
    doctor = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    admin = bearer(await p.tokenFor('facility_admin', { org: demo.ids.organizations.batxat }));
  }, 180_000);
  afterAll(async () => {
    await p?.close();
    await fake?.close();
  });

  /** Books and completes a visit of the demo's first patient at Bát Xát; returns the visit id. */
  async function finishedVisit(weightKg?: number): Promise<string> {
    const slots = await as(citizen, 'GET', `/api/visits/services/${visitDemo.services['kham-tu-xa-man-tinh']}/slots?days=8`);
    const slot = slots.body[Math.floor(Math.random() * slots.body.length)];
    const booked = await as(citizen, 'POST', '/api/visits', {
      patientId: demo.ids.patients[0],
      slotId: slot.id,
      icd10: { code: 'I10', display: 'Tăng huyết áp' },
      reason: 'Đau đầu, huyết áp cao mấy hôm nay',
      answers: { 'red-flags': false, duration: 'gt1m' },
    });
    expect(booked.status, booked.text).toBe(201);
    const items = [
      { name: 'Amlodipin 5 mg', drugCode: 'VD-12345-10', quantity: 30, unit: 'viên', dosage: 'Uống 1 viên mỗi sáng sau ăn', days: 30 },
      { name: 'Losartan 50 mg', quantity: 30, unit: 'viên', dosage: 'Uống 1 viên buổi tối', days: 30 },
    ];
    // A second visit renews what the first one prescribed: the doctor sees the duplicate warnings and gives a reason.
    const check = await as(doctor, 'POST', `/api/visits/${booked.body.id}/prescription-check`, { items: items.map(({ name }) => ({ name })) });
    expect(check.status, check.text).toBe(200);
    const acknowledgements = (check.body.issues as { key: string }[]).map((i) => ({ key: i.key, reason: 'Kê lại đơn cũ cho tháng tới (renewal)' }));
    const done = await as(doctor, 'POST', `/api/visits/${booked.body.id}/complete`, {
      findings: 'Tỉnh, không khó thở. Huyết áp tự đo 158/96 mmHg.',
      assessment: 'Tăng huyết áp chưa kiểm soát',
      diagnosis: { code: 'I10', display: 'Tăng huyết áp vô căn (nguyên phát)' },
      instructions: 'Ăn nhạt, đo huyết áp sáng và tối.',
      followUpDays: 30,
      useInsurance: true,
      reported: { systolic: 158, diastolic: 96, ...(weightKg ? { weightKg } : {}) },
      prescription: { items },
      acknowledgements,
    });
    expect(done.status, done.text).toBe(200);
    return booked.body.id as string;
  }

  it('a finished demo visit: its tables read back column by column, signed, verified by xmlsec1; only its facility’s billing staff see it', async () => {
    const id = await finishedVisit(61.5);
    const view = await as(admin, 'GET', `/api/claims/visits/${id}`);
    expect(view.status, view.text).toBe(200);
    expect(view.body.problems).toEqual([]);
    expect(view.body.ready).toBe(true);
    expect(view.body.tables).toEqual(['XML0', 'XML1', 'XML2', 'XML3', 'XML14']);

    const env = await as(admin, 'GET', `/api/claims/visits/${id}/xml`);
    expect(env.status, env.text).toBe(200);
    expect(xmlsecVerifies(env.text, cert, `env-${kind}.xml`)).toBe(true);
    const files = parser.parse(env.text).GIAMDINHHS.THONGTINHOSO.DANHSACHHOSO.HOSO[0].FILEHOSO as { LOAIHOSO: string; NOIDUNGFILE: string }[];
    const t: Record<string, Record<string, string>[]> = {};
    for (const f of files)
      t[f.LOAIHOSO] = checkTable(TABLES[f.LOAIHOSO as keyof typeof TABLES], parser.parse(Buffer.from(f.NOIDUNGFILE, 'base64').toString('utf8')));
    const x1 = t.XML1[0];
    expect(x1.MA_LK).toBe(id);
    expect(x1.HO_TEN).toBe('Nguyễn Văn An');
    expect(x1.MA_CSKCB).toBe('10010');
    expect(x1.MATINH_CU_TRU).toBe('15');
    expect(x1.MAXA_CU_TRU).toMatch(/^\d{5}$/);
    expect(x1.MA_DANTOC).toMatch(/^\d{2}$/);
    expect(x1.CAN_NANG).toBe('61.50');
    expect(x1.MA_BENH_CHINH).toBe('I10');
    expect(x1.MA_DOITUONG_KCB).toBe('1.1');
    // Amlodipin is in the station's formulary (dispensed, billed); Losartan is bought elsewhere: not in XML2.
    expect(t.XML2.map((r) => r.TEN_THUOC)).toEqual(['Amlodipin 5 mg']);
    expect(t.XML2[0].MA_THUOC).toBe('40.495');
    expect(t.XML3[0].MA_DICH_VU).toBe('02.1896');
    expect(Number(x1.T_TONGCHI_BV)).toBe(Number(t.XML2[0].THANH_TIEN_BV) + Number(t.XML3[0].THANH_TIEN_BV));
    const checkIn = await as(admin, 'GET', `/api/claims/visits/${id}/xml?doc=checkin`);
    expect(xmlsecVerifies(checkIn.text, cert, `checkin-${kind}.xml`)).toBe(true);
    checkTable(TABLES.XML0, parser.parse(checkIn.text));

    // Who may see it: another facility's administrator, the clinician, the citizen, an integration token — no.
    const other = bearer(await p.tokenFor('facility_admin', { org: demo.ids.organizations.laocai }));
    expect((await as(other, 'GET', `/api/claims/visits/${id}`)).status).toBe(403);
    expect((await as(other, 'GET', `/api/claims/visits/${id}/xml`)).status).toBe(403);
    expect((await as(other, 'POST', `/api/claims/visits/${id}/submit`)).status).toBe(403);
    expect((await as(doctor, 'GET', `/api/claims/visits/${id}`)).status).toBe(403);
    expect((await as(citizen, 'GET', `/api/claims/visits/${id}/xml`)).status).toBe(403);
    expect((await call(p, 'GET', `/api/claims/visits/${id}`)).status).toBe(403);
    expect((await as(other, 'GET', '/api/claims')).body).toEqual([]);
  });

  it('a visit missing data is listed with what is missing, and cannot be downloaded or queued', async () => {
    const id = await finishedVisit(); // no weight reported
    const view = await as(admin, 'GET', `/api/claims/visits/${id}`);
    expect(view.body.ready).toBe(false);
    expect(view.body.problems).toEqual([{ table: 'XML1', row: 1, column: 'CAN_NANG', problem: 'missing' }]);
    const xml = await as(admin, 'GET', `/api/claims/visits/${id}/xml`);
    expect(xml.status).toBe(422);
    expect(xml.body.problems[0].column).toBe('CAN_NANG');
    expect((await as(admin, 'POST', `/api/claims/visits/${id}/submit`)).status).toBe(422);
    // A patient without an occupation on record: named too.
    const patient = await p.fixtures.read<{ resourceType: 'Patient'; extension?: { url: string }[] }>('Patient', demo.ids.patients[0]);
    await p.fixtures.update({ ...patient, extension: patient.extension?.filter((e) => e.url !== OCCUPATION_EXT) } as never);
    const again = await as(admin, 'GET', `/api/claims/visits/${id}`);
    expect(again.body.problems.map((x: { column: string }) => x.column)).toEqual(['MA_NGHE_NGHIEP', 'CAN_NANG']);
    await p.fixtures.update({ ...patient, meta: undefined } as never);
  });

  it('sends through the queue: a network failure is retried and the visit sent exactly once; the transaction code is kept; duplicates are caught', async () => {
    const id = await finishedVisit(60);
    const queued = await as(admin, 'POST', `/api/claims/visits/${id}/submit`);
    expect(queued.status, queued.text).toBe(202);
    expect(queued.body.status).toBe('queued');
    expect((await as(admin, 'POST', `/api/claims/visits/${id}/submit`)).status).toBe(409); // never queued twice

    fake.dropNext(1); // the check-in's connection is cut
    expect(await p.claimQueue.runOnce()).toEqual({ sent: 0, retried: 1, rejected: 0, failed: 0 });
    let s = (await as(admin, 'GET', `/api/claims/visits/${id}`)).body.submission;
    expect(s).toMatchObject({ status: 'queued', attempts: 1 });
    expect(s.lastError).toMatch(/unreachable/);
    expect(await p.claimQueue.runOnce()).toEqual({ sent: 0, retried: 0, rejected: 0, failed: 0 }); // not due yet
    const later = new Date(Date.now() + 60_000);
    expect(await p.claimQueue.runOnce(later)).toEqual({ sent: 1, retried: 0, rejected: 0, failed: 0 });
    expect(await p.claimQueue.runOnce(new Date(Date.now() + 3_600_000))).toEqual({ sent: 0, retried: 0, rejected: 0, failed: 0 });
    expect(fake.accepted.get(id)).toBe(1);
    expect(fake.checkIns.get(id)).toBe(1);
    s = (await as(admin, 'GET', `/api/claims/visits/${id}`)).body.submission;
    expect(s.status).toBe('sent');
    expect(s.transactionCode).toMatch(/^GD\d{8}$/);
    expect(s.receivedAt).toMatch(/^\d{14}$/);
    const list = await as(admin, 'GET', '/api/claims?status=sent');
    expect(list.body.map((x: { visitKey: string }) => x.visitKey)).toContain(id);
    const enc = await p.fixtures.read<Encounter>('Encounter', list.body.find((x: { visitKey: string }) => x.visitKey === id).encounterId);
    expect(enc.identifier).toContainEqual({ system: BHXH_TRANSACTION_SYSTEM, value: s.transactionCode });

    // The gateway already holds a visit with this key (sent by another system): refused as a duplicate, recorded, not retried.
    const dup = await finishedVisit(60);
    fake.accepted.set(dup, 1);
    expect((await as(admin, 'POST', `/api/claims/visits/${dup}/submit`)).status).toBe(202);
    expect(await p.claimQueue.runOnce(new Date(Date.now() + 7_200_000))).toEqual({ sent: 0, retried: 0, rejected: 1, failed: 0 });
    const d = (await as(admin, 'GET', `/api/claims/visits/${dup}`)).body.submission;
    expect(d).toMatchObject({ status: 'rejected', resultCode: '409' });
    expect(d.lastError).toMatch(/đã tồn tại/);
    expect(fake.accepted.get(dup)).toBe(1);
  });

  it('the gateway refuses an unsigned file (123) and a badly signed one (125)', async () => {
    const id = await finishedVisit(60);
    const signed = (await as(admin, 'GET', `/api/claims/visits/${id}/xml`)).text;
    const gw = new BhxhGateway(fake.url);
    const account = { username: 'tyt-batxat', password: 'mật-khẩu-cổng', province: '15' };
    const unsigned = signed.replace(/<CHUKYDONVI>[\s\S]*<\/CHUKYDONVI>/, '<CHUKYDONVI />');
    expect((await gw.send(account, '10010', unsigned)).maKetQua).toBe('123');
    const tampered = signed.replace(/<SOLUONGHOSO>1<\/SOLUONGHOSO>/, '<SOLUONGHOSO>2</SOLUONGHOSO>');
    expect(tampered).not.toBe(signed);
    expect((await gw.send(account, '10010', tampered)).maKetQua).toBe('125');
    expect(fake.accepted.has(id)).toBe(false);
    expect((await gw.send({ ...account, password: 'sai' }, '10010', signed).catch((e) => e.reply)).maKetQua).toBe('401');
  });
});
