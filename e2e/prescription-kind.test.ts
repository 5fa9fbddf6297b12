/**
 * The prescription kind on the clinician's visit page (national e-prescription, TT 26/2025): the
 * kinds in Vietnamese; a narcotic prescription without the extra confirmation is refused with the
 * message, and with the confirmation and an ID number it is issued with a code ending in "-n".
 * Writing a controlled medicine (Morphin) moves an ordinary prescription to kind n and says why;
 * set back to ordinary, the note turns to a warning (and the server refuses the prescription).
 * Screenshots of the form with the controlled-drug fields at 390 and 1366 px.
 */
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { seedVisitDemo, type VisitDemo } from '../src/seed/visits.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { shoot } from './shots.ts';
import { signInUi } from './ui.ts';

describe('prescription kind on the visit page', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let visitDemo: VisitDemo;
  let accounts: Map<string, DemoAccount>;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['family', 'consult', 'visits'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    visitDemo = await seedVisitDemo(p.store, p.visits, demo);
    base = await p.listen();
    browser = await launchBrowser();
    mkdirSync('test-results', { recursive: true });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('refuses a narcotic prescription without the confirmation, with the message; issues it with one', async () => {
    const citizen = await signIn(p, 'nguoidan');
    const json = { 'content-type': 'application/json' };
    const slots = await call(p, 'GET', `/api/visits/services/${visitDemo.services['kham-tu-xa-man-tinh']}/slots?days=8`, undefined, citizen);
    const booked = await call(
      p,
      'POST',
      '/api/visits',
      {
        patientId: demo.ids.patients[0],
        slotId: slots.body[0].id,
        icd10: { code: 'G44.2', display: 'Đau đầu do căng thẳng' },
        reason: 'Đau đầu kéo dài',
        answers: { 'red-flags': false, duration: 'gt1m' },
      },
      { ...citizen, ...json },
    );
    expect(booked.status, booked.text).toBe(201);
    const a = accounts.get('bs.batxat')!;
    const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    await signInUi(page, base, a.username, a.totpSecret);
    await page.goto(`${base}/visits/${booked.body.id}`);
    await page.getByLabel('Khám và ghi nhận').fill('Tỉnh, đau đầu nhiều.');
    await page.getByLabel('Nhận định').fill('Đau đầu mạn tính');
    await page.getByLabel('Hướng dẫn, theo dõi').fill('Nghỉ ngơi, theo dõi.');
    await page.getByLabel('Tên thuốc, hàm lượng').fill('Morphin sulfat 10 mg');
    await page.getByLabel('Số lượng', { exact: true }).fill('10');
    await page.getByLabel('Cách dùng', { exact: true }).fill('Uống 1 viên khi đau');
    await page.getByLabel('Số ngày', { exact: true }).fill('5');
    const kind = page.getByLabel('Loại đơn thuốc');
    expect(await kind.locator('option').allTextContents()).toEqual([
      'Đơn thuốc thường (c)',
      'Đơn thuốc gây nghiện (n)',
      'Đơn thuốc hướng thần, tiền chất (h)',
      'Đơn thuốc y học cổ truyền (y)',
    ]);
    // Morphin was written: the form has already moved the prescription to kind n, and says why.
    expect(await kind.inputValue()).toBe('n');
    const why = page.locator('.rx-kind .rx-suggest');
    expect(await why.textContent()).toBe(
      'Morphin sulfat 10 mg thuộc nhóm thuốc kiểm soát đặc biệt (ATC N02A): cần kê trên đơn thuốc gây nghiện (n). Hãy kiểm tra lại loại đơn.',
    );
    expect(await why.getAttribute('class')).toBe('rx-suggest');
    // Back to ordinary: the note turns to a warning, and the server refuses it with its own message.
    await kind.selectOption('c');
    expect(await why.getAttribute('class')).toBe('rx-suggest wrong');
    const refused = await call(
      p,
      'POST',
      `/api/visits/${booked.body.id}/complete`,
      {
        findings: 'x',
        assessment: 'x',
        diagnosis: { code: 'G44.2', display: 'Đau đầu do căng thẳng' },
        instructions: 'x',
        prescription: { kind: 'c', items: [{ name: 'Morphin sulfat 10 mg', quantity: 10, unit: 'viên', dosage: 'Uống 1 viên khi đau', days: 5 }] },
      },
      { ...(await signIn(p, a.username, a.totpSecret)), ...json },
    );
    expect(refused.status, refused.text).toBe(400);
    expect(refused.text).toContain('thuộc nhóm thuốc kiểm soát đặc biệt (ATC N02A)');
    await kind.selectOption('n');
    await expect.poll(() => page.locator('.rx-kind .notice').textContent()).toContain('cần xác nhận thêm');
    await page.locator('.rx-kind').scrollIntoViewIfNeeded();
    await shoot(page, 'rx-kind-controlled');
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.getByRole('button', { name: 'Kết thúc khám và lưu' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('Đơn thuốc gây nghiện, hướng thần hoặc tiền chất cần bạn xác nhận và ghi số giấy tờ tùy thân trước khi kê.');
    const still = await call(p, 'GET', `/api/visits/${booked.body.id}`, undefined, citizen);
    expect(still.body.status).toBe('booked');

    await page.getByLabel(/Tôi xác nhận đã kiểm tra chỉ định/).check();
    await page.getByLabel('Số CCCD, CMND hoặc hộ chiếu của người bệnh hoặc người nhận thuốc').fill('001089012345');
    await page.getByRole('button', { name: 'Kết thúc khám và lưu' }).click();
    await page.locator('.rx code').waitFor({ timeout: 20_000 });
    expect(await page.locator('.rx code').innerText()).toMatch(/^[A-Z0-9]{5}[a-z0-9]{7}-n$/);
    await page.context().close();
  });
});
