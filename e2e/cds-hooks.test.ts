/**
 * The hooks at the end of prescribing, of the visit and of booking, in the browser, with the
 * bundled CDS service as its own process (CAUYTE_CDS_BUNDLED=auto, approved by the demo seed):
 *   - appointment-book: the citizen booking on a phone sees the remote-visit advice in plain
 *     Vietnamese next to the confirm button (a red-flag answer turns it critical), then books;
 *   - order-sign: signing amoxicillin for Nguyễn Văn An (penicillin allergy) is held by a critical
 *     card until it is overridden with a reason; the feedback reaches the service; then the visit
 *     is signed;
 *   - encounter-discharge: once signed, the follow-up card; accepted as a draft, then confirmed;
 *   - a failing order-sign call never holds signing up (the page says the check was not made).
 * Every wait is for a state on the page or in the service, never a sleep.
 * Screenshots: test-results/cds-hooks-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoAccount } from '../src/seed/accounts.ts';
import type { DemoSummary } from '../src/seed/demo.ts';
import type { VisitDemo } from '../src/seed/visits.ts';
import { call, signIn, type TestPlatform } from '../src/testing/platform.ts';
import { startCdsPlatform, type CdsPlatform } from './cds-platform.ts';
import { signInUi } from './ui.ts';
import { shoot } from './shots.ts';

describe('decision support at signing, at the end of the visit and at booking', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let visitDemo: VisitDemo;
  let feedback: CdsPlatform['bundledFeedback'];

  beforeAll(async () => {
    ({ p, base, browser, demo, accounts, visitDemo, bundledFeedback: feedback } = await startCdsPlatform());
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  const hooksCalled = async (patientId: string) =>
    (
      await p.db.query<{ hook: string; username: string }>(
        "SELECT detail->>'hook' AS hook, username FROM audit_log WHERE action = 'cds.call' AND $1 = ANY(patient_ids) ORDER BY id",
        [patientId],
      )
    ).rows;

  /** A remote visit for Nguyễn Văn An booked through the API by the citizen (hypertension). */
  async function bookVisit(): Promise<string> {
    const citizen = await signIn(p, 'nguoidan');
    const slots = await call(p, 'GET', `/api/visits/services/${visitDemo.services['kham-tu-xa-man-tinh']}/slots?days=8`, undefined, citizen);
    const booked = await call(
      p,
      'POST',
      '/api/visits',
      {
        patientId: demo.ids.patients[0],
        slotId: slots.body[0].id,
        icd10: { code: 'I10', display: 'Tăng huyết áp' },
        reason: 'Huyết áp cao, ho và đau họng',
        answers: { 'red-flags': false, duration: 'gt1m' },
      },
      { ...citizen, 'content-type': 'application/json' },
    );
    expect(booked.status, booked.text).toBe(201);
    return booked.body.id as string;
  }

  async function fillNote(page: Page, drug: { query: string; option: RegExp }, days: string) {
    await page.getByLabel('Khám và ghi nhận').fill('Tỉnh, họng đỏ, không khó thở.');
    await page.getByLabel('Nhận định').fill('Tăng huyết áp, viêm họng');
    await page.getByLabel('Hướng dẫn, theo dõi').fill('Đo huyết áp sáng và tối.');
    await page.getByLabel('Tên thuốc, hàm lượng').fill(drug.query);
    await page.getByRole('option', { name: drug.option }).click();
    await page.getByLabel('Số lượng').fill('21');
    await page.getByLabel('Cách dùng').fill('Uống 1 viên x 3 lần mỗi ngày');
    await page.getByLabel('Số ngày').fill(days);
  }

  it('appointment-book: the citizen sees the remote-visit advice in plain words before confirming', async () => {
    const an = demo.ids.patients[0];
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signInUi(page, base, 'nguoidan');
    await page.goto(`${base}/me/book`);
    await page.getByRole('radio', { name: /Khám từ xa bệnh mạn tính/ }).check();
    await page.locator('.times button').first().click();
    await page.getByRole('radio', { name: /^Huyết áp cao/ }).check();
    await page
      .getByRole('radiogroup', { name: /dấu hiệu cấp cứu/ })
      .getByLabel('Không')
      .check();
    await page
      .getByRole('radiogroup', { name: /kéo dài bao lâu/ })
      .getByLabel('Trên 1 tháng')
      .check();
    const advice = page.getByRole('region', { name: /lý do khám này có hợp khám từ xa không/ });
    const card = advice.locator('.cds-card');
    await expect
      .poll(() =>
        card
          .first()
          .innerText()
          .catch(() => ''),
      )
      .toMatch(/khám từ xa: Tăng huyết áp/);
    const text = await advice.innerText();
    expect(text).toMatch(/Thông tư 30\/2023/);
    expect(text).toMatch(/Nguồn: Cầu Y Tế — Tư vấn khám từ xa[\s\S]*Dịch vụ: Tư vấn khám từ xa có phù hợp không/);
    expect(text).toMatch(/chỉ để bạn tham khảo\. Bác sĩ sẽ quyết định khi khám/);
    expect(text).not.toMatch(/on the list|ICD/);
    // The advice sits before the confirm button.
    const [adviceBox, button] = await Promise.all([advice.boundingBox(), page.getByRole('button', { name: 'Đặt lịch', exact: true }).boundingBox()]);
    expect(adviceBox!.y).toBeLessThan(button!.y);
    await shoot(page, 'cds-hooks-booking-advice');

    // A red-flag answer: the advice turns critical, in plain words.
    await page
      .getByRole('radiogroup', { name: /dấu hiệu cấp cứu/ })
      .getByLabel('Có')
      .check();
    await expect.poll(() => advice.locator('.cds-card[data-indicator="critical"]').count()).toBe(1);
    expect(await advice.locator('.cds-card').first().innerText()).toMatch(/Bạn có dấu hiệu nguy hiểm: đừng chờ khám từ xa[\s\S]*gọi 115/);
    await shoot(page, 'cds-hooks-booking-danger');
    await page
      .getByRole('radiogroup', { name: /dấu hiệu cấp cứu/ })
      .getByLabel('Không')
      .check();
    await expect.poll(() => advice.locator('.cds-card[data-indicator="critical"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Đặt lịch', exact: true }).click();
    await page.locator('.confirm').waitFor();

    // Audited as the citizen, and in their access log.
    const calls = (await hooksCalled(an)).filter((r) => r.hook === 'appointment-book');
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.every((r) => r.username === 'nguoidan')).toBe(true);
    await page.goto(`${base}/me/access-log`);
    await page
      .getByText(/Dịch vụ AI «Tư vấn khám từ xa có phù hợp không» đã đọc .*câu trả lời trước khi khám/)
      .first()
      .waitFor();
    await page.close();
  });

  it('order-sign holds signing on a critical card until overridden with a reason; encounter-discharge then suggests the follow-up', async () => {
    const an = demo.ids.patients[0];
    const visitId = await bookVisit();
    const doctor = accounts.get('bs.batxat')!;
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await signInUi(page, base, doctor.username, doctor.totpSecret);
    await page.goto(`${base}/visits/${visitId}`);
    await fillNote(page, { query: 'amoxi', option: /^Amoxicilin J01CA04/ }, '7');
    const finish = page.getByRole('button', { name: 'Kết thúc khám và lưu' });

    // 1. Signing: the order-sign service's critical card holds it.
    await finish.click();
    const sign = page.getByRole('region', { name: 'Kiểm tra trước khi ký đơn (AI/CDS)' });
    const critical = sign.locator('.cds-card[data-indicator="critical"]');
    await critical.waitFor();
    expect(await critical.innerText()).toMatch(
      /Dị ứng: Amoxicilin 250 mg — người bệnh dị ứng Penicillin[\s\S]*Dịch vụ: Kiểm tra an toàn trước khi ký đơn 1\.0\.0/,
    );
    await page.getByText('Có cảnh báo nguy hiểm: chấp nhận gợi ý hoặc ghi lý do bỏ qua, rồi bấm ký lại.').waitFor();
    expect(await page.locator('form.visit-note').count()).toBe(1); // not signed
    await shoot(page, 'cds-hooks-sign-held');

    // 2. Override: a reason is required; then it is recorded and the feedback reaches the service.
    await critical.getByRole('button', { name: 'Bỏ qua gợi ý' }).click();
    await critical.getByRole('button', { name: 'Ghi lý do và bỏ qua' }).click();
    await critical.getByText('Cần ghi lý do (ít nhất 5 ký tự).').waitFor();
    expect((await feedback()).filter((f) => f.service === 'cauyte-rx-safety-sign')).toEqual([]);
    await critical.getByLabel('Lý do có sẵn').selectOption('tolerated-before');
    await critical.getByLabel('Lý do bỏ qua (bắt buộc)').fill('Đã dùng amoxicilin năm ngoái, không phản ứng');
    await critical.getByRole('button', { name: 'Ghi lý do và bỏ qua' }).click();
    await critical.getByText('Đã bỏ qua, lý do đã được ghi và gửi cho dịch vụ.').waitFor();
    await page.getByText('Có cảnh báo nguy hiểm: chấp nhận gợi ý hoặc ghi lý do bỏ qua, rồi bấm ký lại.').waitFor({ state: 'detached' });
    await expect
      .poll(async () => (await feedback()).filter((f) => f.service === 'cauyte-rx-safety-sign'))
      .toEqual([
        expect.objectContaining({
          outcome: 'overridden',
          overrideReason: expect.objectContaining({ userComment: 'Đã dùng amoxicilin năm ngoái, không phản ứng' }),
        }),
      ]);

    // 3. Sign again: the platform's own prescribing check still asks its reason, then the visit is signed.
    await finish.click();
    const warning = page.locator('#rx-warnings textarea').first();
    await warning.waitFor();
    await warning.fill('Đã dùng amoxicilin năm ngoái, không phản ứng');
    await finish.click();
    await page.locator('.rx code').waitFor();

    // 4. encounter-discharge: the follow-up card; accepted as a draft, then confirmed.
    const discharge = page.getByRole('region', { name: 'Gợi ý khi kết thúc lần khám (AI/CDS)' });
    const followUp = discharge.locator('.cds-card').first();
    // Polling the region's text: a failure shows what the page said (e.g. the service was too slow and dropped).
    await expect
      .poll(() => page.locator('main').innerText(), { timeout: 30_000 })
      .toMatch(/Gợi ý khi kết thúc lần khám[\s\S]*Hẹn tái khám trước khi hết thuốc/);
    expect(await followUp.innerText()).toMatch(
      /Hẹn tái khám trước khi hết thuốc: đơn đủ 7 ngày \(đến \d{2}\/\d{2}\/\d{4}\)[\s\S]*Dịch vụ: Kiểm tra khi kết thúc lần khám/,
    );
    await followUp.getByRole('button', { name: /^Tạo lịch tái khám ngày \d{2}\/\d{2}\/\d{4}/ }).click();
    await followUp.getByText('Đã tạo 1 bản nháp — bác sĩ xem lại và ký.').waitFor();
    await followUp.getByRole('button', { name: 'Xác nhận và ký' }).click();
    await followUp.getByText('✓ Đã xác nhận').waitFor();
    await shoot(page, 'cds-hooks-discharge');
    await expect.poll(async () => (await feedback()).some((f) => f.service === 'cauyte-visit-closure' && f.outcome === 'accepted')).toBe(true);
    const hooks = (await hooksCalled(an)).map((r) => r.hook);
    expect(hooks).toEqual(expect.arrayContaining(['order-sign', 'encounter-discharge']));
    expect(hooks.filter((h) => h === 'order-sign')).toHaveLength(1); // signing again with the same medicines asked nothing new
    await page.close();
  });

  it('a failing order-sign call never holds signing up: the page says the check was not made', async () => {
    const visitId = await bookVisit();
    const doctor = accounts.get('bs.batxat')!;
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await signInUi(page, base, doctor.username, doctor.totpSecret);
    await page.route('**/api/cds/hooks/order-sign', (route) =>
      route.fulfill({ status: 502, contentType: 'application/problem+json', body: '{"title":"down"}' }),
    );
    await page.goto(`${base}/visits/${visitId}`);
    await fillNote(page, { query: 'paracet', option: /^Paracetamol/ }, '5');
    await page.getByRole('button', { name: 'Kết thúc khám và lưu' }).click();
    await page.locator('.rx code').waitFor();
    await page.getByText(/Không kiểm tra được đơn thuốc lúc ký \(dịch vụ không trả lời\) — đơn vẫn được ký/).waitFor();
    await page.close();
  });
});
