/**
 * Identity gaps found by an attacker's review, each closed and tested here on both databases:
 *   6. the second factor: its own lockout (a correct password does not reset it), no replay of a
 *      used code (on any node), single-use recovery codes;
 *   7. revocation: sign-out everywhere, disabling, password and role changes stop access tokens
 *      at once (on other nodes within a second), whatever the verification cache holds; a
 *      disabled account's sessions stop;
 *   8. sign-in does not tell whether a username exists (answers, back-off, argon2 on every path),
 *      and nobody can lock an account out at will.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DB_KINDS } from '../testing/databases.ts';
import { call, patient, sessionFor, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { AccountService, MAX_FAILED_LOGINS, MAX_MFA_FAILURES, totpFor } from './accounts.ts';
import { DEMO_PASSWORD } from '../seed/accounts.ts';
import { registerClient } from './oauth.ts';
import { decideConsent } from '../testing/smart.ts';
import { ACCOUNT_STATE_MS } from './tokens.ts';

// Counts argon2 verifications, to show that every sign-in path runs the password hash.
const argon = vi.hoisted(() => ({ verifies: 0 }));
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const real = await importOriginal<typeof import('@node-rs/argon2')>();
  return {
    ...real,
    verify: async (...args: Parameters<typeof real.verify>) => {
      argon.verifies++;
      return real.verify(...args);
    },
  };
});

const JSON_TYPE = { 'content-type': 'application/json' };

describe.each(DB_KINDS)('identity gaps on %s', (kind) => {
  let p: TestPlatform;
  let n = 0;
  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: [] });
  });
  afterAll(async () => p?.close());

  async function staff(totpSecret?: string, org = 'org-a') {
    const username = `nv.${kind}.${++n}`;
    const account = await p.accounts.create({
      username,
      displayName: 'Nhân viên',
      kind: 'staff',
      password: DEMO_PASSWORD,
      roles: [{ role: 'commune_clinician', organizationId: org }],
      totpSecret,
    });
    return { account, username };
  }
  async function citizen() {
    const pt = await p.fixtures.create(patient('Lò', ['Thị', 'Mai']));
    const username = `dan.${kind}.${++n}`;
    const account = await p.accounts.create({ username, displayName: 'Lò Thị Mai', kind: 'citizen', password: DEMO_PASSWORD, patientId: pt.id, roles: [] });
    return { account, username, patientId: pt.id! };
  }
  /** A password sign-in from a client address; returns the answer and, when signed in, session headers. */
  let k = 0;
  /** Each call from its own network unless told (the sign-in route allows 20 a minute per address). */
  async function login(username: string, password = DEMO_PASSWORD, ip = `10.${100 + Math.floor(++k / 250)}.${k % 250}.1`) {
    const res = await p.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: ip,
      headers: JSON_TYPE,
      payload: JSON.stringify({ username, password }),
    });
    const body = JSON.parse(res.body);
    const session =
      res.statusCode === 200
        ? { authorization: '', cookie: String(res.headers['set-cookie']).split(';')[0], 'x-csrf-token': body.csrfToken as string }
        : undefined;
    return { status: res.statusCode, body, session };
  }
  const mfa = (session: Record<string, string>, code: string) => call(p, 'POST', '/api/auth/mfa', { code }, { ...session, ...JSON_TYPE });
  /** A six-digit code that is not valid now (nor in the steps either side). */
  function wrongCode(secret: string, username: string): string {
    const valid = new Set([-30_000, 0, 30_000].map((d) => totpFor(secret, username).generate({ timestamp: Date.now() + d })));
    let c = 123456;
    while (valid.has(String(c))) c++;
    return String(c);
  }

  describe('6: the second factor', () => {
    it('counts wrong codes per account, and a correct password does not reset the count', async () => {
      const secret = new Secret({ size: 20 }).base32;
      const { username } = await staff(secret);
      let wrong = 0;
      // Three sign-ins with the right password, two wrong codes each: six in a row for the account.
      for (let round = 0; round < 3; round++) {
        const { session, body } = await login(username);
        expect(body.status).toBe('mfa-required');
        for (let i = 0; i < 2; i++, wrong++) {
          const r = await mfa(session!, wrongCode(secret, username));
          expect(r.status).toBe(wrong + 1 < MAX_MFA_FAILURES ? 400 : 423);
        }
      }
      // Now even the right code is refused: the second factor is locked, whatever the password did.
      const { session } = await login(username);
      const locked = await mfa(session!, totpFor(secret, username).generate());
      expect(locked.status).toBe(423);
      expect(locked.body.title).toMatch(/tạm khóa/);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(60);
      expect((await call(p, 'GET', '/api/auth/me', undefined, session!)).body.mfaPending).toBe(true);
    });

    it('accepts a code once, on any node, and the next one still works', async () => {
      const secret = new Secret({ size: 20 }).base32;
      const { account, username } = await staff(secret);
      const code = totpFor(secret, username).generate();
      const first = await login(username);
      expect((await mfa(first.session!, code)).status).toBe(200);
      // The same code again (an observed or phished code, within its 90-second window): refused.
      const second = await login(username);
      const replay = await mfa(second.session!, code);
      expect(replay.status).toBe(400);
      expect(replay.body.title).toMatch(/đã được dùng/);
      // Another API node (its own service object, the same database) refuses it too.
      const otherNode = new AccountService(p.db, p.secret);
      expect(await otherNode.verifySecondFactor(account.id, code)).toMatchObject({ ok: false, reason: 'reused' });
      // The next time-step's code is still good.
      const next = totpFor(secret, username).generate({ timestamp: Date.now() + 30_000 });
      expect((await mfa(second.session!, next)).status).toBe(200);
      expect((await call(p, 'GET', '/api/auth/me', undefined, second.session!)).body.mfaPending).toBe(false);
    });

    it('makes the enrolment code and every recovery code single-use, even when raced', async () => {
      const { account, username } = await staff();
      const enrol = await login(username);
      expect(enrol.body.status).toBe('enrolment-required');
      const started = await call(p, 'POST', '/api/auth/mfa/enrol', {}, { ...enrol.session!, ...JSON_TYPE });
      const code = totpFor(started.body.secret, username).generate();
      const confirmed = await call(p, 'POST', '/api/auth/mfa/enrol/confirm', { code }, { ...enrol.session!, ...JSON_TYPE });
      expect(confirmed.status, confirmed.text).toBe(200);
      const recovery = confirmed.body.recoveryCodes as string[];
      expect(recovery).toHaveLength(10);
      // The code that confirmed enrolment cannot serve as a second factor afterwards.
      const again = await login(username);
      expect((await mfa(again.session!, code)).status).toBe(400);
      // A recovery code works once.
      expect((await mfa(again.session!, recovery[0])).status).toBe(200);
      const later = await login(username);
      expect((await mfa(later.session!, recovery[0])).status).toBe(400);
      // Two nodes racing with the same recovery code (both read the account before either writes): one wins.
      const nodes = [new AccountService(p.db, p.secret), new AccountService(p.db, p.secret)];
      const raced = await Promise.all(nodes.map((node) => node.verifySecondFactor(account.id, recovery[1])));
      expect(raced.map((r) => r.ok).sort()).toEqual([false, true]);
    });
  });

  describe('7: revocation', () => {
    const tokenHeaders = (t: string) => ({ authorization: `Bearer ${t}` });

    it("refuses at once a token an app got through the user's session, after sign-out everywhere", async () => {
      const c = await citizen();
      const redirect = 'http://127.0.0.1:9/callback';
      const client = await registerClient(p.db, {
        name: 'Sổ sức khỏe',
        redirectUris: [redirect],
        scopes: ['patient/Patient.read', 'launch/patient'],
        grantTypes: ['authorization_code'],
        confidential: false,
      });
      const session = await signIn(p, c.username);
      const verifier = randomBytes(48).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: redirect,
        scope: 'launch/patient patient/Patient.read',
        state: 's',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        aud: `${p.config.baseUrl}/fhir/R4`,
      });
      const authorized = await call(p, 'GET', `/oauth/authorize?${query}`, undefined, session);
      const code = (await decideConsent(p, authorized, session)).searchParams.get('code')!;
      const form = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirect, client_id: client.clientId });
      const issued = await call(p, 'POST', '/oauth/token', form.toString(), { authorization: '', 'content-type': 'application/x-www-form-urlencoded' });
      expect(issued.status, issued.text).toBe(200);
      const token = issued.body.access_token as string;
      expect((await call(p, 'GET', `/fhir/R4/Patient/${c.patientId}`, undefined, tokenHeaders(token))).status).toBe(200);
      expect((await call(p, 'GET', `/fhir/R4/Patient/${c.patientId}`, undefined, tokenHeaders(token))).status).toBe(200); // now cached
      // A second, not yet redeemed code dies with the sign-out too.
      const pending = await call(p, 'GET', `/oauth/authorize?${query}`, undefined, session);
      const pendingCode = (await decideConsent(p, pending, session)).searchParams.get('code')!;

      const out = await call(p, 'POST', '/api/auth/logout-all', {}, { ...session, ...JSON_TYPE });
      expect(out.status).toBe(200);
      const refused = await call(p, 'GET', `/fhir/R4/Patient/${c.patientId}`, undefined, tokenHeaders(token));
      expect(refused.status).toBe(401);
      const late = new URLSearchParams({
        grant_type: 'authorization_code',
        code: pendingCode,
        code_verifier: verifier,
        redirect_uri: redirect,
        client_id: client.clientId,
      });
      expect((await call(p, 'POST', '/oauth/token', late.toString(), { authorization: '', 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(
        400,
      );
      // Signing in again gives working sessions and tokens.
      const fresh = await p.tokens.issue({ sub: c.account.id, role: 'citizen', patient: c.patientId, scope: 'patient/*.read' });
      expect((await call(p, 'GET', `/fhir/R4/Patient/${c.patientId}`, undefined, tokenHeaders(fresh.token))).status).toBe(200);
    });

    it("refuses a disabled service account's client-credentials token, and a disabled person's session", async () => {
      const svc = await p.accounts.create({
        username: `svc.${kind}.${++n}`,
        displayName: 'HIS',
        kind: 'service',
        roles: [{ role: 'integration', organizationId: 'org-a' }],
      });
      const client = await registerClient(p.db, {
        name: 'HIS',
        redirectUris: [],
        scopes: ['system/*.read'],
        grantTypes: ['client_credentials'],
        accountId: svc.id,
        confidential: true,
      });
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret!,
        scope: 'system/*.read',
      });
      const issued = await call(p, 'POST', '/oauth/token', form.toString(), { authorization: '', 'content-type': 'application/x-www-form-urlencoded' });
      expect(issued.status, issued.text).toBe(200);
      const token = issued.body.access_token as string;
      expect((await call(p, 'GET', '/fhir/R4/Patient?_count=1', undefined, tokenHeaders(token))).status).toBe(200);
      const admin = await sessionFor(p, 'system_admin');
      const disabled = await call(p, 'POST', `/api/accounts/${svc.id}/disable`, { reason: 'máy chủ HIS bị xâm nhập' }, { ...admin, ...JSON_TYPE });
      expect(disabled.status, disabled.text).toBe(200);
      expect((await call(p, 'GET', '/fhir/R4/Patient?_count=1', undefined, tokenHeaders(token))).status).toBe(401);
      expect((await p.audit.list({ limit: 5, action: 'account.disable' })).some((e) => (e.detail as { account?: string }).account === svc.id)).toBe(true);

      // A person's live session stops too, and only an administrator brings the account back.
      const c = await citizen();
      const session = await signIn(p, c.username);
      expect((await call(p, 'GET', '/api/auth/me', undefined, session)).status).toBe(200);
      await p.accounts.disable(c.account.id, 'admin');
      expect((await call(p, 'GET', '/api/auth/me', undefined, session)).status).toBe(401);
      expect((await login(c.username)).status).toBe(403);
      expect((await call(p, 'POST', `/api/accounts/${c.account.id}/enable`, {}, { ...admin, ...JSON_TYPE })).status).toBe(200);
      expect((await login(c.username)).status).toBe(200);
    });

    it('refuses the token on other nodes too, within ACCOUNT_STATE_MS', async () => {
      const c = await citizen();
      const token = (await p.tokens.issue({ sub: c.account.id, role: 'citizen', patient: c.patientId, scope: 'patient/*.read' })).token;
      const read = async () => (await call(p, 'GET', `/fhir/R4/Patient/${c.patientId}`, undefined, tokenHeaders(token))).status;
      expect(await read()).toBe(200); // this node now holds the account's state
      await new AccountService(p.db, p.secret).signOutEverywhere(c.account.id); // another node signs the person out
      const started = Date.now();
      let status = await read();
      while (status === 200 && Date.now() - started < ACCOUNT_STATE_MS + 2000) {
        await sleep(50);
        status = await read();
      }
      expect(status).toBe(401);
      expect(Date.now() - started).toBeLessThan(ACCOUNT_STATE_MS + 1000); // a security bound, with slack for a slow machine
    });

    it('refuses tokens issued before a password or role change', async () => {
      const { account } = await staff(new Secret({ size: 20 }).base32);
      const before = (await p.tokens.issue({ sub: account.id, role: 'commune_clinician', org: 'org-a', scope: 'user/*.read' })).token;
      expect((await call(p, 'GET', '/fhir/R4/Patient?_count=1', undefined, tokenHeaders(before))).status).toBe(200);
      await p.accounts.setPassword(account.id, 'Mat-Khau-Moi-2026');
      expect((await call(p, 'GET', '/fhir/R4/Patient?_count=1', undefined, tokenHeaders(before))).status).toBe(401);
      const middle = (await p.tokens.issue({ sub: account.id, role: 'commune_clinician', org: 'org-a', scope: 'user/*.read' })).token;
      expect((await call(p, 'GET', '/fhir/R4/Patient?_count=1', undefined, tokenHeaders(middle))).status).toBe(200);
      await p.accounts.setRoles(account.id, [{ role: 'commune_clinician', organizationId: 'org-b' }]);
      expect((await call(p, 'GET', '/fhir/R4/Patient?_count=1', undefined, tokenHeaders(middle))).status).toBe(401);
    });
  });

  describe('8: sign-in does not reveal which usernames exist', () => {
    it('answers an unknown username exactly like a known one, through the back-off too', async () => {
      const known = (await citizen()).username;
      const unknown = `khong.co.${kind}.${++n}`;
      const seq = async (username: string, ip: string) => {
        const out: { status: number; body: unknown }[] = [];
        for (let i = 0; i < MAX_FAILED_LOGINS; i++) out.push(await login(username, 'Sai-Mat-Khau-1', ip));
        // Then the right password (for the known one): still backed off from this address.
        out.push(await login(username, DEMO_PASSWORD, ip));
        return out.map((r) => ({ status: r.status, body: r.body }));
      };
      const a = await seq(known, '10.8.1.1');
      const b = await seq(unknown, '10.8.2.1');
      expect(a.map((r) => r.status)).toEqual([401, 401, 401, 401, 423, 423]);
      expect(b).toEqual(a);
      expect(JSON.stringify(a)).not.toMatch(/lockedUntil|T\d\d:\d\d/);
    });

    it('runs the password hash on every path, and takes about as long for unknown usernames', async () => {
      const known = (await citizen()).username;
      const off = await citizen();
      await p.accounts.disable(off.account.id, 'admin');
      const verifies = async (fn: () => Promise<unknown>) => {
        const before = argon.verifies;
        await fn();
        return argon.verifies - before;
      };
      expect(await verifies(() => login(`khong.co.${++n}`, 'x', '10.9.0.1'))).toBe(1);
      expect(await verifies(() => login(known, 'x', '10.9.0.2'))).toBe(1);
      expect(await verifies(() => login(off.username, 'x', '10.9.0.3'))).toBe(1);
      // A disabled account says so only to someone who knows its password.
      const wrong = await login(off.username, 'Sai-Mat-Khau-1', '10.9.0.4');
      expect({ status: wrong.status, body: wrong.body }).toEqual({ status: 401, body: (await login(`khong.co.${++n}`, 'Sai-Mat-Khau-1', '10.9.0.5')).body });
      expect((await login(off.username, DEMO_PASSWORD, '10.9.0.6')).status).toBe(403);

      // Timing: medians over 20 interleaved tries each, every try from its own network (no back-off).
      // argon2 dominates both paths; the bound is loose on purpose (a security property, not a benchmark).
      // (A fresh known account: 20 failures is where its per-username back-off starts.)
      const timed = (await citizen()).username;
      const times: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] };
      for (let i = 0; i < 20; i++) {
        for (const who of ['known', 'unknown'] as const) {
          const t = performance.now();
          const r = await login(who === 'known' ? timed : `khong.co.${kind}.t${i}`, 'Sai-Mat-Khau-1', `10.${who === 'known' ? 30 : 31}.${i}.1`);
          times[who].push(performance.now() - t);
          expect(r.status).toBe(401);
        }
      }
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
      const ratio = median(times.unknown) / median(times.known);
      console.log(
        `[${kind}] sign-in median: known ${median(times.known).toFixed(1)} ms, unknown ${median(times.unknown).toFixed(1)} ms (ratio ${ratio.toFixed(2)})`,
      );
      expect(ratio).toBeGreaterThan(1 / 3);
      expect(ratio).toBeLessThan(3);
    });

    it('lets nobody lock an account out at will', async () => {
      const victim = await citizen();
      const unknown = `khong.co.${kind}.${++n}`;
      expect((await login(victim.username, DEMO_PASSWORD, '10.40.0.1')).status).toBe(200); // the owner's usual network
      // One attacker address: backed off there, and only there.
      for (let i = 0; i < 8; i++) await login(victim.username, 'Sai-Mat-Khau-1', '10.41.0.1');
      expect((await login(victim.username, DEMO_PASSWORD, '10.41.0.1')).status).toBe(423);
      expect((await login(victim.username, DEMO_PASSWORD, '10.42.0.1')).status).toBe(200);
      // Many attacker networks: new networks wait, for the unknown username just the same; the owner's network does not.
      for (let i = 0; i < 25; i++) {
        await login(victim.username, 'Sai-Mat-Khau-1', `10.50.${i}.1`);
        await login(unknown, 'Sai-Mat-Khau-1', `10.50.${i}.1`);
      }
      const fromNew = await login(victim.username, DEMO_PASSWORD, '10.60.0.1');
      const unknownFromNew = await login(unknown, 'Sai-Mat-Khau-1', '10.60.0.2');
      expect(fromNew.status).toBe(423);
      expect({ status: unknownFromNew.status, body: unknownFromNew.body }).toEqual({ status: fromNew.status, body: fromNew.body });
      expect((await login(victim.username, DEMO_PASSWORD, '10.40.0.7')).status).toBe(200);
    });
  });
});
