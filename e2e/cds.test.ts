/**
 * Decision support in the browser, with the bundled CDS service running as its own process
 * (CAUYTE_CDS_BUNDLED=auto, registered and approved by the demo seed): the commune clinician
 * opens Nguyễn Văn An's chart and the bundled service's card appears with its source; writing
 * amoxicillin for him (penicillin allergy) raises a critical card; overriding it needs a reason;
 * the feedback reaches the service; the audit trail and the citizen's access log show the call.
 * The system administrator's registry screen shows the services and their figures.
 * Screenshots at 390 and 1366 px (test-results/cds-*.png).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoAccount } from '../src/seed/accounts.ts';
import type { DemoSummary } from '../src/seed/demo.ts';
import type { VisitDemo } from '../src/seed/visits.ts';
import { call, signIn, type TestPlatform } from '../src/testing/platform.ts';
import { startCdsPlatform, type CdsPlatform } from './cds-platform.ts';
import { signInUi } from './ui.ts';
import { shoot } from './shots.ts';

describe('decision support in the browser', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let visitDemo: VisitDemo;
  let bundled: string;
  let bundledFeedback: CdsPlatform['bundledFeedback'];

  beforeAll(async () => {
    ({ p, base, browser, demo, accounts, visitDemo, bundled, bundledFeedback } = await startCdsPlatform());
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('shows the bundled service’s card on the chart, a critical card for amoxicillin, needs a reason to override, and the call is in the audit and the citizen’s access log', async () => {
    const an = demo.ids.patients[0];
    const doctor = accounts.get('bs.batxat')!;
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await signInUi(page, base, doctor.username, doctor.totpSecret);

    // 1. The chart: the bundled service's card, with its source.
    await page.goto(`${base}/patients/${an}`);
    const chartCard = page.locator('.cds-card').first();
    await chartCard.waitFor();
    expect(await chartCard.innerText()).toMatch(/Lưu ý khi kê đơn: dị ứng Penicillin/);
    expect(await chartCard.innerText()).toMatch(/Nguồn: Cầu Y Tế — Kiểm tra an toàn kê đơn[\s\S]*Dịch vụ: Xem nhanh an toàn thuốc khi mở hồ sơ 1\.0\.0/);
    await shoot(page, 'cds-chart-card');

    // 2. Prescribing amoxicillin in a remote visit: a critical card (order-select).
    const citizen = await signIn(p, 'nguoidan');
    const slots = await call(p, 'GET', `/api/visits/services/${visitDemo.services['kham-tu-xa-man-tinh']}/slots?days=8`, undefined, citizen);
    const booked = await call(
      p,
      'POST',
      '/api/visits',
      {
        patientId: an,
        slotId: slots.body[0].id,
        icd10: { code: 'I10', display: 'Tăng huyết áp' },
        reason: 'Ho, sốt, đau họng',
        answers: { 'red-flags': false, duration: 'gt1m', 'home-bp': '150/90' },
      },
      { ...citizen, 'content-type': 'application/json' },
    );
    expect(booked.status, booked.text).toBe(201);
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.goto(`${base}/visits/${booked.body.id}`);
    await page.getByLabel('Tên thuốc, hàm lượng').fill('amoxi');
    await page.getByRole('option', { name: /^Amoxicilin J01CA04/ }).click();
    const critical = page.locator('.cds-card[data-indicator="critical"]');
    await critical.waitFor();
    expect(await critical.innerText()).toMatch(/Dị ứng: Amoxicilin 250 mg — người bệnh dị ứng Penicillin/);
    expect(await critical.innerText()).toMatch(/Nguồn: Cầu Y Tế — Kiểm tra an toàn kê đơn/);
    await shoot(page, 'cds-rx-critical');

    // 3. Override: no reason, no override (nothing is sent); with a reason, recorded and sent.
    await critical.getByRole('button', { name: 'Bỏ qua gợi ý' }).click();
    await critical.getByRole('button', { name: 'Ghi lý do và bỏ qua' }).click();
    await critical.getByText('Cần ghi lý do (ít nhất 5 ký tự).').waitFor();
    const before = await bundledFeedback();
    expect(before).toEqual([]);
    await critical.getByLabel('Lý do có sẵn').selectOption('tolerated-before');
    await critical.getByLabel('Lý do bỏ qua (bắt buộc)').fill('Đã dùng amoxicilin năm ngoái, không phản ứng');
    await shoot(page, 'cds-override');
    await critical.getByRole('button', { name: 'Ghi lý do và bỏ qua' }).click();
    await critical.getByText('Đã bỏ qua, lý do đã được ghi và gửi cho dịch vụ.').waitFor();

    // 4. The feedback reached the bundled service (its own process).
    const feedback = await bundledFeedback<{ service: string; outcome: string; overrideReason: { userComment: string } }>();
    expect(feedback).toHaveLength(1);
    expect(feedback[0]).toMatchObject({
      service: 'cauyte-rx-safety-select',
      outcome: 'overridden',
      overrideReason: { reason: { code: 'tolerated-before' }, userComment: 'Đã dùng amoxicilin năm ngoái, không phản ứng' },
    });

    // 5. The audit trail has the calls (which data, to whom, why) ...
    const rows = (
      await p.db.query<{ username: string; reason: string; detail: { to: string; sent: string[]; hook: string } }>(
        "SELECT username, reason, detail FROM audit_log WHERE action = 'cds.call' AND $1 = ANY(patient_ids) ORDER BY id",
        [an],
      )
    ).rows;
    expect(rows.map((r) => r.detail.hook)).toEqual(expect.arrayContaining(['patient-view', 'order-select']));
    expect(rows.every((r) => r.username === 'bs.batxat' && r.detail.to === bundled)).toBe(true);
    expect(rows[0].detail.sent).toContain('AllergyIntolerance');

    // ... and the citizen sees it in their access log, in words.
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await signInUi(phone, base, 'nguoidan');
    await phone.goto(`${base}/me/access-log`);
    await phone
      .getByText(/Dịch vụ AI «Kiểm tra an toàn khi chọn thuốc» đã đọc dị ứng/)
      .first()
      .waitFor();
    expect(await phone.locator('main').innerText()).toMatch(/Dịch vụ AI đọc hồ sơ/);
    await shoot(phone, 'cds-access-log');
    await phone.close();
    await page.close();
  });

  it('shows the registry to the system administrator with status, approval, evidence and figures', async () => {
    const admin = accounts.get('quantri')!;
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await signInUi(page, base, admin.username, admin.totpSecret);
    await page.goto(`${base}/admin?tab=cds`);
    const service = page.getByRole('article', { name: 'Kiểm tra an toàn khi chọn thuốc' });
    await service.waitFor();
    const text = await service.innerText();
    expect(text).toMatch(/Đã phê duyệt/);
    expect(text).toMatch(/Phê duyệt: quantri/);
    expect(text).toMatch(/Thẩm định nội bộ: kiểm tra dị ứng và trùng thuốc/);
    expect(text).toMatch(/Lượt gọi\s+1 · Lỗi: 0/);
    expect(text).toMatch(/Đã dùng amoxicilin năm ngoái/);
    await shoot(page, 'cds-registry');
    // Suspending from the screen: a reason is needed, then the status changes.
    await service.getByLabel('Lý do (bắt buộc)').fill('Kiểm tra lại sau sự cố');
    await service.getByRole('button', { name: 'Tạm dừng' }).click();
    await expect.poll(() => service.innerText()).toMatch(/Tạm dừng/);
    await page.close();
  });
});
