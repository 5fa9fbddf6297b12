/**
 * Early warning in the browser, on the surveillance demo (16 weeks of coded diagnoses in five Lào
 * Cai communes, a dengue outbreak injected in Xã Bát Xát): the provincial disease-control officer
 * (ytdp.laocai) signs in, sees the outbreak's signals and the commune's weekly chart, confirms one
 * with a note; a single cholera case (Group A) written afterwards raises the alert on the page and
 * an urgent notification in the inbox. Screenshots at 390 px and 1366 px go to test-results/.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { Condition, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiseaseControlAccount, type DemoAccount } from '../src/seed/accounts.ts';
import { seedSurveillanceDemo } from '../src/surveillance/seed.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { signInUi } from './ui.ts';
import { shoot } from './shots.ts';

describe('early warning in the browser', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let officer: DemoAccount;
  let page: Page;

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['programme', 'surveillance'] });
    const demo = await seedSurveillanceDemo(p.store);
    expect(demo.conditions).toBeGreaterThan(100);
    officer = await createDiseaseControlAccount(p.accounts, demo.centreId);
    base = await p.listen();
    browser = await launchBrowser();
    mkdirSync('test-results', { recursive: true });
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    page = await context.newPage();
    await signInUi(page, base, officer.username, officer.totpSecret);
  }, 480_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('the officer sees the outbreak’s signals and chart, and confirms one with a note', async () => {
    await page.goto(`${base}/surveillance`);
    await expect.poll(() => page.getByTestId('sv-province').textContent()).toBe('Tỉnh Lào Cai');
    const table = page.getByTestId('signals');
    const batXat = table.locator('tr', { hasText: 'Xã Bát Xát' }).filter({ hasText: 'Sốt xuất huyết Dengue' });
    expect(await batXat.count()).toBeGreaterThan(0);
    // The chart of the first signal's place: weekly bars, the outbreak weeks marked.
    const chart = page.getByTestId('series');
    await expect.poll(() => chart.locator('h2').textContent()).toContain('Xã Bát Xát');
    expect(await chart.locator('rect[fill="#c62828"]').count()).toBeGreaterThan(0);
    await shoot(page, 'surveillance-signals');

    const row = batXat.filter({ hasText: 'EARS C1' }).first();
    await row.getByRole('button', { name: 'Xác nhận' }).click();
    // A decision needs a note.
    await row.getByRole('button', { name: 'Xác nhận' }).click();
    expect(await row.locator('textarea:invalid').count()).toBe(1);
    await row.locator('textarea').fill('Đã xác minh với Trạm Y tế xã Bát Xát: 11 ca sốt, 6 ca NS1 dương tính');
    await row.getByRole('button', { name: 'Xác nhận' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Đã lưu quyết định.');
    const confirmed = table.locator('tr', { hasText: 'Đã xác minh với Trạm Y tế xã Bát Xát' });
    await expect.poll(() => confirmed.count()).toBe(1);
    expect(await confirmed.locator('.badge.sv-confirmed').textContent()).toBe('Đã xác nhận');
    const rows = await p.db.query<{ note: string; status: string }>("SELECT note, status FROM surveillance_signal WHERE status = 'confirmed'");
    expect(rows.rows).toEqual([{ note: 'Đã xác minh với Trạm Y tế xã Bát Xát: 11 ca sốt, 6 ca NS1 dương tính', status: 'confirmed' }]);
  });

  it('a single Group-A case raises the alert on the page and an urgent notification', async () => {
    const patient = await p.fixtures.create<Patient>({
      resourceType: 'Patient',
      name: [{ family: 'Giàng', given: ['A Páo'] }],
      address: [{ use: 'home', city: 'Xã A Mú Sung', state: 'Tỉnh Lào Cai', country: 'VN' }],
    });
    await p.fixtures.create<Condition>({
      resourceType: 'Condition',
      subject: { reference: `Patient/${patient.id}` },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'A00.9', display: 'Bệnh tả' }] },
      onsetDateTime: new Date().toISOString(),
    });
    await page.goto(`${base}/inbox`);
    const note = page.locator('.title', { hasText: 'Cảnh báo bệnh nhóm A: Tả — Xã A Mú Sung' });
    await expect.poll(() => note.count()).toBe(1);
    await note.click();
    await page.waitForURL(/\/surveillance\?signal=\d+/);
    const alert = page.getByTestId('group-a');
    await expect.poll(() => alert.locator('tr', { hasText: 'Xã A Mú Sung' }).count()).toBe(1);
    expect(await alert.textContent()).toContain('Một ca nhóm A');
    await shoot(page, 'surveillance-group-a');
  });
});
