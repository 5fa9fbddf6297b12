/**
 * Gap 14, level-3 information-security rules, on both databases:
 *   - staff accounts unused for 45 days are disabled (audited), their sessions and tokens stop,
 *     and only an administrator (of their facility, or a system administrator) enables them again;
 *   - audit retention removes only entries older than the limit (never under 90 days), by moving
 *     the chain's start; `verify` still passes afterwards and tampering is still detected.
 */
import { Secret } from 'otpauth';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { AuditLog } from '../audit/audit.ts';
import { runAuditRetention } from '../audit/retention.ts';
import { createTestDb, DB_KINDS, type TestDb } from '../testing/databases.ts';
import { call, sessionFor, signIn, startTestPlatform, TEST_SECRET, type TestPlatform } from '../testing/platform.ts';
import { DEMO_PASSWORD } from '../seed/accounts.ts';
import { expireInactiveStaff } from './inactivity.ts';
import { ServerSecret } from './secret.ts';

const JSON_TYPE = { 'content-type': 'application/json' };

describe.each(DB_KINDS)('staff inactivity on %s', (kind) => {
  let p: TestPlatform;
  let n = 0;
  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: [] });
  });
  afterAll(async () => p?.close());

  async function account(kindOf: 'staff' | 'citizen' | 'service', idleDays: number | 'never', org = 'org-a') {
    const totpSecret = kindOf === 'staff' ? new Secret({ size: 20 }).base32 : undefined;
    const a = await p.accounts.create({
      username: `${kindOf}.${kind}.${++n}`,
      displayName: 'X',
      kind: kindOf,
      password: kindOf === 'service' ? undefined : DEMO_PASSWORD,
      roles: kindOf === 'citizen' ? [] : [{ role: kindOf === 'service' ? 'integration' : 'commune_clinician', organizationId: org }],
      totpSecret,
    });
    if (idleDays === 'never') await p.db.query("UPDATE account SET created_at = now() - interval '60 days', last_active_at = NULL WHERE id = $1", [a.id]);
    else
      await p.db.query("UPDATE account SET created_at = now() - interval '400 days', last_active_at = now() - make_interval(days => $2) WHERE id = $1", [
        a.id,
        idleDays,
      ]);
    return { ...a, totpSecret };
  }

  it('disables staff unused for 45 days (sign-in or token use), audits it, and stops their sessions and tokens', async () => {
    const idle = await account('staff', 50);
    const never = await account('staff', 'never');
    const recent = await account('staff', 10);
    const tokenUser = await account('staff', 50);
    const citizen = await account('citizen', 100);
    const service = await account('service', 100);
    // A session made before the job (still live: its sign-in was earlier today), and a token.
    const session = await signIn(p, idle.username, idle.totpSecret);
    await p.db.query("UPDATE account SET last_active_at = now() - interval '50 days' WHERE id = $1", [idle.id]);
    const token = (await p.tokens.issue({ sub: idle.id, role: 'commune_clinician', org: 'org-a', scope: 'user/*.read' })).token;
    await p.db.query("UPDATE account SET last_active_at = now() - interval '50 days' WHERE id = $1", [idle.id]);
    // Using a token counts as activity.
    const used = (await p.tokens.issue({ sub: tokenUser.id, role: 'commune_clinician', org: 'org-a', scope: 'user/*.read' })).token;
    expect((await call(p, 'GET', '/fhir/R4/Patient?_count=1', undefined, { authorization: `Bearer ${used}` })).status).toBe(200);

    const expired = await expireInactiveStaff(p, 45);
    expect(expired.map((a) => a.username).sort()).toEqual([idle.username, never.username].sort());
    for (const a of [recent, tokenUser, citizen, service]) expect((await p.accounts.get(a.id))!.disabled).toBe(false);
    expect(await p.accounts.get(idle.id)).toMatchObject({ disabled: true, disabledReason: 'inactive' });
    expect((await call(p, 'GET', '/api/auth/me', undefined, session)).status).toBe(401);
    expect((await call(p, 'GET', '/fhir/R4/Patient?_count=1', undefined, { authorization: `Bearer ${token}` })).status).toBe(401);
    const audited = await p.audit.list({ limit: 20, action: 'account.disable' });
    for (const a of [idle, never]) {
      expect(
        audited.some(
          (e) =>
            e.username === 'system:auth' &&
            (e.detail as { account?: string; automatic?: boolean }).account === a.id &&
            (e.detail as { automatic?: boolean }).automatic,
        ),
      ).toBe(true);
    }
    // Idempotent: a second run (or a second node) disables nobody again.
    expect(await expireInactiveStaff(p, 45)).toEqual([]);
  });

  it('lets only an administrator enable the account again: a facility admin for their own facility', async () => {
    const idle = await account('staff', 60, 'org-a');
    await expireInactiveStaff(p, 45);
    const refused = await call(p, 'POST', '/api/auth/login', { username: idle.username, password: DEMO_PASSWORD }, { authorization: '', ...JSON_TYPE });
    expect(refused.status).toBe(403);
    expect(refused.body.title).toMatch(/vô hiệu hóa/);
    // The person cannot enable themselves (no account.manage), nor can another facility's administrator.
    const self = (await p.tokens.issue({ sub: idle.id, role: 'commune_clinician', org: 'org-a', scope: 'user/*.read' })).token;
    expect((await call(p, 'POST', `/api/accounts/${idle.id}/enable`, {}, { authorization: `Bearer ${self}`, ...JSON_TYPE })).status).toBe(401);
    const otherAdmin = await sessionFor(p, 'facility_admin', { org: 'org-b' });
    expect((await call(p, 'POST', `/api/accounts/${idle.id}/enable`, {}, { ...otherAdmin, ...JSON_TYPE })).status).toBe(403);
    const clinician = await p.tokenFor('commune_clinician', { org: 'org-a' });
    expect((await call(p, 'POST', `/api/accounts/${idle.id}/enable`, {}, { authorization: `Bearer ${clinician}`, ...JSON_TYPE })).status).toBe(403);
    // The facility's own administrator at the screen (an app holding their token is refused: account.manage is a person's).
    const adminsApp = await p.tokenFor('facility_admin', { org: 'org-a' });
    expect((await call(p, 'POST', `/api/accounts/${idle.id}/enable`, { reason: 'x' }, { authorization: `Bearer ${adminsApp}`, ...JSON_TYPE })).status).toBe(
      403,
    );
    const ownAdmin = await sessionFor(p, 'facility_admin', { org: 'org-a' });
    const enabled = await call(p, 'POST', `/api/accounts/${idle.id}/enable`, { reason: 'trở lại sau nghỉ phép' }, { ...ownAdmin, ...JSON_TYPE });
    expect(enabled.status, enabled.text).toBe(200);
    const entry = (await p.audit.list({ limit: 5, action: 'account.enable' }))[0];
    expect(entry).toMatchObject({ outcome: 'success', reason: 'trở lại sau nghỉ phép', role: 'facility_admin' });
    expect(entry.detail).toMatchObject({ account: idle.id, previousReason: 'inactive', changed: true });
    // Active again from now: the next run leaves it alone, and the person signs in.
    expect((await expireInactiveStaff(p, 45)).map((a) => a.id)).not.toContain(idle.id);
    expect((await signIn(p, idle.username, idle.totpSecret)).cookie).toBeTruthy();
    expect((await call(p, 'POST', '/api/accounts/no-such-account/enable', {}, { ...ownAdmin, ...JSON_TYPE })).status).toBe(404);
  });
});

