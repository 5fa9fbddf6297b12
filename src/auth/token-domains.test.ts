/**
 * An app's token on the non-FHIR routes (TOKEN_DOMAIN_RULES in policy.ts): a person's own business
 * (account, sessions, inbox) is refused to any token; the audit trail, the access log and consents
 * need a scope for their FHIR type, as the FHIR API would ask; the same person signed in, or a
 * token with the scope, is served. What only a person at the screen may do (sign-in and the second
 * factor, role switch, app launch and consent, accounts and clients, emergency access) is refused
 * to every token (found by the attacker review of 2026-12-03: an app took over a citizen's second factor).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Patient, Practitioner } from '@medplum/fhirtypes';
import { call, sessionFor, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { TOKEN_DOMAIN_RULES } from './policy.ts';

describe('app tokens on domain routes', () => {
  let p: TestPlatform;
  let patient: string;
  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, {
      domains: ['family', 'consult', 'video', 'visits', 'formats', 'devices', 'cds', 'imaging', 'programme', 'training', 'surveillance'],
    });
    patient = (await p.fixtures.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Lò', given: ['Văn', 'Tâm'] }] })).id!;
  });
  afterAll(async () => p?.close());
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('a citizen’s app with an Observation scope reads neither the access log nor the access holders', async () => {
    const narrow = await p.tokenFor('citizen', { patient, scope: 'patient/Observation.read' });
    for (const url of ['/api/me/access-log', '/api/me/access-holders', '/api/me/consents', '/api/me/family']) {
      const r = await call(p, 'GET', url, undefined, bearer(narrow));
      expect(r.status, `${url} ${r.text}`).toBe(403);
      expect(r.body.title).toMatch(/scopes do not allow search on (AuditEvent|Consent|RelatedPerson)/);
    }
    // With the scopes for them, the same person's app does.
    const wide = await p.tokenFor('citizen', {
      patient,
      scope: 'patient/AuditEvent.read patient/Consent.read patient/RelatedPerson.read patient/Patient.read patient/Encounter.read',
    });
    for (const url of ['/api/me/access-log', '/api/me/access-holders', '/api/me/consents', '/api/me/family'])
      expect((await call(p, 'GET', url, undefined, bearer(wide))).status, url).toBe(200);
    // Who holds access tells where the person was treated (care relationships from Encounters):
    // an app that may read only Consents lists its consents but not the holders (found by review, 2026-12-05).
    const consentsOnly = await p.tokenFor('citizen', { patient, scope: 'patient/Consent.read' });
    expect((await call(p, 'GET', '/api/me/consents', undefined, bearer(consentsOnly))).status).toBe(200);
    const holders = await call(p, 'GET', '/api/me/access-holders', undefined, bearer(consentsOnly));
    expect(holders.status, holders.text).toBe(403);
    expect(holders.body.title).toMatch(/search on Encounter/);
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

  it('sign-in and the second factor, role switch, app launch and consent, accounts and clients, emergency access: never by a token', async () => {
    const citizensApp = await p.tokenFor('citizen', { patient, scope: 'patient/Observation.read' });
    const enrol = await call(p, 'POST', '/api/auth/mfa/enrol', {}, { ...bearer(citizensApp), 'content-type': 'application/json' });
    expect(enrol.status).toBe(403);
    expect(enrol.text).not.toMatch(/secret|otpauth/i);
    // Twelve wrong codes from a clinician's app neither lock the person's two-factor sign-in nor are even tried.
    const clinicians = await p.tokenFor('specialist', { org: 'org-x', scope: 'user/Observation.read' });
    for (let i = 0; i < 12; i++)
      expect((await call(p, 'POST', '/api/auth/mfa', { code: '000000' }, { ...bearer(clinicians), 'content-type': 'application/json' })).status).toBe(403);
    const admins = await p.tokenFor('system_admin', { scope: 'user/Organization.read' });
    for (const [who, method, url, body] of [
      [citizensApp, 'GET', '/api/auth/me', undefined],
      [citizensApp, 'POST', '/api/auth/mfa/enrol/confirm', { code: '123456' }],
      [clinicians, 'POST', '/api/auth/role', { role: 'specialist' }],
      [clinicians, 'GET', '/api/smart/apps', undefined],
      [clinicians, 'POST', '/api/break-glass', { patientId: patient, reason: 'Cấp cứu: người bệnh hôn mê, cần tiền sử dị ứng' }],
      [
        admins,
        'POST',
        '/api/oauth/clients',
        { name: 'x', scopes: ['system/*.read'], grantTypes: ['client_credentials'], confidential: true, serviceRole: 'integration' },
      ],
      [admins, 'GET', '/api/admin/accounts', undefined],
    ] as const) {
      const r = await call(p, method, url, body, { ...bearer(who), 'content-type': 'application/json' });
      expect(r.status, `${method} ${url}`).toBe(403);
      expect(r.body.title, url).toMatch(/not for app tokens/);
    }
    // The same routes serve the person signed in.
    const person = await sessionFor(p, 'specialist', { org: 'org-x' });
    expect((await call(p, 'GET', '/api/auth/me', undefined, person)).status).toBe(200);
    expect((await call(p, 'GET', '/api/smart/apps', undefined, person)).status).toBe(200);
    const glass = await call(
      p,
      'POST',
      '/api/break-glass',
      { patientId: patient, reason: 'Cấp cứu: người bệnh hôn mê, cần tiền sử dị ứng' },
      { ...person, 'content-type': 'application/json' },
    );
    expect(glass.status, glass.text).toBe(200);
  });

  it('a reading app changes nothing through a domain route (a citizen’s reading app books no visit)', async () => {
    const reader = await p.tokenFor('citizen', { patient, scope: 'patient/*.read' });
    const r = await call(p, 'POST', '/api/visits', { slotId: 'x' }, { ...bearer(reader), 'content-type': 'application/json' });
    expect(r.status, r.text).toBe(403);
    expect(r.body.title).toMatch(/create on Appointment/);
    // Reading is still the role's to decide: the services on offer and the citizen's own visits answer.
    expect((await call(p, 'GET', '/api/visits/services', undefined, bearer(reader))).status).toBe(200);
    expect((await call(p, 'GET', '/api/me/visits', undefined, bearer(reader))).status).toBe(200);
    // A citizen's app that may read only Observations opens neither the record nor the visits.
    const obsOnly = await p.tokenFor('citizen', { patient, scope: 'patient/Observation.read' });
    expect((await call(p, 'GET', '/api/me/record', undefined, bearer(obsOnly))).body.title).toMatch(/search on Patient/);
    expect((await call(p, 'GET', '/api/me/visits', undefined, bearer(obsOnly))).body.title).toMatch(/search on Appointment/);
  });

  it('billing, the device fleet, device alerts and targets, and decision-support settings are held to their FHIR type, or are a person’s', async () => {
    const orgReader = await p.tokenFor('facility_admin', { org: 'org-x', scope: 'user/Organization.read' });
    const obsReader = await p.tokenFor('facility_admin', { org: 'org-x', scope: 'user/Observation.read user/Organization.write' });
    const admins = await p.tokenFor('system_admin', { scope: 'user/*.read user/*.write' });
    const monitorApp = await p.tokenFor('commune_clinician', { org: 'org-x', scope: 'user/Observation.read user/Patient.write' });
    for (const [who, method, url, body, why] of [
      [orgReader, 'GET', '/api/visits/charges?date=2026-12-01&format=json', undefined, /search on ChargeItem/],
      [orgReader, 'GET', '/api/claims/visits/any-visit', undefined, /search on Claim/],
      [obsReader, 'GET', '/api/devices/fleet', undefined, /search on Device/],
      [obsReader, 'POST', '/api/devices/any-device/disable', {}, /create on Device/],
      // An invitation link lets its holder into the call as the patient: hosting needs an Appointment write scope.
      [
        await p.tokenFor('specialist', { org: 'org-x', scope: 'user/Appointment.read user/Observation.write' }),
        'POST',
        '/api/video/rooms/any-room/invitations',
        {},
        /create on Appointment/,
      ],
      // Device alerts carry patients' readings; acknowledging one and setting a patient's targets are clinical acts.
      [monitorApp, 'GET', '/api/alerts', undefined, /search on Flag/],
      [monitorApp, 'GET', '/api/programmes/hypertension', undefined, /search on Flag/],
      [monitorApp, 'POST', '/api/alerts/1/acknowledge', {}, /create on Flag/],
      [monitorApp, 'PUT', `/api/patients/${patient}/targets`, { systolicMax: 150, diastolicMax: 95 }, /create on Goal/],
      [admins, 'PUT', '/api/cds/registry/any-service/scopes', { allowedHooks: ['patient-view'], dataScopes: ['Patient'] }, /not for app tokens/],
    ] as const) {
      const r = await call(p, method, url, body, { ...bearer(who), 'content-type': 'application/json' });
      expect(r.status, `${method} ${url}`).toBe(403);
      expect(r.body.title, url).toMatch(why);
    }
  });
  it('every domain action is a decision: consults, visits, imaging, the programme, outbreak signals, training and decision support are held to their type or are a person’s', async () => {
    // Each route is tried by a token of a role that holds the action, with a write scope for an
    // unrelated type (Observation): it used to be let through. The rule's refusal comes before the
    // handler, so made-up ids are enough; the same token with the rule's scope gets past it.
    const other = 'user/Observation.read user/Observation.write';
    const cases: [role: Parameters<TestPlatform['tokenFor']>[0], method: string, url: string, wanted: string][] = [
      ['commune_clinician', 'POST', '/api/consults', 'user/ServiceRequest.write'],
      ['commune_clinician', 'GET', '/api/consults', 'user/ServiceRequest.read'],
      ['specialist', 'POST', '/api/consults/any-case/triage', 'user/Task.write'],
      ['coordinator', 'POST', '/api/meetings', 'user/Appointment.write'],
      ['specialist', 'GET', '/api/video/rooms/any-room/recordings', 'user/DocumentReference.read'],
      ['specialist', 'POST', '/api/visits/any-visit/complete', 'user/Encounter.write'],
      ['facility_admin', 'POST', '/api/visits/schedules', 'user/Schedule.write'],
      ['specialist', 'GET', '/api/imaging/studies', 'user/ImagingStudy.read'],
      ['commune_clinician', 'POST', '/api/imaging/studies/any-study/annotations', 'user/ImagingStudy.write'],
      // Opening a visit's room opens a call: an Appointment write scope, as hosting one asks.
      ['commune_clinician', 'POST', '/api/visits/any-visit/room', 'user/Appointment.write'],
      // Alerts list the patients' latest readings: Observations as well as Flags.
      ['commune_clinician', 'GET', '/api/alerts', 'user/Flag.read user/Observation.read'],
      ['facility_admin', 'POST', '/api/programme/declarations/any-org', 'user/QuestionnaireResponse.write'],
      ['facility_admin', 'POST', '/api/programme/readiness', 'user/Organization.write'],
      ['facility_admin', 'GET', '/api/programme/facilities', 'user/Organization.read'],
      ['analyst', 'GET', '/api/programme/indicators', 'user/MeasureReport.read'],
      ['disease_control', 'GET', '/api/surveillance/signals', 'user/DetectedIssue.read'],
    ];
    for (const [role, method, url, wanted] of cases) {
      const org = role === 'analyst' || role === 'disease_control' ? {} : { org: 'org-x' };
      const narrow = await p.tokenFor(role, { ...org, scope: other });
      const r = await call(p, method, url, method === 'GET' ? undefined : {}, { ...bearer(narrow), 'content-type': 'application/json' });
      expect(r.status, `${role} ${method} ${url} ${r.text}`).toBe(403);
      expect(r.body.title, url).toMatch(/scopes( \(user\/ or system\/\))? do not allow (search|create) on/);
      const scoped = await p.tokenFor(role, { ...org, scope: `${other} ${wanted}` });
      const s = await call(p, method, url, method === 'GET' ? undefined : {}, { ...bearer(scoped), 'content-type': 'application/json' });
      expect(s.body?.title ?? '', `${role} ${method} ${url} with ${wanted}`).not.toMatch(/scopes do not allow|not for app tokens|reading only/);
    }
    // A person's, whatever the token's scopes: learning that earns credit, teaching, running
    // training; official lists and settings; advice from a machine accepted or asked for.
    const wide = 'user/*.read user/*.write';
    for (const [role, method, url] of [
      ['commune_clinician', 'POST', '/api/training/courses/any-course/answers'],
      ['commune_clinician', 'POST', '/api/training/sessions/any-session/signin'],
      ['specialist', 'POST', '/api/training/sessions/any-session/close'],
      ['coordinator', 'POST', '/api/training/programmes'],
      ['system_admin', 'POST', '/api/eligibility/list'],
      ['system_admin', 'PUT', '/api/surveillance/population'],
      ['specialist', 'POST', '/api/cds/hooks/patient-view'],
      ['specialist', 'POST', '/api/cds/cards/any-card/accept'],
      ['specialist', 'POST', '/api/cds/drafts/MedicationRequest/any-draft/confirm'],
      // A signature made with the clinician's own key.
      ['specialist', 'POST', '/api/consults/any-case/conclusion/sign'],
      ['specialist', 'PUT', '/api/imaging/studies/any-study/report'],
    ] as const) {
      const token = await p.tokenFor(role, { ...(role === 'system_admin' ? {} : { org: 'org-x' }), scope: wide });
      const r = await call(p, method, url, {}, { ...bearer(token), 'content-type': 'application/json' });
      expect(r.status, `${role} ${method} ${url} ${r.text}`).toBe(403);
      expect(r.body.title, url).toMatch(/not for app tokens/);
    }
    // A facility's lists (billing, alerts) are read outside one patient's compartment: a token
    // launched for one patient (patient/ scopes) reaches none of them, a user/ scope does.
    for (const [role, url, type] of [
      ['coordinator', '/api/visits/charges?date=2026-12-01&format=json', 'ChargeItem'],
      ['commune_clinician', '/api/alerts', 'Flag'],
    ] as const) {
      const launched = await p.tokenFor(role, { org: 'org-x', patient, scope: `patient/${type}.read patient/Observation.read` });
      const r = await call(p, 'GET', url, undefined, bearer(launched));
      expect(r.status, `${url} ${r.text}`).toBe(403);
      expect(r.body.title).toMatch(new RegExp(`\\(user/ or system/\\) do not allow search on ${type}`));
      const user = await p.tokenFor(role, { org: 'org-x', patient, scope: `user/${type}.read user/Observation.read` });
      expect((await call(p, 'GET', url, undefined, bearer(user))).body?.title ?? '', url).not.toMatch(/scopes/);
    }
    // Being in a call is reading its Appointment, for any room (the room's route is public, so the
    // route rule never runs there): an invited colleague's Observation-only app is not let in.
    const doctor = await p.fixtures.create<Practitioner>({ resourceType: 'Practitioner', name: [{ family: 'Nguyễn', given: ['Văn', 'An'] }] });
    const host = await sessionFor(p, 'specialist', { org: 'org-x', practitioner: doctor.id });
    const room = await call(p, 'POST', '/api/video/rooms', { kind: 'adhoc', title: 'Hội chẩn nhanh' }, { ...host, 'content-type': 'application/json' });
    expect(room.status, room.text).toBe(201);
    const colleague = await p.tokenFor('specialist', { org: 'org-x', scope: 'user/Observation.read user/Communication.read' });
    const entered = await call(p, 'GET', `/api/video/rooms/${room.body.id}`, undefined, bearer(colleague));
    expect(entered.status, entered.text).toBe(403);
    expect(entered.body.title).toMatch(/search on Appointment/);
    expect(entered.text).not.toContain('Hội chẩn nhanh');

    // Counts with no one's data: the role decides, and a read-only token may read them.
    expect(TOKEN_DOMAIN_RULES['surveillance.aggregates']).toBe('aggregate');
    const dc = await p.tokenFor('disease_control', { scope: 'user/Observation.read' });
    expect((await call(p, 'GET', '/api/surveillance/aggregates', undefined, bearer(dc))).body?.title ?? '').not.toMatch(/scopes|reading only/);
  });
});
