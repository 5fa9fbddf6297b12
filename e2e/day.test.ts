/**
 * A working day by keyboard and in English, in real Chromium: signing in with Tab and Enter alone
 * (focus ring visible), the clinician opening a chart from the patient list and setting the visit
 * queue's range, the citizen booking on a phone; the English switch covering content labels
 * (booking reasons, answer choices, who holds access, relationship names) and dates in English
 * form; the top bar one line high at 1366 px for the roles with the most menu entries; the new
 * screens (who holds access, the device fleet) screenshotted at 390 and 1366 px without sideways
 * scroll.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, DEMO_PASSWORD, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { seedVisitDemo, type VisitDemo } from '../src/seed/visits.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, signIn as signInApi, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { freshTotpCode } from '../src/testing/totp.ts';
import { shoot } from './shots.ts';
import { openMenu, signInUi } from './ui.ts';

/** What has the focus: its tag, accessible-ish name and whether a focus ring shows. */
interface Focused {
  tag: string;
  name: string;
  href: string;
  ring: boolean;
}

async function focused(page: Page): Promise<Focused> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return { tag: '', name: '', href: '', ring: false };
    const label = (el as HTMLInputElement).labels?.[0]?.textContent ?? '';
    const s = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      name: `${el.getAttribute('name') ?? ''}|${label.trim()}|${el.getAttribute('aria-label') ?? ''}|${(el.textContent ?? '').trim().slice(0, 80)}`,
      href: el.getAttribute('href') ?? '',
      ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none',
    };
  });
}

/** Presses Tab until the focused element matches; fails naming what was reached. */
async function tabTo(page: Page, match: (f: Focused) => boolean, what: string, max = 80): Promise<Focused> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (match(f)) return f;
    seen.push(`${f.tag}:${f.name.slice(0, 40)}`);
  }
  throw new Error(`Tab never reached ${what}; reached: ${seen.join(' / ')}`);
}