describe.each(DB_KINDS)('audit retention on %s', (kind) => {
  let t: TestDb;
  let audit: AuditLog;
  beforeAll(async () => {
    t = await createTestDb(kind);
    audit = new AuditLog(t.db, new ServerSecret(TEST_SECRET));
  });
  afterAll(async () => t?.drop());
  afterEach(async () => {
    await t.db.exec('ALTER TABLE audit_log ENABLE TRIGGER audit_log_guard');
  });

  /** Appends `count` entries dated `days` ago and seals them (chain order = the order of these calls). */
  async function entries(days: number, count: number, label: string) {
    await t.db.query(
      "INSERT INTO audit_log (at, username, action, outcome) SELECT now() - make_interval(days => $1), $2 || g, 'read', 'success' FROM generate_series(1, $3) g",
      [days, label, count],
    );
    await audit.seal();
  }
  const count = async (where = 'true') => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE ${where}`)).rows[0].n;

  it('removes only entries older than the limit, keeps the chain verifiable, and still detects tampering', async () => {
    await entries(400, 30, 'a');
    await entries(200, 10, 'b');
    await entries(100, 5, 'c');
    await entries(300, 1, 'd'); // older, but sealed after younger ones: it waits for them
    await entries(0, 5, 'e');
    expect((await audit.verify()).ok).toBe(true);
    const young = await count("at >= now() - interval '150 days'");

    const first = await runAuditRetention(t.db, audit, 150, { batch: 7 });
    expect(first).toEqual({ removed: 40, startPos: 40 });
    expect(await count("username LIKE 'a%' OR username LIKE 'b%'")).toBe(0);
    expect(await count("at >= now() - interval '150 days' AND action <> 'audit.retention'")).toBe(young);
    expect(await count("username = 'd1'")).toBe(1);
    const runs = await t.db.query<{ detail: { removed: number } }>("SELECT detail FROM audit_log WHERE action = 'audit.retention' ORDER BY id");
    expect(runs.rows.reduce((s, r) => s + r.detail.removed, 0)).toBe(40); // in batches of 7, each one audited
    await audit.seal();
    const after = await audit.verify();
    expect(after).toMatchObject({ ok: true, checked: await count('chain_pos IS NOT NULL') });
    expect(await runAuditRetention(t.db, audit, 150)).toEqual({ removed: 0, startPos: 40 });

    // Tampering is still detected: a changed entry, a start moved without the secret, a removed first entry.
    await t.db.exec('ALTER TABLE audit_log DISABLE TRIGGER audit_log_guard');
    await t.db.query("UPDATE audit_log SET username = 'x' WHERE username = 'c3'");
    expect((await audit.verify()).firstBad?.problem).toMatch(/changed/);
    // ... and retention refuses to launder it by removing the changed entry (it is old enough at 90 days).
    const refused = await runAuditRetention(t.db, audit, 90);
    expect(refused.removed).toBe(0);
    expect(refused.problem).toMatch(/changed/);
    expect(await count("username = 'x'")).toBe(1);
    await t.db.query("UPDATE audit_log SET username = 'c3' WHERE username = 'x'");
    expect((await audit.verify()).ok).toBe(true);
    await t.db.query('UPDATE audit_head SET start_pos = start_pos + 1');
    expect((await audit.verify()).firstBad?.problem).toMatch(/start record/);
    await t.db.query('UPDATE audit_head SET start_pos = start_pos - 1');
    expect((await audit.verify()).ok).toBe(true);
    await t.db.query('DELETE FROM audit_log WHERE chain_pos = 41');
    expect((await audit.verify()).firstBad?.problem).toMatch(/missing|deleted/);
  });

  it('never goes below 90 days, and the table refuses deletes outside the retention rules', async () => {
    await expect(runAuditRetention(t.db, audit, 89)).rejects.toThrow(/at least 90/);
    expect(() => loadConfig({ CAUYTE_AUDIT_RETENTION_DAYS: '30' })).toThrow(/CAUYTE_AUDIT_RETENTION_DAYS/);
    expect(loadConfig({}).CAUYTE_AUDIT_RETENTION_DAYS).toBe(3650);
    await entries(120, 3, 'f');
    // A plain delete, and even a declared retention delete of an entry past the chain's start, are refused.
    await expect(t.db.query("DELETE FROM audit_log WHERE username = 'f1'")).rejects.toThrow(/append-only/);
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query("SELECT set_config('cauyte.audit_retention', 'on', true)");
        await tx.query("DELETE FROM audit_log WHERE username = 'f1'");
      }),
    ).rejects.toThrow(/append-only/);
    await expect(t.db.exec('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect(await count("username = 'f1'")).toBe(1);
  });
});
