/**
 * A reading over threshold reaches the clinician's open alerts page by itself (pushed, no reload),
 * exactly once per episode. How fast is measured, not asserted: the test prints it, and
 * `npm run bench -- --suite ingest` measures the alert latency (PUBLISH → live stream) as a median and p95.
 */
import mqtt from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { signInUi } from './ui.ts';

describe('live alerts in the browser', () => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let demo: DemoSummary;
  let doctor: DemoAccount;
  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['devices'] });
    demo = await seedDemo(p.store, 8);
    doctor = (await createDemoAccounts(p.db, p.accounts, demo)).accounts.find((a) => a.username === 'bs.batxat')!;
    base = await p.listen();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('shows exactly one alert, pushed to the open page, for an episode of dangerous readings', async () => {
    const clinician = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });
    const reg = await call(
      p,
      'POST',
      '/api/devices',
      { type: 'bp', name: 'Máy đo huyết áp', serial: 'BP-1', patientId: demo.ids.patients[0] },
      { authorization: `Bearer ${clinician}`, 'content-type': 'application/json' },
    );
    expect(reg.status, reg.text).toBe(201);
    const { device, token } = reg.body as { device: { id: string }; token: string };
    const page = await browser.newPage();
    await signInUi(page, base, doctor.username, doctor.totpSecret);
    await page.goto(`${base}/alerts`);
    await page.waitForSelector('text=Không có cảnh báo nào đang mở');
    await page.evaluate(() => ((window as unknown as { loads: number }).loads = 1)); // gone if the page reloads
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { username: device.id, password: token, clientId: device.id });
    const topic = `cauyte/devices/${device.id}/readings`;
    const sent = Date.now();
    await client.publishAsync(
      topic,
      JSON.stringify({ msgId: 'x1', time: new Date().toISOString(), readings: [{ type: 'bp', systolic: 190, diastolic: 115, unit: 'mm[Hg]' }] }),
      { qos: 1 },
    );
    // On screen without a reload (the requirement is within a second: measured, printed, not asserted).
    await page.waitForSelector('li.alert', { timeout: 15_000 });
    console.log(`alert on the open page ${Date.now() - sent} ms after the reading was published`);
    expect(await page.evaluate(() => (window as unknown as { loads?: number }).loads)).toBe(1);
    expect(await page.locator('li.alert').innerText()).toMatch(/Nguy hiểm[\s\S]*190\/115/);
    // More readings of the same episode: still one alert.
    for (const [i, s] of [185, 200].entries()) {
      await client.publishAsync(
        topic,
        JSON.stringify({ msgId: `x${i + 2}`, time: new Date().toISOString(), readings: [{ type: 'bp', systolic: s, diastolic: 112, unit: 'mm[Hg]' }] }),
        { qos: 1 },
      );
    }
    await page.waitForTimeout(700);
    expect(await page.locator('li.alert').count()).toBe(1);
    await page.getByRole('button', { name: 'Xác nhận đã xem cảnh báo' }).click();
    await expect.poll(() => page.locator('li.alert').innerText()).toContain('đã nhận');
    await page.screenshot({ path: 'test-results/alerts.png' });
    await client.endAsync();
    await page.close();
  });
});
