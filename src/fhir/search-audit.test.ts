/**
 * A signed-in search's audit entry (service.searchBundle: each row's patients read with the row,
 * the entry grouped and committed before the answer) names exactly the patients whose data the
 * answer holds — matches, _include and _revinclude rows — and no patient of a row left out.
 * Both databases.
 */
import type { Observation, Organization, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { DB_KINDS } from '../testing/databases.ts';

describe.each(DB_KINDS)('the audit entry of a signed-in search on %s', (kind) => {
  let p: TestPlatform;
  let auth: { authorization: string };
  let a: Patient;
  let b: Patient;
  let other: Patient;
  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: [] });
    const org = await p.fixtures.create<Organization>({ resourceType: 'Organization', name: 'Trạm Y tế xã Bản Vược' });
    const far = await p.fixtures.create<Organization>({ resourceType: 'Organization', name: 'Trạm Y tế xã khác' });
    const patient = (family: string, o: Organization) =>
      p.fixtures.create<Patient>({ resourceType: 'Patient', name: [{ family, given: ['An'] }], managingOrganization: { reference: `Organization/${o.id}` } });
    a = await patient('Lò', org);
    b = await patient('Giàng', org);
    other = await patient('Vàng', far);
    const obs = (pt: Patient, value: number) =>
      p.fixtures.create<Observation>({
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: `Patient/${pt.id}` },
        valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      });
    await obs(a, 80);
    await obs(b, 90);
    await obs(other, 100);
    auth = { authorization: `Bearer ${await p.tokenFor('commune_clinician', { org: org.id, scope: 'user/*.read' })}` };
  });
  afterAll(async () => p?.close());

  /** Runs the search and returns its answer's patients and its audit entry's. */
  const searched = async (query: string) => {
    const r = await call(p, 'GET', `/fhir/R4/${query}`, undefined, auth);
    expect(r.status).toBe(200);
    const entries = (r.body as { entry?: { resource: Patient | Observation }[] }).entry ?? [];
    const inAnswer = new Set(entries.map((e) => (e.resource.resourceType === 'Patient' ? e.resource.id! : e.resource.subject!.reference!.slice(8))));
    const row = (
      await p.db.query<{ patient_ids: string[]; chain_pos: number | null }>(
        "SELECT patient_ids, chain_pos FROM audit_log WHERE action = 'search' AND detail->>'query' = $1 ORDER BY id DESC LIMIT 1",
        [new URLSearchParams(query.split('?')[1]).toString()],
      )
    ).rows[0];
    return { inAnswer: [...inAnswer].sort(), audited: [...row.patient_ids].sort(), linked: row.chain_pos !== null };
  };

  it('names the patients of the matches, and of no row the caller cannot see', async () => {
    const r = await searched('Observation?code=8867-4');
    expect(r.inAnswer).toEqual([a.id, b.id].sort());
    expect(r.audited).toEqual(r.inAnswer);
    expect(r.audited).not.toContain(other.id);
  });

  it('names the patients of _include and _revinclude rows', async () => {
    const inc = await searched(`Observation?subject=Patient/${a.id}&_include=Observation:subject`);
    expect(inc.inAnswer).toEqual([a.id]);
    expect(inc.audited).toEqual([a.id]);
    const rev = await searched(`Patient?_id=${b.id}&_revinclude=Observation:subject`);
    expect(rev.inAnswer).toEqual([b.id]);
    expect(rev.audited).toEqual([b.id]);
    const both = await searched(`Patient?family=Lò,Giàng&_revinclude=Observation:subject`);
    expect(both.audited).toEqual([a.id, b.id].sort());
  });

  it('is committed and linked into the chain as it is written; the chain verifies', async () => {
    const unlinkedBefore = p.audit.unlinkedGroups;
    const r = await searched('Patient?given=An');
    expect(r.audited).toEqual([a.id, b.id].sort());
    // Linked as written, unless the background sealer held the chain's lock just then.
    if (p.audit.unlinkedGroups === unlinkedBefore) expect(r.linked).toBe(true);
    await p.audit.seal();
    expect(await p.audit.verify()).toMatchObject({ ok: true, unsealed: 0 });
  });
});
