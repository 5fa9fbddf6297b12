/**
 * Attacker's review of SMART App Launch (2026-11-30), kept as tests. Each `it` asserts the secure
 * behaviour and failed on the code as reviewed.
 *
 * A2. A facility administrator (account.manage) registered an app whose redirect_uri or launch
 *     address was a `javascript:` (or `data:`) URL: zod's `.url()` takes any scheme. The consent
 *     screen sends the browser back with `location.assign(redirect)` and the chart's launcher with
 *     `location.assign(launchUrl)` — script in the platform's origin, stopped today only by the
 *     Content-Security-Policy. Only http(s) addresses may be registered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo } from '../seed/demo.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

const JSON_TYPE = { 'content-type': 'application/json' };

describe('attack review: SMART app registration', () => {
  let p: TestPlatform;
  let accounts: Map<string, DemoAccount>;
  let facilityAdmin: Record<string, string>;

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: [] });
    const demo = await seedDemo(p.store, 4);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    facilityAdmin = await signIn(p, 'quantri.laocai', accounts.get('quantri.laocai')!.totpSecret);
  }, 120_000);
  afterAll(async () => p?.close());

  const register = (body: Record<string, unknown>) =>
    call(
      p,
      'POST',
      '/api/oauth/clients',
      { name: 'App', scopes: ['launch', 'patient/*.rs', 'openid', 'fhirUser'], grantTypes: ['authorization_code'], ...body },
      {
        ...facilityAdmin,
        ...JSON_TYPE,
      },
    );

  it('A2. only http(s) redirect and launch addresses can be registered (no javascript:/data: URL for location.assign)', async () => {
    const ok = await register({ redirectUris: ['https://app.example/callback'], launchUri: 'https://app.example/launch' });
    expect(ok.status, ok.text).toBe(201);
    for (const bad of ['javascript:fetch(`/api/me`).then(r=>r.text()).then(alert)//', 'data:text/html,<script>alert(1)</script>', 'vbscript:msgbox(1)']) {
      const r1 = await register({ redirectUris: [bad] });
      expect(r1.status, `redirect ${bad}: ${r1.text}`).toBe(400);
      const r2 = await register({ redirectUris: ['https://app.example/callback'], launchUri: bad });
      expect(r2.status, `launch ${bad}: ${r2.text}`).toBe(400);
    }
  });
});
