/**
 * National e-prescription codes and sending, through the HTTP API on both databases: the code's
 * shape and type letter (c ordinary, n narcotic, h psychotropic/precursor, y traditional); a
 * narcotic or psychotropic prescription without the prescriber's extra confirmation refused with
 * a message; every issued prescription queued in the same transaction and sent once to a fake
 * national gateway (a network failure retried), its answer kept and visible to its facility's
 * billing staff only.
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { seedFormatsDemo } from '../seed/formats.ts';
import { seedVisitDemo, type VisitDemo } from '../seed/visits.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { startFakeEPrescription, type FakeEPrescription } from '../testing/fake-eprescription.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { CONTROLLED_CONFIRMATION_MESSAGE } from '../visits/contract.ts';

const ACCOUNT = { facilityLink: 'LT-10010', doctorLink: 'BS-1007', password: 'mật-khẩu' };

describe.each(DB_KINDS)('national e-prescriptions on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let visitDemo: VisitDemo;
  let fake: FakeEPrescription;
  let citizen: Record<string, string>;
  let doctor: Record<string, string>;
  const json = { 'content-type': 'application/json' };
  const as = (h: Record<string, string>, method: string, url: string, body?: unknown) => call(p, method, url, body, body === undefined ? h : { ...h, ...json });

  beforeAll(async () => {
    fake = await startFakeEPrescription(ACCOUNT);
    const dir = mkdtempSync(join(tmpdir(), 'cauyte-rx-'));
    writeFileSync(join(dir, 'facilities.json'), JSON.stringify({ '10010': { eprescription: ACCOUNT } }));
    p = await startTestPlatform(
      kind,
      { CAUYTE_EPRESCRIPTION_GATEWAY_URL: fake.url, CAUYTE_FACILITY_CREDENTIALS: join(dir, 'facilities.json'), CAUYTE_GATEWAY_QUEUE_SECONDS: '3600' },
      undefined,
      { domains: ['family', 'consult', 'visits', 'formats'] },
    );
    demo = await seedDemo(p.store, 8);
    const accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    visitDemo = await seedVisitDemo(p.store, p.visits, demo);
    await seedFormatsDemo(p.store, demo);
    citizen = await signIn(p, 'nguoidan');
    doctor = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
  }, 180_000);
  afterAll(async () => {
    await p?.close();
    await fake?.close();
  });

  async function bookedVisit(): Promise<string> {
    const slots = await as(citizen, 'GET', `/api/visits/services/${visitDemo.services['kham-tu-xa-man-tinh']}/slots?days=8`);
    const slot = slots.body[Math.floor(Math.random() * slots.body.length)];
    const booked = await as(citizen, 'POST', '/api/visits', {
      patientId: demo.ids.patients[0],
      slotId: slot.id,
      icd10: { code: 'I10', display: 'Tăng huyết áp' },
      reason: 'Đau đầu',
      answers: { 'red-flags': false, duration: 'gt1m' },
    });
    expect(booked.status, booked.text).toBe(201);
    return booked.body.id;
  }
  const complete = (id: string, prescription: Record<string, unknown>) =>
    as(doctor, 'POST', `/api/visits/${id}/complete`, {
      findings: 'Đau nhiều sau mổ',
      assessment: 'Đau cấp',
      diagnosis: { code: 'I10', display: 'Tăng huyết áp vô căn (nguyên phát)' },
      instructions: 'Theo dõi tại nhà.',
      followUpDays: 7,
      prescription: { items: [{ name: 'Morphin 10 mg/ml', quantity: 5, unit: 'ống', dosage: 'Tiêm dưới da khi đau' }], ...prescription },
    });

  it('refuses a controlled substance on an ordinary prescription, whether named by ATC code or by name only', async () => {
    const id = await bookedVisit();
    for (const item of [
      { name: 'Diazepam 5 mg', atc: 'N05BA01', quantity: 10, unit: 'viên', dosage: '1 viên tối' },
      { name: 'Tramadol 50 mg', quantity: 10, unit: 'viên', dosage: '1 viên khi đau' },
      { name: 'Morphin 10 mg/ml', quantity: 5, unit: 'ống', dosage: 'Tiêm dưới da khi đau' },
    ]) {
      const r = await complete(id, { items: [item] });
      expect(r.status, item.name).toBe(400);
      expect(r.body.title ?? r.text).toContain('kiểm soát đặc biệt');
    }
  });

  it('refuses a narcotic or psychotropic prescription without the extra confirmation, with a message; accepts it with one', async () => {
    const id = await bookedVisit();
    for (const k of ['n', 'h']) {
      const r = await complete(id, { kind: k });
      expect(r.status).toBe(400);
      expect(r.body.title).toContain(CONTROLLED_CONFIRMATION_MESSAGE);
    }
    const partial = await complete(id, { kind: 'n', controlled: { confirmed: true } });
    expect(partial.status).toBe(400);
    const ok = await complete(id, { kind: 'n', controlled: { confirmed: true, idNumber: '015085123456' } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.prescriptionCode).toMatch(/^10010[a-z0-9]{7}-n$/); // the station's facility code + 7 + kind
    const st = await as(
      { authorization: `Bearer ${await p.tokenFor('facility_admin', { org: demo.ids.organizations.batxat })}` },
      'GET',
      `/api/eprescriptions/${ok.body.prescriptionCode}/status`,
    );
    expect(st.status, st.text).toBe(200);
    expect(st.body).toMatchObject({ kind: 'n', status: 'queued', attempts: 0 });
  });

  it('codes ordinary (c) and traditional (y) prescriptions; sends each once to the national gateway (network failure retried), keeps the answer', async () => {
    const ordinary = await complete(await bookedVisit(), {
      items: [{ name: 'Amlodipin 5 mg', drugCode: 'VD-12345-10', quantity: 30, unit: 'viên', dosage: '1 viên/ngày' }],
    });
    const traditional = await complete(await bookedVisit(), {
      kind: 'y',
      items: [{ name: 'Hoạt huyết dưỡng não', quantity: 20, unit: 'viên', dosage: '2 viên x 2 lần' }],
    });
    expect(ordinary.body.prescriptionCode).toMatch(/^10010[a-z0-9]{7}-c$/);
    expect(traditional.body.prescriptionCode).toMatch(/^10010[a-z0-9]{7}-y$/);

    fake.dropNext(1);
    const first = await p.eprescriptions.runOnce();
    expect(first.retried).toBe(1);
    const second = await p.eprescriptions.runOnce(new Date(Date.now() + 3_600_000));
    expect(second.retried).toBe(0);
    expect(second.sent + first.sent).toBeGreaterThanOrEqual(2);
    for (const code of [ordinary.body.prescriptionCode, traditional.body.prescriptionCode]) {
      expect(fake.received.get(code)).toHaveLength(1);
      expect((await p.eprescriptions.status(code))?.status).toBe('sent');
    }
    const sent = fake.received.get(traditional.body.prescriptionCode)![0];
    expect(sent).toMatchObject({
      loai_don_thuoc: 'y',
      ho_ten_benh_nhan: 'Nguyễn Văn An',
      chan_doan: [{ ma_chan_doan: 'I10', ten_chan_doan: 'Tăng huyết áp vô căn (nguyên phát)' }],
      thong_tin_don_thuoc: [{ ten_thuoc: 'Hoạt huyết dưỡng não', so_luong: 20, don_vi_tinh: 'viên', cach_dung: '2 viên x 2 lần' }],
    });
    expect(sent.ngay_gio_ke_don).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(sent.ngay_tai_kham).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // Nothing is sent twice.
    await p.eprescriptions.runOnce(new Date(Date.now() + 7_200_000));
    expect(fake.received.get(ordinary.body.prescriptionCode)).toHaveLength(1);

    // Another facility's administrator is refused.
    const other = { authorization: `Bearer ${await p.tokenFor('facility_admin', { org: demo.ids.organizations.laocai })}` };
    expect((await as(other, 'GET', `/api/eprescriptions/${ordinary.body.prescriptionCode}/status`)).status).toBe(403);
  });
});