describe('a working day by keyboard and in English', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let visitsDemo: VisitDemo;
  let people: Record<string, DemoAccount>;

  beforeAll(async () => {
    p = await startTestPlatform('pglite');
    demo = await seedDemo(p.store, 8);
    people = Object.fromEntries((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    visitsDemo = await seedVisitDemo(p.store, p.visits, demo);
    base = await p.listen();
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('signs in with Tab and Enter alone, with a visible focus ring', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.locator('input[name=username]').waitFor();
    const user = await tabTo(page, (f) => f.name.startsWith('username|'), 'the username field');
    expect(user.ring, 'focus ring on the username field').toBe(true);
    await page.keyboard.type('bs.batxat');
    await page.keyboard.press('Tab');
    expect((await focused(page)).name).toMatch(/^password\|/);
    await page.keyboard.type(DEMO_PASSWORD);
    await page.keyboard.press('Enter');
    await page.locator('input[name=code]').waitFor();
    // The code field takes the focus itself (once it has rendered: a loaded machine may take a moment).
    await expect.poll(async () => (await focused(page)).name, { timeout: 5000 }).toMatch(/^code\|/);
    await page.keyboard.type(await freshTotpCode(people['bs.batxat'].totpSecret!, 'bs.batxat'));
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !location.pathname.startsWith('/login'));
    // The menu's links show the ring too.
    const link = await tabTo(page, (f) => f.tag === 'a' && f.href === '/consults', 'the consults link');
    expect(link.ring, 'focus ring on a menu link').toBe(true);
    await context.close();
  });

  it('the clinician opens a chart from the patient list and sets the visit queue’s range by keyboard', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    await signInUi(page, base, 'bs.batxat', people['bs.batxat'].totpSecret);
    await page.goto(`${base}/patients`);
    await page.locator('main h1').waitFor();
    await tabTo(page, (f) => f.tag === 'input', 'the patient search field');
    await page.keyboard.type('Nguyễn Văn An');
    await page.locator('.patient-card').first().waitFor();
    await tabTo(page, (f) => f.tag === 'a' && /^\/patients\/[A-Za-z0-9\-.]+$/.test(f.href), 'a patient in the list');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/patients\/[A-Za-z0-9\-.]+$/);
    await page.getByText('Penicillin').first().waitFor();
    // The chart's own controls are reachable too (links to visits, consults, devices…).
    const inChart = await tabTo(
      page,
      (f) => (f.tag === 'a' || f.tag === 'button') && !!f.href?.startsWith('/') && !f.href.startsWith('/patients'),
      'a control inside the chart',
    );
    expect(inChart.ring).toBe(true);

    await page.goto(`${base}/visits`);
    await page.locator('main h1').waitFor();
    await tabTo(page, (f) => f.tag === 'input', 'the first day of the queue');
    const select = await tabTo(page, (f) => f.tag === 'select', 'the number of days');
    expect(select.ring).toBe(true);
    const before = await page.locator('main select').first().inputValue();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.locator('main select').first().inputValue()).not.toBe(before);
    await context.close();
  });

  it('the citizen books on a phone by keyboard: service, time, reason, answers, submit', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await context.newPage();
    await signInUi(page, base, 'nguoidan');
    await page.goto(`${base}/me/book`);
    await page.getByRole('radio', { name: /Khám từ xa bệnh mạn tính/ }).waitFor();
    await tabTo(page, (f) => f.tag === 'input' && /Khám từ xa bệnh mạn tính/.test(f.name), 'the chronic-care service');
    await page.keyboard.press('Space');
    expect(await page.getByRole('radio', { name: /Khám từ xa bệnh mạn tính/ }).isChecked()).toBe(true);
    await page.locator('.times button').first().waitFor();
    await tabTo(page, (f) => f.tag === 'button' && /\d{2}:\d{2}/.test(f.name), 'a time');
    await page.keyboard.press('Enter');
    await tabTo(page, (f) => f.tag === 'input' && /Huyết áp cao|Tiểu đường|Mỡ máu/.test(f.name), 'a plain-language reason');
    await page.keyboard.press('Space');
    expect(await page.locator('.reasons input:checked').count()).toBe(1);
    const yesNo = page.getByRole('radiogroup', { name: /dấu hiệu cấp cứu/ });
    await tabTo(page, (f) => f.tag === 'input' && f.name.startsWith('red-flags|'), 'the emergency-signs question');
    await page.keyboard.press('ArrowDown'); // to "Không" (radio groups move with the arrows)
    expect(await yesNo.getByLabel('Không').isChecked()).toBe(true);
    await tabTo(page, (f) => f.tag === 'input' && /Trên 1 tháng|Dưới 1 ngày|1–7 ngày|1–4 tuần/.test(f.name), 'how long');
    await page.keyboard.press('Space');
    await tabTo(page, (f) => f.tag === 'input' && /Huyết áp tự đo/.test(f.name), 'the home blood pressure');
    await page.keyboard.type('150/90');
    await tabTo(page, (f) => f.tag === 'button' && /Đặt lịch/.test(f.name), 'the booking button');
    await page.keyboard.press('Enter');
    await page.locator('.confirm').waitFor();
    await shoot(page, 'day-citizen-booked-by-keyboard');
    await context.close();
  });

  it('in English: booking reasons, answer choices, who holds access with relationship names, and dates in English form', async () => {
    // An emergency access and a shared facility for the consent page to list.
    const doctor = { ...(await signInApi(p, 'bs.bachmai', people['bs.bachmai'].totpSecret)), 'content-type': 'application/json' };
    await call(p, 'POST', '/api/break-glass', { patientId: demo.ids.patients[0], reason: 'Cấp cứu: cần tiền sử dị ứng' }, doctor);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await context.newPage();
    await signInUi(page, base, 'nguoidan');
    await page.goto(`${base}/me/consent`);
    await page.getByRole('heading', { name: 'Ai đang có quyền xem hồ sơ này' }).waitFor();
    // The list comes after the heading (its own request): wait for it before reading it.
    await expect.poll(() => page.locator('.access-holders').innerText(), { timeout: 30_000 }).toContain('Truy cập khẩn cấp');
    const vi = await page.locator('.access-holders').innerText();
    expect(vi).toContain('Đang chăm sóc sức khỏe cho bạn');
    expect(vi).toMatch(/PGS\.TS\.BS Trần Quốc Hưng[\s\S]*Truy cập khẩn cấp[\s\S]*Cấp cứu: cần tiền sử dị ứng[\s\S]*Hết hạn lúc [\d:\s]*\d{2}\/\d{2}\/\d{4}/);
    await shoot(page, 'day-consent-holders');

    await openMenu(page);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Who can read this record now' }).waitFor();
    await expect.poll(() => page.locator('.access-holders').innerText(), { timeout: 30_000 }).toContain('Emergency access');
    const en = await page.locator('.access-holders').innerText();
    expect(en).toContain('Caring for you');
    expect(en).toContain('Emergency access');
    expect(en).toMatch(/Ends at \d{1,2} [A-Z][a-z]{2} \d{4}/);
    expect(en).not.toMatch(/\d{2}\/\d{2}\/\d{4}/);
    expect(en).toContain('registered for your health care');
    // The managed child's page: the manager and how they are related, in English.
    await page.goto(`${base}/me/consent?patient=${visitsDemo.childId}`);
    await page.getByText('Family member managing the record — Parent').waitFor();
    await shoot(page, 'day-consent-holders-en');

    await page.goto(`${base}/me/book`);
    // The service radio, inside the services group: in English a booking reason ("Chronic lung disease…") is a radio
    // too, and a page-wide match picked it while the services were still loading (the suite's old failure).
    const chronic = page.getByRole('group', { name: 'Service' }).getByRole('radio', { name: /Khám từ xa bệnh mạn tính/ });
    await chronic.check();
    // The choice holds once the page's later requests (family, questions, reasons) have answered.
    await page.waitForLoadState('networkidle');
    expect(await chronic.isChecked()).toBe(true);
    expect(await page.locator('.reasons input:checked').count()).toBe(0);
    // (This step failed twice inside the whole suite and never alone: the page's text goes into the error to say why.)
    await page
      .locator('.times button')
      .first()
      .click({ timeout: 30_000 })
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\n--- the booking page showed:\n${(await page.locator('main').innerText()).slice(0, 1500)}`);
      });
    await page.getByText('High blood pressure — follow-up, refill').waitFor();
    await page.getByText('More than a month').waitFor();
    expect(await page.locator('main').innerText()).not.toContain('Trên 1 tháng');
    await context.close();
  });

  it('keeps the top bar on one line at 1366 px for the roles with the most menu entries', async () => {
    for (const username of ['bs.batxat', 'bs.bachmai', 'quantri.laocai', 'dieuphoi']) {
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      const page = await context.newPage();
      await signInUi(page, base, username, people[username].totpSecret);
      await page.locator('.topbar nav a').first().waitFor();
      const bar = await page.evaluate(() => {
        const nav = document.querySelector('.topbar nav')!;
        const boxes = [...nav.children].map((c) => (c as HTMLElement).getBoundingClientRect());
        // One row: every entry overlaps the same horizontal band.
        const oneRow = Math.max(...boxes.map((b) => b.top)) < Math.min(...boxes.map((b) => b.bottom));
        const wrapped = [...nav.querySelectorAll('a, button')].filter(
          (c) => (c as HTMLElement).getClientRects().length > 1 || (c as HTMLElement).offsetHeight > 48,
        );
        return {
          height: document.querySelector('.topbar')!.getBoundingClientRect().height,
          rows: oneRow ? 1 : 2,
          wrapped: wrapped.length,
          items: nav.children.length,
        };
      });
      await page.screenshot({ path: `test-results/day-topbar-${username}-1366.png` });
      expect(bar.items, username).toBeGreaterThan(5);
      expect(bar.rows, `${username}: menu entries on more than one row`).toBe(1);
      expect(bar.wrapped, `${username}: a menu label wraps`).toBe(0);
      expect(bar.height, `${username}: top bar height`).toBeLessThanOrEqual(64);
      await context.close();
    }
  });

  it('the facility administrator’s device fleet, at 390 and 1366 px', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    await signInUi(page, base, 'quantri.laocai', people['quantri.laocai'].totpSecret);
    await page.goto(`${base}/admin?tab=devices`);
    await page.getByRole('heading', { name: /Thiết bị của cơ sở/ }).waitFor();
    await page.locator('.fleet .notice, .fleet-table').first().waitFor();
    const text = await page.locator('.fleet').innerText();
    expect(text).not.toMatch(/Device\/|Organization\//);
    await shoot(page, 'day-admin-fleet');
    await context.close();
  });
});
