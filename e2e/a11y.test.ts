/**
 * Accessibility: axe-core (WCAG 2 A/AA rules) over the main pages of every role, in real Chromium.
 * No serious or critical violation may remain; the report names the rule and the elements.
 * Keyboard: the operators' main controls are reached with Tab alone.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { signInUi } from './ui.ts';

async function seriousViolations(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page: page as never }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 5)
          .join(' | ')}`,
    );
}

describe('accessibility (axe-core)', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let people: Record<string, DemoAccount>;
  beforeAll(async () => {
    p = await startTestPlatform('pglite');
    demo = await seedDemo(p.store, 10);
    people = Object.fromEntries((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    base = await p.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  const PAGES: [string | undefined, string[]][] = [
    [undefined, ['/login']],
    ['quantri.laocai', ['/admin', '/admin?tab=clients', '/admin?tab=facilities', '/programme/declaration']],
    ['quantri', ['/admin']],
    ['baovedulieu', ['/audit']],
    ['thongke', ['/indicators']],
    ['dieuphoi', ['/patients', '/consults', '/meetings/new', '/meetings']],
    ['bs.batxat', ['/patients', '/visits', '/alerts', '/patients/:patient', '/patients/:otherPatient']],
    ['bs.bachmai', ['/training/teach']],
    ['nguoidan', ['/me', '/me/visits', '/me/consent', '/me/access-log']],
  ];

  for (const [username, paths] of PAGES) {
    it(`${username ?? 'signed out'}: ${paths.join(', ')}`, async () => {
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      const page = await context.newPage();
      if (username) await signInUi(page, base, username, people[username].totpSecret);
      const problems: string[] = [];
      for (const path of paths) {
        // Two demo patients' charts (one may belong to another facility: then the refusal with break-the-glass is checked).
        const at = path.replace(':patient', demo.ids.patients[0]).replace(':otherPatient', demo.ids.patients[demo.ids.patients.length - 1]);
        await page.goto(`${base}${at}`);
        await page.locator('main h1, main h2').first().waitFor();
        await page.waitForLoadState('networkidle');
        for (const v of await seriousViolations(page)) problems.push(`${path}: ${v}`);
      }
      await context.close();
      expect(problems).toEqual([]);
    });
  }

  it('the check itself finds a serious violation when there is one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.setContent(
      '<html lang="vi"><body><main><h1>x</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text"></main></body></html>',
    );
    const found = await seriousViolations(page);
    expect(found.some((v) => v.startsWith('image-alt'))).toBe(true);
    expect(found.some((v) => v.startsWith('label'))).toBe(true);
    await context.close();
  });

  it('the officer reaches the filters, the export and the pager by keyboard', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    await signInUi(page, base, 'baovedulieu', people.baovedulieu.totpSecret);
    await page.goto(`${base}/audit`);
    await page.locator('.audit-entry').first().waitFor();
    const reached = new Set<string>();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const label = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el ? (el.getAttribute('name') ?? el.textContent?.trim() ?? '') : '';
      });
      reached.add(label);
    }
    for (const name of ['who', 'patient', 'action', 'outcome', 'from', 'to', 'breakGlass', 'Lọc', 'Xuất CSV', 'Cũ hơn →'])
      expect([...reached], name).toContain(name);
    await context.close();
  });
});
