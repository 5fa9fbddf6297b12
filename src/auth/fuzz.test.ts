/**
 * Property-based fuzzing of every input edge: malformed JSON, wrong types, injection strings,
 * huge bodies, odd query strings. The server answers with a clear 4xx error (never 500, never a
 * stack trace) and stored data does not change.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../seed/demo.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { createDemoAccounts } from '../seed/accounts.ts';
import { resourceShaped } from '../testing/fuzz-shapes.ts';

const INJECTIONS = [
  "'; DROP TABLE resource; --",
  '" OR 1=1 --',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '${7*7}',
  '{"$where": "1"}',
  '\u0000',
  '%00',
  'Nguyễn\u0301\u0301\u0301',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'a'.repeat(5000),
  '-1',
  '1e309',
  'NaN',
  'null',
  '[]',
];

const weird = fc.oneof(fc.constantFrom(...INJECTIONS), fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }));
const jsonish = fc.oneof(fc.jsonValue({ maxDepth: 4 }), resourceShaped(fc.oneof(fc.constantFrom('Patient', 'Observation', 'Bundle', 'Consent'), weird), weird));
/** Shapes the attacker's review found: NUL in values, nesting far deeper than any resource, long arrays. */
const hostile = fc.oneof(
  fc.integer({ min: 50, max: 30_000 }).map((n) => `{"resourceType":"Patient","extension":${'['.repeat(n)}${']'.repeat(n)}}`),
  fc.integer({ min: 50, max: 30_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
  fc.constantFrom(
    '{"resourceType":"Patient","name":[{"family":"A\\u0000B"}]}',
    '{"username":"a\\u0000","password":"b"}',
    '{"resourceType":"Bundle","type":"batch","entry":' +
      JSON.stringify(Array.from({ length: 1500 }, () => ({ request: { method: 'GET', url: 'Patient?_count=1' } }))) +
      '}',
  ),
);
const rawBody = fc.oneof(
  jsonish.map((v) => JSON.stringify(v)),
  weird,
  hostile,
  fc.constantFrom('{', '{"resourceType":', '[1,2', '{"a":1}}', ''),
);

const STACK = /\bat [\w.<>]+ \(?[^)]*\.(ts|js|mjs):\d+|node_modules\//;

async function snapshot(p: TestPlatform): Promise<string> {
  const counts = await p.db.query<Record<string, number>>(
    `SELECT (SELECT count(*) FROM resource)::int AS r, (SELECT count(*) FROM resource_version)::int AS v, (SELECT count(*) FROM idx_token)::int AS t,
            (SELECT count(*) FROM account)::int AS a, (SELECT count(*) FROM session WHERE revoked_at IS NULL)::int AS s, (SELECT count(*) FROM oauth_client)::int AS c,
            (SELECT count(*) FROM break_glass)::int AS b, (SELECT count(*) FROM consent_state)::int AS k`,
  );
  return JSON.stringify(counts.rows[0]);
}

describe('fuzzing every input edge', () => {
  let p: TestPlatform;
  let citizen: Record<string, string>;
  let patient: string;
  let demoOrg: string;
  beforeAll(async () => {
    p = await startTestPlatform('pglite', { CAUYTE_MAX_BODY_BYTES: String(64 * 1024) });
    const demo = await seedDemo(p.store, 4);
    await createDemoAccounts(p.db, p.accounts, demo);
    citizen = await signIn(p, 'nguoidan');
    patient = demo.ids.patients[0];
    demoOrg = demo.ids.organizations.batxat;
  });
  afterAll(async () => p?.close());

  it('never answers 500 or a stack trace, and never changes stored data', async () => {
    const before = await snapshot(p);
    const failures: string[] = [];
    // Huge bodies (checked first: the sign-in route has its own, tighter rate limit) are refused with 413, as JSON.
    const huge = await call(p, 'POST', '/fhir/R4/Patient', JSON.stringify({ resourceType: 'Patient', text: 'x'.repeat(200 * 1024) }));
    expect(huge.status).toBe(413);
    expect(huge.body.resourceType).toBe('OperationOutcome');
    const hugeLogin = await call(p, 'POST', '/api/auth/login', JSON.stringify({ username: 'x', password: 'y'.repeat(200 * 1024) }), {
      authorization: '',
      'content-type': 'application/json',
    });
    expect(hugeLogin.status).toBe(413);

    const edges = fc.oneof(
      fc.record({
        method: fc.constant('POST'),
        path: fc.constantFrom('/fhir/R4/Patient', '/fhir/R4/Observation', '/fhir/R4', '/fhir/R4/Consent'),
        body: rawBody,
        who: fc.constant('system'),
      }),
      fc.record({
        method: fc.constant('PUT'),
        path: fc.constantFrom(`/fhir/R4/Patient/${'x'}`, '/fhir/R4/Patient?identifier=x'),
        body: rawBody,
        who: fc.constant('system'),
      }),
      fc.record({
        method: fc.constant('GET'),
        path: fc
          .tuple(
            fc.constantFrom('Patient', 'Observation', 'Encounter', 'Nope'),
            fc.dictionary(
              fc.oneof(
                fc.constantFrom(
                  'name',
                  'birthdate',
                  'value-quantity',
                  '_count',
                  '_sort',
                  '_include',
                  '_cursor',
                  '_id',
                  'subject',
                  'code:not',
                  'name:exact',
                  'date',
                ),
                weird,
              ),
              weird,
              { maxKeys: 3 },
            ),
          )
          .map(([t, q]) => `/fhir/R4/${t}?${new URLSearchParams(q)}`),
        body: fc.constant(undefined),
        who: fc.constant('system'),
      }),
      fc.record({
        method: fc.constant('GET'),
        path: weird.map((w) => `/fhir/R4/Patient/${encodeURIComponent(w)}`),
        body: fc.constant(undefined),
        who: fc.constant('system'),
      }),
      fc.record({
        method: fc.constant('GET'),
        path: fc
          .tuple(fc.constantFrom('name', 'na\u0000me', 'identifier', '_id'), fc.constantFrom('a\u0000b', '\u0000', 'x'.repeat(5000)))
          .map(([k, v]) => `/fhir/R4/Patient?${new URLSearchParams({ [k]: v })}`),
        body: fc.constant(undefined),
        who: fc.constant('system'),
      }),
      fc.record({ method: fc.constant('POST'), path: fc.constantFrom('/api/auth/login', '/oauth/token'), body: rawBody, who: fc.constant('anonymous') }),
      fc.record({
        method: fc.constant('GET'),
        path: fc
          .dictionary(fc.constantFrom('response_type', 'client_id', 'redirect_uri', 'scope', 'code_challenge', 'code_challenge_method'), weird, { maxKeys: 6 })
          .map((q) => `/oauth/authorize?${new URLSearchParams(q)}`),
        body: fc.constant(undefined),
        who: fc.constant('citizen'),
      }),
      fc.record({
        method: fc.constant('POST'),
        path: fc.constantFrom('/api/me/consents', '/api/break-glass', '/api/accounts', '/api/auth/mfa', '/api/auth/role'),
        body: rawBody,
        who: fc.constant('citizen'),
      }),
      fc.record({
        method: fc.constant('GET'),
        path: fc
          .dictionary(fc.constantFrom('limit', 'before', 'patientId', 'outcome'), weird, { maxKeys: 3 })
          .map((q) => `/api/audit?${new URLSearchParams(q)}`),
        body: fc.constant(undefined),
        who: fc.constant('citizen'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(edges, async (e) => {
        const headers: Record<string, string> =
          e.who === 'citizen'
            ? { ...citizen, 'content-type': 'application/json' }
            : e.who === 'anonymous'
              ? { authorization: '', 'content-type': 'application/json' }
              : { 'content-type': 'application/fhir+json' };
        if (e.body === undefined) delete headers['content-type'];
        // A citizen may only write their own consents: point what looks like a patient at someone else's.
        const res = await call(p, e.method, e.path, e.body, headers);
        const where = `${e.method} ${e.path.slice(0, 120)} ${String(e.body).slice(0, 80)}`;
        if (res.status >= 500) failures.push(`${where}: ${res.status} ${res.text.slice(0, 200)}`);
        if (STACK.test(res.text)) failures.push(`${where}: stack trace in the answer`);
        if (res.status >= 400 && res.status !== 404) {
          const message = res.body?.issue?.[0]?.diagnostics ?? res.body?.title ?? res.body?.error_description ?? res.body?.error;
          if (typeof message !== 'string' || message.length < 3) failures.push(`${where}: ${res.status} without a readable message: ${res.text.slice(0, 120)}`);
        }
      }),
      { numRuns: 400 },
    );
    expect(failures.slice(0, 10)).toEqual([]);
    expect(await snapshot(p)).toBe(before);
    // The data is still there and readable.
    expect((await call(p, 'GET', `/fhir/R4/Patient/${patient}`)).status).toBe(200);
  });

  it('every JSON route, with hostile ids and bodies, answers 4xx with a readable message — never 500', async () => {
    // Every route the platform registered (the web app's files and the never-ending event stream aside).
    const routes = p.routes.filter((r) => r.url !== '/*' && r.url !== '/api/events' && !r.url.endsWith('/ws'));
    expect(routes.length).toBeGreaterThan(60);
    const clinician = { authorization: `Bearer ${await p.tokenFor('commune_clinician', { org: demoOrg })}` };
    const failures: string[] = [];
    const idValue = fc.oneof(weird, fc.constantFrom('', '0', '-1', 'Patient', patient, '..', '%2e%2e'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), idValue, rawBody, fc.constantFrom('clinician', 'citizen', 'integration'), async (route, id, body, who) => {
        const path = route.url.replace(/:(\w+)/g, () => encodeURIComponent(id) || 'x');
        const auth = who === 'citizen' ? citizen : who === 'clinician' ? clinician : {};
        const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
        const res = await call(p, route.method, path, hasBody ? body : undefined, {
          ...auth,
          ...(hasBody ? { 'content-type': path.startsWith('/fhir') ? 'application/fhir+json' : 'application/json' } : {}),
        });
        const where = `${who} ${route.method} ${route.url} id=${JSON.stringify(id).slice(0, 40)} body=${String(body).slice(0, 60)}`;
        if (res.status >= 500) failures.push(`${where}: ${res.status} ${res.text.slice(0, 200)}`);
        if (STACK.test(res.text)) failures.push(`${where}: stack trace in the answer`);
        if (res.status >= 400 && res.status !== 404 && res.status !== 429) {
          const message = res.body?.issue?.[0]?.diagnostics ?? res.body?.title ?? res.body?.error_description ?? res.body?.error;
          if (typeof message !== 'string' || message.length < 3) failures.push(`${where}: ${res.status} without a readable message: ${res.text.slice(0, 120)}`);
        }
      }),
      { numRuns: 600 },
    );
    expect(failures.slice(0, 10)).toEqual([]);
  });
});
