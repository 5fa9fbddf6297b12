/** The web app in real Chromium: search accent-insensitively, open a chart, read Vietnamese. */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { signInUi } from './ui.ts';

describe('web shell', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let doctor: DemoAccount;
  beforeAll(async () => {
    p = await startTestPlatform('pglite');
    const demo = await seedDemo(p.store, 20);
    doctor = (await createDemoAccounts(p.db, p.accounts, demo)).accounts.find((a) => a.username === 'bs.batxat')!;
    base = await p.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('searches "nguyen", opens a chart and shows Vietnamese text', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await signInUi(page, base, doctor.username, doctor.totpSecret);
    await page.goto(`${base}/`);
    expect(await page.getAttribute('html', 'lang')).toBe('vi');
    await page.fill('input[type=search]', 'nguyen');
    await page.waitForURL(/\?q=nguyen$/); // the app records the query once its answer is shown
    const folded = (n: string) => n.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    const names = await page.locator('.patient-name').allInnerTexts();
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(folded(n)).toMatch(/nguyen/);
    const first = page.locator('.patient-card', { hasText: 'Nguyễn Văn An' });
    await first.click();
    await page.waitForSelector('.facts');
    expect(page.url()).toMatch(/\/patients\/[\w-]+$/);
    const text = await page.locator('main').innerText();
    expect(text).toContain('Nguyễn Văn An');
    expect(text).toContain('Thông tin hành chính');
    expect(text).toContain('Bệnh và vấn đề sức khỏe');
    expect(text).toContain('Tăng huyết áp vô căn');
    expect(text).toContain('Huyết áp');
    expect(text).toMatch(/Số CCCD\s+0\d{11}/);
    // The chart is drawn (uPlot, loaded with the first chart, renders into a canvas) and the table lists readings.
    await page.locator('.chart canvas').first().waitFor();
    expect(await page.locator('table.obs tbody tr').count()).toBeGreaterThan(5);
    // Text is Unicode NFC as stored, not decomposed or mangled.
    const heading = await page.locator('h1').innerText();
    expect(heading.startsWith('Nguyễn Văn An'.normalize('NFC'))).toBe(true);
    await page.screenshot({ path: 'test-results/chart-desktop.png', fullPage: true });

    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(() => page.locator('main').innerText()).toContain('Demographics');
    await page.getByRole('button', { name: 'Tiếng Việt' }).click();
    await page.close();
  });

  it('works on a phone-sized screen without sideways scrolling', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    await signInUi(page, base, doctor.username, doctor.totpSecret);
    await page.goto(`${base}/patients?q=${encodeURIComponent('đặng')}`);
    await page.waitForSelector('.count');
    await expect.poll(() => page.locator('.count').innerText()).toMatch(/người bệnh/);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const box = await page.locator('input[type=search]').boundingBox();
    expect(box!.height).toBeGreaterThanOrEqual(44); // touch target
    await page.screenshot({ path: 'test-results/search-phone.png' });
    await page.close();
  });

  it('shows a readable error instead of a blank page when a chart does not exist', async () => {
    const page = await browser.newPage();
    await signInUi(page, base, doctor.username, doctor.totpSecret);
    await page.goto(`${base}/patients/no-such-patient`);
    await page.waitForSelector('.refused');
    expect(await page.locator('.refused').innerText()).toMatch(/Không tìm thấy người bệnh này/);
    await page.close();
  });
});
