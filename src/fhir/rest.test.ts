import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../testing/databases.ts';
import { call, patient, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { CCCD_SYSTEM } from '../terminology/identifiers.ts';

describe.each(DB_KINDS)('FHIR REST on %s', (kind) => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform(kind, { CAUYTE_MAX_BODY_BYTES: String(256 * 1024) }, undefined, { domains: [] });
  });
  afterAll(async () => p?.close());

  it('creates, reads, updates with If-Match, deletes and keeps history', async () => {
    const created = await call(p, 'POST', '/fhir/R4/Patient', patient('Nguyễn', ['Văn', 'An'], { gender: 'male' }));
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const id = created.body.id;
    expect(created.body.meta.versionId).toBe('1');
    expect(created.headers.etag).toBe('W/"1"');
    expect(created.headers.location).toMatch(new RegExp(`/fhir/R4/Patient/${id}/_history/1$`));

    const read = await call(p, 'GET', `/fhir/R4/Patient/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.name[0].family).toBe('Nguyễn');
    expect(Object.keys(read.body).slice(0, 3)).toEqual(['resourceType', 'id', 'meta']);

    const v2 = await call(p, 'PUT', `/fhir/R4/Patient/${id}`, { ...read.body, gender: 'female' }, { 'if-match': 'W/"1"' });
    expect(v2.status).toBe(200);
    expect(v2.body.meta.versionId).toBe('2');

    const stale = await call(p, 'PUT', `/fhir/R4/Patient/${id}`, { ...read.body, gender: 'other' }, { 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body.resourceType).toBe('OperationOutcome');
    expect(stale.body.issue[0].diagnostics).toMatch(/version 2/);

    const v1 = await call(p, 'GET', `/fhir/R4/Patient/${id}/_history/1`);
    expect(v1.body.gender).toBe('male');

    expect((await call(p, 'DELETE', `/fhir/R4/Patient/${id}`)).status).toBe(204);
    const afterDelete = await call(p, 'GET', `/fhir/R4/Patient/${id}`);
    expect(afterDelete.status).toBe(410);
    expect(afterDelete.body.resourceType).toBe('OperationOutcome');

    const history = await call(p, 'GET', `/fhir/R4/Patient/${id}/_history`);
    expect(history.body.type).toBe('history');
    expect(history.body.entry.map((e: any) => e.response.etag)).toEqual(['W/"3"', 'W/"2"', 'W/"1"']);
    expect(history.body.entry[0].request.method).toBe('DELETE');
    expect(history.body.entry[0].resource).toBeUndefined();

    const typeHistory = await call(p, 'GET', '/fhir/R4/Patient/_history?_count=2');
    expect(typeHistory.body.entry).toHaveLength(2);
    const next = typeHistory.body.link.find((l: any) => l.relation === 'next');
    expect(next).toBeDefined();
    const page2 = await call(p, 'GET', new URL(next.url).pathname + new URL(next.url).search);
    expect(page2.body.entry[0].response.etag).toBe('W/"1"');
  });

  it('update on a new id creates it (201); concurrent If-Match updates have one winner', async () => {
    const put = await call(p, 'PUT', '/fhir/R4/Patient/chosen-id-1', { ...patient('Lê', ['Lan']), id: 'chosen-id-1' });
    expect(put.status).toBe(201);
    const body = put.body;
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) => call(p, 'PUT', '/fhir/R4/Patient/chosen-id-1', { ...body, birthDate: `199${i}-01-01` }, { 'if-match': 'W/"1"' })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412, 412]);
  });

  it('rejects bad input with an OperationOutcome and the right status', async () => {
    const notJson = await call(p, 'POST', '/fhir/R4/Patient', '{"resourceType": "Patient",');
    expect(notJson.status).toBe(400);
    expect(notJson.body.issue[0].diagnostics).toMatch(/not valid JSON/);

    const wrongType = await call(p, 'POST', '/fhir/R4/Patient', { resourceType: 'Observation' });
    expect(wrongType.status).toBe(400);

    const invalid = await call(p, 'POST', '/fhir/R4/Patient', { resourceType: 'Patient', gender: 'robot', birthDate: 'last tuesday' });
    expect(invalid.status).toBe(400);
    const text = JSON.stringify(invalid.body);
    expect(text).toMatch(/gender/);
    expect(text).toMatch(/birthDate/);

    const unknownElement = await call(p, 'POST', '/fhir/R4/Patient', { resourceType: 'Patient', favouriteColour: 'blue' });
    expect(unknownElement.status).toBe(400);
    expect(JSON.stringify(unknownElement.body)).toMatch(/favouriteColour/);

    const badCccd = await call(p, 'POST', '/fhir/R4/Patient', {
      resourceType: 'Patient',
      birthDate: '1985-02-03',
      gender: 'female',
      identifier: [{ system: CCCD_SYSTEM, value: '001090123456' }],
    });
    expect(badCccd.status).toBe(400);
    expect(badCccd.body.issue[0].expression).toEqual(['Patient.identifier[0].value']);
    expect(badCccd.body.issue[0].diagnostics).toMatch(/năm sinh 1990/);

    expect((await call(p, 'GET', '/fhir/R4/Patient/does-not-exist')).status).toBe(404);
    expect((await call(p, 'GET', '/fhir/R4/Spaceship/1')).status).toBe(404);
    expect((await call(p, 'GET', '/fhir/R4/Patient/bad id!')).status).toBe(400);

    const idMismatch = await call(p, 'PUT', '/fhir/R4/Patient/abc', { resourceType: 'Patient', id: 'xyz' });
    expect(idMismatch.status).toBe(400);

    const dangling = await call(p, 'POST', '/fhir/R4/Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'Patient/nobody-here' },
    });
    expect(dangling.status).toBe(422);
    expect(dangling.body.issue[0].code).toBe('business-rule');
    expect(dangling.body.issue[0].diagnostics).toMatch(/Patient\/nobody-here/);

    const huge = await call(p, 'POST', '/fhir/R4/Patient', {
      resourceType: 'Patient',
      text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(300 * 1024)}</div>` },
    });
    expect(huge.status).toBe(413);
    expect(huge.body.resourceType).toBe('OperationOutcome');

    const xml = await p.app.inject({ method: 'POST', url: '/fhir/R4/Patient', headers: { 'content-type': 'application/fhir+xml' }, payload: '<Patient/>' });
    expect(xml.statusCode).toBe(415);
    expect(JSON.parse(xml.body).resourceType).toBe('OperationOutcome');

    const badSearch = await call(p, 'GET', '/fhir/R4/Patient?colour=blue');
    expect(badSearch.status).toBe(400);
    expect(badSearch.body.issue[0].diagnostics).toMatch(/Unknown search parameter "colour"/);

    const badDate = await call(p, 'GET', '/fhir/R4/Patient?birthdate=gt2020-13-01');
    expect(badDate.status).toBe(400);
  });

  it('supports conditional create (If-None-Exist) and Prefer: return=minimal', async () => {
    const body = patient('Trần', ['Bình'], { identifier: [{ system: 'urn:test', value: 'cond-1' }] });
    const first = await call(p, 'POST', '/fhir/R4/Patient', body, { 'if-none-exist': 'identifier=urn:test|cond-1' });
    const second = await call(p, 'POST', '/fhir/R4/Patient', body, { 'if-none-exist': 'identifier=urn:test|cond-1' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    const minimal = await call(p, 'POST', '/fhir/R4/Patient', patient('Lý', ['Mai']), { prefer: 'return=minimal' });
    expect(minimal.status).toBe(201);
    expect(minimal.text).toBe('');
    expect(minimal.headers.location).toBeDefined();
  });

  it('publishes a CapabilityStatement that lists what is supported', async () => {
    const cs = await call(p, 'GET', '/fhir/R4/metadata');
    expect(cs.status).toBe(200);
    expect(cs.body.fhirVersion).toBe('4.0.1');
    const patientRes = cs.body.rest[0].resource.find((r: any) => r.type === 'Patient');
    const names = patientRes.searchParam.map((s: any) => s.name);
    for (const n of ['_id', '_lastUpdated', 'name', 'family', 'given', 'identifier', 'birthdate', 'gender', 'telecom', 'address']) expect(names).toContain(n);
    expect(patientRes.operation[0].name).toBe('everything');
    expect(cs.body.rest[0].interaction.map((i: any) => i.code)).toEqual(['transaction', 'batch', 'history-system']);
  });

  it('sets secure headers and never answers with a stack trace', async () => {
    const r = await call(p, 'GET', '/fhir/R4/Patient/does-not-exist');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(r.text).not.toMatch(/at .*\.ts:\d+/);
  });
});
