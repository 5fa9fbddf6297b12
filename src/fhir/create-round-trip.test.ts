/**
 * A single create is one round trip on PostgreSQL when nothing follows its statement (issue #19
 * item 4): BEGIN, the statement (rows, references, audit row) and COMMIT in one pipeline. Checked
 * over HTTP against a real server: what the create's connection sends, that the resource and its
 * audit entry are committed, that a create whose write listeners do write (a Patient registered at
 * a facility: care relationship, programme rows) keeps them, and that a create naming a resource
 * that does not exist is still refused with the same 422 and leaves nothing. On PGlite the same
 * requests give the same answers (one process: no round trips to count).
 */
import pg from 'pg';
import type { Observation, Organization, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../testing/databases.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

const json = { 'content-type': 'application/fhir+json' };

/** What each pg client sends while fn runs (one entry per client.query call). */
async function sent<T>(fn: () => Promise<T>): Promise<{ result: T; byClient: Map<unknown, string[]> }> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const orig = proto.query;
  const byClient = new Map<unknown, string[]>();
  proto.query = function (this: unknown, q: unknown, ...rest: unknown[]) {
    const text = typeof q === 'string' ? q : ((q as { text?: string }).text ?? '?');
    byClient.set(this, [...(byClient.get(this) ?? []), text]);
    return orig.call(this, q, ...rest);
  };
  try {
    return { result: await fn(), byClient };
  } finally {
    proto.query = orig;
  }
}

/** The statements sent on the connection that wrote the resource row. */
const writer = (byClient: Map<unknown, string[]>) => [...byClient.values()].find((texts) => texts.some((t) => t.includes('INSERT INTO resource ')));

describe.each(DB_KINDS)('a single create on %s', (kind) => {
  let p: TestPlatform;
  let patientId: string;
  let orgId: string;
  beforeAll(async () => {
    p = await startTestPlatform(kind);
    patientId = (await p.fixtures.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Lò', given: ['Văn', 'Một'] }] })).id!;
    orgId = (await p.fixtures.create<Organization>({ resourceType: 'Organization', name: 'Trạm Y tế xã Một Chuyến' })).id!;
    // Warm: each pooled connection prepares BEGIN on its first transaction.
    for (let i = 0; i < 12; i++) await call(p, 'POST', '/fhir/R4/Observation', obs(), json);
  }, 120_000);
  afterAll(async () => p?.close());

  const obs = (subject = `Patient/${patientId}`): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Nhịp tim' }] },
    subject: { reference: subject },
    valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  });

  it('sends BEGIN, the write and COMMIT as one message, and the resource and its audit entry are committed', async () => {
    const r = await sent(() => call<Observation>(p, 'POST', '/fhir/R4/Observation', obs(), json));
    expect(r.result.status).toBe(201);
    if (kind === 'postgres') expect(writer(r.byClient)?.filter((t) => !t.startsWith('SELECT'))).toHaveLength(1);
    const id = r.result.body.id!;
    expect((await call<Observation>(p, 'GET', `/fhir/R4/Observation/${id}`)).body.valueQuantity?.value).toBe(72);
    const audit = await p.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_log WHERE action = 'create' AND resource_type = 'Observation' AND resource_id = $1",
      [id],
    );
    expect(audit.rows[0].n).toBe(1);
  });

  it('a create whose listeners write keeps their rows (a patient registered at a facility)', async () => {
    const body: Patient = {
      resourceType: 'Patient',
      name: [{ family: 'Quàng', given: ['Thị', 'Hai'] }],
      managingOrganization: { reference: `Organization/${orgId}` },
    };
    const r = await sent(() => call<Patient>(p, 'POST', '/fhir/R4/Patient', body, json));
    expect(r.result.status).toBe(201);
    // The listener's statements, then a COMMIT of its own.
    if (kind === 'postgres') expect(writer(r.byClient)).toContain('COMMIT');
    const rel = await p.db.query<{ kind: string }>('SELECT kind FROM care_relationship WHERE patient_id = $1 AND organization_id = $2', [
      r.result.body.id,
      orgId,
    ]);
    expect(rel.rows).toEqual([{ kind: 'registered' }]);
  });

  it('refuses a reference to nothing with the same 422, leaving nothing, in one message too', async () => {
    const before = (await p.db.query<{ n: number }>("SELECT count(*)::int AS n FROM resource WHERE resource_type = 'Observation'")).rows[0].n;
    const r = await sent(() => call(p, 'POST', '/fhir/R4/Observation', obs('Patient/nobody-here'), json));
    expect(r.result.status).toBe(422);
    expect(r.result.body.issue[0].code).toBe('business-rule');
    expect(r.result.body.issue[0].diagnostics).toBe('Observation/' + r.result.body.issue[0].diagnostics.split('Observation/')[1]);
    expect(r.result.body.issue[0].diagnostics).toMatch(/refers to Patient\/nobody-here, which does not exist$/);
    if (kind === 'postgres') expect(writer(r.byClient)).toEqual([expect.stringContaining('cauyte_refuse_missing_references'), 'ROLLBACK']);
    expect((await p.db.query<{ n: number }>("SELECT count(*)::int AS n FROM resource WHERE resource_type = 'Observation'")).rows[0].n).toBe(before);
    // The connections work on.
    expect((await call(p, 'POST', '/fhir/R4/Observation', obs(), json)).status).toBe(201);
  });
});
