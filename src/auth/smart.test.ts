/**
 * SMART App Launch over HTTP (the browser flow with the real fhirclient library is in
 * e2e/smart-launch.test.ts): discovery, EHR launch from a chart confined to the launch patient,
 * single-use launch ids bound to the clinician and the app, the citizen's consent screen (allow
 * and refuse), id_token with fhirUser, refresh tokens (single use, ended by sign-out everywhere),
 * CORS, and the denials of every new route.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Bundle, Encounter } from '@medplum/fhirtypes';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { decideConsent } from '../testing/smart.ts';
import { registerClient } from './oauth.ts';

const REDIRECT = 'http://127.0.0.1:9/app/callback';
const LAUNCH = 'http://127.0.0.1:9/app/launch';
const FORM = { authorization: '', 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('SMART App Launch', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let clinician: Record<string, string>;
  let otherClinician: Record<string, string>;
  let citizen: Record<string, string>;
  let reachable: string[];
  let unreachable: string;
  let appId: string;
  let otherAppId: string;

  const pkce = () => {
    const verifier = randomBytes(48).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };
  const authorizeUrl = (clientId: string, scope: string, challenge: string, extra: Record<string, string> = {}) =>
    `/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      scope,
      state: 'st-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      aud: p.store.fhirBase,
      ...extra,
    })}`;
  const redeem = (clientId: string, code: string, verifier: string) =>
    call(
      p,
      'POST',
      '/oauth/token',
      new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId }).toString(),
      FORM,
    );
  const launch = (session: Record<string, string>, body: Record<string, string>) => call(p, 'POST', '/api/smart/launch', body, { ...session, ...JSON_TYPE });

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: [] });
    demo = await seedDemo(p.store, 12);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    clinician = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    otherClinician = await signIn(p, 'bs.bachmai', accounts.get('bs.bachmai')!.totpSecret);
    citizen = await signIn(p, 'nguoidan');
    const seen = await call<Bundle>(p, 'GET', '/fhir/R4/Patient?_count=100', undefined, clinician);
    reachable = seen.body.entry!.map((e) => e.resource!.id!);
    unreachable = demo.ids.patients.find((id) => !reachable.includes(id))!;
    expect(reachable.length).toBeGreaterThanOrEqual(2);
    expect(unreachable).toBeDefined();
    const scopes = ['launch', 'launch/patient', 'openid', 'fhirUser', 'offline_access', 'online_access', 'patient/*.rs', 'user/*.rs'];
    appId = (
      await registerClient(p.db, {
        name: 'Ứng dụng theo dõi huyết áp',
        redirectUris: [REDIRECT],
        scopes,
        grantTypes: ['authorization_code'],
        confidential: false,
        launchUri: LAUNCH,
      })
    ).clientId;
    otherAppId = (
      await registerClient(p.db, {
        name: 'Other app',
        redirectUris: [REDIRECT],
        scopes,
        grantTypes: ['authorization_code'],
        confidential: false,
        launchUri: LAUNCH,
      })
    ).clientId;
  });
  afterAll(async () => p?.close());

  it('publishes a complete .well-known/smart-configuration', async () => {
    const d = await call(p, 'GET', '/fhir/R4/.well-known/smart-configuration', undefined, { authorization: '' });
    expect(d.status).toBe(200);
    for (const c of [
      'launch-ehr',
      'launch-standalone',
      'client-public',
      'context-ehr-patient',
      'context-ehr-encounter',
      'context-standalone-patient',
      'sso-openid-connect',
      'permission-offline',
      'permission-patient',
      'permission-user',
      'permission-v2',
    ])
      expect(d.body.capabilities).toContain(c);
    expect(d.body.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
    expect(d.body.code_challenge_methods_supported).toEqual(['S256']);
    expect(d.body.scopes_supported).toEqual(expect.arrayContaining(['launch', 'offline_access', 'patient/*.rs', 'user/*.rs', 'openid', 'fhirUser']));
    for (const k of ['issuer', 'jwks_uri', 'authorization_endpoint', 'token_endpoint']) expect(typeof d.body[k]).toBe('string');
  });

  it('EHR launch: a token confined to the launch patient, with encounter, id_token and a single-use refresh token', async () => {
    const [patientA, patientB] = reachable;
    const encounter = (
      await p.fixtures.create<Encounter>({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
        subject: { reference: `Patient/${patientA}` },
      })
    ).id!;
    const l = await launch(clinician, { clientId: appId, patientId: patientA, encounterId: encounter });
    expect(l.status, l.text).toBe(201);
    const url = new URL(l.body.launchUrl as string);
    expect(url.origin + url.pathname).toBe(LAUNCH);
    expect(url.searchParams.get('iss')).toBe(p.store.fhirBase);
    const launchId = url.searchParams.get('launch')!;

    // Another clinician (or another app) cannot use this launch id.
    const k = pkce();
    const stolen = await call(p, 'GET', authorizeUrl(appId, 'launch patient/*.rs', k.challenge, { launch: launchId }), undefined, otherClinician);
    expect(new URL(String(stolen.headers.location)).searchParams.get('error')).toBe('invalid_request');
    const otherApp = await call(p, 'GET', authorizeUrl(otherAppId, 'launch patient/*.rs', k.challenge, { launch: launchId }), undefined, clinician);
    expect(new URL(String(otherApp.headers.location)).searchParams.get('error')).toBe('invalid_request');

    const scope = 'launch openid fhirUser offline_access patient/*.rs user/*.rs';
    const auth = await call(p, 'GET', authorizeUrl(appId, scope, k.challenge, { launch: launchId, nonce: 'n-1' }), undefined, clinician);
    expect(auth.status).toBe(302);
    const back = new URL(String(auth.headers.location));
    expect(back.searchParams.get('state')).toBe('st-1');
    const t = await redeem(appId, back.searchParams.get('code')!, k.verifier);
    expect(t.status, t.text).toBe(200);
    expect(t.body.patient).toBe(patientA);
    expect(t.body.encounter).toBe(encounter);
    const id = decodeJwt(t.body.id_token as string);
    expect(id.aud).toBe(appId);
    expect(id.nonce).toBe('n-1');
    expect(id.fhirUser).toBe(`${p.store.fhirBase}/Practitioner/${demo.ids.practitioners[6]}`);
    // The id_token is no access token.
    expect((await call(p, 'GET', `/fhir/R4/Patient/${patientA}`, undefined, { authorization: `Bearer ${t.body.id_token}` })).status).toBe(401);

    const bearer = { authorization: `Bearer ${t.body.access_token}` };
    expect((await call(p, 'GET', `/fhir/R4/Patient/${patientA}`, undefined, bearer)).status).toBe(200);
    // The clinician may see patient B in the web app, but this app's token is confined to A.
    expect((await call(p, 'GET', `/fhir/R4/Patient/${patientB}`, undefined, clinician)).status).toBe(200);
    expect((await call(p, 'GET', `/fhir/R4/Patient/${patientB}`, undefined, bearer)).status).toBe(403);
    const obs = await call<Bundle>(p, 'GET', '/fhir/R4/Observation?_count=100', undefined, bearer);
    expect(obs.status).toBe(200);
    expect(obs.body.entry?.length).toBeGreaterThan(0);
    expect(obs.body.entry!.every((e) => (e.resource as { subject?: { reference?: string } }).subject?.reference === `Patient/${patientA}`)).toBe(true);
    // .rs grants no write.
    expect(
      (await call(p, 'POST', '/fhir/R4/Observation', { resourceType: 'Observation' }, { ...bearer, 'content-type': 'application/fhir+json' })).status,
    ).toBe(403);

    // A launch id is used once.
    const again = await call(p, 'GET', authorizeUrl(appId, scope, pkce().challenge, { launch: launchId }), undefined, clinician);
    expect(new URL(String(again.headers.location)).searchParams.get('error')).toBe('invalid_request');

    // Refresh: a new access token for the same patient; the old refresh token is spent.
    const r1 = await call(
      p,
      'POST',
      '/oauth/token',
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: appId }).toString(),
      FORM,
    );
    expect(r1.status, r1.text).toBe(200);
    expect(r1.body.patient).toBe(patientA);
    expect((await call(p, 'GET', `/fhir/R4/Patient/${patientA}`, undefined, { authorization: `Bearer ${r1.body.access_token}` })).status).toBe(200);
    const reused = await call(
      p,
      'POST',
      '/oauth/token',
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: appId }).toString(),
      FORM,
    );
    expect(reused.status).toBe(400);
    // Another client cannot redeem it; widening the scope is refused.
    const wrongClient = await call(
      p,
      'POST',
      '/oauth/token',
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: r1.body.refresh_token, client_id: otherAppId }).toString(),
      FORM,
    );
    expect(wrongClient.status).toBe(400);
  });

  it('refresh tokens die with sign-out everywhere', async () => {
    const session = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    const l = await launch(session, { clientId: appId, patientId: reachable[0] });
    const k = pkce();
    const auth = await call(
      p,
      'GET',
      authorizeUrl(appId, 'launch online_access patient/*.rs', k.challenge, { launch: new URL(l.body.launchUrl).searchParams.get('launch')! }),
      undefined,
      session,
    );
    const t = await redeem(appId, new URL(String(auth.headers.location)).searchParams.get('code')!, k.verifier);
    expect(t.body.refresh_token).toBeTruthy();
    expect((await call(p, 'POST', '/api/auth/logout-all', {}, { ...session, ...JSON_TYPE })).status).toBe(200);
    const r = await call(
      p,
      'POST',
      '/oauth/token',
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: appId }).toString(),
      FORM,
    );
    expect(r.status).toBe(400);
    clinician = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
  });

  it("standalone launch: the citizen's consent screen names the app and the scopes; refuse or allow", async () => {
    const own = demo.ids.patients[0];
    const k = pkce();
    const scope = 'launch/patient openid fhirUser patient/Observation.rs patient/Patient.rs';
    const refused = await decideConsent(p, await call(p, 'GET', authorizeUrl(appId, scope, k.challenge), undefined, citizen), citizen, false);
    expect(refused.searchParams.get('error')).toBe('access_denied');
    expect(refused.searchParams.get('code')).toBeNull();

    const first = await call(p, 'GET', authorizeUrl(appId, scope, k.challenge), undefined, citizen);
    const requestId = new URL(String(first.headers.location), 'http://x').searchParams.get('request')!;
    const view = await call(p, 'GET', `/api/smart/requests/${requestId}`, undefined, citizen);
    expect(view.body.app.name).toBe('Ứng dụng theo dõi huyết áp');
    expect(view.body.scopes).toEqual(scope.split(' '));
    expect(view.body.clinical).toEqual([
      { context: 'patient', resourceType: 'Observation', actions: ['read', 'search'] },
      { context: 'patient', resourceType: 'Patient', actions: ['read', 'search'] },
    ]);
    // Nobody else sees or answers this request.
    expect((await call(p, 'GET', `/api/smart/requests/${requestId}`, undefined, clinician)).status).toBe(404);
    expect((await call(p, 'POST', `/api/smart/requests/${requestId}/decision`, { allow: true }, { ...clinician, ...JSON_TYPE })).status).toBe(404);
    expect((await call(p, 'GET', `/api/smart/requests/${requestId}`, undefined, { authorization: '' })).status).toBe(401);
    const allowed = await decideConsent(p, first, citizen, true);
    expect(allowed.searchParams.get('state')).toBe('st-1');
    // Answered once.
    expect((await call(p, 'POST', `/api/smart/requests/${requestId}/decision`, { allow: true }, { ...citizen, ...JSON_TYPE })).status).toBe(404);
    const t = await redeem(appId, allowed.searchParams.get('code')!, k.verifier);
    expect(t.status, t.text).toBe(200);
    expect(t.body.patient).toBe(own);
    expect(decodeJwt(t.body.id_token as string).fhirUser).toBe(`${p.store.fhirBase}/Patient/${own}`);
    const bearer = { authorization: `Bearer ${t.body.access_token}` };
    expect((await call(p, 'GET', `/fhir/R4/Patient/${own}`, undefined, bearer)).status).toBe(200);
    expect((await call(p, 'GET', `/fhir/R4/Patient/${demo.ids.patients[1]}`, undefined, bearer)).status).toBe(403);
    expect((await call(p, 'GET', '/fhir/R4/Condition', undefined, bearer)).status).toBe(403);
  });

  it('gives no code without aud, or for another server’s aud (SMART App Launch 2.0: aud is required)', async () => {
    const k = pkce();
    const scope = 'launch/patient patient/Patient.rs';
    for (const aud of [undefined, 'https://elsewhere.example/fhir']) {
      const url = new URL(authorizeUrl(appId, scope, k.challenge, aud ? { aud } : {}), 'http://x');
      if (!aud) url.searchParams.delete('aud');
      const r = await call(p, 'GET', `${url.pathname}${url.search}`, undefined, citizen);
      expect(r.status).toBe(302);
      const back = new URL(String(r.headers.location));
      expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
      expect(back.searchParams.get('error')).toBe('invalid_request');
      expect(back.searchParams.get('error_description')).toContain('aud');
      expect(back.searchParams.get('code')).toBeNull();
    }
  });

  it('refuses a launch to citizens, tokens, the anonymous, unknown apps and patients the clinician may not see', async () => {
    expect((await launch(citizen, { clientId: appId, patientId: demo.ids.patients[0] })).status).toBe(403);
    const token = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat });
    expect((await launch({ authorization: `Bearer ${token}` }, { clientId: appId, patientId: reachable[0] })).status).toBe(403);
    expect((await launch({ authorization: '' }, { clientId: appId, patientId: reachable[0] })).status).toBe(401);
    expect((await launch(clinician, { clientId: 'app-nope', patientId: reachable[0] })).status).toBe(404);
    const other = await launch(clinician, { clientId: appId, patientId: unreachable });
    expect(other.status).toBe(403);
    const denied = await p.audit.list({ limit: 20, action: 'smart.launch' });
    expect(denied.some((e) => e.outcome === 'denied' && e.patient_ids?.includes(unreachable))).toBe(true);
    // Without a session cookie's CSRF token, a launch is refused.
    expect(
      (await call(p, 'POST', '/api/smart/launch', { clientId: appId, patientId: reachable[0] }, { authorization: '', cookie: clinician.cookie, ...JSON_TYPE }))
        .status,
    ).toBe(403);
    // The apps list: staff see the launchable apps, citizens none.
    expect((await call(p, 'GET', '/api/smart/apps', undefined, clinician)).body.map((a: { name: string }) => a.name)).toContain('Ứng dụng theo dõi huyết áp');
    expect((await call(p, 'GET', '/api/smart/apps', undefined, citizen)).body).toEqual([]);
    expect((await call(p, 'GET', '/api/smart/apps', undefined, { authorization: '' })).status).toBe(401);
    // launch scope without a launch id; patient scopes for staff without a launch.
    const k = pkce();
    const noLaunch = await call(p, 'GET', authorizeUrl(appId, 'launch patient/*.rs', k.challenge), undefined, clinician);
    expect(new URL(String(noLaunch.headers.location)).searchParams.get('error')).toBe('invalid_request');
    const noPatient = await call(p, 'GET', authorizeUrl(appId, 'launch/patient patient/*.rs', k.challenge), undefined, clinician);
    expect(new URL(String(noPatient.headers.location)).searchParams.get('error')).toBe('invalid_scope');
  });

  it('lists and launches only platform-wide apps and those of the caller’s facility (a facility’s app is not shown to another facility)', async () => {
    const admin = await signIn(p, 'quantri.laocai', accounts.get('quantri.laocai')!.totpSecret);
    const made = await call(
      p,
      'POST',
      '/api/oauth/clients',
      {
        name: 'Ứng dụng riêng BV Lào Cai',
        redirectUris: [REDIRECT],
        scopes: ['launch', 'openid', 'user/*.rs'],
        grantTypes: ['authorization_code'],
        launchUri: LAUNCH,
      },
      { ...admin, ...JSON_TYPE },
    );
    expect(made.status, made.text).toBe(201);
    const laocaiApp = made.body.clientId as string;
    const batxatApp = (
      await registerClient(p.db, {
        name: 'Ứng dụng riêng Bát Xát',
        redirectUris: [REDIRECT],
        scopes: ['launch', 'openid', 'user/*.rs'],
        grantTypes: ['authorization_code'],
        confidential: false,
        launchUri: LAUNCH,
        organizationId: demo.ids.organizations.batxat,
      })
    ).clientId;
    const ids = async (h: Record<string, string>) => (await call(p, 'GET', '/api/smart/apps', undefined, h)).body.map((a: { clientId: string }) => a.clientId);
    const batxat = await ids(clinician);
    expect(batxat).toContain(appId); // platform-wide
    expect(batxat).toContain(batxatApp);
    expect(batxat).not.toContain(laocaiApp);
    const bachmai = await ids(otherClinician);
    expect(bachmai).not.toContain(laocaiApp);
    expect(bachmai).not.toContain(batxatApp);
    const sys = await ids(await signIn(p, 'quantri', accounts.get('quantri')!.totpSecret));
    expect(sys).toEqual(expect.arrayContaining([appId, laocaiApp, batxatApp]));
    // Launching another facility's app: as unknown (404), not a way to learn it exists.
    expect((await launch(otherClinician, { clientId: batxatApp, patientId: demo.ids.patients[0] })).status).toBe(404);
    expect((await launch(clinician, { clientId: laocaiApp, patientId: reachable[0] })).status).toBe(404);
    expect((await launch(clinician, { clientId: batxatApp, patientId: reachable[0] })).status).toBe(201);
    // Nor a standalone launch of it by another facility's staff.
    const k = pkce();
    const standalone = await call(p, 'GET', authorizeUrl(batxatApp, 'openid user/*.rs', k.challenge), undefined, otherClinician);
    expect(new URL(String(standalone.headers.location)).searchParams.get('error')).toBe('access_denied');
    const own = await call(p, 'GET', authorizeUrl(batxatApp, 'openid user/*.rs', k.challenge), undefined, clinician);
    expect(String(own.headers.location ?? '')).not.toMatch(/[?&]error=/);
  });

  it('answers CORS preflights and marks FHIR and token answers readable cross-origin, never with credentials', async () => {
    const pre = await call(p, 'OPTIONS', '/fhir/R4/Patient/x', undefined, {
      authorization: '',
      origin: 'http://127.0.0.1:9',
      'access-control-request-method': 'GET',
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(String(pre.headers['access-control-allow-headers'])).toMatch(/authorization/);
    const got = await call(p, 'GET', '/fhir/R4/metadata', undefined, { authorization: '', origin: 'http://127.0.0.1:9' });
    expect(got.headers['access-control-allow-origin']).toBe('*');
    expect(got.headers['access-control-allow-credentials']).toBeUndefined();
    const api = await call(p, 'GET', '/api/smart/apps', undefined, { ...clinician, origin: 'http://127.0.0.1:9' });
    expect(api.headers['access-control-allow-origin']).toBeUndefined();
  });
});
