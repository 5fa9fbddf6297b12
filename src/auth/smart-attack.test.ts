/**
 * Attacker's review of SMART App Launch (2026-11-30), kept as tests. Each `it` asserts the secure
 * behaviour and failed on the code as reviewed.
 *
 * A2. A facility administrator (account.manage) registered an app whose redirect_uri or launch
 *     address was a `javascript:` (or `data:`) URL: zod's `.url()` takes any scheme. The consent
 *     screen sends the browser back with `location.assign(redirect)` and the chart's launcher with
 *     `location.assign(launchUrl)` — script in the platform's origin, stopped today only by the
 *     Content-Security-Policy. Only http(s) addresses may be registered.
 * A10. A facility administrator registered a client_credentials app whose service account held a
 *     role they may not grant on the account screens (NON_FACILITY_ROLES): `integration` (every
 *     record in the country, read and write), `dpo` (the audit log), `analyst`, `disease_control`.
 *     /api/oauth/clients only refused citizen and roles that manage accounts. Now it applies the
 *     same rule as the account screens.
 * A11 (fixed): an EHR launch took any encounterId with the patient — another patient's
 *     encounter, or none at all — and handed it to the app as the launch's encounter context (the
 *     token stayed confined to the launch patient; the context was wrong, not a read). The launch
 *     now reads the encounter through the clinician's repository and refuses one not the patient's.
 */
import type { Encounter } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

const JSON_TYPE = { 'content-type': 'application/json' };

describe('attack review: SMART app registration', () => {
  let p: TestPlatform;
  let accounts: Map<string, DemoAccount>;
  let facilityAdmin: Record<string, string>;
  let demo: DemoSummary;

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: [] });
    demo = await seedDemo(p.store, 4);
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

  it('A11. nobody who manages accounts — the system administrator included — can mint a service account that reads the audit trail', async () => {
    const systemAdmin = await signIn(p, 'quantri', accounts.get('quantri')!.totpSecret);
    const r = await call(
      p,
      'POST',
      '/api/oauth/clients',
      { name: 'svc dpo', grantTypes: ['client_credentials'], confidential: true, serviceRole: 'dpo', scopes: ['system/AuditEvent.read'] },
      { ...systemAdmin, ...JSON_TYPE },
    );
    expect(r.status, r.text).toBe(400);
    expect(r.body.title).toMatch(/audit trail is not an administrator's to grant/);
  });

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

  it('A10. a facility administrator cannot mint a service account with a role they may not grant (integration, dpo, analyst, disease control)', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: '' };
    for (const serviceRole of ['integration', 'dpo', 'analyst', 'disease_control']) {
      const r = await register({ name: `svc ${serviceRole}`, grantTypes: ['client_credentials'], confidential: true, serviceRole, scopes: ['system/*.read'] });
      if (r.status !== 201) {
        expect(r.status, `${serviceRole}: ${r.text}`).toBe(400);
        continue;
      }
      // What the client could do: another facility's patient, read with the token.
      const tok = await call(
        p,
        'POST',
        '/oauth/token',
        new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: r.body.clientId,
          client_secret: r.body.clientSecret,
          scope: 'system/*.read',
        }).toString(),
        form,
      );
      const other = demo.ids.patients[2];
      const read = tok.body.access_token
        ? await call(p, 'GET', `/fhir/R4/Patient/${other}`, undefined, { authorization: `Bearer ${tok.body.access_token}` })
        : undefined;
      expect.fail(`${serviceRole} client registered by a facility admin (token ${tok.status}; another facility's patient: ${read?.status})`);
    }
    // A role they may grant on the account screens stays possible.
    const ok = await register({
      name: 'svc clinic',
      grantTypes: ['client_credentials'],
      confidential: true,
      serviceRole: 'commune_clinician',
      scopes: ['system/*.read'],
    });
    expect(ok.status, ok.text).toBe(201);
  });

  it('A11. an EHR launch refuses an encounter that is not the launch patient’s', async () => {
    const clinician = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    // Registered platform-wide by the system administrator (a Lào Cai app is not Bát Xát's to launch: smart.test.ts).
    const sys = await signIn(p, 'quantri', accounts.get('quantri')!.totpSecret);
    const app = await call(
      p,
      'POST',
      '/api/oauth/clients',
      {
        name: 'App',
        scopes: ['launch', 'patient/*.rs', 'openid', 'fhirUser'],
        grantTypes: ['authorization_code'],
        redirectUris: ['https://app.example/callback'],
        launchUri: 'https://app.example/launch',
      },
      { ...sys, ...JSON_TYPE },
    );
    expect(app.status, app.text).toBe(201);
    const patient = demo.ids.patients[0];
    const stranger = await p.fixtures.create<Encounter>({
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: `Patient/${demo.ids.patients[2]}` },
    });
    const l = await call(
      p,
      'POST',
      '/api/smart/launch',
      { clientId: app.body.clientId, patientId: patient, encounterId: stranger.id },
      { ...clinician, ...JSON_TYPE },
    );
    expect(l.status, l.text).toBe(400);
  });
});
