/**
 * Notifications in Chromium: the requesting clinician has the app open when the specialist signs a
 * conclusion recommending emergency transfer; the unread count in the top bar goes up live (SSE),
 * an urgent banner appears on the page they are on, the inbox lists it, and opening it marks it
 * read and leads to the case. On a 390 px phone the top bar fits (menu button) with no sideways
 * scrolling, and every menu entry is reachable.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { signInUi } from './ui.ts';
import { chestPainConsult } from '../src/testing/consults.ts';

const badge = async (page: Page) => {
  const b = page.getByTestId('unread-count');
  return (await b.count()) ? Number(await b.innerText()) : 0;
};

describe('inbox: the requester learns of the conclusion at once', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['family', 'consult', 'visits', 'chart'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    base = await p.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  for (const [width, height] of [
    [1366, 900],
    [390, 844],
  ] as const) {
    it(`raises the unread count live and shows the urgent transfer at ${width} px`, async () => {
      const json = { 'content-type': 'application/json' };
      const requester = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
      const specialist = await signIn(p, 'bs.bachmai', accounts.get('bs.bachmai')!.totpSecret);
      const created = await call(p, 'POST', '/api/consults', chestPainConsult(demo), { ...requester, ...json });
      expect(created.status, created.text).toBe(201);
      const caseId = created.body.caseId as string;
      const accepted = await call(
        p,
        'POST',
        `/api/consults/${caseId}/triage`,
        { action: 'accept', specialistIds: [demo.ids.practitioners[0]] },
        { ...specialist, ...json },
      );
      expect(accepted.status, accepted.text).toBe(200);

      const page = await browser.newPage({ viewport: { width, height }, ...(width < 500 ? { isMobile: true, hasTouch: true } : {}) });
      await signInUi(page, base, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
      await page.goto(`${base}/consults`);
      await page.locator('.bell').waitFor();
      await page.waitForTimeout(500); // the first count and the event stream
      const before = await badge(page);

      const drafted = await call(
        p,
        'PUT',
        `/api/consults/${caseId}/conclusion`,
        {
          assessment: 'Hội chứng vành cấp',
          diagnosis: { code: 'I20.9' },
          recommendations: 'Chuyển ngay lên tuyến trên',
          transfer: true,
          actionUrgency: 'emergency',
        },
        { ...specialist, ...json },
      );
      expect(drafted.status, drafted.text).toBeLessThan(300);
      expect((await call(p, 'POST', `/api/consults/${caseId}/conclusion/sign`, {}, { ...specialist, ...json })).status).toBe(200);

      // Without reloading: the count goes up and the urgent banner appears.
      await expect.poll(() => badge(page), { timeout: 15_000 }).toBeGreaterThan(before);
      const banner = page.locator('.urgent-banner');
      await banner.waitFor();
      expect(await banner.innerText()).toMatch(/Khẩn:.*thông báo khẩn chưa đọc/);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await page.screenshot({ path: `test-results/inbox-banner-${width}.png` });

      await page.locator('.bell').click();
      await page.waitForURL(/\/inbox/);
      const item = page.locator('.notifications li.urgent').first();
      await item.waitFor();
      expect(await item.innerText()).toMatch(/KHẨN: Kết luận hội chẩn đề nghị chuyển người bệnh lên tuyến trên/);
      await page.screenshot({ path: `test-results/inbox-${width}.png`, fullPage: true });
      const unreadBefore = await badge(page);
      await item.getByRole('button').first().click();
      await page.waitForURL(new RegExp(`/consults/${caseId}$`));
      await expect.poll(() => badge(page)).toBe(unreadBefore - 1);
      await page.close();
    });
  }

  it('fits the phone: a menu button opens every entry, sign-out and English included', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signInUi(page, base, 'nguoidan');
    await page.goto(`${base}/me`);
    const toggle = page.getByRole('button', { name: /Menu/ });
    await toggle.waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await toggle.click();
    for (const name of ['Đăng xuất', 'English']) {
      const b = page.getByRole('button', { name, exact: true });
      expect(await b.isVisible()).toBe(true);
      const box = (await b.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    for (const name of ['Hồ sơ của tôi', 'Ai đã xem hồ sơ', 'Chia sẻ dữ liệu']) {
      const link = page.getByRole('navigation').getByRole('link', { name, exact: true });
      expect(await link.isVisible()).toBe(true);
    }
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: 'test-results/citizen-menu-390.png' });
    await page.close();
  });
});
