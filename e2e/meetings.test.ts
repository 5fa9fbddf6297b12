/**
 * The coordinator's day in real Chromium: schedules a case conference with searchable pickers
 * (bridge points and participants searched on the server; the chair is the coordinator unless
 * changed), lands on the meeting page that shows names — patient and question, bridge points with
 * their state, chair — and never a record id, and finds the meeting in the week calendar.
 * Screenshots at 390 px and 1366 px; no horizontal scroll on a phone.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, signIn as signInApi, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { shoot } from './shots.ts';
import { signInUi } from './ui.ts';
import { cardiologyConsult } from '../src/testing/consults.ts';

describe('coordinator: case-conference meetings', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let people: Record<string, DemoAccount>;
  let patientName: string;
  beforeAll(async () => {
    p = await startTestPlatform('pglite');
    demo = await seedDemo(p.store, 10);
    people = Object.fromEntries((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    const json = { 'content-type': 'application/json' };
    const commune = { ...(await signInApi(p, 'bs.batxat', people['bs.batxat'].totpSecret)), ...json };
    const specialist = { ...(await signInApi(p, 'bs.bachmai', people['bs.bachmai'].totpSecret)), ...json };
    const created = await call(
      p,
      'POST',
      '/api/consults',
      cardiologyConsult(demo, {
        urgency: 'urgent',
        reason: 'Tăng huyết áp kháng trị, cần chỉnh phác đồ',
        summary: { history: 'THA 5 năm', findings: 'HA 185/110', vitals: 'HA 185/110', treatment: 'Amlodipin', question: 'Phác đồ phối hợp?' },
      }),
      commune,
    );
    expect(created.status, created.text).toBe(201);
    const accepted = await call(
      p,
      'POST',
      `/api/consults/${created.body.caseId}/triage`,
      { action: 'accept', specialistIds: [demo.ids.practitioners[0]] },
      specialist,
    );
    expect(accepted.status, accepted.text).toBe(200);
    patientName = 'Nguyễn Văn An';
    base = await p.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('schedules with searchable pickers, sees names not ids, finds it in the calendar', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    await signInUi(page, base, 'dieuphoi', people.dieuphoi.totpSecret);
    await page.goto(`${base}/meetings/new`);
    await page.getByLabel('Tên phiên').fill('Hội chẩn tim mạch tuần này');
    await page.getByLabel(new RegExp(patientName)).check();
    // The chair is the coordinator scheduling; her own hospital's bridge point is already there.
    const chair = page.locator('[data-picker="chair"]');
    expect(await chair.locator('.chip').innerText()).toContain('Lê Thị Minh Hằng');
    const sites = page.locator('[data-picker="sites"]');
    await sites.locator('.chip', { hasText: 'Bệnh viện Bạch Mai' }).waitFor();
    await sites.getByRole('searchbox').fill('bat xat'); // accents optional, searched on the server
    await sites.getByRole('button', { name: /Trạm Y tế xã Bát Xát/ }).click();
    const participants = page.locator('[data-picker="participants"]');
    await participants.getByRole('searchbox').fill('giang');
    await participants.locator('.picker-results button').first().click();
    expect(await participants.locator('.chip').count()).toBe(1);
    await shoot(page, 'meeting-form');
    await page.getByRole('button', { name: 'Lên lịch', exact: true }).click();
    await page.waitForURL(/\/meetings\/[\w-]+$/);
    await page.locator('.agenda-cases li').first().waitFor();
    const text = await page.locator('main').innerText();
    expect(text).toContain(patientName);
    expect(text).toContain('Tăng huyết áp kháng trị');
    expect(text).toContain('Trạm Y tế xã Bát Xát');
    expect(text).toContain('Đã mời');
    expect(text).toMatch(/Lê Thị Minh Hằng · Chủ trì/);
    expect(text).not.toMatch(/(ServiceRequest|Location|Organization|Practitioner)\//);
    await shoot(page, 'meeting-page');

    // The meeting is tomorrow by default, which on a Sunday (Vietnam time) is next week: the
    // meeting page's link opens the calendar on the meeting's own week.
    await page.getByRole('link', { name: 'Xem trên lịch' }).click();
    await page.waitForURL(/\/meetings\?day=\d{4}-\d{2}-\d{2}$/);
    await page.getByRole('heading', { name: 'Lịch phiên hội chẩn' }).waitFor();
    await page.getByText('Hội chẩn tim mạch tuần này').first().waitFor();
    await page.getByRole('button', { name: 'Ngày', exact: true }).click();
    await page.getByRole('button', { name: 'Tuần', exact: true }).click();
    await page.getByText('Hội chẩn tim mạch tuần này').first().waitFor();
    await shoot(page, 'meeting-calendar');
    await context.close();
  });
});
