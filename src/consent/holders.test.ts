/**
 * The consent page's "who can read my record now, and why": care relationships, facilities the
 * person shared with (and ones they blocked), family managers and break-the-glass grants with their
 * expiry — by name, never by id — and only for the person or a family member they manage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Patient } from '@medplum/fhirtypes';
import type { AccessHolder } from './contract.ts';
import { recordFamilyLink } from '../family/service.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { createDemoAccounts, type DemoAccount } from '../seed/accounts.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

describe.each(DB_KINDS)('who holds access to a record, on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let child: string;
  const json = { 'content-type': 'application/json' };

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: ['family'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    const repo = p.store.system('test: a child managed by the demo citizen', 'family');
    const created = await repo.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Nguyễn', given: ['Minh', 'Khang'], text: 'Nguyễn Minh Khang' }] });
    child = created.id!;
    await recordFamilyLink(
      repo,
      { managerPatientId: demo.ids.patients[0], patientId: child, relationship: 'child', proof: 'Giấy khai sinh số 45/2018' },
      'test',
      'test',
    );
  });
  afterAll(async () => p?.close());

  const staff = (u: string) => signIn(p, u, accounts.get(u)!.totpSecret);

  it('lists care, sharing, blocking and emergency access by name, with the grant’s expiry', async () => {
    const citizen = await signIn(p, 'nguoidan');
    const first = await call<AccessHolder[]>(p, 'GET', '/api/me/access-holders', undefined, citizen);
    expect(first.status, first.text).toBe(200);
    const care = first.body.filter((h) => h.basis === 'care');
    const batxat = (await p.store.system('test', 'test').read<{ resourceType: 'Organization'; name?: string }>('Organization', demo.ids.organizations.batxat))
      .name!;
    expect(care.map((h) => h.name)).toContain(batxat);
    expect(care.find((h) => h.name === batxat)!.kinds).toContain('registered');
    // No raw ids: not the facility's, not any practitioner's.
    for (const id of [...Object.values(demo.ids.organizations), ...demo.ids.practitioners]) expect(first.text).not.toContain(id);
    expect(first.body.some((h) => h.basis === 'break-glass')).toBe(false);

    // Shared with Bạch Mai, blocked Bát Xát; a doctor of another station opens the record in an emergency.
    const share = await call(
      p,
      'POST',
      '/api/me/consents',
      { purpose: 'treatment', decision: 'permit', organizationId: demo.ids.organizations.bachmai },
      { ...citizen, ...json },
    );
    expect(share.status, share.text).toBe(201);
    const block = await call(
      p,
      'POST',
      '/api/me/consents',
      { purpose: 'treatment', decision: 'deny', organizationId: demo.ids.organizations.batxat },
      { ...citizen, ...json },
    );
    expect(block.status, block.text).toBe(201);
    const doctor = await staff('bs.batxat');
    const glass = await call(
      p,
      'POST',
      '/api/break-glass',
      { patientId: demo.ids.patients[0], reason: 'Cấp cứu: bệnh nhân bất tỉnh tại trạm' },
      { ...doctor, ...json },
    );
    expect(glass.status, glass.text).toBe(200);

    const after = await call<AccessHolder[]>(p, 'GET', '/api/me/access-holders', undefined, citizen);
    expect(after.status).toBe(200);
    const bachmai = (await p.store.system('test', 'test').read<{ resourceType: 'Organization'; name?: string }>('Organization', demo.ids.organizations.bachmai))
      .name!;
    expect(after.body.find((h) => h.basis === 'consent' && h.name === bachmai)).toBeTruthy();
    expect(after.body.find((h) => h.basis === 'care' && h.name === batxat)?.blocked).toBe(true);
    const emergency = after.body.find((h) => h.basis === 'break-glass')!;
    expect(emergency).toMatchObject({ name: 'BS Giàng A Sử', facility: batxat, reason: 'Cấp cứu: bệnh nhân bất tỉnh tại trạm' });
    expect(emergency.roles?.[0].vi).toBe('Bác sĩ tuyến xã');
    expect(new Date(emergency.expiresAt!).getTime()).toBeGreaterThan(Date.now());

    // Asking is itself recorded against the record.
    const trail = await p.audit.list({ limit: 50, patientId: demo.ids.patients[0] });
    expect(trail.some((e) => e.action === 'consent.access-holders')).toBe(true);
    await call(p, 'POST', `/api/me/consents/${block.body.id}/withdraw`, {}, { ...citizen, ...json });
  });

  it('shows a managed child who manages their record, and how they are related', async () => {
    const citizen = await signIn(p, 'nguoidan');
    const r = await call<AccessHolder[]>(p, 'GET', `/api/me/access-holders?patientId=${child}`, undefined, citizen);
    expect(r.status, r.text).toBe(200);
    expect(r.body.find((h) => h.basis === 'family')).toMatchObject({ name: 'Nguyễn Văn An', relation: 'parent' });
  });

  it('refuses another person’s record, staff, and an empty or malformed patient', async () => {
    const citizen = await signIn(p, 'nguoidan');
    const other = await call(p, 'GET', `/api/me/access-holders?patientId=${demo.ids.patients[1]}`, undefined, citizen);
    expect(other.status).toBe(403);
    expect(other.text).not.toContain('registered');
    expect((await call(p, 'GET', '/api/me/access-holders?patientId=../x', undefined, citizen)).status).toBe(400);
    for (const u of ['bs.batxat', 'dieuphoi', 'baovedulieu', 'quantri']) {
      const res = await call(p, 'GET', `/api/me/access-holders?patientId=${demo.ids.patients[0]}`, undefined, await staff(u));
      expect(res.status, `${u}: ${res.text}`).toBe(403);
    }
    expect((await call(p, 'GET', '/api/me/access-holders', undefined, { authorization: '' })).status).toBe(401);
  });
});
