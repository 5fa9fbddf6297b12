/**
 * The authorization matrix: every role × every route × own / other patient, with the expected
 * answer computed from the policy table (src/auth/policy.ts) and the care relationships of the
 * fixture. A route registered without an access rule fails here (the platform refuses to start).
 */
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { DIRECTORY_TYPES, POLICY, ROLES, domainAllowed, fhirAllowed, type FhirAction, type Role } from './policy.ts';

type Target = 'own' | 'other';

interface Case {
  label: string;
  method: string;
  url: string;
  body?: unknown;
  /**
   * true = must pass authorization (any status but 401/403); false = must be 401/403;
   * 'public' = no authorization at all (the route may still refuse bad credentials of its own, e.g. OAuth).
   */
  allowed: boolean | 'public';
  /** For searches that pass: the other patient's data must not be in the answer. */
  mustNotContain?: string;
}

const TYPES = ['Patient', 'Observation', 'Organization'] as const;

function kindOf(type: string): 'clinical' | 'directory' | 'other' {
  return type === 'Organization' || DIRECTORY_TYPES.has(type) ? 'directory' : 'clinical';
}

describe('authorization matrix (generated from the policy table)', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let own: string; // patient registered at Trạm Y tế xã Bát Xát
  let other: string; // patient registered at Trạm Y tế xã Mường Nhé
  let ownOrg: string;
  const tokens = new Map<Role, string>();

  beforeAll(async () => {
    p = await startTestPlatform('pglite');
    demo = await seedDemo(p.store, 8);
    ownOrg = demo.ids.organizations.batxat;
    // Demo patients cycle over the four commune stations: 0 → Bát Xát, 2 → Mường Nhé.
    own = demo.ids.patients[0];
    other = demo.ids.patients[2];
    for (const role of ROLES) {
      const claims =
        role === 'citizen' ? { patient: own } : ['commune_clinician', 'specialist', 'coordinator', 'facility_admin'].includes(role) ? { org: ownOrg, practitioner: demo.ids.practitioners[6] } : {};
      tokens.set(role, await p.tokenFor(role, { ...claims, scope: role === 'integration' ? 'system/*.read system/*.write' : role === 'citizen' ? 'patient/*.read patient/Consent.cruds' : 'user/*.cruds' }));
    }
  });
  afterAll(async () => p?.close());

  /** Fresh resources for destructive cases, made by the platform itself (no actor). */
  async function fresh(type: string, target: Target): Promise<Resource> {
    const patient = target === 'own' ? own : other;
    if (type === 'Patient') {
      const org = target === 'own' ? ownOrg : demo.ids.organizations.muongnhe;
      return p.fixtures.create({ resourceType: 'Patient', name: [{ family: 'Tạm', given: ['Thời'] }], managingOrganization: { reference: `Organization/${org}` } } as Resource);
    }
    if (type === 'Observation') return p.fixtures.create(observation(patient));
    return p.fixtures.create({ resourceType: 'Organization', name: `Cơ sở tạm ${target}` } as Resource);
  }

  function observation(patient: string): Resource {
    return { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: `Patient/${patient}` }, valueQuantity: { value: 70, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } } as Resource;
  }

  function newBody(type: string, target: Target): Resource {
    if (type === 'Patient') return { resourceType: 'Patient', name: [{ family: 'Mới' }], managingOrganization: { reference: `Organization/${target === 'own' ? ownOrg : demo.ids.organizations.muongnhe}` } } as Resource;
    if (type === 'Observation') return observation(target === 'own' ? own : other);
    return { resourceType: 'Organization', name: 'Phòng khám mới' } as Resource;
  }

  /** Would this role pass for a FHIR action on a type, for a patient that is own/other? */
  function fhirExpected(role: Role, action: FhirAction, type: string, target: Target | undefined): boolean {
    const kind = kindOf(type);
    if (!fhirAllowed(role, action, type, kind)) return false;
    if (kind !== 'clinical' || target === undefined) return true;
    const reach = POLICY[role].clinicalReach;
    if (reach === 'all') return true;
    if (reach === 'none') return false;
    return target === 'own';
  }

  async function casesFor(role: Role): Promise<Case[]> {
    const cases: Case[] = [];
    const anyId = (await p.db.query<{ id: number }>('SELECT max(id)::int AS id FROM audit_log')).rows[0].id ?? 1;
    for (const route of p.routes) {
      const { method, url, access } = route;
      if (url === '/*') continue; // the web app's files
      if (url === '/api/events') continue; // a never-ending event stream: checked in events.test.ts
      const label = `${role} ${method} ${url}`;
      if (access === 'public') {
        cases.push({ label, method, url: concrete(url, own, 'Patient', anyId), body: {}, allowed: 'public' });
        continue;
      }
      if (access === 'mfa-pending' || access === 'authenticated') {
        cases.push({ label, method, url: concrete(url, own, 'Patient', anyId), body: {}, allowed: true });
        continue;
      }
      if (typeof access === 'object') {
        cases.push({ label, method, url: concrete(url, own, 'Patient', anyId), body: {}, allowed: domainAllowed(role, access.domain) });
        continue;
      }
      // FHIR routes.
      if (url === '/fhir/R4/AuditEvent' || url === '/fhir/R4/AuditEvent/:id') {
        const action: FhirAction = url.endsWith(':id') ? 'read' : 'search';
        cases.push({ label, method, url: url.replace(':id', String(anyId)), allowed: fhirAllowed(role, action, 'AuditEvent', 'clinical') });
        continue;
      }
      if (url === '/fhir/R4') {
        for (const target of ['own', 'other'] as Target[]) {
          cases.push({
            label: `${label} [transaction, ${target}]`, method, url,
            body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: newBody('Observation', target), request: { method: 'POST', url: 'Observation' } }] },
            allowed: fhirExpected(role, 'create', 'Observation', target),
          });
        }
        continue;
      }
      if (url === '/fhir/R4/_history') {
        cases.push({ label, method, url, allowed: POLICY[role].clinicalReach === 'all' });
        continue;
      }
      for (const type of TYPES) {
        const kind = kindOf(type);
        const targets: (Target | undefined)[] = kind === 'clinical' ? ['own', 'other'] : [undefined];
        for (const target of targets) {
          const l = `${label} [${type}${target ? `, ${target}` : ''}]`;
          const t = target ?? 'own';
          const patient = t === 'own' ? own : other;
          if (url === '/fhir/R4/:type' && method === 'GET') {
            if (target === 'other') continue;
            const filter = type === 'Observation' ? `?subject=Patient/${other}` : type === 'Patient' ? `?_id=${other}` : '';
            const allowed = fhirAllowed(role, 'search', type, kind);
            cases.push({ label: l, method, url: `/fhir/R4/${type}${filter}`, allowed, mustNotContain: kind === 'clinical' && POLICY[role].clinicalReach !== 'all' ? other : undefined });
          } else if (url === '/fhir/R4/:type/_search') {
            if (target === 'other') continue;
            cases.push({ label: l, method, url: `/fhir/R4/${type}/_search`, body: '_count=5', allowed: fhirAllowed(role, 'search', type, kind) });
          } else if (url === '/fhir/R4/:type' && method === 'POST') {
            cases.push({ label: l, method, url: `/fhir/R4/${type}`, body: newBody(type, t), allowed: fhirExpected(role, 'create', type, target) });
          } else if (url === '/fhir/R4/:type' && method === 'PUT') {
            const r = await fresh(type, t);
            cases.push({ label: l, method, url: `/fhir/R4/${type}?_id=${r.id}`, body: { ...r, meta: undefined }, allowed: fhirExpected(role, 'update', type, target) && fhirAllowed(role, 'search', type, kind) });
          } else if (url === '/fhir/R4/:type/_history') {
            if (target === 'other') continue;
            cases.push({ label: l, method, url: `/fhir/R4/${type}/_history`, allowed: fhirAllowed(role, 'search', type, kind) && (kind !== 'clinical' || POLICY[role].clinicalReach === 'all') });
          } else if (url === '/fhir/R4/:type/:id' && method === 'GET') {
            const id = type === 'Patient' ? patient : (await fresh(type, t)).id;
            cases.push({ label: l, method, url: `/fhir/R4/${type}/${id}`, allowed: fhirExpected(role, 'read', type, target) });
          } else if (url === '/fhir/R4/:type/:id' && method === 'PUT') {
            const r = await fresh(type, t);
            cases.push({ label: l, method, url: `/fhir/R4/${type}/${r.id}`, body: { ...r, meta: undefined }, allowed: fhirExpected(role, 'update', type, target) });
          } else if (url === '/fhir/R4/:type/:id' && method === 'DELETE') {
            const r = await fresh(type, t);
            cases.push({ label: l, method, url: `/fhir/R4/${type}/${r.id}`, allowed: fhirExpected(role, 'delete', type, target) });
          } else if (url === '/fhir/R4/:type/:id/:operation') {
            const id = type === 'Patient' ? patient : (await fresh(type, t)).id;
            cases.push({ label: `${l} _history`, method, url: `/fhir/R4/${type}/${id}/_history`, allowed: fhirExpected(role, 'read', type, target) });
            if (type === 'Patient') cases.push({ label: `${l} $everything`, method, url: `/fhir/R4/Patient/${id}/$everything`, allowed: fhirExpected(role, 'read', type, target) });
          } else if (url === '/fhir/R4/:type/:id/_history/:vid') {
            const id = type === 'Patient' ? patient : (await fresh(type, t)).id;
            cases.push({ label: l, method, url: `/fhir/R4/${type}/${id}/_history/1`, allowed: fhirExpected(role, 'read', type, target) });
          } else {
            throw new Error(`The matrix does not know how to exercise FHIR route ${method} ${url}: add it`);
          }
        }
      }
    }
    return cases;
  }

  function concrete(url: string, patientId: string, type: string, anyId: number): string {
    return url.replace(':type', type).replace(':id', url.includes('sessions') || url.includes('break-glass') || url.includes('consents') ? 'unknown-id' : String(anyId)).replace(':patientId', patientId);
  }

  it('every route declares an access rule, and the platform refuses one that does not', async () => {
    expect(p.routes.length).toBeGreaterThan(30);
    for (const r of p.routes) expect(r.access, `${r.method} ${r.url}`).toBeDefined();
    const { requireAccessRules } = await import('./enforce.ts');
    const Fastify = (await import('fastify')).default;
    const app = Fastify();
    requireAccessRules(app);
    expect(() => app.get('/no-policy', async () => 'x')).toThrow(/no access rule/);
  });

  it('answers every role × route × own/other patient as the policy says', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const role of ROLES) {
      for (const c of await casesFor(role)) {
        const res = await call(p, c.method, c.url, c.body, {
          authorization: `Bearer ${tokens.get(role)}`,
          ...(typeof c.body === 'string' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        });
        checked++;
        const denied = res.status === 401 || res.status === 403;
        if (res.status >= 500) failures.push(`${c.label}: ${res.status} ${res.text.slice(0, 200)}`);
        else if (c.allowed === 'public') continue;
        else if (c.allowed && denied) failures.push(`${c.label}: expected allowed, got ${res.status} ${res.text.slice(0, 200)}`);
        else if (!c.allowed && !denied) failures.push(`${c.label}: expected 401/403, got ${res.status}`);
        else if (c.mustNotContain && !denied && JSON.stringify(res.body?.entry ?? []).includes(c.mustNotContain)) failures.push(`${c.label}: answer contains the other patient's data`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(400);
  });

  it('without credentials only public routes answer', async () => {
    const failures: string[] = [];
    for (const r of p.routes) {
      if (r.url === '/*' || r.access === 'public') continue;
      const res = await call(p, r.method, r.url.replace(':type', 'Patient').replace(':id', own).replace(':vid', '1').replace(':operation', '_history'), r.method === 'GET' || r.method === 'DELETE' ? undefined : {}, { authorization: '' });
      if (res.status !== 401) failures.push(`${r.method} ${r.url}: ${res.status}`);
    }
    expect(failures).toEqual([]);
  });
});
