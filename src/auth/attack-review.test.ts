/**
 * An independent attacker's review of the "one way in" restructuring (2026-11-30), kept as tests.
 *
 * Each `it` was a confirmed finding on the code as reviewed: it asserts the secure behaviour, and
 * it failed then (F1–F6, F8–F11). Each now passes with its fix. F7 (a 403 rather than a 404 for
 * another facility's patient) is kept as designed: a clinician must learn that the record exists
 * elsewhere to be offered break-the-glass. Attempts that were correctly refused from the start are
 * listed at the end as `it.skip` with a comment (they pass — kept as a record of what was tried).
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, Composition, Condition, Observation, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('attack review', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let batxat: string;
  let muongnhe: string;
  let bachmai: string;
  let own: string; // patient 0, registered at Bát Xát
  let other: string; // patient 2, registered at Mường Nhé

  beforeAll(async () => {
    p = await startTestPlatform('postgres');
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    batxat = demo.ids.organizations.batxat;
    muongnhe = demo.ids.organizations.muongnhe;
    bachmai = demo.ids.organizations.bachmai;
    own = demo.ids.patients[0];
    other = demo.ids.patients[2];
  }, 120_000);
  afterAll(async () => p?.close());

  const session = (username: string) => signIn(p, username, accounts.get(username)?.totpSecret);

  // ------------------------------------------------------------------------------------------
  describe('F1. domain routes ignore the SMART scopes of an app token', () => {
    it('a patient/Observation.rs token downloads the whole record (Conditions, MedicationRequests…) through /api/me/record/fhir', async () => {
      const app = bearer(await p.tokenFor('citizen', { patient: own, scope: 'patient/Observation.rs' }));
      // Sanity: on the FHIR API the token is narrowed to Observations.
      expect((await call(p, 'GET', `/fhir/R4/Condition?patient=${own}`, undefined, app)).status).toBe(403);
      const res = await call<Bundle>(p, 'GET', '/api/me/record/fhir', undefined, app);
      const types = new Set((res.body?.entry ?? []).map((e) => e.resource?.resourceType));
      // Secure behaviour: refused, or at most Observations (and the Patient).
      expect(res.status === 403 || [...types].every((t) => t === 'Observation' || t === 'Patient'), `got ${res.status} with ${[...types].join(',')}`).toBe(
        true,
      );
    });

    it('a user/Patient.read token of a commune clinician writes through a domain route (PUT monitoring targets → CarePlan/Goal)', async () => {
      const app = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6], scope: 'user/Patient.read' }));
      expect((await call(p, 'POST', '/fhir/R4/Observation', { resourceType: 'Observation' }, app)).status).toBe(403);
      const res = await call(p, 'PUT', `/api/patients/${own}/targets`, { systolicMax: 150, diastolicMax: 95 }, { ...app, ...JSON_HEADERS });
      expect(res.status, res.text).toBe(403);
    });
  });

  // ------------------------------------------------------------------------------------------
  describe('F2. conditional create (ifNoneExist) returns existing resources without the read right, scopes, or audit', () => {
    it('transaction POST+ifNoneExist: a patient/Observation.rs token reads a Condition (no type or scope check at all)', async () => {
      const app = bearer(await p.tokenFor('citizen', { patient: own, scope: 'patient/Observation.rs' }));
      // `patient=X` alone answers 412 "matched 2 Condition resources" (itself an oracle); one ICD-10 code narrows it to one.
      const code = (await p.fixtures.search<Condition>('Condition', { patient: `Patient/${own}` }))[0].code!.coding![0].code!;
      const res = await call<Bundle>(
        p,
        'POST',
        '/fhir/R4',
        {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            { request: { method: 'POST', url: 'Condition', ifNoneExist: `patient=Patient/${own}&code=${code}` }, resource: { resourceType: 'Condition' } },
          ],
        },
        app,
      );
      const leaked = res.body?.entry?.[0]?.resource as Condition | undefined;
      expect(leaked?.resourceType, `status ${res.status}: ${res.text.slice(0, 300)}`).not.toBe('Condition');
    });

    it('transaction POST+ifNoneExist: an analyst and a DPO (no FHIR read at all) read a patient’s home Device', async () => {
      const dev = await p.fixtures.create({
        resourceType: 'Device',
        status: 'active',
        deviceName: [{ name: 'Máy đo huyết áp tại nhà', type: 'user-friendly-name' }],
        patient: { reference: `Patient/${other}` },
      } as any);
      for (const role of ['analyst', 'dpo'] as const) {
        const who = bearer(await p.tokenFor(role));
        expect((await call(p, 'GET', `/fhir/R4/Device/${dev.id}`, undefined, who)).status).toBe(403);
        const res = await call<Bundle>(
          p,
          'POST',
          '/fhir/R4',
          {
            resourceType: 'Bundle',
            type: 'transaction',
            entry: [{ request: { method: 'POST', url: 'Device', ifNoneExist: `_id=${dev.id}` }, resource: { resourceType: 'Device' } }],
          },
          who,
        );
        expect(res.body?.entry?.[0]?.resource?.id, `${role}: ${res.status}`).toBeUndefined();
      }
    });

    it('POST with If-None-Exist: a create-only token (user/Observation.c) gets the existing Observation back, and no audit row records the read', async () => {
      const app = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6], scope: 'user/Observation.c' }));
      const before = (await p.fixtures.search<Observation>('Observation', { patient: `Patient/${own}`, _count: '1' }))[0];
      expect(before).toBeDefined();
      expect((await call(p, 'GET', `/fhir/R4/Observation/${before.id}`, undefined, app)).status).toBe(403);
      const res = await call(p, 'POST', '/fhir/R4/Observation', { resourceType: 'Observation' }, { ...app, 'if-none-exist': `_id=${before.id}` });
      expect(res.body?.id, `status ${res.status}`).not.toBe(before.id);
    });
  });

  // ------------------------------------------------------------------------------------------
  describe('F3. any clinician can forge a patient’s Consent through plain FHIR', () => {
    it('a Bát Xát clinician writes a "permit" Consent for Mường Nhé: Mường Nhé then reads the Bát Xát patient', async () => {
      const batxatDoc = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6] }));
      const muongnheDoc = bearer(await p.tokenFor('commune_clinician', { org: muongnhe }));
      const patientId = demo.ids.patients[4]; // Bát Xát (index 4 → cycles to Bát Xát)
      expect((await call(p, 'GET', `/fhir/R4/Patient/${patientId}`, undefined, muongnheDoc)).status).toBe(403);
      const forged = await call(
        p,
        'POST',
        '/fhir/R4/Consent',
        {
          resourceType: 'Consent',
          status: 'active',
          scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
          category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
          patient: { reference: `Patient/${patientId}` },
          policyRule: { text: 'Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15' },
          provision: {
            type: 'permit',
            actor: [
              {
                role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
                reference: { reference: `Organization/${muongnhe}` },
              },
            ],
          },
        },
        batxatDoc,
      );
      const after = await call(p, 'GET', `/fhir/R4/Patient/${patientId}`, undefined, muongnheDoc);
      // Secure: the consent is the patient's (or their family manager's), so the forged one is refused and reach stays closed.
      // Refused: 422 naming the consent route (the consent domain owns these), or 403.
      expect([403, 422]).toContain(forged.status);
      expect(after.status).toBe(403);
    });

    it('a clinician withdraws the patient’s own "deny" so the blocked facility reaches the record again', async () => {
      const citizen = await session('nguoidan'); // patient 0 (Bát Xát)
      const bachmaiDoc = bearer(await p.tokenFor('specialist', { org: bachmai }));
      // Bạch Mai reaches patient 0 through a referral (a plain ServiceRequest naming it as performer).
      const batxatDoc = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6] }));
      const sr = await call(
        p,
        'POST',
        '/fhir/R4/ServiceRequest',
        {
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          subject: { reference: `Patient/${own}` },
          performer: [{ reference: `Organization/${bachmai}` }],
        },
        batxatDoc,
      );
      expect(sr.status, sr.text).toBe(201);
      expect((await call(p, 'GET', `/fhir/R4/Patient/${own}`, undefined, bachmaiDoc)).status).toBe(200);
      // The patient blocks Bạch Mai.
      const deny = await call(
        p,
        'POST',
        '/api/me/consents',
        { purpose: 'treatment', decision: 'deny', organizationId: bachmai },
        { ...citizen, ...JSON_HEADERS },
      );
      expect(deny.status, deny.text).toBe(201);
      expect((await call(p, 'GET', `/fhir/R4/Patient/${own}`, undefined, bachmaiDoc)).status).toBe(403);
      // The Bát Xát clinician switches the patient's decision off.
      const withdrawn = await call(p, 'PUT', `/fhir/R4/Consent/${deny.body.id}`, { ...deny.body, status: 'inactive' }, batxatDoc);
      const after = await call(p, 'GET', `/fhir/R4/Patient/${own}`, undefined, bachmaiDoc);
      expect([403, 422]).toContain(withdrawn.status);
      expect(after.status).toBe(403);
    });
  });

  // ------------------------------------------------------------------------------------------
  describe('F4. a draft consult conclusion is changeable through plain FHIR, and the specialist then signs the altered text', () => {
    it('the requesting commune clinician rewrites the specialist’s draft (PUT Composition) before it is signed', async () => {
      const commune = await session('bs.batxat');
      const specialist = await session('bs.bachmai');
      const created = await call(
        p,
        'POST',
        '/api/consults',
        {
          clientId: randomUUID(),
          patientId: demo.ids.patients[4], // Bát Xát; `own` blocked Bạch Mai in F3
          receivingOrganizationId: bachmai,
          specialty: { code: 'oncology', display: 'Ung bướu' },
          urgency: 'urgent',
          reason: 'Khối u vú phải',
          icd10: { code: 'C50.9', display: 'U ác của vú' },
          summary: { history: 'a', findings: 'b', vitals: 'c', treatment: 'd', question: 'e' },
          attachmentIds: [],
          submit: true,
        },
        { ...commune, ...JSON_HEADERS },
      );
      expect(created.status, created.text).toBe(201);
      const caseId = created.body.caseId as string;
      const tri = await call(
        p,
        'POST',
        `/api/consults/${caseId}/triage`,
        { action: 'accept', specialistIds: [demo.ids.practitioners[0]] },
        { ...specialist, ...JSON_HEADERS },
      );
      expect(tri.status, tri.text).toBe(200);
      const draft = await call(
        p,
        'PUT',
        `/api/consults/${caseId}/conclusion`,
        {
          assessment: 'Ung thư vú phải cT3N2M0',
          diagnosis: { code: 'C50.9', display: 'U ác của vú' },
          recommendations: 'Chuyển tuyến hóa trị ngay',
          transfer: true,
          actionUrgency: 'urgent',
        },
        { ...specialist, ...JSON_HEADERS },
      );
      expect(draft.status, draft.text).toBe(200);
      const doc = draft.body as Composition;
      const tampered = {
        ...doc,
        section: doc.section!.map((s) =>
          s.title?.startsWith('Khuyến cáo')
            ? { ...s, text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Không cần điều trị</div>' } }
            : s,
        ),
      };
      const put = await call(p, 'PUT', `/fhir/R4/Composition/${doc.id}`, tampered, { ...commune, 'content-type': 'application/fhir+json' });
      // Secure: the draft belongs to the consult workflow (422) — only the assigned specialists change it.
      expect(put.status, put.text.slice(0, 300)).toBe(422);
    });
  });

  // ------------------------------------------------------------------------------------------
  describe('F5. a deleted Patient id can be re-created by another facility, which then reaches everything still filed under it', () => {
    it('PUT Patient/<deleted id> by a Bát Xát clinician re-opens the Mường Nhé patient’s Observations', async () => {
      const victim = demo.ids.patients[6]; // Mường Nhé
      const obs = await p.fixtures.search<Observation>('Observation', { patient: `Patient/${victim}`, _count: '5' });
      expect(obs.length).toBeGreaterThan(0);
      // The HIS removes the Patient (e.g. a duplicate); its Observations stay on file.
      expect((await call(p, 'DELETE', `/fhir/R4/Patient/${victim}`)).status).toBe(204);
      const batxatDoc = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6] }));
      const take = await call(
        p,
        'PUT',
        `/fhir/R4/Patient/${victim}`,
        { resourceType: 'Patient', id: victim, name: [{ text: 'X' }], managingOrganization: { reference: `Organization/${batxat}` } },
        batxatDoc,
      );
      const read = await call<Bundle>(p, 'GET', `/fhir/R4/Observation?patient=Patient/${victim}`, undefined, batxatDoc);
      const hist = await call<Bundle>(p, 'GET', `/fhir/R4/Patient/${victim}/_history`, undefined, batxatDoc);
      expect({
        take: take.status,
        observations: read.body?.entry?.length ?? 0,
        oldVersions: (hist.body?.entry ?? []).filter((e) => (e.resource as Patient | undefined)?.managingOrganization?.reference === `Organization/${muongnhe}`)
          .length,
      }).toEqual({ take: 403, observations: 0, oldVersions: 0 });
    });
  });

  // ------------------------------------------------------------------------------------------
  describe('F6. search shows a resource naming a patient out of reach that a read refuses', () => {
    it('an Appointment naming a Bát Xát and a Mường Nhé patient: Bát Xát search returns it, read is 403', async () => {
      const created = await call(p, 'POST', '/fhir/R4/Appointment', {
        resourceType: 'Appointment',
        status: 'booked',
        start: '2026-12-20T01:00:00Z',
        end: '2026-12-20T02:00:00Z',
        description: 'Khám sàng lọc nhóm',
        participant: [
          { actor: { reference: `Patient/${own}` }, status: 'accepted' },
          { actor: { reference: `Patient/${other}`, display: 'Mường Nhé patient' }, status: 'accepted' },
        ],
      });
      expect(created.status, created.text).toBe(201);
      const batxatDoc = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6] }));
      const read = await call(p, 'GET', `/fhir/R4/Appointment/${created.body.id}`, undefined, batxatDoc);
      expect(read.status).toBe(403);
      const search = await call<Bundle>(p, 'GET', `/fhir/R4/Appointment?_id=${created.body.id}`, undefined, batxatDoc);
      expect(search.body.entry ?? []).toHaveLength(0);
    });
  });

  // ------------------------------------------------------------------------------------------
  describe('F7. a 403 tells another facility that a patient id exists (and whose it is), a 404 that it does not', () => {
    // Kept as designed (see the header): break-the-glass needs the clinician to know the record exists.
    it.skip('GET Patient/<id at Mường Nhé> by a Bát Xát clinician answers like a missing patient', async () => {
      const batxatDoc = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6] }));
      const exists = await call(p, 'GET', `/fhir/R4/Patient/${other}`, undefined, batxatDoc);
      const missing = await call(p, 'GET', `/fhir/R4/Patient/${randomUUID()}`, undefined, batxatDoc);
      expect(exists.status).toBe(missing.status);
    });
  });
  // ------------------------------------------------------------------------------------------
  describe('F8. Device is not a patient-data type, so home devices of every patient are everyone’s to manage', () => {
    it('a Bát Xát clinician lists a Mường Nhé patient’s home device, rotates its secret and posts readings into that patient’s record', async () => {
      const muongnheDoc = bearer(await p.tokenFor('commune_clinician', { org: muongnhe }));
      const reg = await call(
        p,
        'POST',
        '/api/devices',
        { type: 'bp', name: 'Máy đo HA tại nhà', serial: `SN-${randomUUID().slice(0, 8)}`, patientId: other },
        { ...muongnheDoc, ...JSON_HEADERS },
      );
      expect(reg.status, reg.text).toBe(201);
      const deviceId = reg.body.device.id as string;

      const batxatDoc = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6] }));
      const admin = bearer(await p.tokenFor('facility_admin', { org: demo.ids.organizations.laocai }));
      const listed = await call<any[]>(p, 'GET', '/api/devices', undefined, batxatDoc);
      const listedByAdmin = await call<any[]>(p, 'GET', '/api/devices', undefined, admin);
      const rotate = await call(p, 'POST', `/api/devices/${deviceId}/rotate`, {}, { ...batxatDoc, ...JSON_HEADERS });
      let injected = 0;
      if (rotate.status === 200) {
        const r = await call(
          p,
          'POST',
          `/api/devices/${deviceId}/readings`,
          { msgId: `m-${randomUUID()}`, time: new Date().toISOString(), readings: [{ type: 'bp', systolic: 210, diastolic: 125, unit: 'mm[Hg]' }] },
          { authorization: '', 'x-device-token': rotate.body.token, ...JSON_HEADERS },
        );
        if (r.status === 201) injected = 1;
      }
      expect({
        listedToBatxat: (listed.body ?? []).some((d) => d.id === deviceId),
        listedToLaoCaiAdmin: (listedByAdmin.body ?? []).some((d) => d.id === deviceId),
        rotate: rotate.status,
        injected,
      }).toEqual({ listedToBatxat: false, listedToLaoCaiAdmin: false, rotate: 403, injected: 0 });
    });
  });
  // ------------------------------------------------------------------------------------------
  describe('F9. monitoring.view (a "view" action) writes clinical alert limits, for roles that may not write clinical data', () => {
    it('a coordinator (FHIR: clinical read only) relaxes a patient’s blood-pressure alert limits (writes CarePlan/Goals)', async () => {
      const coord = bearer(await p.tokenFor('coordinator', { org: batxat }));
      const goal = await call(
        p,
        'POST',
        '/fhir/R4/Goal',
        { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'x' }, subject: { reference: `Patient/${own}` } },
        coord,
      );
      expect(goal.status).toBe(403); // plain FHIR: no clinical writes for a coordinator
      const res = await call(p, 'PUT', `/api/patients/${own}/targets`, { systolicMax: 200, diastolicMax: 130 }, { ...coord, ...JSON_HEADERS });
      expect(res.status, res.text.slice(0, 200)).toBe(403);
    });
  });

  // ------------------------------------------------------------------------------------------
  describe('F10. hostile input gives a 500', () => {
    it('GET /api/visits/queue?from=2020-99-99 answers 500 (Invalid Date reaches toISOString)', async () => {
      const doc = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6] }));
      const res = await call(p, 'GET', '/api/visits/queue?from=2020-99-99', undefined, doc);
      expect(res.status).toBe(400);
    });
  });

  // ------------------------------------------------------------------------------------------
  describe('F11. a "deny" without a facility (all facilities) is accepted (201) and ignored by the access rules', () => {
    it('the citizen denies sharing for treatment with every facility; a hub hospital with a referral still reads the record', async () => {
      const citizen = await session('nguoidan'); // patient 0
      const batxatDoc = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6] }));
      const hub = bearer(await p.tokenFor('specialist', { org: demo.ids.organizations.laocai }));
      const sr = await call(
        p,
        'POST',
        '/fhir/R4/ServiceRequest',
        {
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          subject: { reference: `Patient/${own}` },
          performer: [{ reference: `Organization/${demo.ids.organizations.laocai}` }],
        },
        batxatDoc,
      );
      expect(sr.status, sr.text).toBe(201);
      expect((await call(p, 'GET', `/fhir/R4/Patient/${own}`, undefined, hub)).status).toBe(200);
      const deny = await call(p, 'POST', '/api/me/consents', { purpose: 'treatment', decision: 'deny' }, { ...citizen, ...JSON_HEADERS });
      const after = await call(p, 'GET', `/fhir/R4/Patient/${own}`, undefined, hub);
      // Secure: either the request is refused (400: name a facility) or the deny takes effect (403).
      expect(deny.status === 400 || after.status === 403, `deny ${deny.status}, hub read ${after.status}`).toBe(true);
    });
  });

  // ------------------------------------------------------------------------------------------
  // Attempts that were correctly refused (kept as documentation; they pass on the current code).
  describe('refused (documentation only)', () => {
    it.skip('family manager through an app token: no reach to the managed child (record, access log, consents, booking)', async () => {
      const staff = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6] }));
      const child = demo.ids.patients[4];
      const link = await call(
        p,
        'POST',
        '/api/family-links',
        { managerPatientId: own, patientId: child, relationship: 'child', proof: 'Giấy khai sinh số 123/2020' },
        { ...staff, ...JSON_HEADERS },
      );
      expect(link.status, link.text).toBe(201);
      const app = bearer(await p.tokenFor('citizen', { patient: own, scope: 'patient/*.read' }));
      expect((await call(p, 'GET', `/api/me/record?patientId=${child}`, undefined, app)).status).toBe(403);
      expect((await call(p, 'GET', `/api/me/access-log?patientId=${child}`, undefined, app)).status).toBe(403);
      expect((await call(p, 'GET', `/api/me/consents?patientId=${child}`, undefined, app)).status).toBe(403);
      expect((await call(p, 'GET', `/fhir/R4/Patient/${child}`, undefined, app)).status).toBe(403);
      // …while the manager signed in themselves does reach the child.
      const citizen = await session('nguoidan');
      expect((await call(p, 'GET', `/api/me/record?patientId=${child}`, undefined, citizen)).status).toBe(200);
    });

    it.skip('workflow-owned resources are not writable through plain FHIR, batch, transaction or conditional update', async () => {
      const doc = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6] }));
      const task = {
        resourceType: 'Task',
        status: 'completed',
        intent: 'order',
        for: { reference: `Patient/${own}` },
        businessStatus: { coding: [{ system: 'https://fhir.cauyte.vn/CodeSystem/consult-state', code: 'concluded' }] },
      };
      expect((await call(p, 'POST', '/fhir/R4/Task', task, doc)).status).toBe(422);
      expect((await call(p, 'PUT', `/fhir/R4/Task?patient=Patient/${own}`, task, doc)).status).toBe(422);
      const tx = await call(
        p,
        'POST',
        '/fhir/R4',
        { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Task' }, resource: task }] },
        doc,
      );
      expect(tx.status).toBe(422);
      const batch = await call<Bundle>(
        p,
        'POST',
        '/fhir/R4',
        { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'POST', url: 'Task' }, resource: task }] },
        doc,
      );
      expect(batch.body.entry?.[0]?.response?.status).toBe('422');
    });

    it.skip('another facility: read, search, _include, _revinclude, $everything, history and vread of a foreign patient are refused or empty', async () => {
      const doc = bearer(await p.tokenFor('commune_clinician', { org: batxat, practitioner: demo.ids.practitioners[6] }));
      expect((await call(p, 'GET', `/fhir/R4/Patient/${other}/$everything`, undefined, doc)).status).toBe(403);
      expect((await call(p, 'GET', `/fhir/R4/Patient/${other}/_history`, undefined, doc)).status).toBe(403);
      expect((await call(p, 'GET', `/fhir/R4/Patient/${other}/_history/1`, undefined, doc)).status).toBe(403);
      expect((await call(p, 'GET', `/fhir/R4/Observation/_history`, undefined, doc)).status).toBe(403);
      const s = await call<Bundle>(p, 'GET', `/fhir/R4/Observation?subject=Patient/${other}&_include=Observation:subject`, undefined, doc);
      expect(s.body.entry ?? []).toHaveLength(0);
      const r = await call<Bundle>(p, 'GET', `/fhir/R4/Organization?_id=${muongnhe}&_revinclude=Patient:organization`, undefined, doc);
      expect((r.body.entry ?? []).filter((e) => e.resource?.resourceType === 'Patient')).toHaveLength(0);
    });
  });
});
