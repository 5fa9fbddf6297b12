/**
 * An app's token on the non-FHIR routes (TOKEN_DOMAIN_RULES in policy.ts): a person's own business
 * (account, sessions, inbox) is refused to any token; the audit trail, the access log and consents
 * need a scope for their FHIR type, as the FHIR API would ask; the same person signed in, or a
 * token with the scope, is served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Patient } from '@medplum/fhirtypes';
import { call, sessionFor, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

describe('app tokens on domain routes', () => {
  let p: TestPlatform;
  let patient: string;
  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: [] });
    patient = (await p.fixtures.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Lò', given: ['Văn', 'Tâm'] }] })).id!;
  });
  afterAll(async () => p?.close());
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('a citizen’s app with an Observation scope reads neither the access log nor the access holders', async () => {
    const narrow = await p.tokenFor('citizen', { patient, scope: 'patient/Observation.read' });
    for (const url of ['/api/me/access-log', '/api/me/access-holders', '/api/me/consents']) {
      const r = await call(p, 'GET', url, undefined, bearer(narrow));
      expect(r.status, `${url} ${r.text}`).toBe(403);
      expect(r.body.title).toMatch(/scopes do not allow search on (AuditEvent|Consent)/);
    }
    // With the scopes for them, the same person's app does.
    const wide = await p.tokenFor('citizen', { patient, scope: 'patient/AuditEvent.read patient/Consent.read' });
    for (const url of ['/api/me/access-log', '/api/me/access-holders', '/api/me/consents'])
      expect((await call(p, 'GET', url, undefined, bearer(wide))).status, url).toBe(200);
  });

  it('a data-protection officer’s token without an AuditEvent scope reads no part of the audit trail', async () => {
    const narrow = await p.tokenFor('dpo', { scope: 'system/Observation.read' });
    for (const url of ['/api/audit?limit=10', '/api/audit/verify', '/api/audit/search', '/api/audit/export.csv', '/fhir/R4/AuditEvent'])
      expect((await call(p, 'GET', url, undefined, bearer(narrow))).status, url).toBe(403);
    const scoped = await p.tokenFor('dpo', { scope: 'system/AuditEvent.read' });
    for (const url of ['/api/audit?limit=10', '/api/audit/verify', '/fhir/R4/AuditEvent'])
      expect((await call(p, 'GET', url, undefined, bearer(scoped))).status, url).toBe(200);
  });

  it('a person’s account, sessions and inbox are refused to any token, however wide', async () => {
    const wide = await p.tokenFor('specialist', { org: 'org-x', scope: 'user/*.cruds' });
    for (const [method, url] of [
      ['GET', '/api/auth/sessions'],
      ['POST', '/api/auth/logout-all'],
      ['GET', '/api/notifications'],
      ['POST', '/api/notifications/read-all'],
    ] as const)
      expect((await call(p, method, url, undefined, bearer(wide))).status, url).toBe(403);
    const person = await sessionFor(p, 'specialist', { org: 'org-x' });
    expect((await call(p, 'GET', '/api/auth/sessions', undefined, person)).status).toBe(200);
    expect((await call(p, 'GET', '/api/notifications', undefined, person)).status).toBe(200);
  });
});
