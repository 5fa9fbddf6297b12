/**
 * Sign-in, lockout, SMART authorization, consent, break-the-glass, the audit chain and the logs.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { call, signIn, startTestPlatform, TEST_SECRET, type TestPlatform } from '../testing/platform.ts';
import { MAX_FAILED_LOGINS, totpFor } from './accounts.ts';
import { createDemoAccounts, DEMO_PASSWORD, type DemoAccount } from '../seed/accounts.ts';
import { registerClient } from './oauth.ts';
import { decideConsent } from '../testing/smart.ts';

const run = promisify(execFile);
const CLI = new URL('../../bin/cauyte.js', import.meta.url).pathname;

describe.each(DB_KINDS)('security on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;

  beforeAll(async () => {
    p = await startTestPlatform(kind);
    demo = await seedDemo(p.store, 8);
    const created = await createDemoAccounts(p.db, p.accounts, demo);
    accounts = new Map(created.accounts.map((a) => [a.username, a]));
  });
  afterAll(async () => p?.close());

  const json = { 'content-type': 'application/json' };

  it('requires the second factor for staff and locks an account after repeated failures', async () => {
    const staff = accounts.get('bs.batxat')!;
    const login = await call(p, 'POST', '/api/auth/login', { username: 'bs.batxat', password: DEMO_PASSWORD }, { authorization: '', ...json });
    expect(login.body.status).toBe('mfa-required');
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly/);
    expect(String(login.headers['set-cookie'])).toMatch(/SameSite=Strict/);
    expect(String(login.headers['set-cookie'])).toMatch(/Secure/);
    // Before the second factor the session reaches nothing clinical.
    const early = await call(p, 'GET', `/fhir/R4/Patient/${demo.ids.patients[0]}`, undefined, { authorization: '', cookie });
    expect(early.status).toBe(401);
    // A state change without the CSRF token is refused.
    const noCsrf = await call(p, 'POST', '/api/auth/mfa', { code: totpFor(staff.totpSecret!, 'bs.batxat').generate() }, { authorization: '', cookie, ...json });
    expect(noCsrf.status).toBe(403);

    const victim = 'bs.bachmai';
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) {
      const r = await call(p, 'POST', '/api/auth/login', { username: victim, password: 'wrong password' }, { authorization: '', ...json });
      expect(r.status).toBe(i < MAX_FAILED_LOGINS - 1 ? 401 : 423);
    }
    // Now even the right password is refused until the lock expires.
    const locked = await call(p, 'POST', '/api/auth/login', { username: victim, password: DEMO_PASSWORD }, { authorization: '', ...json });
    expect(locked.status).toBe(423);
    expect(locked.body.title).toMatch(/khóa/);
    const entries = await p.audit.list({ limit: 50, action: 'login' });
    const mine = entries.filter((e) => e.username === victim);
    expect(mine.filter((e) => e.outcome === 'failure')).toHaveLength(MAX_FAILED_LOGINS + 1);
    expect(mine.some((e) => (e.detail as { justLocked?: boolean })?.justLocked)).toBe(true);
    // Unknown users get the same answer as wrong passwords.
    const unknown = await call(p, 'POST', '/api/auth/login', { username: 'nobody.here', password: 'x' }, { authorization: '', ...json });
    expect(unknown.status).toBe(401);
  });

  it('lets a citizen see only their own record and who accessed it', async () => {
    const citizen = await signIn(p, 'nguoidan');
    const own = demo.ids.patients[0];
    expect((await call(p, 'GET', `/fhir/R4/Patient/${own}`, undefined, citizen)).status).toBe(200);
    const other = await call(p, 'GET', `/fhir/R4/Patient/${demo.ids.patients[1]}`, undefined, citizen);
    expect(other.status).toBe(403);
    const obs = await call<Bundle>(p, 'GET', '/fhir/R4/Observation?_count=1000', undefined, citizen);
    expect(obs.status).toBe(200);
    expect(obs.body.entry!.length).toBeGreaterThan(0);
    expect(obs.body.entry!.every((e) => (e.resource as any).subject.reference === `Patient/${own}`)).toBe(true);
    // A clinician reads the record; the citizen sees it in their access log.
    const doctor = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    expect((await call(p, 'GET', `/fhir/R4/Patient/${own}`, undefined, doctor)).status).toBe(200);
    const log = await call(p, 'GET', '/api/me/access-log', undefined, citizen);
    expect(log.status).toBe(200);
    const seen = log.body.find((e: any) => e.action === 'read' && !e.self && e.resourceType === 'Patient');
    expect(seen).toMatchObject({ whoName: 'BS Giàng A Sử', role: 'commune_clinician', organizationName: expect.stringContaining('Bát Xát') });
    // In words only: no login name, IP address, record or facility ids.
    for (const e of log.body) for (const k of ['who', 'ip', 'organizationId', 'resource', 'patients']) expect(e, k).not.toHaveProperty(k);
    expect(log.body.some((e: any) => e.self && e.action === 'read')).toBe(true);
  });

  it('honours consent at once: sharing with another facility, and withdrawing it', async () => {
    const patient = demo.ids.patients[0]; // registered at Bát Xát
    const hospital = demo.ids.organizations.bachmai;
    const specialist = await signIn(p, 'bs.bachmai', accounts.get('bs.bachmai')!.totpSecret).catch(async () => {
      // bs.bachmai may be locked by the lockout test in this file: use a fresh specialist account.
      await p.accounts.create({
        username: 'bs.bachmai2',
        displayName: 'BS',
        kind: 'staff',
        password: DEMO_PASSWORD,
        practitionerId: demo.ids.practitioners[0],
        roles: [{ role: 'specialist', organizationId: hospital }],
        totpSecret: accounts.get('bs.bachmai')!.totpSecret,
      });
      return signIn(p, 'bs.bachmai2', accounts.get('bs.bachmai')!.totpSecret);
    });
    expect((await call(p, 'GET', `/fhir/R4/Patient/${patient}`, undefined, specialist)).status).toBe(403);
    const citizen = await signIn(p, 'nguoidan');
    const granted = await call(p, 'POST', '/api/me/consents', { purpose: 'treatment', decision: 'permit', organizationId: hospital }, { ...citizen, ...json });
    expect(granted.status, granted.text).toBe(201);
    expect((await call(p, 'GET', `/fhir/R4/Patient/${patient}`, undefined, specialist)).status).toBe(200);
    const withdrawn = await call(p, 'POST', `/api/me/consents/${granted.body.id}/withdraw`, {}, { ...citizen, ...json });
    expect(withdrawn.status, withdrawn.text).toBe(200);
    expect((await call(p, 'GET', `/fhir/R4/Patient/${patient}`, undefined, specialist)).status).toBe(403);
    // Denying their own station also takes effect at once (emergencies still have break-the-glass).
    const doctor = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    const deny = await call(
      p,
      'POST',
      '/api/me/consents',
      { purpose: 'treatment', decision: 'deny', organizationId: demo.ids.organizations.batxat },
      { ...citizen, ...json },
    );
    expect(deny.status).toBe(201);
    expect((await call(p, 'GET', `/fhir/R4/Patient/${patient}`, undefined, doctor)).status).toBe(403);
    await call(p, 'POST', `/api/me/consents/${deny.body.id}/withdraw`, {}, { ...citizen, ...json });
    expect((await call(p, 'GET', `/fhir/R4/Patient/${patient}`, undefined, doctor)).status).toBe(200);
  });

  it('opens a record by break-the-glass for a limited time, flags it and lets the DPO review it', async () => {
    const doctor = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    const stranger = demo.ids.patients[2]; // registered at Mường Nhé
    const before = await call(p, 'GET', `/fhir/R4/Patient/${stranger}`, undefined, doctor);
    expect(before.status).toBe(403);
    expect(JSON.stringify(before.body)).toMatch(/break-glass-available/);
    const short = await call(p, 'POST', '/api/break-glass', { patientId: stranger, reason: 'vội' }, { ...doctor, ...json });
    expect(short.status).toBe(400);
    const grant = await call(
      p,
      'POST',
      '/api/break-glass',
      { patientId: stranger, reason: 'Bệnh nhân hôn mê được chuyển đến cấp cứu' },
      { ...doctor, ...json },
    );
    expect(grant.status, grant.text).toBe(200);
    expect(new Date(grant.body.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(60 * 60_000 + 5_000);
    expect((await call(p, 'GET', `/fhir/R4/Patient/${stranger}`, undefined, doctor)).status).toBe(200);
    const flagged = await p.audit.list({ limit: 20, patientId: stranger, breakGlass: true });
    expect(flagged.map((e) => e.action)).toEqual(expect.arrayContaining(['break-glass', 'read']));
    const dpo = await signIn(p, 'baovedulieu', accounts.get('baovedulieu')!.totpSecret);
    const queue = await call(p, 'GET', '/api/break-glass?unreviewed=true', undefined, dpo);
    expect(queue.body.some((g: any) => g.id === grant.body.id)).toBe(true);
    expect((await call(p, 'POST', `/api/break-glass/${grant.body.id}/review`, { note: 'Đã xác minh ca cấp cứu' }, { ...dpo, ...json })).status).toBe(200);
    // The DPO reads the trail but no clinical data.
    expect((await call(p, 'GET', `/fhir/R4/Patient/${stranger}`, undefined, dpo)).status).toBe(403);
    const events = await call<Bundle>(p, 'GET', `/fhir/R4/AuditEvent?patient=${stranger}`, undefined, dpo);
    expect(events.status).toBe(200);
    expect(events.body.entry!.some((e) => (e.resource as any).purposeOfEvent?.[0]?.coding?.[0]?.code === 'ETREAT')).toBe(true);
  });

  it('runs a SMART authorization-code flow with PKCE and enforces the granted scopes', async () => {
    const client = await registerClient(p.db, {
      name: 'Ứng dụng sức khỏe',
      redirectUris: ['http://127.0.0.1:9/callback'],
      scopes: ['patient/Observation.read', 'patient/Patient.read', 'launch/patient', 'openid'],
      grantTypes: ['authorization_code'],
      confidential: false,
    });
    const discovery = await call(p, 'GET', '/fhir/R4/.well-known/smart-configuration', undefined, { authorization: '' });
    expect(discovery.body.code_challenge_methods_supported).toEqual(['S256']);
    const citizen = await signIn(p, 'nguoidan');
    const verifier = randomBytes(48).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: 'http://127.0.0.1:9/callback', scope: 'launch/patient patient/Observation.read', state: 'xyz', code_challenge: challenge, code_challenge_method: 'S256', aud: p.store.fhirBase })}`;
    const anonymous = await call(p, 'GET', authorize, undefined, { authorization: '' });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.location).toMatch(/^\/login\?next=/);
    const redirect = await call(p, 'GET', authorize, undefined, citizen);
    const back = await decideConsent(p, redirect, citizen);
    expect(back.searchParams.get('state')).toBe('xyz');
    const code = back.searchParams.get('code')!;
    const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
    const wrongVerifier = await call(
      p,
      'POST',
      '/oauth/token',
      form({ grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:9/callback', client_id: client.clientId, code_verifier: 'x'.repeat(50) }),
      { authorization: '', 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(wrongVerifier.status).toBe(400); // and the code is now spent
    const redirect2 = await call(p, 'GET', authorize, undefined, citizen);
    const code2 = (await decideConsent(p, redirect2, citizen)).searchParams.get('code')!;
    const token = await call(
      p,
      'POST',
      '/oauth/token',
      form({ grant_type: 'authorization_code', code: code2, redirect_uri: 'http://127.0.0.1:9/callback', client_id: client.clientId, code_verifier: verifier }),
      { authorization: '', 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(token.status, token.text).toBe(200);
    expect(token.body.patient).toBe(demo.ids.patients[0]);
    const bearer = { authorization: `Bearer ${token.body.access_token}` };
    const obs = await call<Bundle>(p, 'GET', '/fhir/R4/Observation', undefined, bearer);
    expect(obs.status).toBe(200);
    expect(obs.body.entry!.every((e) => (e.resource as any).subject.reference === `Patient/${demo.ids.patients[0]}`)).toBe(true);
    // Not in the scopes: Condition, and any write.
    expect((await call(p, 'GET', '/fhir/R4/Condition', undefined, bearer)).status).toBe(403);
    expect(
      (
        await call(
          p,
          'POST',
          '/fhir/R4/Observation',
          { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${demo.ids.patients[0]}` } },
          bearer,
        )
      ).status,
    ).toBe(403);
    // Reusing a code fails; asking for more than the client may is refused.
    const reuse = await call(
      p,
      'POST',
      '/oauth/token',
      form({ grant_type: 'authorization_code', code: code2, redirect_uri: 'http://127.0.0.1:9/callback', client_id: client.clientId, code_verifier: verifier }),
      { authorization: '', 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(reuse.body.error).toBe('invalid_grant');
    const greedy = await call(
      p,
      'GET',
      authorize.replace(encodeURIComponent('patient/Observation.read'), encodeURIComponent('patient/*.write')),
      undefined,
      citizen,
    );
    expect(new URL(String(greedy.headers.location)).searchParams.get('error')).toBe('invalid_scope');
    // The token's signature checks out against the published JWKS.
    const jwks = await call(p, 'GET', '/.well-known/jwks.json', undefined, { authorization: '' });
    const { createLocalJWKSet, jwtVerify } = await import('jose');
    const verified = await jwtVerify(token.body.access_token, createLocalJWKSet(jwks.body), { audience: p.store.fhirBase });
    expect(verified.payload.scope).toBe('launch/patient patient/Observation.read');
  });

  it('detects an audit row changed or deleted in SQL, and names it', async () => {
    for (let i = 0; i < 6; i++) await call(p, 'GET', `/fhir/R4/Patient/${demo.ids.patients[0]}`);
    await p.audit.seal();
    const clean = await p.audit.verify();
    expect(clean, JSON.stringify(clean)).toMatchObject({ ok: true });
    // Even a superuser has to switch the append-only guard off to tamper.
    await expect(p.db.query("UPDATE audit_log SET username = 'ai-do' WHERE id = (SELECT min(id) FROM audit_log)")).rejects.toThrow(/append-only/);
    await p.db.exec('ALTER TABLE audit_log DISABLE TRIGGER audit_log_guard');
    const victim = (await p.db.query<{ id: number }>('SELECT id FROM audit_log WHERE chain_pos IS NOT NULL ORDER BY chain_pos OFFSET 3 LIMIT 1')).rows[0].id;
    await p.db.query("UPDATE audit_log SET username = 'ai-do' WHERE id = $1", [victim]);
    const changed = await p.audit.verify();
    expect(changed.ok).toBe(false);
    expect(changed.firstBad!.id).toBe(victim);
    expect(changed.firstBad!.problem).toMatch(/changed/);

    if (kind === 'postgres') {
      // The operator's command names the same row and fails.
      const res = await run(process.execPath, [CLI, 'audit', 'verify'], {
        env: { ...process.env, DATABASE_URL: p.testDb.url, CAUYTE_SECRET_KEY: TEST_SECRET, LOG_LEVEL: 'silent' },
      }).catch((e: { code: number; stderr: string }) => e);
      expect((res as { code: number }).code).toBe(2);
      expect((res as { stderr: string }).stderr).toContain(`audit_log id ${victim}`);
    }

    const deleted = (await p.db.query<{ id: number }>('SELECT id FROM audit_log WHERE id > $1 AND chain_pos IS NOT NULL ORDER BY chain_pos LIMIT 1', [victim]))
      .rows[0].id;
    await p.db.query('DELETE FROM audit_log WHERE id = $1', [victim]);
    const gone = await p.audit.verify();
    expect(gone.ok).toBe(false);
    expect(gone.firstBad!.problem).toMatch(/missing|deleted/);
    expect(deleted).toBeGreaterThan(victim);
    await p.db.exec('ALTER TABLE audit_log ENABLE TRIGGER audit_log_guard');
  });
});

describe('sessions and rate limits', () => {
  it('expire idle sessions, sign out everywhere, and limit requests per account and per IP', async () => {
    const p = await startTestPlatform('pglite', { CAUYTE_RATE_LIMIT: '8' });
    try {
      const demo = await seedDemo(p.store, 4);
      await createDemoAccounts(p.db, p.accounts, demo);
      const a = await signIn(p, 'nguoidan');
      const b = await signIn(p, 'nguoidan');
      expect((await call(p, 'GET', '/api/auth/me', undefined, a)).status).toBe(200);
      // Idle for longer than the limit: the session is gone.
      await p.db.query("UPDATE session SET last_seen_at = now() - interval '31 minutes' WHERE id IN (SELECT id FROM session ORDER BY created_at LIMIT 1)");
      expect((await call(p, 'GET', '/api/auth/me', undefined, a)).status).toBe(401);
      // Sign out everywhere ends the other session too.
      const c = await signIn(p, 'nguoidan');
      expect((await call(p, 'POST', '/api/auth/logout-all', {}, { ...c, 'content-type': 'application/json' })).status).toBe(200);
      expect((await call(p, 'GET', '/api/auth/me', undefined, b)).status).toBe(401);
      // Rate limit per credential: the 9th request in a minute is refused; another token is not affected.
      const token1 = { authorization: `Bearer ${p.token}` };
      const statuses: number[] = [];
      for (let i = 0; i < 9; i++) statuses.push((await call(p, 'GET', '/fhir/R4/metadata', undefined, token1)).status);
      expect(statuses.slice(0, 8).every((s) => s === 200)).toBe(true);
      expect(statuses[8]).toBe(429);
      const other = await p.tokenFor('integration');
      expect((await call(p, 'GET', '/fhir/R4/metadata', undefined, { authorization: `Bearer ${other}` })).status).toBe(200);
      const limited = await call(p, 'GET', '/fhir/R4/metadata', undefined, token1);
      expect(limited.body.title).toMatch(/Quá nhiều yêu cầu/);
    } finally {
      await p.close();
    }
  });
});

describe('logs', () => {
  it('carry no patient data, passwords or tokens', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const p = await startTestPlatform('pglite', { LOG_LEVEL: 'debug' }, sink); // debug: one access line per request
    try {
      const demo = await seedDemo(p.store, 4);
      await createDemoAccounts(p.db, p.accounts, demo);
      const secretName = 'Trịnh Thị Bí Mật';
      const cccd = '001190123456';
      await call(p, 'POST', '/fhir/R4/Patient', {
        resourceType: 'Patient',
        name: [{ text: secretName, family: 'Trịnh' }],
        identifier: [{ system: 'https://fhir.cauyte.vn/sid/cccd', value: cccd }],
        gender: 'female',
        birthDate: '1990-01-01',
      } as Resource);
      await call(p, 'GET', `/fhir/R4/Patient?name=${encodeURIComponent(secretName)}&identifier=${cccd}`);
      await call(p, 'POST', '/fhir/R4/Patient', `{"resourceType":"Patient","name":[{"text":"${secretName}"`); // malformed
      await call(p, 'POST', '/api/auth/login', { username: 'nguoidan', password: DEMO_PASSWORD }, { authorization: '', 'content-type': 'application/json' });
      await call(
        p,
        'POST',
        '/api/auth/login',
        { username: 'nguoidan', password: 'Sai-Mat-Khau-123' },
        { authorization: '', 'content-type': 'application/json' },
      );
      expect(out.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(5); // the 5 requests were logged, one line each
      for (const secret of [secretName, 'Trịnh', cccd, DEMO_PASSWORD, 'Sai-Mat-Khau-123', p.token, TEST_SECRET, 'Nguyễn Văn An']) {
        expect(out.includes(secret), `log contains ${secret.slice(0, 12)}…`).toBe(false);
      }
    } finally {
      await p.close();
    }
  });
});
