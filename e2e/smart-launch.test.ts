/**
 * SMART App Launch with the real `fhirclient` library (its browser build) in Chromium, from a
 * small third-party app served on another origin (so CORS is exercised as for any real app):
 * - EHR launch: a clinician opens the app from the patient chart ("Mở ứng dụng"); the app
 *   (FHIR.oauth2.authorize → ready) gets a token for the launch patient, reads that patient, and is
 *   refused another patient the clinician could see in the chart.
 * - Standalone launch: a citizen starts the app; the consent screen names the app and the scopes in
 *   Vietnamese (screenshots at 390 and 1366 px); after "Cho phép" the app reads the citizen's own
 *   record, and a refresh token (offline_access) is granted.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle } from '@medplum/fhirtypes';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerClient } from '../src/auth/oauth.ts';
import { createDemoAccounts, type DemoAccount } from '../src/seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../src/seed/demo.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import { shoot } from './shots.ts';
import { signInUi } from './ui.ts';

const FHIRCLIENT = readFileSync(new URL('../node_modules/fhirclient/build/fhir-client.js', import.meta.url), 'utf8');

/** The third-party app: three pages that use fhirclient as its documentation shows. */
function appPages(clientId: string, otherPatient: () => string): Record<string, string> {
  const page = (script: string) =>
    `<!doctype html><html><head><meta charset="utf-8"><title>Test SMART app</title><script src="/fhir-client.js"></script></head><body><pre id="out">…</pre><script>${script}</script></body></html>`;
  return {
    '/launch.html': page(
      `FHIR.oauth2.authorize({ clientId: ${JSON.stringify(clientId)}, scope: 'launch openid fhirUser patient/*.rs', redirectUri: './app.html' });`,
    ),
    '/standalone.html': page(
      `FHIR.oauth2.authorize({ clientId: ${JSON.stringify(clientId)}, scope: 'launch/patient openid fhirUser offline_access patient/*.rs', redirectUri: './app.html', iss: new URLSearchParams(location.search).get('iss') });`,
    ),
    '/app.html': page(`
      FHIR.oauth2.ready().then(async (client) => {
        const result = { patientId: client.patient.id, encounterId: client.encounter.id, fhirUser: client.user.fhirUser, refresh: !!client.state.tokenResponse.refresh_token };
        const p = await client.patient.read();
        result.readName = p.name && p.name[0] && p.name[0].family;
        result.readId = p.id;
        try { await client.request('Patient/' + ${JSON.stringify(otherPatient())}); result.other = 'allowed'; }
        catch (e) { result.other = e.status || e.statusCode || String(e); }
        window.smartResult = result;
        document.getElementById('out').textContent = JSON.stringify(result);
      }).catch((e) => { window.smartResult = { error: String(e) }; document.getElementById('out').textContent = String(e); });
    `),
  };
}

describe('SMART App Launch with fhirclient in Chromium', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let base: string;
  let browser: Browser;
  let appServer: Server;
  let appOrigin: string;
  let clientId: string;
  let launchPatient: string;
  let otherPatient = '';
  let pages: Record<string, string> = {};

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['chart'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    base = await p.listen();
    // Two patients the clinician reaches: the app is launched for the first and must not read the second.
    const a = accounts.get('bs.batxat')!;
    const seen = await call<Bundle>(p, 'GET', '/fhir/R4/Patient?_count=100', undefined, await signIn(p, a.username, a.totpSecret));
    const reachable = seen.body.entry!.map((e) => e.resource!.id!);
    launchPatient = reachable.find((id) => id !== demo.ids.patients[0])!;
    otherPatient = demo.ids.patients[0];
    expect(reachable).toContain(otherPatient);

    appServer = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/fhir-client.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(FHIRCLIENT);
      const html = pages[path];
      if (!html) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    });
    await new Promise<void>((r) => appServer.listen(0, '127.0.0.1', r));
    appOrigin = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;
    clientId = (
      await registerClient(p.db, {
        name: 'Sổ theo dõi huyết áp',
        redirectUris: [`${appOrigin}/app.html`],
        scopes: ['launch', 'launch/patient', 'openid', 'fhirUser', 'offline_access', 'patient/*.rs'],
        grantTypes: ['authorization_code'],
        confidential: false,
        launchUri: `${appOrigin}/launch.html`,
      })
    ).clientId;
    pages = appPages(clientId, () => otherPatient);
    browser = await launchBrowser();
    mkdirSync('test-results', { recursive: true });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => appServer?.close(r));
    await p?.close();
  });

  const resultOf = async (pg: Page) => {
    await pg.waitForFunction(() => (window as unknown as { smartResult?: unknown }).smartResult, undefined, { timeout: 30_000 });
    return pg.evaluate(() => (window as unknown as { smartResult: Record<string, unknown> }).smartResult);
  };

  it('EHR launch from the chart: the app reads the launch patient and is refused another', async () => {
    const a = accounts.get('bs.batxat')!;
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const chart = await context.newPage();
    await signInUi(chart, base, a.username, a.totpSecret);
    await chart.goto(`${base}/patients/${launchPatient}`);
    const button = chart.getByRole('group', { name: 'Mở ứng dụng' }).getByRole('button', { name: 'Sổ theo dõi huyết áp' });
    const [app] = await Promise.all([context.waitForEvent('page'), button.click()]);
    const result = await resultOf(app);
    expect(result.error).toBeUndefined();
    expect(result.patientId).toBe(launchPatient);
    expect(result.readId).toBe(launchPatient);
    expect(result.fhirUser).toBe(`Practitioner/${demo.ids.practitioners[6]}`);
    expect(result.other).toBe(403);
    expect(new URL(app.url()).origin).toBe(appOrigin);
    // The app's reads are in the audit trail under the app.
    const reads = await p.audit.list({ limit: 50 });
    expect(reads.some((e) => e.client_id === clientId && e.patient_ids?.includes(launchPatient))).toBe(true);
    await context.close();
  });

  it('standalone launch by a citizen: the consent screen in Vietnamese, then the own record only', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const pg = await context.newPage();
    await signInUi(pg, base, 'nguoidan');
    otherPatient = demo.ids.patients[1];
    pages = appPages(clientId, () => otherPatient);
    await pg.goto(`${appOrigin}/standalone.html?iss=${encodeURIComponent(`${base}/fhir/R4`)}`);
    await pg.waitForURL(/\/apps\/authorize\?request=/);
    const card = pg.locator('.app-consent');
    await expect.poll(() => card.textContent()).toContain('Ứng dụng “Sổ theo dõi huyết áp” xin quyền truy cập hồ sơ sức khỏe của bạn.');
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('Hồ sơ của bạn: xem, tìm kiếm — mọi loại dữ liệu');
    expect(text).toContain('Biết bạn là ai (đăng nhập một lần)');
    expect(text).toContain('Tiếp tục truy cập khi bạn không dùng ứng dụng (tối đa 30 ngày)');
    expect(text).toContain('127.0.0.1');
    await shoot(pg, 'smart-consent');
    await pg.setViewportSize({ width: 1366, height: 900 });
    await pg.getByRole('button', { name: 'Cho phép' }).click();
    const result = await resultOf(pg);
    expect(result.error).toBeUndefined();
    expect(result.patientId).toBe(demo.ids.patients[0]);
    expect(result.readId).toBe(demo.ids.patients[0]);
    expect(result.fhirUser).toBe(`Patient/${demo.ids.patients[0]}`);
    expect(result.refresh).toBe(true);
    expect(result.other).toBe(403);
    await context.close();
  });
});
