/**
 * Administration API: a facility administrator manages only their own facility's staff, clients
 * and services; a system administrator manages all; clinicians and app tokens get nothing. Every
 * change is audited; a disabled account cannot sign in.
 */
import type { HealthcareService } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, sessionFor, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import type { AdminAccountPage, AdminClient, AdminFacility } from './admin-contract.ts';

const JSON_CT = { 'content-type': 'application/json' };

describe('administration API', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  // Administrators at the screen (sessions): managing accounts and clients is refused to any app token.
  let laocaiAdmin: Record<string, string>;
  let bachmaiAdmin: Record<string, string>;
  let sysAdmin: Record<string, string>;
  let clinician: Record<string, string>;
  let clientId: string;
  let clientSecret: string;
  const as = (who: Record<string, string>) => ({ ...who, ...JSON_CT });

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: [] });
    demo = await seedDemo(p.store, 6);
    const created = await createDemoAccounts(p.db, p.accounts, demo);
    clientId = created.client!.clientId;
    clientSecret = created.client!.clientSecret;
    const org = demo.ids.organizations;
    laocaiAdmin = await sessionFor(p, 'facility_admin', { org: org.laocai });
    bachmaiAdmin = await sessionFor(p, 'facility_admin', { org: org.bachmai });
    sysAdmin = await sessionFor(p, 'system_admin');
    clinician = await sessionFor(p, 'commune_clinician', { org: org.laocai });
  });
  afterAll(async () => {
    await p?.close();
  });

  let staffId: string;
  it('a facility administrator creates a staff account at their facility and sees it with the facility name', async () => {
    const r = await call(
      p,
      'POST',
      '/api/accounts',
      {
        username: 'bs.moi',
        displayName: 'BS Hoàng Thị Mới',
        kind: 'staff',
        password: 'Moi-Mat-Khau-2026',
        roles: [{ role: 'commune_clinician', organizationId: demo.ids.organizations.laocai }],
      },
      as(laocaiAdmin),
    );
    expect(r.status).toBe(201);
    staffId = r.body.id;
    const list = await call<AdminAccountPage>(p, 'GET', '/api/admin/accounts?q=moi', undefined, as(laocaiAdmin));
    expect(list.status).toBe(200);
    expect(list.body.items.map((a) => a.username)).toEqual(['bs.moi']);
    expect(list.body.items[0].roles[0]).toMatchObject({ role: 'commune_clinician', organizationName: 'Bệnh viện Đa khoa tỉnh Lào Cai' });
    expect(list.body.items[0].roles[0].label.vi).toBe('Bác sĩ tuyến xã');
    // Only accounts with a role at their own facility: never Bạch Mai's specialist.
    const all = await call<AdminAccountPage>(p, 'GET', '/api/admin/accounts?limit=200', undefined, as(laocaiAdmin));
    expect(all.body.items.map((a) => a.username)).not.toContain('bs.bachmai');
    expect(all.body.items.every((a) => a.roles.some((x) => x.organizationId === demo.ids.organizations.laocai))).toBe(true);
    // The system administrator finds it across facilities, paged.
    const sys = await call<AdminAccountPage>(p, 'GET', '/api/admin/accounts?limit=2&offset=0', undefined, as(sysAdmin));
    expect(sys.body.items.length).toBe(2);
    expect(sys.body.total).toBeGreaterThan(8);
  });

  it('another facility administrator, a clinician and an app token are refused (and the refusals audited)', async () => {
    for (const [method, url, body] of [
      ['POST', `/api/accounts/${staffId}/disable`, {}],
      ['POST', `/api/admin/accounts/${staffId}/reset-mfa`, { reason: 'mất điện thoại' }],
      ['PUT', `/api/admin/accounts/${staffId}/roles`, { roles: [{ role: 'specialist', organizationId: demo.ids.organizations.bachmai }] }],
    ] as const) {
      expect((await call(p, method, url, body, as(bachmaiAdmin))).status, `${method} ${url}`).toBe(403);
    }
    const other = await call<AdminAccountPage>(p, 'GET', '/api/admin/accounts?q=moi', undefined, as(bachmaiAdmin));
    expect(other.body.items).toEqual([]);
    expect((await call(p, 'GET', '/api/admin/accounts', undefined, as(clinician))).status).toBe(403);
    expect((await call(p, 'GET', '/api/admin/accounts', undefined, { authorization: `Bearer ${p.token}` })).status).toBe(403); // integration app token
    // An app holding the administrator's own token: accounts and clients are a person's business.
    const adminsApp = { authorization: `Bearer ${await p.tokenFor('facility_admin', { org: demo.ids.organizations.laocai })}`, ...JSON_CT };
    for (const [method, url, body] of [
      ['GET', '/api/admin/accounts', undefined],
      [
        'POST',
        '/api/oauth/clients',
        { name: 'x', scopes: ['system/*.read'], grantTypes: ['client_credentials'], confidential: true, serviceRole: 'specialist' },
      ],
      ['POST', `/api/accounts/${staffId}/disable`, {}],
    ] as const) {
      const r = await call(p, method, url, body, adminsApp);
      expect(r.status, `${method} ${url}`).toBe(403);
      expect(r.body.title).toMatch(/not for app tokens/);
    }
    const app = await call(p, 'POST', '/oauth/token', `grant_type=client_credentials&client_id=${clientId}&client_secret=${clientSecret}`, {
      authorization: '',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(app.status).toBe(200);
    expect((await call(p, 'GET', '/api/admin/oauth-clients', undefined, { authorization: `Bearer ${app.body.access_token}` })).status).toBe(403);
    const denied = (await p.db.query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE outcome = 'denied' AND detail->>'route' LIKE '/api/admin/%'"))
      .rows[0];
    expect(Number(denied.n)).toBeGreaterThanOrEqual(3);
  });

  it('a facility administrator grants clinical roles at their facility only', async () => {
    const url = `/api/admin/accounts/${staffId}/roles`;
    expect((await call(p, 'PUT', url, { roles: [{ role: 'system_admin', organizationId: '' }] }, as(laocaiAdmin))).status).toBe(403);
    expect((await call(p, 'PUT', url, { roles: [{ role: 'specialist', organizationId: demo.ids.organizations.bachmai }] }, as(laocaiAdmin))).status).toBe(403);
    const ok = await call(
      p,
      'PUT',
      url,
      { roles: [{ role: 'specialist', organizationId: demo.ids.organizations.laocai }], reason: 'chuyển khoa' },
      as(laocaiAdmin),
    );
    expect(ok.status).toBe(200);
    expect((await p.accounts.get(staffId))!.roles).toEqual([{ role: 'specialist', organizationId: demo.ids.organizations.laocai }]);
  });

  it('resets a second factor: the next sign-in enrols again', async () => {
    const batxatAdmin = await sessionFor(p, 'facility_admin', { org: demo.ids.organizations.batxat });
    const doctor = (await p.accounts.byUsername('bs.batxat'))!;
    expect(doctor.totpEnabled).toBe(true);
    expect((await call(p, 'POST', `/api/admin/accounts/${doctor.id}/reset-mfa`, { reason: 'mất điện thoại' }, as(laocaiAdmin))).status).toBe(403);
    const r = await call(p, 'POST', `/api/admin/accounts/${doctor.id}/reset-mfa`, { reason: 'mất điện thoại' }, as(batxatAdmin));
    expect(r.body).toEqual({ status: 'ok', changed: true });
    const login = await call(p, 'POST', '/api/auth/login', { username: 'bs.batxat', password: 'CauYTe-Demo-2026' }, { authorization: '', ...JSON_CT });
    expect(login.body.status).toBe('enrolment-required');
  });

  it('disables an account: it cannot sign in', async () => {
    const r = await call(p, 'POST', `/api/accounts/${staffId}/disable`, { reason: 'nghỉ việc' }, as(laocaiAdmin));
    expect(r.status).toBe(200);
    const login = await call(p, 'POST', '/api/auth/login', { username: 'bs.moi', password: 'Moi-Mat-Khau-2026' }, { authorization: '', ...JSON_CT });
    expect(login.status).toBe(403);
    const list = await call<AdminAccountPage>(p, 'GET', '/api/admin/accounts?state=disabled', undefined, as(laocaiAdmin));
    expect(list.body.items.map((a) => [a.username, a.disabledReason])).toContainEqual(['bs.moi', 'admin']);
  });

  it("lists and revokes OAuth clients of one's own facility; a revoked client gets no token", async () => {
    const mine = await call<AdminClient[]>(p, 'GET', '/api/admin/oauth-clients', undefined, as(laocaiAdmin));
    expect(mine.body.map((c) => c.clientId)).toContain(clientId);
    expect(mine.body.find((c) => c.clientId === clientId)!.serviceAccount?.organizationName).toBe('Bệnh viện Đa khoa tỉnh Lào Cai');
    const theirs = await call<AdminClient[]>(p, 'GET', '/api/admin/oauth-clients', undefined, as(bachmaiAdmin));
    expect(theirs.body.map((c) => c.clientId)).not.toContain(clientId);
    expect((await call(p, 'POST', `/api/admin/oauth-clients/${clientId}/revoke`, { reason: 'thử' }, as(bachmaiAdmin))).status).toBe(404);
    expect((await call(p, 'POST', `/api/admin/oauth-clients/${clientId}/revoke`, { reason: 'HIS cũ ngừng dùng' }, as(laocaiAdmin))).status).toBe(200);
    const token = await call(p, 'POST', '/oauth/token', `grant_type=client_credentials&client_id=${clientId}&client_secret=${clientSecret}`, {
      authorization: '',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(token.status).toBe(401);
  });

  it('facilities: a facility administrator sees their own; opening or closing another facility’s service is refused', async () => {
    const mine = await call<AdminFacility[]>(p, 'GET', '/api/admin/facilities', undefined, as(laocaiAdmin));
    expect(mine.body.map((f) => f.name)).toEqual(['Bệnh viện Đa khoa tỉnh Lào Cai']);
    expect(mine.body[0].staff).toBeGreaterThanOrEqual(2);
    const sys = await call<AdminFacility[]>(p, 'GET', '/api/admin/facilities?q=tram', undefined, as(sysAdmin));
    expect(sys.body.length).toBeGreaterThan(1);
    expect(sys.body.every((f) => /Trạm/.test(f.name))).toBe(true);
    const service = await p.fixtures.create<HealthcareService>({
      resourceType: 'HealthcareService',
      name: 'Khám từ xa Bạch Mai',
      active: true,
      providedBy: { reference: `Organization/${demo.ids.organizations.bachmai}` },
    });
    expect((await call(p, 'POST', `/api/admin/services/${service.id}/active`, { active: false }, as(laocaiAdmin))).status).toBe(403);
    const ok = await call(p, 'POST', `/api/admin/services/${service.id}/active`, { active: false }, as(bachmaiAdmin));
    expect(ok.body).toEqual({ status: 'ok', changed: true });
  });

  it('every change is in the audit trail', async () => {
    const actions = (await p.db.query<{ action: string }>("SELECT DISTINCT action FROM audit_log WHERE outcome = 'success'")).rows.map((r) => r.action);
    for (const a of ['account.create', 'account.list', 'account.roles.set', 'account.mfa.reset', 'account.disable', 'oauth.client.revoke', 'facility.list'])
      expect(actions, a).toContain(a);
  });
});
