/**
 * Content rules beyond the StructureDefinitions (content-safety.ts): inherited JavaScript member
 * names as properties and unsafe narrative XHTML are refused with an OperationOutcome naming the
 * place, through the REST API too; real narratives (every Synthea fixture) pass. Text and dates the
 * database cannot store (lone surrogates, a UTC year outside 0001–9999) are a 400, never a 500.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { contentSafetyIssues, narrativeProblem } from './content-safety.ts';
import { assertValidResource } from './validate.ts';

const FIXTURES = new URL('../../test/fixtures/synthea-r4/', import.meta.url);
const div = (inner: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`;

describe('content safety', () => {
  it('refuses scripts, frames, forms, event attributes and script URLs in narratives', () => {
    for (const bad of [
      '<script>alert(1)</script>',
      '<SCRIPT src="x.js"></SCRIPT>',
      '<iframe src="https://example.org"></iframe>',
      '<form action="/x"><input name="a"/></form>',
      '<object data="x"></object>',
      '<img src="a.png" onerror="alert(1)"/>',
      '<p ONCLICK = "x()">bấm</p>',
      '<a href="javascript:alert(1)">x</a>',
      "<a href = ' vbscript:x'>x</a>",
      '<base href="https://evil.example/"/>',
      '<link rel="stylesheet" href="https://evil.example/a.css"/>',
    ])
      expect(narrativeProblem(div(bad)), bad).toBeDefined();
    for (const good of [
      '<p>Huyết áp 120/80 mmHg; nhịp tim = 72</p>',
      '<table><tr><td colspan="2">Điều trị: <b>amlodipin</b> 5 mg</td></tr></table>',
      '<a href="https://moh.gov.vn/">Bộ Y tế</a>',
      '<p>one = two, online = yes, bodyweight 60 kg, meta-analysis, baseline</p>',
      '<span style="color: red">cảnh báo</span>',
    ])
      expect(narrativeProblem(div(good)), good).toBeUndefined();
  });

  it('refuses a null or non-object identifier with an OperationOutcome, not a crash', () => {
    for (const identifier of [[null], [7], ['x']]) {
      let thrown: unknown;
      try {
        assertValidResource({ resourceType: 'Patient', identifier } as never);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, JSON.stringify(identifier)).toBeDefined();
      expect(thrown).not.toBeInstanceOf(TypeError);
      expect(JSON.stringify((thrown as { outcome?: unknown }).outcome ?? null)).toMatch(/identifier/);
    }
  });

  it('names the place of inherited member names and unsafe narratives, also in contained resources', () => {
    const resource = JSON.parse(
      JSON.stringify({
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'x' },
        contained: [{ resourceType: 'Patient', id: 'p', text: { status: 'generated', div: div('<script>x</script>') } }],
      }).replace('"code":{', '"code":{"__proto__":{"a":1},"constructor":"x",'),
    );
    const issues = contentSafetyIssues(resource);
    expect(issues.map((i) => i.expression?.[0]).sort()).toEqual([
      'Observation.code.__proto__',
      'Observation.code.constructor',
      'Observation.contained[0].text.div',
    ]);
    expect(issues.every((i) => i.severity === 'error')).toBe(true);
    expect(() => assertValidResource(resource)).toThrow(/__proto__|constructor|narrative/);
  });

  it('refuses a JSON object where a primitive value belongs (which @medplum/core lets through)', () => {
    for (const [resource, where] of [
      [{ resourceType: 'Patient', gender: { id: 'x' } }, 'Patient.gender'],
      [{ resourceType: 'Patient', identifier: [{ system: 'urn:x', value: { id: 'x' } }] }, 'Patient.identifier[0].value'],
      [{ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: { id: 'x' } } }, 'Observation.subject.reference'],
    ] as const) {
      expect(() => assertValidResource(structuredClone(resource)), where).toThrow(where);
    }
    // The primitive's id and extensions in its "_" property stay valid.
    expect(() => assertValidResource({ resourceType: 'Patient', gender: 'female', _gender: { id: 'g' } })).not.toThrow();
  });

  it('refuses lone surrogates in strings and property names, keeps real pairs (emoji)', () => {
    const resource = JSON.parse(
      '{"resourceType":"Patient","name":[{"family":"a\\udc00b","given":["\\ud800"]}],"address":[{"text":"Bản 😀 \\ud83d\\ude00","x\\ud800":1}]}',
    );
    const issues = contentSafetyIssues(resource);
    expect(issues.map((i) => i.expression?.[0]).sort()).toEqual(['Patient.address[0].x\uFFFD', 'Patient.name[0].family', 'Patient.name[0].given[0]']);
    expect(issues[0].diagnostics).toMatch(/lone surrogate/);
    expect(contentSafetyIssues({ resourceType: 'Patient', name: [{ family: 'Nguyễn 😀' }] })).toEqual([]);
  });

  it('lists at most 100 problems of one resource', () => {
    let err: unknown;
    try {
      assertValidResource({ resourceType: 'Patient', name: 'x'.repeat(5000) });
    } catch (e) {
      err = e;
    }
    const issues = (err as { issues: { code: string; diagnostics?: string }[] }).issues;
    expect(issues.length).toBe(101);
    expect(issues[100].code).toBe('too-costly');
    expect(issues[100].diagnostics).toMatch(/more problems are not listed/);
  });

  it('passes every narrative and property of the Synthea fixtures', () => {
    let resources = 0;
    for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.json'))) {
      const bundle = JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as Bundle;
      for (const e of bundle.entry ?? []) {
        expect(contentSafetyIssues(e.resource!)).toEqual([]);
        resources++;
      }
    }
    expect(resources).toBeGreaterThan(1000);
  });
});

describe('content safety over REST', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: [] });
  });
  afterAll(async () => p?.close());

  it('answers 400 with an OperationOutcome and stores nothing', async () => {
    const post = (body: string) =>
      p.app.inject({
        method: 'POST',
        url: '/fhir/R4/Patient',
        headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/fhir+json' },
        payload: body,
      });
    const script = await post(JSON.stringify({ resourceType: 'Patient', text: { status: 'generated', div: div('<img src=x onerror="alert(1)">') } }));
    expect(script.statusCode).toBe(400);
    const outcome = JSON.parse(script.body) as { resourceType: string; issue: { expression?: string[] }[] };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue.some((i) => i.expression?.[0] === 'Patient.text.div')).toBe(true);
    const proto = await post('{"resourceType":"Patient","name":[{"family":"Lê","__proto__":{"x":1}}]}');
    expect(proto.statusCode).toBe(400);
    expect(proto.body).toContain('Patient.name[0].__proto__');
    // Text the database could not store: a 400 naming the problem, never a 500.
    const lone = await post('{"resourceType":"Patient","name":[{"family":"\\ud800"}]}');
    expect(lone.statusCode).toBe(400);
    expect(JSON.parse(lone.body)).toMatchObject({ resourceType: 'OperationOutcome' });
    expect(lone.body).toMatch(/lone surrogate/);
    const year10000 = await p.app.inject({
      method: 'POST',
      url: '/fhir/R4/Observation',
      headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/fhir+json' },
      payload: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, effectiveDateTime: '9999-12-31T23:59:59-12:00' },
    });
    expect(year10000.statusCode).toBe(400);
    expect(year10000.body).toContain('Observation.effectiveDateTime');
    const search = await p.app.inject({
      method: 'GET',
      url: '/fhir/R4/Observation?date=9999-12-31T23:59:59-12:00',
      headers: { authorization: `Bearer ${p.token}` },
    });
    expect(search.statusCode).toBe(400);
    // In a transaction, where references to fullUrls are rewritten on a copy: the key stays a key and is refused.
    for (const method of ['POST', 'PUT']) {
      const tx = await p.app.inject({
        method: 'POST',
        url: '/fhir/R4',
        headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/fhir+json' },
        payload: `{"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:7c0d1f0e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","id":"proto-p1","name":[{"family":"Lê"}]},"request":{"method":"PUT","url":"Patient/proto-p1"}},
          {"resource":{"resourceType":"Observation","id":"proto-o1","status":"final","code":{"text":"x","__proto__":{"text":"y"}},
            "subject":{"reference":"urn:uuid:7c0d1f0e-0000-4000-8000-000000000001"}},"request":{"method":"${method}","url":"${method === 'PUT' ? 'Observation/proto-o1' : 'Observation'}"}}]}`,
      });
      expect(tx.statusCode, tx.body).toBe(400);
      expect(tx.body).toContain('__proto__');
    }
    const count = await p.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource WHERE resource_type IN ('Patient', 'Observation')`);
    expect(count.rows[0].n).toBe(0);
  });
});
