/**
 * The clinician's chart through the HTTP API: the demo patient's penicillin allergy is on the
 * commune clinician's chart, with his long-term medicine, problems, encounters and documents;
 * empty sections come back empty (not missing); a clinician of another facility is refused with
 * break-the-glass offered, then reads the chart after an emergency grant (audited as such);
 * a citizen reads only their own chart; every part read is in the audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, DEMO_PASSWORD, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { seedVisitDemo } from '../seed/visits.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import type { Chart } from './contract.ts';

const STRANGER_TOTP = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('clinician chart', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let doctor: Record<string, string>;
  let other: Record<string, string>;
  let citizen: Record<string, string>;
  const json = { 'content-type': 'application/json' };
  const as = (h: Record<string, string>, method: string, url: string, body?: unknown) => call(p, method, url, body, body === undefined ? h : { ...h, ...json });

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['family', 'consult', 'visits', 'chart'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    await seedVisitDemo(p.store, p.visits, demo);
    doctor = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    // A clinician of the Mường Nhé station (Điện Biên): not in Nguyễn Văn An's care.
    await p.accounts.create({
      username: 'bs.muongnhe',
      displayName: 'BS Quàng Văn Hải',
      kind: 'staff',
      password: DEMO_PASSWORD,
      practitionerId: demo.ids.practitioners[8],
      roles: [{ role: 'commune_clinician', organizationId: demo.ids.organizations.muongnhe }],
      totpSecret: STRANGER_TOTP,
    });
    citizen = await signIn(p, 'nguoidan');
  }, 120_000);
  afterAll(async () => p?.close());

  it('shows the penicillin allergy first, with medicines, problems, encounters, documents and family managers', async () => {
    const an = demo.ids.patients[0];
    const r = await as(doctor, 'GET', `/api/chart/${an}`);
    expect(r.status, r.text).toBe(200);
    const c = r.body as Chart;
    expect(c.patient.name).toBe('Nguyễn Văn An');
    expect(c.allergies[0]).toMatchObject({ substance: 'Penicillin', codes: ['J01C'], criticality: 'high', reactions: ['Nổi mẩn đỏ, khó thở'] });
    expect(c.medications.map((m) => m.name)).toContain('Bisoprolol 2,5 mg');
    expect(c.problems.map((x) => x.code)).toContain('I10');
    expect(c.programmes.map((x) => x.kind)).toContain('hypertension');
    expect(c.encounters.length).toBeGreaterThan(0);
    expect(c.encounters[0].facility).toBeTruthy();
    expect(c.documents.map((d) => d.title)).toContain('Giấy ra viện — Bệnh viện Đa khoa tỉnh Lào Cai');
    // Nothing recorded: an empty list, never a missing section.
    expect(c.alerts).toEqual([]);
    expect(c.consults).toEqual([]);
    // Reading the chart is in the audit trail, as the doctor, about this patient.
    const audited = await p.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM audit_log WHERE username = 'bs.batxat' AND $1 = ANY(patient_ids) AND resource_type = 'AllergyIntolerance'",
      [an],
    );
    expect(Number(audited.rows[0].n)).toBeGreaterThan(0);
  });

  it('lists the family member managing the child’s record', async () => {
    const child = (await p.fixtures.search<{ resourceType: 'Patient'; id: string }>('Patient', { name: 'Khang' }))[0];
    const c = (await as(doctor, 'GET', `/api/chart/${child.id}`)).body as Chart;
    expect(c.familyManagers).toEqual([expect.objectContaining({ name: 'Nguyễn Văn An', relationship: 'Cha/mẹ' })]);
    expect(c.allergies).toEqual([]);
  });

  it('refuses another facility’s clinician readably, offers break-the-glass, and opens after a grant', async () => {
    const an = demo.ids.patients[0];
    const stranger = await signIn(p, 'bs.muongnhe', STRANGER_TOTP);
    other = stranger;
    const refused = await as(other, 'GET', `/api/chart/${an}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ breakGlass: true, patientId: an });
    // Nothing about the patient leaks in the refusal.
    expect(refused.text).not.toContain('Nguyễn Văn An');
    expect(refused.text).not.toContain('Penicillin');
    // A reason is required.
    expect((await as(other, 'POST', '/api/break-glass', { patientId: an, reason: 'gấp' })).status).toBe(400);
    const grant = await as(other, 'POST', '/api/break-glass', { patientId: an, reason: 'Cấp cứu: bệnh nhân hôn mê chuyển đến trạm, cần biết dị ứng thuốc' });
    expect(grant.status, grant.text).toBe(200);
    const opened = await as(other, 'GET', `/api/chart/${an}`);
    expect(opened.status, opened.text).toBe(200);
    expect((opened.body as Chart).allergies[0].substance).toBe('Penicillin');
    const rows = await p.db.query<{ action: string; break_glass: boolean }>(
      "SELECT action, break_glass FROM audit_log WHERE username = 'bs.muongnhe' AND $1 = ANY(patient_ids) ORDER BY id",
      [an],
    );
    expect(rows.rows.some((x) => x.action === 'break-glass')).toBe(true);
    expect(rows.rows.filter((x) => x.action !== 'break-glass').some((x) => x.break_glass)).toBe(true);
  });

  it('lets a citizen read only their own chart', async () => {
    expect((await as(citizen, 'GET', `/api/chart/${demo.ids.patients[0]}`)).status).toBe(200);
    const refused = await as(citizen, 'GET', `/api/chart/${demo.ids.patients[1]}`);
    expect(refused.status).toBe(403);
    expect(refused.body.breakGlass).toBeUndefined();
    expect((await as(citizen, 'GET', '/api/chart/not an id')).status).toBe(400);
  });
});
