/**
 * Bridge-point readiness in the browser: a commune station's administrator runs the equipment
 * check from the facility screen (Chromium with fake camera and microphone); the page measures
 * download, upload, round trip and whether only a relay gets through, sends it, and the stored
 * check — with the TURN verdict — is what the screen then shows, for the site and for the Ministry.
 * Run twice: without STUN/TURN (a LAN deployment: host candidates are the path), and with a STUN
 * server that never answers (nothing gets out: the check is not successful).
 */
import type { Browser } from 'playwright-core';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../src/seed/accounts.ts';
import { launchBrowser } from '../src/testing/browser.ts';
import { call, freePort, startTestPlatform, type TestPlatform } from '../src/testing/platform.ts';
import type { ReadinessView } from '../src/programme/contract.ts';
import { signInUi } from './ui.ts';

describe.each([
  ['without STUN/TURN', false],
  ['with a STUN server that never answers', true],
] as const)('bridge-point check in the browser, %s', (_name, deadStun) => {
  let p: TestPlatform;
  let base: string;
  let browser: Browser;
  let orgId: string;
  let totp: string;

  beforeAll(async () => {
    const env: Record<string, string> = deadStun ? { STUN_URLS: `stun:127.0.0.1:${await freePort()}` } : {};
    p = await startTestPlatform('pglite', env, undefined, { domains: ['video', 'programme'] });
    const admin = await p.tokenFor('system_admin');
    const f = await call<{ id: string }>(
      p,
      'POST',
      '/api/programme/facilities',
      { code: '15R01', name: 'Trạm Y tế xã Sín Thầu', level: 'commune', owner: 'public', provinceCode: 15, communeCode: 2686 },
      { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    );
    expect(f.status).toBe(201);
    orgId = f.body.id;
    totp = new Secret({ size: 20 }).base32;
    await p.accounts.create({
      username: 'quantri.sinthau',
      displayName: 'Quản trị Trạm Y tế xã Sín Thầu',
      kind: 'staff',
      password: DEMO_PASSWORD,
      roles: [{ role: 'facility_admin', organizationId: orgId }],
      totpSecret: totp,
    });
    base = await p.listen();
    browser = await launchBrowser({ media: true });
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  it('runs the check from the facility screen, stores it for the site and shows it', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const pg = await context.newPage();
    await signInUi(pg, base, 'quantri.sinthau', totp);
    await pg.goto(`${base}/programme/facilities`);
    const card = pg.getByTestId(`readiness-${orgId}`);
    await expect.poll(async () => card.getByTestId('last-check').textContent(), { timeout: 20_000 }).toContain('Chưa kiểm tra');
    await card.getByRole('button', { name: 'Kiểm tra thiết bị điểm cầu' }).click();
    await expect.poll(async () => (await card.getByTestId('turn').count()) > 0, { timeout: 30_000 }).toBe(true);
    // What the server stored is what the page shows.
    const ministry = await p.tokenFor('analyst');
    const v = (await call<ReadinessView>(p, 'GET', `/api/programme/readiness/${orgId}`, undefined, { authorization: `Bearer ${ministry}` })).body;
    expect(v.lastCheck).toMatchObject({ camera: true, microphone: true, turn: false });
    expect(v.lastCheck!.downKbps).toBeGreaterThan(0);
    expect(v.lastCheck!.upKbps).toBeGreaterThan(0);
    expect(v.lastCheck!.rttMs).toBeGreaterThanOrEqual(0);
    const text = (await card.getByTestId('last-check').textContent()) ?? '';
    expect(text).toContain('Kết nối trực tiếp được');
    if (deadStun) {
      // Nothing came back from the STUN server: not a successful check.
      expect(v.lastCheck!.ok).toBe(false);
      expect(v.lastSuccessfulCheck).toBeUndefined();
      expect(text).toContain('Thiết bị chưa đạt');
    } else {
      // On loopback every measure is well within READY.
      expect(v.lastCheck!.ok).toBe(true);
      expect(v.lastSuccessfulCheck).toBe(v.lastCheck!.at);
      expect(text).toContain('Thiết bị đạt yêu cầu');
      await expect.poll(async () => card.getByTestId('last-good-check').textContent()).not.toContain('Chưa có');
    }
    await context.close();
  }, 120_000);
});
