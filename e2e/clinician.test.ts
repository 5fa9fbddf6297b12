/**
 * The commune clinician's day in Chromium (issue 12, clinician side): the chart of the demo
 * patient shows his penicillin allergy at the top, his medicine and every section (empty ones
 * say so), on a desk (1366 px) and a phone (390 px, no sideways scrolling); a clinician of another
 * facility is told why the record is refused, in Vietnamese, and opens it with break-the-glass
 * (reason required), which the audit trail records. Prescribing amoxicillin for him from the
 * drug dictionary shows the allergy warning, is not saved without a reason, and the reason is
 * recorded (DetectedIssue referenced by the MedicationRequest).
 */
import type { DetectedIssue, MedicationRequest } from '@medplum/fhirtypes';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, DEMO_PASSWORD, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { seedVisitDemo, type VisitDemo } from '../src/seed/visits.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { signInUi } from './ui.ts';

const STRANGER_TOTP = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const noSideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe('commune clinician: the chart', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let doctor: DemoAccount;
  let visitDemo: VisitDemo;
  beforeAll(async () => {
    p = await startTestPlatform('pglite');
    demo = await seedDemo(p.store, 12);
    doctor = (await createDemoAccounts(p.db, p.accounts, demo)).accounts.find((a) => a.username === 'bs.batxat')!;
    visitDemo = await seedVisitDemo(p.store, p.visits, demo);
    await p.accounts.create({
      username: 'bs.muongnhe',
      displayName: 'BS Quàng Văn Hải',
      kind: 'staff',
      password: DEMO_PASSWORD,
      practitionerId: demo.ids.practitioners[8],
      roles: [{ role: 'commune_clinician', organizationId: demo.ids.organizations.muongnhe }],
      totpSecret: STRANGER_TOTP,
    });
    base = await p.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  for (const [width, height, label] of [
    [1366, 900, 'desktop'],
    [390, 844, 'phone'],
  ] as const) {
    it(`shows the penicillin allergy first on the ${label} chart, with every section`, async () => {
      const page = await browser.newPage({ viewport: { width, height }, ...(width < 500 ? { isMobile: true, hasTouch: true } : {}) });
      await signInUi(page, base, doctor.username, doctor.totpSecret);
      await page.goto(`${base}/patients/${demo.ids.patients[0]}`);
      const banner = page.locator('.allergy-banner');
      await banner.waitFor();
      expect(await banner.innerText()).toMatch(/Cảnh báo dị ứng[\s\S]*Penicillin[\s\S]*nguy cơ cao[\s\S]*Nổi mẩn đỏ, khó thở/);
      // The banner is above the demographics and the sections.
      const bannerBox = (await banner.boundingBox())!;
      const factsBox = (await page.locator('.facts').boundingBox())!;
      expect(bannerBox.y).toBeLessThan(factsBox.y);
      const text = await page.locator('main').innerText();
      for (const s of [
        'Thuốc đang dùng',
        'Bisoprolol 2,5 mg',
        'Bệnh và vấn đề sức khỏe',
        'Tăng huyết áp vô căn',
        'Lần khám gần đây',
        'Tài liệu',
        'Giấy ra viện',
      ])
        expect(text).toContain(s);
      // Empty sections say so.
      for (const s of ['Chưa có yêu cầu hội chẩn.', 'Không có cảnh báo đang mở.', 'Chưa có người thân nào quản lý hồ sơ.']) expect(text).toContain(s);
      expect(text).toContain('Quản lý tăng huyết áp tại trạm y tế');
      expect(text).not.toMatch(/(Patient|Organization|Practitioner)\/[\w-]{8,}/);
      expect(await noSideways(page)).toBeLessThanOrEqual(0);
      await page.screenshot({ path: `test-results/clin-chart-${width}.png`, fullPage: true });
      await page.close();
    });
  }

  it('tells another facility’s clinician why, offers break-the-glass with a reason, and records it', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signInUi(page, base, 'bs.muongnhe', STRANGER_TOTP);
    await page.goto(`${base}/patients/${demo.ids.patients[0]}`);
    const refused = page.locator('.refused');
    await refused.waitFor();
    const said = await refused.innerText();
    expect(said).toContain('Không thể mở hồ sơ này');
    expect(said).toContain('không thuộc cơ sở của bạn');
    expect(said).not.toMatch(/Patient\/|forbidden|403|break-glass-available/);
    expect(said).not.toContain('Nguyễn Văn An');
    expect(await noSideways(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'test-results/clin-refused-390.png', fullPage: true });
    // No reason, no access.
    await page.getByRole('button', { name: 'Mở hồ sơ khẩn cấp' }).click();
    expect(await page.locator('.allergy-banner').count()).toBe(0);
    await page.getByLabel(/Lý do/).fill('Cấp cứu: người bệnh hôn mê được đưa đến trạm, cần biết tiền sử dị ứng');
    await page.getByRole('button', { name: 'Mở hồ sơ khẩn cấp' }).click();
    await page.locator('.allergy-banner').waitFor();
    expect(await page.locator('.notice.glass').innerText()).toMatch(/Đang truy cập khẩn cấp — hết hiệu lực lúc/);
    expect(await page.locator('.allergy-banner').innerText()).toContain('Penicillin');
    await page.screenshot({ path: 'test-results/clin-breakglass-390.png', fullPage: true });
    const audit = await p.db.query<{ reason: string }>("SELECT reason FROM audit_log WHERE username = 'bs.muongnhe' AND action = 'break-glass'");
    expect(audit.rows[0].reason).toContain('Cấp cứu');
    const grants = await p.db.query<{ reviewed_at: Date | null }>('SELECT reviewed_at FROM break_glass WHERE patient_id = $1', [demo.ids.patients[0]]);
    expect(grants.rows).toEqual([{ reviewed_at: null }]); // waiting for the DPO's review
    await page.close();
  });
  it('warns when amoxicillin is prescribed to the patient allergic to penicillin; saves only with a reason, which is recorded', async () => {
    // Nguyễn Văn An books a remote visit with Bát Xát's doctor.
    const citizen = await signIn(p, 'nguoidan');
    const json = { ...citizen, 'content-type': 'application/json' };
    const slots = await call(p, 'GET', `/api/visits/services/${visitDemo.services['kham-tu-xa-man-tinh']}/slots?days=8`, undefined, citizen);
    const booked = await call(
      p,
      'POST',
      '/api/visits',
      {
        patientId: demo.ids.patients[0],
        slotId: slots.body[0].id,
        icd10: { code: 'I10', display: 'Tăng huyết áp' },
        reason: 'Ho, sốt, đau họng',
        answers: { 'red-flags': false, duration: 'gt1m', 'home-bp': '150/90' },
      },
      json,
    );
    expect(booked.status, booked.text).toBe(201);

    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await signInUi(page, base, doctor.username, doctor.totpSecret);
    await page.goto(`${base}/visits/${booked.body.id}`);
    await page.getByLabel('Khám và ghi nhận').fill('Sốt 38,2 °C, họng đỏ, amidan sưng.');
    await page.getByLabel('Nhận định').fill('Viêm họng cấp');
    await page.getByLabel('Hướng dẫn, theo dõi').fill('Uống nhiều nước, súc họng nước muối.');
    // The medicine comes from the dictionary: typed without accents, picked with its ATC code.
    await page.getByLabel('Tên thuốc, hàm lượng').fill('amoxi');
    await page.getByRole('option', { name: /^Amoxicilin J01CA04/ }).click();
    expect(await page.getByLabel('Tên thuốc, hàm lượng').inputValue()).toBe('Amoxicilin 250 mg');
    expect(await page.locator('.atc-chip').innerText()).toBe('ATC J01CA04');
    await page.getByLabel('Số lượng').fill('21');
    await page.getByLabel('Cách dùng').fill('Uống 1 viên x 3 lần/ngày');
    await page.getByRole('button', { name: 'Kết thúc khám và lưu' }).click();
    const warning = page.locator('.rx-warnings');
    await warning.waitFor();
    expect(await warning.innerText()).toMatch(/Cảnh báo an toàn kê đơn[\s\S]*Amoxicilin 250 mg: người bệnh có ghi nhận dị ứng Penicillin/);
    await page.screenshot({ path: 'test-results/clin-rx-warning-1366.png', fullPage: true });
    // Saving again without a reason still does not save.
    await page.getByRole('button', { name: 'Kết thúc khám và lưu' }).click();
    await expect.poll(() => warning.innerText()).toContain('Cần ghi lý do cho từng cảnh báo trước khi lưu.');
    expect(await p.fixtures.search('MedicationRequest', { subject: `Patient/${demo.ids.patients[0]}` })).toEqual([]);
    const reason = 'Phản ứng cũ nhẹ, đã test da âm tính tại bệnh viện tỉnh';
    await page.getByLabel('Lý do vẫn kê đơn (bắt buộc)').fill(reason);
    await page.getByRole('button', { name: 'Kết thúc khám và lưu' }).click();
    await page.locator('.rx code').waitFor();
    const [rx] = await p.fixtures.search<MedicationRequest>('MedicationRequest', { subject: `Patient/${demo.ids.patients[0]}` });
    expect(rx.medicationCodeableConcept?.coding).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'J01CA04' })]));
    const issue = await p.fixtures.read<DetectedIssue>('DetectedIssue', rx.detectedIssue![0].reference!.split('/')[1]);
    expect(issue.mitigation![0].action.text).toContain(reason);
    await page.close();
  });
  it('shows today and the coming days in the visit queue, grouped by day, with a range to choose', async () => {
    const citizen = await signIn(p, 'nguoidan');
    const json = { ...citizen, 'content-type': 'application/json' };
    const slots = (await call(p, 'GET', `/api/visits/services/${visitDemo.services['kham-tu-xa-man-tinh']}/slots?days=8`, undefined, citizen)).body as {
      id: string;
      start: string;
    }[];
    const vnDay = (iso: string) => new Date(Date.parse(iso) + 7 * 3_600_000).toISOString().slice(0, 10);
    const days = [...new Set(slots.map((x) => vnDay(x.start)))];
    // A booking three or more days ahead: outside a one-day queue, inside the default week.
    const later = slots.find((x) => vnDay(x.start) >= days[Math.min(3, days.length - 1)])!;
    const booked = await call(
      p,
      'POST',
      '/api/visits',
      {
        patientId: demo.ids.patients[0],
        slotId: later.id,
        icd10: { code: 'I10', display: 'Tăng huyết áp' },
        reason: 'Tái khám huyết áp',
        answers: { 'red-flags': false, duration: 'gt1m', 'home-bp': '145/90' },
      },
      json,
    );
    expect(booked.status, booked.text).toBe(201);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signInUi(page, base, doctor.username, doctor.totpSecret);
    await page.goto(`${base}/visits`);
    const card = page.locator(`a[href="/visits/${booked.body.id}"]`);
    await card.waitFor();
    const [y, m, d] = vnDay(later.start).split('-');
    expect(await page.locator('.queue-day').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining(`${d}/${m}/${y}`)]));
    expect(await noSideways(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'test-results/clin-queue-390.png', fullPage: true });
    // One day only: the later booking is not in it.
    await page.getByLabel('Xem').selectOption('1');
    await expect.poll(() => card.count()).toBe(0);
    await page.close();
  });
  it('registers a device for a patient picked by name, and shows its set-up as a QR code and as text', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signInUi(page, base, doctor.username, doctor.totpSecret);
    await page.goto(`${base}/devices`);
    await page.getByLabel('Dùng chung tại trạm của tôi').uncheck();
    await page.getByLabel('Người bệnh dùng thiết bị').fill('nguyen van an');
    await page.getByRole('option', { name: /^Nguyễn Văn An · / }).click();
    await page.getByLabel('Tên gọi').fill('Máy đo huyết áp tại nhà');
    await page.getByLabel('Số sê-ri').fill('OMRON-HEM7121-0001');
    await page.getByRole('button', { name: 'Đăng ký thiết bị' }).click();
    const setup = page.locator('.provisioning');
    await setup.waitFor();
    await setup.locator('.qr svg').waitFor(); // the QR code's library comes with it, not with the app
    expect(await setup.locator('.qr svg').count()).toBe(1);
    const text = JSON.parse(await setup.locator('textarea').inputValue()) as { broker?: string; clientId: string; password: string; readingsTopic: string };
    expect(text.broker).toMatch(/^mqtt:\/\/.+:\d+$/);
    expect(text.readingsTopic).toBe(`cauyte/devices/${text.clientId}/readings`);
    expect(text.password.length).toBeGreaterThan(20);
    const [device] = await p.fixtures.search<{ resourceType: 'Device'; patient?: { reference?: string } }>('Device', { _id: text.clientId });
    expect(device.patient?.reference).toBe(`Patient/${demo.ids.patients[0]}`);
    expect(await noSideways(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'test-results/clin-device-390.png', fullPage: true });
    await page.close();
  });
});
