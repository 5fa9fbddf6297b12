/**
 * The authorization matrix: every role × every route × own / other patient, with the expected
 * answer computed from the policy table (src/auth/policy.ts) and the care relationships of the
 * fixture. A route registered without an access rule fails here (the platform refuses to start).
 *
 * Longer than 400 lines on purpose: one matrix, generated from one policy table, over one fixture.
 */
import { randomUUID } from 'node:crypto';
import type { Appointment, Bundle, MedicationRequest, Observation, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { DIRECTORY_TYPES, POLICY, ROLES, domainAllowed, fhirAllowed, type FhirAction, type Role } from './policy.ts';
import { tokenDomainRefusal } from './enforce.ts';
import { parseScopes } from './scopes.ts';

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

/** The scopes the matrix's token for a role carries. */
const scopeOf = (role: Role) =>
  role === 'integration' ? 'system/*.read system/*.write' : role === 'citizen' ? 'patient/*.read patient/Consent.cruds' : 'user/*.cruds';

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
    // The disease-control officer's centre watches a province (src/surveillance): here the own facility stands in for it.
    await p.db.query('INSERT INTO surveillance_authority (org_id, province_code) VALUES ($1, 15)', [ownOrg]);
    for (const role of ROLES) tokens.set(role, await tokenOf(role));
  });
  afterAll(async () => p?.close());

  /** A fresh account and token of the role, at this facility (citizens: the own patient). */
  async function tokenOf(role: Role): Promise<string> {
    const claims =
      role === 'citizen'
        ? { patient: own }
        : ['commune_clinician', 'specialist', 'coordinator', 'facility_admin', 'disease_control'].includes(role)
          ? { org: ownOrg, practitioner: demo.ids.practitioners[6] }
          : {};
    return p.tokenFor(role, {
      ...claims,
      scope: scopeOf(role),
    });
  }

  /** Routes that end the caller's own credentials (sign out everywhere): exercised with a throwaway token. */
  const ENDS_CREDENTIALS = new Set(['/api/auth/logout-all', '/api/auth/logout']);

  /** Fresh resources for destructive cases, made by the platform itself (no actor). */
  async function fresh(type: string, target: Target): Promise<Resource> {
    const patient = target === 'own' ? own : other;
    if (type === 'Patient') {
      const org = target === 'own' ? ownOrg : demo.ids.organizations.muongnhe;
      return p.fixtures.create({
        resourceType: 'Patient',
        name: [{ family: 'Tạm', given: ['Thời'] }],
        managingOrganization: { reference: `Organization/${org}` },
      } as Resource);
    }
    if (type === 'Observation') return p.fixtures.create(observation(patient));
    // A department of the own or the other facility (a facility writes its own directory data only).
    return p.fixtures.create({
      resourceType: 'Organization',
      name: `Cơ sở tạm ${target}`,
      partOf: { reference: `Organization/${facilityOf(target)}` },
    } as Resource);
  }

  function observation(patient: string): Resource {
    return {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${patient}` },
      valueQuantity: { value: 70, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    } as Resource;
  }

  function newBody(type: string, target: Target): Resource {
    if (type === 'Patient')
      return {
        resourceType: 'Patient',
        name: [{ family: 'Mới' }],
        managingOrganization: { reference: `Organization/${target === 'own' ? ownOrg : demo.ids.organizations.muongnhe}` },
      } as Resource;
    if (type === 'Observation') return observation(target === 'own' ? own : other);
    return { resourceType: 'Organization', name: 'Phòng khám mới', partOf: { reference: `Organization/${facilityOf(target)}` } } as Resource;
  }

  const facilityOf = (target: Target | undefined) => (target === 'other' ? demo.ids.organizations.muongnhe : ownOrg);

  /** Would this role pass for a FHIR action on a type, for a patient that is own/other? */
  function fhirExpected(role: Role, action: FhirAction, type: string, target: Target | undefined): boolean {
    const kind = kindOf(type);
    if (!fhirAllowed(role, action, type, kind)) return false;
    // Directory writes: the role's own facility's only, unless its policy says every facility's.
    if (kind === 'directory' && action !== 'read' && action !== 'search' && POLICY[role].directoryWrites !== 'all') return target !== 'other';
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
      if (access === 'authenticated') {
        cases.push({ label, method, url: concrete(url, own, 'Patient', anyId), body: {}, allowed: true });
        continue;
      }
      if (access === 'mfa-pending' || access === 'person') {
        // A person's own at the screen (sign-in, role switch, app launch and consent): the matrix's tokens are refused, whatever the role.
        cases.push({ label, method, url: concrete(url, own, 'Patient', anyId), body: {}, allowed: false });
        continue;
      }
      if (typeof access === 'object') {
        // The matrix signs in with the role's token: a domain with a token rule also needs its scopes (or a person's session).
        const tokenOk = !tokenDomainRefusal(parseScopes(scopeOf(role)).scopes, access.domain, method, access.tokens);
        cases.push({ label, method, url: concrete(url, own, 'Patient', anyId), body: {}, allowed: domainAllowed(role, access.domain) && tokenOk });
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
            label: `${label} [transaction, ${target}]`,
            method,
            url,
            body: {
              resourceType: 'Bundle',
              type: 'transaction',
              entry: [{ resource: newBody('Observation', target), request: { method: 'POST', url: 'Observation' } }],
            },
            allowed: fhirExpected(role, 'create', 'Observation', target),
          });
        }
        continue;
      }
      if (url.includes('$export') || url === '/fhir/R4/$import') {
        // FHIR Bulk Data: only a token with system/ scopes (here the integration role's); the flow itself is formats/bulk/bulk.test.ts.
        const concreteUrl = url.replace(':id', randomUUID()).replace(':n', '1');
        cases.push({ label, method, url: concreteUrl, allowed: role === 'integration' });
        continue;
      }
      if (url === '/fhir/R4/_history') {
        cases.push({ label, method, url, allowed: POLICY[role].clinicalReach === 'all' });
        continue;
      }
      if (url === '/api/chart/:patientId' || url === '/api/emr/patients/:patientId') {
        // The clinician's chart, the EMR export: as reading the Patient (every part then goes through the same checks).
        for (const target of ['own', 'other'] as const)
          cases.push({
            label: `${label} [${target}]`,
            method,
            url: url.replace(':patientId', target === 'own' ? own : other),
            allowed: fhirExpected(role, 'read', 'Patient', target),
            mustNotContain: target === 'own' ? other : undefined,
          });
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
            cases.push({
              label: l,
              method,
              url: `/fhir/R4/${type}${filter}`,
              allowed,
              mustNotContain: kind === 'clinical' && POLICY[role].clinicalReach !== 'all' ? other : undefined,
            });
          } else if (url === '/fhir/R4/:type/_search') {
            if (target === 'other') continue;
            cases.push({ label: l, method, url: `/fhir/R4/${type}/_search`, body: '_count=5', allowed: fhirAllowed(role, 'search', type, kind) });
          } else if (url === '/fhir/R4/:type' && method === 'POST') {
            cases.push({ label: l, method, url: `/fhir/R4/${type}`, body: newBody(type, t), allowed: fhirExpected(role, 'create', type, target) });
          } else if (url === '/fhir/R4/:type' && method === 'PUT') {
            const r = await fresh(type, t);
            cases.push({
              label: l,
              method,
              url: `/fhir/R4/${type}?_id=${r.id}`,
              body: { ...r, meta: undefined },
              allowed: fhirExpected(role, 'update', type, target) && fhirAllowed(role, 'search', type, kind),
            });
          } else if (url === '/fhir/R4/:type/_history') {
            if (target === 'other') continue;
            cases.push({
              label: l,
              method,
              url: `/fhir/R4/${type}/_history`,
              allowed: fhirAllowed(role, 'search', type, kind) && (kind !== 'clinical' || POLICY[role].clinicalReach === 'all'),
            });
          } else if (url === '/fhir/R4/:type/:id' && method === 'GET') {
            const id = type === 'Patient' ? patient : (await fresh(type, t)).id;
            cases.push({ label: l, method, url: `/fhir/R4/${type}/${id}`, allowed: fhirExpected(role, 'read', type, target) });
          } else if (url === '/fhir/R4/:type/:id' && method === 'PUT') {
            const r = await fresh(type, t);
            cases.push({
              label: l,
              method,
              url: `/fhir/R4/${type}/${r.id}`,
              body: { ...r, meta: undefined },
              allowed: fhirExpected(role, 'update', type, target),
            });
          } else if (url === '/fhir/R4/:type/:id' && method === 'DELETE') {
            const r = await fresh(type, t);
            cases.push({ label: l, method, url: `/fhir/R4/${type}/${r.id}`, allowed: fhirExpected(role, 'delete', type, target) });
          } else if (url === '/fhir/R4/:type/:id/:operation') {
            const id = type === 'Patient' ? patient : (await fresh(type, t)).id;
            cases.push({ label: `${l} _history`, method, url: `/fhir/R4/${type}/${id}/_history`, allowed: fhirExpected(role, 'read', type, target) });
            if (type === 'Patient')
              cases.push({ label: `${l} $everything`, method, url: `/fhir/R4/Patient/${id}/$everything`, allowed: fhirExpected(role, 'read', type, target) });
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
    return url
      .replace(':type', type)
      .replace(':id', url.includes('sessions') || url.includes('break-glass') || url.includes('consents') ? 'unknown-id' : String(anyId))
      .replace(':patientId', patientId);
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
        const token = ENDS_CREDENTIALS.has(c.url) ? await tokenOf(role) : tokens.get(role);
        const res = await call(p, c.method, c.url, c.body, {
          authorization: `Bearer ${token}`,
          ...(typeof c.body === 'string' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        });
        checked++;
        const denied = res.status === 401 || res.status === 403;
        if (res.status >= 500) failures.push(`${c.label}: ${res.status} ${res.text.slice(0, 200)}`);
        else if (c.allowed === 'public') continue;
        else if (c.allowed && denied) failures.push(`${c.label}: expected allowed, got ${res.status} ${res.text.slice(0, 200)}`);
        else if (!c.allowed && !denied) failures.push(`${c.label}: expected 401/403, got ${res.status}`);
        else if (c.mustNotContain && !denied && JSON.stringify(res.body?.entry ?? []).includes(c.mustNotContain))
          failures.push(`${c.label}: answer contains the other patient's data`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(400);
  });

  /**
   * Every response path — includes, batch entries, instance and type history, $everything — for
   * every role, against the other facility's patient: the answer never carries that patient's data
   * unless the policy says the role reaches every patient.
   */
  it('leaves the other patient out of every response path, as the policy says', async () => {
    const otherObs = (await p.fixtures.create<Observation>(observation(other) as Observation)).id!;
    const ownObs = (await p.fixtures.create<Observation>(observation(own) as Observation)).id!;
    const failures: string[] = [];
    for (const role of ROLES) {
      const auth = { authorization: `Bearer ${tokens.get(role)}` };
      const reachesOther = fhirExpected(role, 'read', 'Observation', 'other');
      const paths: { label: string; method: string; url: string; body?: unknown }[] = [
        { label: 'include', method: 'GET', url: `/fhir/R4/Observation?_id=${ownObs},${otherObs}&_include=Observation:subject` },
        { label: 'revinclude', method: 'GET', url: `/fhir/R4/Patient?_id=${own},${other}&_revinclude=Observation:subject` },
        { label: 'post search', method: 'POST', url: '/fhir/R4/Observation/_search', body: `_id=${otherObs}` },
        {
          label: 'batch',
          method: 'POST',
          url: '/fhir/R4',
          body: {
            resourceType: 'Bundle',
            type: 'batch',
            entry: [
              { request: { method: 'GET', url: `Observation/${otherObs}` } },
              { request: { method: 'GET', url: `Observation?subject=Patient/${other}` } },
              { request: { method: 'GET', url: `Patient/${other}/$everything` } },
            ],
          },
        },
        { label: 'instance history', method: 'GET', url: `/fhir/R4/Observation/${otherObs}/_history` },
        { label: 'type history', method: 'GET', url: '/fhir/R4/Observation/_history?_count=1000' },
        { label: 'system history', method: 'GET', url: '/fhir/R4/_history?_count=1000' },
        { label: '$everything of own', method: 'GET', url: `/fhir/R4/Patient/${own}/$everything` },
        { label: 'AuditEvent', method: 'GET', url: `/fhir/R4/AuditEvent?patient=${other}` },
      ];
      for (const x of paths) {
        const res = await call(p, x.method, x.url, x.body, {
          ...auth,
          ...(typeof x.body === 'string' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        });
        if (res.status >= 500) failures.push(`${role} ${x.label}: ${res.status}`);
        if (res.status !== 200 || reachesOther) continue;
        // The data officer reads the audit trail, which names every patient: that is the role's purpose.
        if (x.label === 'AuditEvent' && fhirAllowed(role, 'search', 'AuditEvent', 'clinical')) continue;
        // What the answer holds (the self link repeats the query, so only the entries count);
        // batch answers carry their own statuses: a 200 entry must not hold the other patient's data.
        const entries = (res.body as Bundle).entry ?? [];
        const text = JSON.stringify(x.label === 'batch' ? entries.filter((e) => e.response?.status?.startsWith('200')) : entries);
        if (text.includes(otherObs) || text.includes(`Patient/${other}`) || text.includes(`"id":"${other}"`))
          failures.push(`${role} ${x.label}: the answer holds the other patient's data`);
      }
    }
    expect(failures).toEqual([]);
  });

  /**
   * Downloads and domain views by id: the other facility's patient's attachment, document, case,
   * prescription, visit, record and logs. No role of this facility gets them (integration systems
   * hold no domain action). Every route that takes an id or a patient from the client is either
   * exercised here or named with the test that covers it.
   */
  it('gives no role the other patient’s downloads and domain views', async () => {
    const muongnhe = demo.ids.organizations.muongnhe;
    const theirs = {
      authorization: `Bearer ${await p.tokenFor('commune_clinician', { org: muongnhe, practitioner: demo.ids.practitioners[7] })}`,
      'content-type': 'application/json',
    };
    const att = await call(
      p,
      'POST',
      '/api/attachments',
      {
        clientId: randomUUID(),
        patientId: other,
        contentType: 'application/pdf',
        title: 'Phim X-quang',
        data: Buffer.from('%PDF-1.4 riêng tư').toString('base64'),
      },
      theirs,
    );
    expect(att.status).toBe(201);
    const request = await call(
      p,
      'POST',
      '/api/consults',
      {
        clientId: randomUUID(),
        patientId: other,
        receivingOrganizationId: demo.ids.organizations.bachmai,
        specialty: { code: 'cardiology', display: 'Tim mạch' },
        urgency: 'routine',
        reason: 'Đau ngực',
        icd10: { code: 'I20.9' },
        summary: { history: 'Đau ngực 2 tuần', findings: 'HA 150/90', treatment: 'Chưa', question: 'Có cần chụp mạch vành?' },
        attachmentIds: [att.body.id],
        submit: true,
      },
      theirs,
    );
    expect(request.status).toBe(201);
    const caseId = request.body.caseId as string;
    const code = `MN${String(Date.now()).slice(-3)}rx${randomUUID().replace(/-/g, '').slice(0, 5)}-c`;
    await p.fixtures.create<MedicationRequest>({
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      subject: { reference: `Patient/${other}` },
      medicationCodeableConcept: { text: 'Amlodipin 5 mg' },
      groupIdentifier: { system: 'https://fhir.cauyte.vn/sid/prescription-code', value: code },
      identifier: [{ system: 'https://fhir.cauyte.vn/sid/prescription-code', value: `${code}/1` }],
    });
    const visit = await p.fixtures.create<Appointment>({
      resourceType: 'Appointment',
      status: 'booked',
      start: new Date(Date.now() + 86_400_000).toISOString(),
      end: new Date(Date.now() + 88_200_000).toISOString(),
      serviceCategory: [{ coding: [{ system: 'https://fhir.cauyte.vn/CodeSystem/service-category', code: 'remote-examination' }] }],
      participant: [{ actor: { reference: `Patient/${other}` }, status: 'accepted' }],
    });
    const views = [
      `/api/attachments/${att.body.id}`,
      `/api/documents/${att.body.id}`,
      `/api/consults/${caseId}`,
      `/api/consults/${caseId}/teaching-copy`,
      `/api/consults/${caseId}/conclusion/verify`,
      `/api/prescriptions/${code}/pdf`,
      `/api/visits/${visit.id}`,
      `/api/me/record?patientId=${other}`,
      `/api/me/record/pdf?patientId=${other}`,
      `/api/me/record/fhir?patientId=${other}`,
      `/api/me/access-log?patientId=${other}`,
      `/api/me/consents?patientId=${other}`,
      `/api/me/access-holders?patientId=${other}`,
    ];
    const failures: string[] = [];
    for (const role of ROLES) {
      for (const url of views) {
        const res = await call(p, 'GET', url, undefined, { authorization: `Bearer ${tokens.get(role)}` });
        if (res.status < 400 || res.status >= 500) failures.push(`${role} GET ${url}: ${res.status}`);
        if (res.text.includes('riêng tư') || res.text.includes('Đau ngực 2 tuần'))
          failures.push(`${role} GET ${url}: the answer holds the other patient's data`);
      }
      const targets = await call(
        p,
        'PUT',
        `/api/patients/${other}/targets`,
        { systolicMax: 140 },
        { authorization: `Bearer ${tokens.get(role)}`, 'content-type': 'application/json' },
      );
      if (targets.status < 400 || targets.status >= 500) failures.push(`${role} PUT targets of the other patient: ${targets.status}`);
    }
    expect(failures).toEqual([]);

    // Completeness: every route that takes an id, a code or a patient from the client is exercised above or covered by a named test.
    const exercised = new Set([
      '/api/attachments/:id',
      '/api/documents/:id',
      '/api/consults/:id',
      '/api/consults/:id/teaching-copy',
      '/api/consults/:id/conclusion/verify',
      '/api/prescriptions/:code/pdf',
      '/api/visits/:id',
      '/api/me/record',
      '/api/me/record/pdf',
      '/api/me/record/fhir',
      '/api/me/access-log',
      '/api/me/consents',
      '/api/me/access-holders',
      '/api/patients/:id/targets',
    ]);
    const coveredElsewhere: Record<string, string> = {
      '/api/consults/:id/acknowledge': 'consult.test.ts (sides of a case)',
      '/api/consults/:id/conclusion': 'consult.test.ts',
      '/api/consults/:id/conclusion/amend': 'consult.test.ts',
      '/api/consults/:id/conclusion/sign': 'consult.test.ts',
      '/api/consults/:id/follow-up': 'consult.test.ts',
      '/api/consults/:id/submit': 'consult.test.ts',
      '/api/consults/:id/triage': 'consult.test.ts',
      '/api/consults/:id/withdraw': 'consult.test.ts',
      '/api/meetings/:id': 'consult.test.ts (meetings)',
      '/api/meetings/:id/attendance': 'consult.test.ts (meetings)',
      '/api/meetings/:id/ics': 'consult.test.ts (meetings)',
      '/api/visits/:id/cancel': 'visits.test.ts',
      '/api/claims/visits/:id': 'formats claims.test.ts (another facility, clinician, citizen, integration refused)',
      '/api/claims/visits/:id/xml': 'formats claims.test.ts',
      '/api/claims/visits/:id/submit': 'formats claims.test.ts',
      '/api/claims/consults/:id': 'formats claims-consult.test.ts (the requesting facility, another facility, a clinician, a citizen refused)',
      '/api/claims/consults/:id/xml': 'formats claims-consult.test.ts',
      '/api/claims/consults/:id/submit': 'formats claims-consult.test.ts',
      '/api/eprescriptions/:id/status': 'formats eprescription.test.ts (another facility refused)',
      '/api/visits/:id/room': 'video.test.ts (who may enter a visit room)',
      '/api/visits/:id/complete': 'visits.test.ts',
      '/api/visits/:id/reschedule': 'visits.test.ts',
      '/api/visits/services/:id/slots': 'public catalogue (no patient data)',
      '/api/alerts/:id/acknowledge': 'devices.test.ts',
      '/api/devices/:id/readings': 'devices guards.test.ts (device credentials)',
      '/api/devices/:id/revoke': 'devices.test.ts',
      '/api/devices/:id/rotate': 'devices.test.ts',
      '/api/devices/:id/disable': 'devices/fleet.test.ts (another facility: 404; citizen, DPO, analyst: 403)',
      '/api/family-links/:id/revoke': 'family.test.ts',
      '/api/me/family/:id/revoke': 'family.test.ts',
      '/api/me/consents/:id/withdraw': 'security.test.ts (consents)',
      '/api/break-glass/:id/review': 'security.test.ts (break-the-glass)',
      '/api/auth/sessions/:id': 'own sessions only (sessions.list of the caller)',
      '/api/accounts/:id/disable': 'gaps-level3.test.ts',
      '/api/accounts/:id/enable': 'gaps-level3.test.ts',
      '/api/admin/accounts/:id/roles': 'admin.test.ts (another facility, clinician, app token)',
      '/api/admin/accounts/:id/reset-mfa': 'admin.test.ts (another facility, clinician, app token)',
      '/api/admin/oauth-clients/:id/revoke': 'admin.test.ts (another facility: 404, audited)',
      '/api/admin/services/:id/active': 'admin.test.ts (another facility)',
      '/api/prescriptions/:code/verify': 'public on purpose: never shows who (visits.test.ts)',
      '/fhir/R4/AuditEvent/:id': 'policy: DPO only (matrix above)',
      '/api/chart/:patientId': 'chart.test.ts (another facility refused with break-the-glass; a citizen only their own)',
      '/api/visits/:id/prescription-check': 'visits/safety.test.ts (the visit’s side only)',
      '/api/notifications/:id/read': 'events/notifications.test.ts (only those it is for; 404 otherwise)',
      '/api/programme/facilities/:id': 'programme.test.ts (facility register: directory data, edits own facility only)',
      '/api/programme/declarations/:id': 'programme.test.ts (another facility, another province refused)',
      '/api/programme/declarations/:id/review': 'programme.test.ts (another province refused)',
      '/api/programme/agreements/:id/terminate': 'programme.test.ts (a non-party refused)',
      '/api/programme/agreements/:id/document': 'programme.test.ts (a contract between facilities: no patient data)',
      '/api/programme/readiness/:id': 'programme.test.ts (a site’s equipment check: no patient data)',
      '/api/imaging/studies/:id': 'imaging.test.ts (denials)',
      '/api/imaging/studies/:id/annotations': 'imaging.test.ts (denials)',
      '/api/imaging/studies/:id/first-image': 'imaging.test.ts (denials; the same file as WADO-RS)',
      '/api/imaging/studies/:id/deidentified': 'imaging.test.ts (teaching copy: citizens and other facilities refused)',
      '/api/imaging/studies/:id/report': 'imaging.test.ts (reading workflow: the station is refused)',
      '/api/imaging/studies/:id/report/sign': 'imaging.test.ts (denials)',
      '/api/imaging/studies/:id/report/verify': 'imaging.test.ts (denials)',
      '/api/imaging/dicomweb/patients/:patientId/studies': 'imaging.test.ts (STOW for a patient not reached stores nothing)',
      '/api/imaging/uploads/files/:id': 'imaging.test.ts (another account gets 403 on the upload)',
      '/api/training/courses/:id': 'training/training.test.ts (a citizen refused; learners see no answers)',
      '/api/training/courses/:id/enrol': 'training/training.test.ts (a citizen refused; target facilities and roles)',
      '/api/training/courses/:id/withdraw': 'training/training.test.ts (own enrolment only)',
      '/api/training/courses/:id/answers': 'training/training.test.ts (only those enrolled)',
      '/api/training/sessions/:id/signin': 'training/training.test.ts (only a site enrolled)',
      '/api/training/sessions/:id/close': 'training/training.test.ts (only the course’s teachers and hub)',
      '/api/training/sessions/:id/attendance': 'training/training.test.ts (only the course’s teachers and hub)',
      '/api/training/sessions/:id/teaching-cases': 'training/training.test.ts (teachers add; only those enrolled read; de-identified)',
      '/api/training/certificates/:id/pdf': 'training/training.test.ts (the holder’s own only)',
      '/api/training/transfers/:id': 'training/training.test.ts (the hub and the receiving facility only)',
      '/api/training/transfers/:id/steps': 'training/training.test.ts (the hub’s coordinator only)',
      '/api/training/transfers/:id/cases': 'training/training.test.ts (the hub’s teachers only)',
      '/api/training/transfers/:id/independent': 'training/training.test.ts (the hub only; 422 before the supervised cases)',
      '/api/training/sessions/:id/feedback': 'training/feedback.test.ts (only those on the attendance, after the session)',
      '/api/training/courses/:id/feedback': 'training/feedback.test.ts (only the course’s teachers and hub; no names)',
      '/api/surveillance/signals/:id/decision': 'surveillance.test.ts (clinician, citizen, analyst 403; another province 404)',
      '/api/smart/requests/:id': 'auth/smart.test.ts (SMART consent: only the person asked sees it; others 404, anonymous 401)',
      '/api/emr/patients/:patientId': 'formats/emr/emr.test.ts (reads as the caller: another facility, another citizen, analyst refused)',
      '/api/smart/requests/:id/decision': 'auth/smart.test.ts (SMART consent: only the person asked answers it, once)',
      '/api/cds/cards/:id/accept': 'cds/cds.test.ts (only the clinician the card was shown to: 404 otherwise; citizens 403)',
      '/api/cds/cards/:id/override': 'cds/cds.test.ts (only the clinician the card was shown to)',
      '/api/cds/drafts/:type/:id/confirm': 'cds/cds.test.ts (another facility, a citizen refused)',
      '/api/cds/registry/:id': 'cds/cds.test.ts (system administrator only: no patient data)',
      '/api/cds/registry/:id/status': 'cds/cds.test.ts (system administrator only)',
      '/api/cds/registry/:id/scopes': 'cds/cds.test.ts (system administrator only)',
    };
    const missing = p.routes.filter(
      (r) =>
        r.url.startsWith('/api/') &&
        /:(id|code|patientId|kind)\b/.test(r.url) &&
        !exercised.has(r.url) &&
        !coveredElsewhere[r.url] &&
        !r.url.startsWith('/api/video/') &&
        r.url !== '/api/programmes/:kind',
    );
    expect(missing.map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });

  it('without credentials only public routes answer', async () => {
    const failures: string[] = [];
    for (const r of p.routes) {
      if (r.url === '/*' || r.access === 'public') continue;
      const res = await call(
        p,
        r.method,
        r.url.replace(':type', 'Patient').replace(':id', own).replace(':vid', '1').replace(':operation', '_history'),
        r.method === 'GET' || r.method === 'DELETE' ? undefined : {},
        { authorization: '' },
      );
      if (res.status !== 401) failures.push(`${r.method} ${r.url}: ${res.status}`);
    }
    expect(failures).toEqual([]);
  });
});
