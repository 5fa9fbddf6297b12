/**
 * The attacker's review (issue #11, section 2): each gap it found, tried again the way an
 * attacker would — another facility's administrator or clinician, a narrower token, a made-up
 * cookie, a huge or malformed request. Each test failed on the code before the fix.
 * (Identity gaps 6, 7, 8 and 14 are in gaps.test.ts; workflow ownership in each domain's tests.)
 */
import type {
  Binary,
  Bundle,
  DocumentReference,
  Location,
  Observation,
  OperationOutcome,
  Organization,
  Practitioner,
  PractitionerRole,
  Schedule,
} from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, sessionFor, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { registerClient } from './oauth.ts';
import { LIMITS } from '../fhir/limits.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('the attacker review, gap by gap', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let own: string; // a patient registered at Trạm Y tế xã Bát Xát
  let other: string; // a patient registered at Trạm Y tế xã Mường Nhé
  let batxat: string;
  let muongnhe: string;

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: [] });
    demo = await seedDemo(p.store, 8);
    batxat = demo.ids.organizations.batxat;
    muongnhe = demo.ids.organizations.muongnhe;
    own = demo.ids.patients[0];
    other = demo.ids.patients[2];
  });
  afterAll(async () => p?.close());

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('a refusal names the patient only to those who may break the glass: a citizen or an app learns nothing of whose record an id is', async () => {
    const obs = await p.fixtures.create<Observation>({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Huyết áp' },
      subject: { reference: `Patient/${other}` },
    });
    const citizen = await call<OperationOutcome>(p, 'GET', `/fhir/R4/Observation/${obs.id}`, undefined, bearer(await p.tokenFor('citizen', { patient: own })));
    expect(citizen.status).toBe(403);
    expect(citizen.text).not.toContain(other);
    const clinician = await call<OperationOutcome>(
      p,
      'GET',
      `/fhir/R4/Observation/${obs.id}`,
      undefined,
      bearer(await p.tokenFor('commune_clinician', { org: batxat })),
    );
    expect(clinician.status).toBe(403);
    expect(clinician.text).toContain(`Patient/${other}`); // the break-the-glass dialog needs it
    // Both refusals are in that patient's access log.
    expect((await p.audit.forPatient(other)).filter((r) => r.outcome === 'denied').length).toBeGreaterThanOrEqual(2);
  });

  describe('2026-12-02 review: a facility writes its own directory data only, and binds accounts only to its own staff', () => {
    it('another facility’s Organization and bridge point cannot be changed, nor one of one’s own moved out; one’s own can be', async () => {
      const laocai = demo.ids.organizations.laocai;
      const admin = await sessionFor(p, 'facility_admin', { org: laocai });
      const foreign = (await call<Organization>(p, 'GET', `/fhir/R4/Organization/${muongnhe}`, undefined, admin)).body;
      const renamed = await call<OperationOutcome>(
        p,
        'PUT',
        `/fhir/R4/Organization/${muongnhe}`,
        { ...foreign, name: 'Đã bị đổi tên', identifier: [] },
        { ...admin, ...JSON_HEADERS },
      );
      expect(renamed.status).toBe(403);
      expect(renamed.body.resourceType).toBe('OperationOutcome');
      expect((await call<Organization>(p, 'GET', `/fhir/R4/Organization/${muongnhe}`, undefined, admin)).body.name).toBe(foreign.name);
      // Its own facility's record: yes.
      const mine = (await call<Organization>(p, 'GET', `/fhir/R4/Organization/${laocai}`, undefined, admin)).body;
      expect((await call(p, 'PUT', `/fhir/R4/Organization/${laocai}`, { ...mine, alias: ['BV Lào Cai'] }, { ...admin, ...JSON_HEADERS })).status).toBe(200);

      const bridge = await p.fixtures.create<Location>({
        resourceType: 'Location',
        name: 'Điểm cầu Bát Xát',
        managingOrganization: { reference: `Organization/${batxat}` },
      });
      const otherCoordinator = bearer(await p.tokenFor('coordinator', { org: muongnhe }));
      const moved = await call(
        p,
        'PUT',
        `/fhir/R4/Location/${bridge.id}`,
        { ...bridge, managingOrganization: { reference: `Organization/${muongnhe}` } },
        { ...otherCoordinator, ...JSON_HEADERS },
      );
      expect(moved.status).toBe(403);
      const coordinator = bearer(await p.tokenFor('coordinator', { org: batxat }));
      expect(
        (await call(p, 'PUT', `/fhir/R4/Location/${bridge.id}`, { ...bridge, name: 'Điểm cầu Trạm Y tế Bát Xát' }, { ...coordinator, ...JSON_HEADERS })).status,
      ).toBe(200);
      // Not even one's own facility's bridge point may be handed to another facility.
      const away = await call(
        p,
        'PUT',
        `/fhir/R4/Location/${bridge.id}`,
        { ...bridge, managingOrganization: { reference: `Organization/${muongnhe}` } },
        { ...coordinator, ...JSON_HEADERS },
      );
      expect(away.status).toBe(403);
      // Another facility's bookable slots are not its to block; shared national content (a ValueSet) is not a facility's to change.
      const schedule = await p.fixtures.create<Schedule>({ resourceType: 'Schedule', actor: [{ reference: `Location/${bridge.id}` }] });
      const slot = {
        resourceType: 'Slot',
        schedule: { reference: `Schedule/${schedule.id}` },
        status: 'busy',
        start: '2026-12-10T01:00:00Z',
        end: '2026-12-10T01:30:00Z',
      };
      expect((await call(p, 'POST', '/fhir/R4/Slot', slot, { ...otherCoordinator, ...JSON_HEADERS })).status).toBe(403);
      expect((await call(p, 'POST', '/fhir/R4/Slot', slot, { ...coordinator, ...JSON_HEADERS })).status).toBe(201);
      const valueSet = { resourceType: 'ValueSet', status: 'active', url: 'urn:cauyte:test:vs', name: 'Thu' };
      expect((await call(p, 'POST', '/fhir/R4/ValueSet', valueSet, { ...admin, ...JSON_HEADERS })).status).toBe(403);
    });

    it('a facility administrator binds no account to a practitioner who works at another facility or already has one, and grants no administrator role', async () => {
      const laocai = demo.ids.organizations.laocai;
      const admin = await sessionFor(p, 'facility_admin', { org: laocai });
      const specialist = demo.ids.practitioners[0]; // works at Bạch Mai
      // A role "at Lào Cai" is the facility's own record to write...
      const placed = await call(
        p,
        'POST',
        '/fhir/R4/PractitionerRole',
        {
          resourceType: 'PractitionerRole',
          active: true,
          practitioner: { reference: `Practitioner/${specialist}` },
          organization: { reference: `Organization/${laocai}` },
        },
        { ...admin, ...JSON_HEADERS },
      );
      expect(placed.status).toBe(201);
      // ...but it does not make another facility's doctor theirs to bind an account to.
      const impostor = await call(
        p,
        'POST',
        '/api/accounts',
        {
          username: 'gia.mao',
          displayName: 'Giả mạo',
          kind: 'staff',
          password: 'Mat-Khau-Dai-2026!',
          practitionerId: specialist,
          roles: [{ role: 'specialist', organizationId: laocai }],
        },
        { ...admin, ...JSON_HEADERS },
      );
      expect(impostor.status).toBe(403);
      expect(impostor.text).toContain('cơ sở khác');
      expect(await p.accounts.byUsername('gia.mao')).toBeUndefined();
      // Someone who works only here, and already has an account, gets no second one.
      const nurse = await p.fixtures.create<Practitioner>({ resourceType: 'Practitioner', name: [{ text: 'ĐD Lào Cai' }] });
      await p.fixtures.create<PractitionerRole>({
        resourceType: 'PractitionerRole',
        practitioner: { reference: `Practitioner/${nurse.id}` },
        organization: { reference: `Organization/${laocai}` },
      });
      const account = (roleName: string, username: string) => ({
        username,
        displayName: 'ĐD Lào Cai',
        kind: 'staff',
        password: 'Mat-Khau-Dai-2026!',
        practitionerId: nurse.id,
        roles: [{ role: roleName, organizationId: laocai }],
      });
      expect((await call(p, 'POST', '/api/accounts', account('commune_clinician', 'dd.laocai'), { ...admin, ...JSON_HEADERS })).status).toBe(201);
      const second = await call(p, 'POST', '/api/accounts', account('commune_clinician', 'dd.laocai2'), { ...admin, ...JSON_HEADERS });
      expect(second.status).toBe(403);
      expect(second.text).toContain('đã có tài khoản');
      // Administrator and national roles are not a facility's to grant.
      for (const role of ['facility_admin', 'disease_control'])
        expect(
          (await call(p, 'POST', '/api/accounts', { ...account(role, `x.${role}`), practitionerId: undefined }, { ...admin, ...JSON_HEADERS })).status,
        ).toBe(403);
    });
  });

  describe('1. binding an account to a person needs authority over that person', () => {
    it('a facility administrator cannot bind an account to another facility’s patient or practitioner', async () => {
      const admin = await sessionFor(p, 'facility_admin', { org: batxat });
      const foreignPatient = await call(
        p,
        'POST',
        '/api/accounts',
        { username: 'leak-patient', displayName: 'X', kind: 'citizen', password: 'Mat-Khau-Dai-2026!', patientId: other },
        { ...admin, ...JSON_HEADERS },
      );
      expect(foreignPatient.status).toBe(403);
      // The refusal names the patient, so it shows in that person's access log.
      const denied = await p.audit.forPatient(other);
      expect(denied.some((r) => r.outcome === 'denied')).toBe(true);

      const muongnhePractitioner = await p.fixtures.create<Practitioner>({ resourceType: 'Practitioner', name: [{ text: 'BS Mường Nhé' }] });
      await p.fixtures.create<PractitionerRole>({
        resourceType: 'PractitionerRole',
        practitioner: { reference: `Practitioner/${muongnhePractitioner.id}` },
        organization: { reference: `Organization/${muongnhe}` },
      });
      const foreignPractitioner = await call(
        p,
        'POST',
        '/api/accounts',
        {
          username: 'leak-prac',
          displayName: 'X',
          kind: 'staff',
          password: 'Mat-Khau-Dai-2026!',
          practitionerId: muongnhePractitioner.id,
          roles: [{ role: 'commune_clinician', organizationId: batxat }],
        },
        { ...admin, ...JSON_HEADERS },
      );
      expect(foreignPractitioner.status).toBe(403);
      expect(await p.accounts.byUsername('leak-prac')).toBeFalsy();
    });

    it('binds its own facility’s patient, audited in that patient’s access log; a system administrator must give a reason', async () => {
      const admin = await sessionFor(p, 'facility_admin', { org: batxat });
      const ok = await call(
        p,
        'POST',
        '/api/accounts',
        { username: 'own-citizen', displayName: 'Người dân', kind: 'citizen', password: 'Mat-Khau-Dai-2026!', patientId: own },
        { ...admin, ...JSON_HEADERS },
      );
      expect(ok.status).toBe(201);
      const log = await p.audit.forPatient(own);
      expect(log.some((r) => r.action === 'account.create' && r.outcome === 'success')).toBe(true);

      const sys = await sessionFor(p, 'system_admin');
      const noReason = await call(
        p,
        'POST',
        '/api/accounts',
        { username: 'sys-bind', displayName: 'X', kind: 'citizen', password: 'Mat-Khau-Dai-2026!', patientId: other },
        { ...sys, ...JSON_HEADERS },
      );
      expect(noReason.status).toBe(400);
      const withReason = await call(
        p,
        'POST',
        '/api/accounts',
        {
          username: 'sys-bind',
          displayName: 'X',
          kind: 'citizen',
          password: 'Mat-Khau-Dai-2026!',
          patientId: other,
          reason: 'Người bệnh chuyển tuyến, yêu cầu số 123/2026',
        },
        { ...sys, ...JSON_HEADERS },
      );
      expect(withReason.status).toBe(201);
      const otherLog = await p.audit.forPatient(other);
      expect(otherLog.some((r) => r.action === 'account.create' && r.reason?.includes('123/2026'))).toBe(true);
    });
  });

  describe('2. attachments point only at Binaries the writer may read, of the same patient', () => {
    it('refuses a DocumentReference of one’s own patient that points at another patient’s Binary, and the Binary itself', async () => {
      const foreign = await p.fixtures.create<Binary>({
        resourceType: 'Binary',
        contentType: 'application/pdf',
        data: Buffer.from('%PDF-1.4 bí mật').toString('base64'),
        securityContext: { reference: `Patient/${other}` },
      });
      const clinician = bearer(await p.tokenFor('commune_clinician', { org: batxat, scope: 'user/*.cruds' }));
      const read = await call(p, 'GET', `/fhir/R4/Binary/${foreign.id}`, undefined, clinician);
      expect(read.status).toBe(403);
      const doc: DocumentReference = {
        resourceType: 'DocumentReference',
        status: 'current',
        subject: { reference: `Patient/${own}` },
        content: [{ attachment: { contentType: 'application/pdf', url: `Binary/${foreign.id}` } }],
      };
      const write = await call<OperationOutcome>(p, 'POST', '/fhir/R4/DocumentReference', doc, clinician);
      expect([403, 422]).toContain(write.status);
      expect(write.body.resourceType).toBe('OperationOutcome');

      // Even a principal that reaches both patients may not file one patient's bytes under another.
      const both = await p.fixtures.create<Binary>({
        resourceType: 'Binary',
        contentType: 'application/pdf',
        data: Buffer.from('%PDF-1.4').toString('base64'),
        securityContext: { reference: `Patient/${other}` },
      });
      const mixed = await call<OperationOutcome>(p, 'POST', '/fhir/R4/DocumentReference', {
        ...doc,
        content: [{ attachment: { contentType: 'application/pdf', url: `Binary/${both.id}` } }],
      });
      expect(mixed.status).toBe(422);

      // Its own patient's Binary is fine, and readable by the clinician.
      const mine = await call<Binary>(
        p,
        'POST',
        '/fhir/R4/Binary',
        {
          resourceType: 'Binary',
          contentType: 'application/pdf',
          data: Buffer.from('%PDF-1.4 của tôi').toString('base64'),
          securityContext: { reference: `Patient/${own}` },
        },
        clinician,
      );
      expect(mine.status).toBe(201);
      expect((await call(p, 'GET', `/fhir/R4/Binary/${mine.body.id}`, undefined, clinician)).status).toBe(200);
      const good = await call(
        p,
        'POST',
        '/fhir/R4/DocumentReference',
        { ...doc, content: [{ attachment: { contentType: 'application/pdf', url: `Binary/${mine.body.id}` } }] },
        clinician,
      );
      expect(good.status).toBe(201);
    });
  });

  describe('3. scopes and relationships apply to every resource in every answer', () => {
    it('system history shows only the types the token may read', async () => {
      const narrow = bearer(await p.tokenFor('integration', { scope: 'system/Observation.read' }));
      await p.fixtures.create<Observation>({ resourceType: 'Observation', status: 'final', code: { text: 'Mạch' }, subject: { reference: `Patient/${own}` } });
      const h = await call<Bundle>(p, 'GET', '/fhir/R4/_history?_count=200', undefined, narrow);
      expect(h.status).toBe(200);
      const types = new Set((h.body.entry ?? []).map((e) => e.resource?.resourceType ?? e.request?.url?.split('/')[0]));
      expect([...types]).toEqual(['Observation']);
    });

    it('includes, $everything and batch entries leave out what the token’s scopes do not cover', async () => {
      const clinician = bearer(await p.tokenFor('commune_clinician', { org: batxat, scope: 'user/Observation.read user/Patient.read' }));
      const bp = await p.fixtures.create<Observation>({
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'Huyết áp' },
        subject: { reference: `Patient/${own}` },
        performer: [{ reference: `Organization/${batxat}` }],
      });
      const inc = await call<Bundle>(
        p,
        'GET',
        `/fhir/R4/Observation?_id=${bp.id}&_include=Observation:performer&_include=Observation:subject`,
        undefined,
        clinician,
      );
      expect(inc.status).toBe(200);
      // The match and its patient (the scope covers Patient), not the facility (it does not cover Organization).
      expect((inc.body.entry ?? []).map((e) => e.resource?.resourceType).sort()).toEqual(['Observation', 'Patient']);

      const obsOnly = bearer(await p.tokenFor('commune_clinician', { org: batxat, scope: 'user/Patient.read user/Observation.read' }));
      const ev = await call<Bundle>(p, 'GET', `/fhir/R4/Patient/${own}/$everything`, undefined, obsOnly);
      expect(ev.status).toBe(200);
      const evTypes = new Set((ev.body.entry ?? []).map((e) => e.resource!.resourceType));
      for (const t of evTypes) expect(['Patient', 'Observation']).toContain(t);
      // And never another patient's data through a reference.
      expect(JSON.stringify(ev.body)).not.toContain(`"id":"${other}"`);

      const batch = await call<Bundle>(
        p,
        'POST',
        '/fhir/R4',
        {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [
            { request: { method: 'GET', url: `Patient/${other}` } },
            { request: { method: 'GET', url: `Organization/${batxat}` } },
            { request: { method: 'GET', url: `Patient/${own}` } },
          ],
        },
        obsOnly,
      );
      expect(batch.status).toBe(200);
      expect(batch.body.entry!.map((e) => e.response!.status)).toEqual(['403', '403', '200 OK']);
    });

    it('instance history leaves out versions that named a patient out of reach', async () => {
      const moved = await p.fixtures.create<Observation>({
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'Ghi nhầm người bệnh' },
        subject: { reference: `Patient/${other}` },
      });
      await p.fixtures.update<Observation>({ ...moved, subject: { reference: `Patient/${own}` } });
      const clinician = bearer(await p.tokenFor('commune_clinician', { org: batxat }));
      const h = await call<Bundle>(p, 'GET', `/fhir/R4/Observation/${moved.id}/_history`, undefined, clinician);
      expect(h.status).toBe(200);
      expect(h.body.entry!.length).toBe(1);
      expect(JSON.stringify(h.body)).not.toContain(other);
      expect((await call(p, 'GET', `/fhir/R4/Observation/${moved.id}/_history/1`, undefined, clinician)).status).toBe(403);
    });
  });

  describe('4. patient/ scopes need a patient', () => {
    it('are refused at token issue for client credentials, and a token that carries them without a patient is refused', async () => {
      const account = await p.accounts.create({
        username: `svc-${Date.now()}`,
        displayName: 'HIS',
        kind: 'service',
        roles: [{ role: 'integration', organizationId: batxat }],
      });
      const client = await registerClient(p.db, {
        name: 'HIS',
        redirectUris: [],
        scopes: ['patient/*.read', 'system/*.read'],
        grantTypes: ['client_credentials'],
        accountId: account.id,
        confidential: true,
      });
      const token = await call(
        p,
        'POST',
        '/oauth/token',
        `grant_type=client_credentials&scope=${encodeURIComponent('patient/*.read')}&client_id=${client.clientId}&client_secret=${client.clientSecret}`,
        { authorization: '', 'content-type': 'application/x-www-form-urlencoded' },
      );
      expect(token.status).toBe(400);
      expect(token.body.error).toBe('invalid_scope');
      const system = await call(
        p,
        'POST',
        '/oauth/token',
        `grant_type=client_credentials&scope=${encodeURIComponent('system/*.read')}&client_id=${client.clientId}&client_secret=${client.clientSecret}`,
        { authorization: '', 'content-type': 'application/x-www-form-urlencoded' },
      );
      expect(system.status).toBe(200);

      const forged = await p.tokenFor('integration', { scope: 'patient/*.read' });
      const r = await call(p, 'GET', `/fhir/R4/Patient/${other}`, undefined, bearer(forged));
      expect(r.status).toBe(401);
    });
  });

  describe('9. requests too large to serve are refused, not served slowly', () => {
    it(`a Bundle over ${LIMITS.bundleEntries} entries, _count over ${LIMITS.searchCount}, more than ${LIMITS.includeParams} includes`, async () => {
      const entry = Array.from({ length: LIMITS.bundleEntries + 1 }, () => ({ request: { method: 'GET', url: `Patient/${own}` } }));
      const big = await call<OperationOutcome>(p, 'POST', '/fhir/R4', { resourceType: 'Bundle', type: 'batch', entry });
      expect(big.status).toBe(413);
      expect(big.body.resourceType).toBe('OperationOutcome');
      const count = await call<OperationOutcome>(p, 'GET', `/fhir/R4/Patient?_count=${LIMITS.searchCount + 1}`);
      expect(count.status).toBe(413);
      const includes = Array.from({ length: LIMITS.includeParams + 1 }, () => '_include=Observation:subject').join('&');
      const inc = await call<OperationOutcome>(p, 'GET', `/fhir/R4/Observation?${includes}`);
      expect(inc.status).toBe(413);
      expect(inc.body.resourceType).toBe('OperationOutcome');
      // The server still answers at once.
      expect((await call(p, 'GET', `/fhir/R4/Patient/${own}`)).status).toBe(200);
    });
  });

  describe('10. malformed shapes get 400 with an OperationOutcome, never a 500', () => {
    it('a NUL byte in a search value or a body, and a resource nested 20,000 levels deep', async () => {
      const nul = await call<OperationOutcome>(p, 'GET', `/fhir/R4/Patient?name=a%00b`);
      expect(nul.status).toBe(400);
      expect(nul.body.resourceType).toBe('OperationOutcome');
      const nulName = await call<OperationOutcome>(p, 'GET', `/fhir/R4/Patient?na%00me=x`);
      expect(nulName.status).toBe(400);
      const body = await call<OperationOutcome>(p, 'POST', '/fhir/R4/Patient', '{"resourceType":"Patient","name":[{"family":"A\\u0000B"}]}');
      expect(body.status).toBe(400);
      expect(body.body.resourceType).toBe('OperationOutcome');
      const deep = `{"resourceType":"Patient","extension":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
      const nested = await call<OperationOutcome>(p, 'POST', '/fhir/R4/Patient', deep);
      expect(nested.status).toBe(400);
      expect(nested.body.resourceType).toBe('OperationOutcome');
      const deepApi = await call(p, 'POST', '/api/auth/login', `{"username":${'['.repeat(20_000)}${']'.repeat(20_000)}}`, {
        authorization: '',
        ...JSON_HEADERS,
      });
      expect(deepApi.status).toBe(400);
      expect(deepApi.headers['content-type']).toMatch(/problem\+json/);
    });
  });
});

describe('5. rate limits cannot be reset with a made-up credential', () => {
  it('counts anonymous requests and sign-ins per client address whatever cookie or token they carry, and audits refused sign-ins', async () => {
    const p = await startTestPlatform('pglite', { CAUYTE_RATE_LIMIT: '8' }, undefined, { domains: [] });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const fake: Record<string, string> =
          i % 2 === 0 ? { authorization: '', cookie: `cy_session=${'x'.repeat(20)}${i}` } : { authorization: `Bearer not-a-token-${i}` };
        statuses.push((await call(p, 'GET', '/fhir/R4/metadata', undefined, fake)).status);
      }
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);

      const p2 = await startTestPlatform('pglite', {}, undefined, { domains: [] });
      try {
        const logins: number[] = [];
        for (let i = 0; i < 22; i++) {
          logins.push(
            (
              await call(
                p2,
                'POST',
                '/api/auth/login',
                { username: `ai-do-${i}`, password: 'sai mat khau' },
                { authorization: '', cookie: `cy_session=random${i}`, ...JSON_HEADERS },
              )
            ).status,
          );
        }
        expect(logins.slice(20)).toEqual([429, 429]);
        await p2.audit.seal();
        const refused = await p2.audit.list({ limit: 50, action: 'auth.rate-limited' });
        expect(refused.length).toBeGreaterThanOrEqual(2);
      } finally {
        await p2.close();
      }
    } finally {
      await p.close();
    }
  });
});
