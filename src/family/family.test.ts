/**
 * Family links through the HTTP API (the family domain alone): only staff who reach both records
 * record a link; a citizen cannot, not even for themselves; the manager then reaches the member's
 * record; the link's RelatedPerson changes only through the family routes; a clinician of another
 * facility cannot end the link, nor can a citizen who is not its manager; ending it closes the record.
 */
import type { Patient, RelatedPerson } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, DEMO_PASSWORD, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

describe('family links', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let father: Record<string, string>;
  let neighbour: Record<string, string>;
  let doctor: Record<string, string>;
  let memberId: string;
  const json = { 'content-type': 'application/json' };
  const as = (h: Record<string, string>, method: string, url: string, body?: unknown) => call(p, method, url, body, body === undefined ? h : { ...h, ...json });

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['family'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    await p.accounts.create({
      username: 'hangxom',
      displayName: 'Người dân khác',
      kind: 'citizen',
      password: DEMO_PASSWORD,
      patientId: demo.ids.patients[4],
      roles: [],
    });
    father = await signIn(p, 'nguoidan');
    neighbour = await signIn(p, 'hangxom');
    doctor = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    // A grandmother registered at the Bát Xát station (the doctor's facility).
    memberId = (
      await p.fixtures.create<Patient>({
        resourceType: 'Patient',
        name: [{ text: 'Lò Thị Xuân' }],
        gender: 'female',
        birthDate: '1948-02-02',
        managingOrganization: { reference: `Organization/${demo.ids.organizations.batxat}` },
      })
    ).id!;
  }, 120_000);
  afterAll(async () => p?.close());

  it('is recorded by staff only, is the manager’s way into the record, and is ended only by its manager or staff who reach the member', async () => {
    const body = { patientId: memberId, managerPatientId: demo.ids.patients[0], relationship: 'parent', proof: 'Sổ hộ khẩu số 12, thôn Na Lốc' };
    // A citizen cannot record a link — signed in, or through an app's token, not even naming themselves.
    expect((await as(father, 'POST', '/api/family-links', body)).status).toBe(403);
    const app = await p.tokenFor('citizen', { patient: demo.ids.patients[0], scope: 'patient/*.read' });
    expect((await call(p, 'POST', '/api/family-links', body, { authorization: `Bearer ${app}`, ...json })).status).toBe(403);
    expect((await as(father, 'GET', '/api/me/family')).body.map((m: { self: boolean }) => m.self)).toEqual([true]);
    expect((await as(father, 'GET', `/fhir/R4/Patient/${memberId}`)).status).toBe(403);

    // Staff who saw the proof record it; once.
    const link = await as(doctor, 'POST', '/api/family-links', body);
    expect(link.status, link.text).toBe(201);
    expect((await as(doctor, 'POST', '/api/family-links', body)).status).toBe(409);
    const recorded = await p.db.query<{ username: string; patient_ids: string[] }>(
      "SELECT username, patient_ids FROM audit_log WHERE action = 'visit.family-link' AND resource_id = $1",
      [link.body.relatedPersonId],
    );
    expect(recorded.rows).toEqual([expect.objectContaining({ username: 'bs.batxat', patient_ids: expect.arrayContaining([memberId]) })]);

    // The manager now lists and reaches the member.
    const family = (await as(father, 'GET', '/api/me/family')).body as { patientId: string; relation?: string; linkId?: string }[];
    expect(family.find((m) => m.patientId === memberId)).toMatchObject({ relation: 'Cha/mẹ', linkId: link.body.id });
    expect((await as(father, 'GET', `/fhir/R4/Patient/${memberId}`)).status).toBe(200);

    // The link's RelatedPerson is the family workflow's: not changed through plain FHIR.
    const rp = await p.fixtures.read<RelatedPerson>('RelatedPerson', link.body.relatedPersonId);
    const put = await call(p, 'PUT', `/fhir/R4/RelatedPerson/${rp.id}`, { ...rp, meta: undefined, active: false });
    expect(put.status, put.text).toBe(422);
    expect(put.body.issue[0].diagnostics).toContain('POST /api/family-links');

    // Neither a clinician of another facility nor a citizen who is not the manager ends it.
    const elsewhere = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.muongnhe });
    const foreign = await call(p, 'POST', `/api/family-links/${link.body.id}/revoke`, {}, { authorization: `Bearer ${elsewhere}`, ...json });
    expect(foreign.status, foreign.text).toBe(403);
    expect((await as(neighbour, 'POST', `/api/me/family/${link.body.id}/revoke`, {})).status).toBe(403);
    expect((await as(neighbour, 'POST', `/api/family-links/${link.body.id}/revoke`, {})).status).toBe(403);
    expect((await p.db.query('SELECT 1 FROM family_link WHERE id = $1 AND revoked_at IS NULL', [link.body.id])).rows).toHaveLength(1);
    const denied = await p.db.query("SELECT count(*)::int AS n FROM audit_log WHERE outcome = 'denied' AND $1 = ANY(patient_ids)", [memberId]);
    expect(denied.rows[0].n).toBeGreaterThanOrEqual(2);

    // Staff of the member's facility end it: the record is closed to the manager again.
    const ended = await as(doctor, 'POST', `/api/family-links/${link.body.id}/revoke`, {});
    expect(ended.status, ended.text).toBe(200);
    expect((await p.fixtures.read<RelatedPerson>('RelatedPerson', rp.id!)).active).toBe(false);
    expect((await as(father, 'GET', `/fhir/R4/Patient/${memberId}`)).status).toBe(403);
    expect((await as(father, 'GET', '/api/me/family')).body.map((m: { self: boolean }) => m.self)).toEqual([true]);
    expect((await as(doctor, 'POST', `/api/family-links/${link.body.id}/revoke`, {})).status).toBe(404);
  });
});
