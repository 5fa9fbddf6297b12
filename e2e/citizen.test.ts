/**
 * The citizen on a 390 px phone: booking names the reason in plain words (no ICD-10 code is asked;
 * the code of the Circular 30 list is sent behind the scenes); a dangerous home blood pressure
 * (≥ 180/110) tells them at once to call 115 or go to the station; the record says so when a
 * section is empty; no page scrolls sideways.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { seedVisitDemo } from '../src/seed/visits.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { signInUi } from './ui.ts';

const sideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe('citizen on a phone', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['family', 'consult', 'visits', 'chart'] });
    demo = await seedDemo(p.store, 8);
    await createDemoAccounts(p.db, p.accounts, demo);
    await seedVisitDemo(p.store, p.visits, demo);
    base = await p.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('books with a plain-language reason and is told at once what to do for a dangerous blood pressure', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signInUi(page, base, 'nguoidan');
    await page.goto(`${base}/me/book`);
    await page.getByRole('radio', { name: /Khám từ xa bệnh mạn tính/ }).check();
    await page.locator('.times button').first().click();
    const text = await page.locator('main').innerText();
    expect(text).toContain('Bạn cần khám về vấn đề gì?');
    expect(text).not.toMatch(/ICD/);
    await page.getByRole('radio', { name: /^Huyết áp cao/ }).check();
    await page
      .getByRole('radiogroup', { name: /dấu hiệu cấp cứu/ })
      .getByLabel('Không')
      .check();
    await page
      .getByRole('radiogroup', { name: /kéo dài bao lâu/ })
      .getByLabel('Trên 1 tháng')
      .check();
    await page.getByLabel(/Huyết áp tự đo gần nhất/).fill('185/115');
    const advice = page.locator('.danger-advice');
    await advice.waitFor();
    expect(await advice.innerText()).toMatch(/Huyết áp của bạn đang ở mức nguy hiểm[\s\S]*185\/115[\s\S]*GỌI NGAY 115/);
    expect(await advice.getByRole('link', { name: /Gọi 115/ }).getAttribute('href')).toBe('tel:115');
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'test-results/citizen-danger-390.png', fullPage: true });
    // A safe reading: the advice goes away; the booking carries the list's code.
    await page.getByLabel(/Huyết áp tự đo gần nhất/).fill('150/90');
    expect(await advice.count()).toBe(0);
    await page.getByRole('button', { name: 'Đặt lịch', exact: true }).click();
    await page.locator('.confirm').waitFor();
    const [booked] = await p.fixtures.search<Appointment>('Appointment', { patient: `Patient/${demo.ids.patients[0]}`, status: 'booked' });
    expect(booked.reasonCode?.[0]?.coding?.[0]?.code).toBe('I10');
    await page.screenshot({ path: 'test-results/citizen-booked-390.png', fullPage: true });
    await page.close();
  });

  it('says so when a section of the record is empty', async () => {
    // A citizen with an empty record: the second demo patient has no allergy recorded.
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await p.accounts.create({
      username: 'dan2',
      displayName: 'Người dân 2',
      kind: 'citizen',
      password: 'CauYTe-Demo-2026',
      patientId: demo.ids.patients[1],
      roles: [],
    });
    await signInUi(page, base, 'dan2');
    await page.goto(`${base}/me`);
    await page.getByText('Chưa ghi nhận dị ứng nào.').waitFor();
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'test-results/citizen-record-390.png', fullPage: true });
    await page.close();
  });
});
