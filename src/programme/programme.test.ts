/**
 * The national programme through the API, on both databases: the facility register (create, edit,
 * who may), CSV import of 10,000 facilities (PostgreSQL; 2,000 on PGlite) with bad lines (line numbers, nothing half-imported,
 * re-import idempotent), a declaration submitted, returned, sent again and approved by the
 * province's department (coverage rises by one; another province's department and another
 * facility are refused), support agreements and the consult rule (refused with the message;
 * allowed with a recorded warning when so configured), bridge-point readiness.
 */
import { randomUUID } from 'node:crypto';
import type { Contract, Organization, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../testing/databases.ts';
import { call, sessionFor, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import type { FacilityView, ImportResult, IndicatorReport, ReadinessView } from './contract.ts';
import { DECLARATION, facilityCsv } from './test-data.ts';

const json = { 'content-type': 'application/json' };
const bearer = (t: string) => ({ authorization: `Bearer ${t}`, ...json });

describe.each(DB_KINDS)('national programme on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let admin: string;
  let dept: string;
  let deptOrg: string;
  let otherDept: string;
  let ministry: string;
  beforeAll(async () => {
    p = await startTestPlatform(kind);
    demo = await seedDemo(p.store, 4);
    admin = await p.tokenFor('system_admin');
    ministry = await p.tokenFor('analyst');
    // Two provincial health departments (Sở Y tế Lào Cai, Điện Biên).
    for (const [name, code] of [
      ['Sở Y tế tỉnh Lào Cai', 15],
      ['Sở Y tế tỉnh Điện Biên', 11],
    ] as const) {
      const org = await p.fixtures.create<Organization>({ resourceType: 'Organization', name, active: true });
      const r = await call(p, 'PUT', '/api/programme/authorities', { organizationId: org.id, provinceCode: code }, bearer(admin));
      expect(r.status).toBe(200);
      const t = await p.tokenFor('analyst', { org: org.id });
      if (code === 15) {
        dept = t;
        deptOrg = org.id!;
      } else otherDept = t;
    }
  }, 120_000);
  afterAll(async () => p?.close());

  it('keeps the demo facilities in the register with their codes and places', async () => {
    const r = await call<FacilityView[]>(p, 'GET', '/api/programme/facilities?province=15', undefined, bearer(admin));
    expect(r.status).toBe(200);
    expect(r.body.map((f) => f.code).sort()).toEqual(['10001', '10010', '10011']);
    const batxat = r.body.find((f) => f.code === '10010')!;
    expect(batxat).toMatchObject({
      id: demo.ids.organizations.batxat,
      level: 'commune',
      provinceName: 'Tỉnh Lào Cai',
      communeName: 'Xã Bát Xát',
      unitStatus: 'none',
    });
  });

  it('creates and edits a facility; a facility administrator edits only their own, and not its code or level', async () => {
    const body = { code: 'T0001', name: 'Trạm Y tế xã A Mú Sung', level: 'commune', owner: 'public', provinceCode: 15, communeCode: 2686 };
    const c = await call<FacilityView>(p, 'POST', '/api/programme/facilities', body, bearer(admin));
    expect(c.status).toBe(201);
    expect(c.body.locationId).toBeTruthy();
    expect((await call(p, 'POST', '/api/programme/facilities', body, bearer(admin))).status).toBe(409);
    expect((await call(p, 'POST', '/api/programme/facilities', { ...body, code: 'T0002', communeCode: 3127 }, bearer(admin))).status).toBe(400);
    const own = await p.tokenFor('facility_admin', { org: c.body.id });
    const edited = await call<FacilityView>(p, 'PUT', `/api/programme/facilities/${c.body.id}`, { ...body, name: 'Trạm Y tế xã A Mú Sung (mới)' }, bearer(own));
    expect(edited.status).toBe(200);
    expect(edited.body.name).toBe('Trạm Y tế xã A Mú Sung (mới)');
    expect((await call(p, 'PUT', `/api/programme/facilities/${c.body.id}`, { ...body, level: 'provincial' }, bearer(own))).status).toBe(403);
    const other = await p.tokenFor('facility_admin', { org: demo.ids.organizations.laocai });
    expect((await call(p, 'PUT', `/api/programme/facilities/${c.body.id}`, body, bearer(other))).status).toBe(403);
    expect((await call(p, 'POST', '/api/programme/facilities', { ...body, code: 'T0003' }, bearer(other))).status).toBe(403);
    // A clinician may read the register, not change it.
    const clin = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat });
    expect((await call(p, 'GET', `/api/programme/facilities/${c.body.id}`, undefined, bearer(clin))).status).toBe(200);
    expect((await call(p, 'PUT', `/api/programme/facilities/${c.body.id}`, body, bearer(clin))).status).toBe(403);
  });

  // 10,000 lines on PostgreSQL; 2,000 on PGlite (the same checks; 10,000 took 2–9 minutes there on this shared machine).
  const n = kind === 'postgres' ? 10_000 : 2_000;
  it(`imports ${n} facilities from CSV: bad lines reported with line numbers, the rest imported, re-import changes nothing`, async () => {
    const { csv, bad } = facilityCsv(n);
    const first = await call<ImportResult>(p, 'POST', '/api/programme/facilities/import', { csv }, bearer(admin));
    expect(first.status).toBe(200);
    expect(first.body.errors.map((e) => e.line)).toEqual(bad);
    expect(first.body.errors[0].message).toContain('không thuộc tỉnh 15');
    expect(first.body).toMatchObject({ lines: n, created: n - bad.length, updated: 0, unchanged: 0 });
    const again = await call<ImportResult>(p, 'POST', '/api/programme/facilities/import', { csv }, bearer(admin));
    expect(again.body).toMatchObject({ created: 0, updated: 0, unchanged: n - bad.length });
    // One changed line updates that facility only.
    const changed = csv.replace('L0001,"Trạm Y tế số 1, Lào Cai"', 'L0001,"Trạm Y tế số 1 (đổi tên), Lào Cai"');
    const third = await call<ImportResult>(p, 'POST', '/api/programme/facilities/import', { csv: changed }, bearer(admin));
    expect(third.body).toMatchObject({ created: 0, updated: 1, unchanged: n - bad.length - 1 });
    const found = await call<FacilityView[]>(p, 'GET', '/api/programme/facilities?q=L0001', undefined, bearer(admin));
    expect(found.body[0].name).toBe('Trạm Y tế số 1 (đổi tên), Lào Cai');
    // Every imported facility has its Organization and its bridge-point Location.
    const orgs = await p.fixtures.searchBundle('Organization', { identifier: 'https://fhir.cauyte.vn/sid/facility-code|L0002', _count: '1' });
    expect(orgs.entry).toHaveLength(1);
    const locs = await p.fixtures.search('Location', { organization: `Organization/${orgs.entry![0].resource!.id}` });
    expect(locs).toHaveLength(1);
    // A facility administrator may not import.
    const fa = await p.tokenFor('facility_admin', { org: demo.ids.organizations.laocai });
    expect((await call(p, 'POST', '/api/programme/facilities/import', { csv }, bearer(fa))).status).toBe(403);
    // A file whose header lacks a column imports nothing.
    const noHeader = await call<ImportResult>(p, 'POST', '/api/programme/facilities/import', { csv: 'code,name\nZ0001,X' }, bearer(admin));
    expect(noHeader.body).toMatchObject({ created: 0, errors: [{ line: 1 }] });
  }, 900_000);

  it('runs a declaration: submit, return with a reason, send again, approve — coverage rises by one, history kept', async () => {
    const org = demo.ids.organizations.simacai;
    const fa = await p.tokenFor('facility_admin', { org });
    const coverage = async () => (await call<IndicatorReport>(p, 'GET', '/api/programme/indicators?province=15', undefined, bearer(dept))).body.coverage;
    const before = await coverage();
    const s = await call(p, 'POST', `/api/programme/declarations/${org}`, DECLARATION, bearer(fa));
    expect(s.status).toBe(200);
    expect(s.body.status).toBe('submitted');
    expect(s.body.current.specialties).toEqual(['internal', 'pediatrics']);
    // Another facility's administrator, another province's department: refused.
    const other = await p.tokenFor('facility_admin', { org: demo.ids.organizations.batxat });
    expect((await call(p, 'POST', `/api/programme/declarations/${org}`, DECLARATION, bearer(other))).status).toBe(403);
    expect((await call(p, 'GET', `/api/programme/declarations/${org}`, undefined, bearer(other))).status).toBe(403);
    expect((await call(p, 'POST', `/api/programme/declarations/${org}/review`, { decision: 'approve' }, bearer(otherDept))).status).toBe(403);
    expect((await call(p, 'POST', `/api/programme/declarations/${org}/review`, { decision: 'approve' }, bearer(fa))).status).toBe(403);
    // The department sees it waiting, returns it with a reason.
    const queue = await call<FacilityView[]>(p, 'GET', '/api/programme/declarations', undefined, bearer(dept));
    expect(queue.body.map((f) => f.id)).toContain(org);
    expect((await call(p, 'GET', '/api/programme/declarations', undefined, bearer(otherDept))).body.map((f: FacilityView) => f.id)).not.toContain(org);
    const ret = await call(
      p,
      'POST',
      `/api/programme/declarations/${org}/review`,
      { decision: 'return', reason: 'Thiếu danh sách nhân lực có chứng chỉ' },
      bearer(dept),
    );
    expect(ret.body.status).toBe('returned');
    expect((await coverage()).approvedUnits).toBe(before.approvedUnits);
    // The notices: the department's reviewers were told of the submission, the facility's administrator of the return; nobody else.
    type Notice = { kind: string; title: string };
    const inbox = async (h: Record<string, string>) =>
      (await call<Notice[]>(p, 'GET', '/api/notifications', undefined, h)).body.filter((n) => n.kind === 'programme.declaration').map((n) => n.title);
    expect(await inbox(await sessionFor(p, 'analyst', { org: deptOrg }))).toEqual([expect.stringMatching(/^Bản công bố đơn vị khám chữa bệnh từ xa mới: /)]);
    expect(await inbox(await sessionFor(p, 'facility_admin', { org }))).toEqual([expect.stringMatching(/trả lại|Trả lại|returned/i)]);
    expect(await inbox(await sessionFor(p, 'facility_admin', { org: demo.ids.organizations.batxat }))).toEqual([]);
    expect(await inbox(await sessionFor(p, 'commune_clinician', { org }))).toEqual([]);
    // Sent again, approved.
    await call(p, 'POST', `/api/programme/declarations/${org}`, { ...DECLARATION, rooms: 2 }, bearer(fa));
    const ok = await call(p, 'POST', `/api/programme/declarations/${org}/review`, { decision: 'approve' }, bearer(dept));
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('approved');
    expect(ok.body.history.map((h: { status: string }) => h.status)).toEqual(['approved', 'submitted', 'returned', 'submitted']);
    expect(ok.body.history[2].reason).toBe('Thiếu danh sách nhân lực có chứng chỉ');
    expect((await coverage()).approvedUnits).toBe(before.approvedUnits + 1);
    // Approving again: nothing is waiting.
    expect((await call(p, 'POST', `/api/programme/declarations/${org}/review`, { decision: 'approve' }, bearer(dept))).status).toBe(422);
    // The declaration is the workflow's: no plain FHIR write around it.
    const qr = await call(p, 'GET', `/fhir/R4/QuestionnaireResponse/${ok.body.current.responseId}`);
    expect(qr.status).toBe(200);
    expect((await call(p, 'PUT', `/fhir/R4/QuestionnaireResponse/${qr.body.id}`, { ...qr.body, status: 'amended' })).status).toBe(422);
  });

  it('refuses a consult request to a facility without an agreement, with the message; allows it with a recorded warning when configured', async () => {
    const clin = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat });
    const body = (receivingOrganizationId: string) => ({
      clientId: randomUUID(),
      patientId: demo.ids.patients[0],
      receivingOrganizationId,
      specialty: { code: 'internal', display: 'Nội khoa' },
      urgency: 'routine',
      reason: 'Tăng huyết áp khó kiểm soát',
      icd10: { code: 'I10' },
      summary: { history: 'THA 5 năm', findings: 'HA 170/100', treatment: 'Amlodipin 5 mg', question: 'Điều chỉnh thuốc?' },
    });
    // Bát Xát has no agreement with Điện Biên.
    const refused = await call(p, 'POST', '/api/consults', body(demo.ids.organizations.dienbien), bearer(clin));
    expect(refused.status).toBe(422);
    expect(refused.body.title).toContain('Chưa có hợp đồng hỗ trợ chuyên môn');
    expect(refused.body.title).toContain('Bệnh viện Đa khoa tỉnh Điện Biên');
    // With an agreement with Lào Cai it goes through.
    expect((await call(p, 'POST', '/api/consults', body(demo.ids.organizations.laocai), bearer(clin))).status).toBe(201);
    // Configured to warn: goes through, the warning is on the case and in the audit trail.
    expect((await call(p, 'PUT', '/api/programme/settings', { agreementRule: 'warn' }, bearer(clin))).status).toBe(403);
    expect((await call(p, 'PUT', '/api/programme/settings', { agreementRule: 'warn' }, bearer(admin))).status).toBe(200);
    const warned = await call(p, 'POST', '/api/consults', body(demo.ids.organizations.dienbien), bearer(clin));
    expect(warned.status).toBe(201);
    const task = (await p.fixtures.search<Task>('Task', { focus: `ServiceRequest/${warned.body.caseId}` }))[0];
    expect(task.note?.some((n) => n.text.startsWith('Cảnh báo: Chưa có hợp đồng'))).toBe(true);
    await call(p, 'PUT', '/api/programme/settings', { agreementRule: 'refuse' }, bearer(admin));
    // An agreement recorded by Điện Biên's administrator makes the same request go through.
    const fa = await p.tokenFor('facility_admin', { org: demo.ids.organizations.dienbien });
    const pdf = Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64');
    const a = await call(
      p,
      'POST',
      '/api/programme/agreements',
      {
        supportingId: demo.ids.organizations.dienbien,
        supportedId: demo.ids.organizations.batxat,
        specialties: ['internal'],
        start: '2025-01-01',
        document: { contentType: 'application/pdf', data: pdf },
      },
      bearer(fa),
    );
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ inForce: true, supportingName: 'Bệnh viện Đa khoa tỉnh Điện Biên', supportedName: 'Trạm Y tế xã Bát Xát' });
    expect((await call(p, 'POST', '/api/consults', body(demo.ids.organizations.dienbien), bearer(clin))).status).toBe(201);
    // Another specialty is still not covered.
    const other = await call(
      p,
      'POST',
      '/api/consults',
      { ...body(demo.ids.organizations.dienbien), specialty: { code: 'surgery', display: 'Ngoại khoa' } },
      bearer(clin),
    );
    expect(other.status).toBe(422);
    // A facility that is not a party may not record or end it; the Contract changes only through the workflow.
    const stranger = await p.tokenFor('facility_admin', { org: demo.ids.organizations.tuachua });
    expect((await call(p, 'POST', `/api/programme/agreements/${a.body.id}/terminate`, {}, bearer(stranger))).status).toBe(403);
    const c = (await call<Contract>(p, 'GET', `/fhir/R4/Contract/${a.body.id}`)).body;
    expect((await call(p, 'PUT', `/fhir/R4/Contract/${a.body.id}`, { ...c, status: 'terminated' })).status).toBe(422);
    const doc = await call(p, 'GET', `/api/programme/agreements/${a.body.id}/document`, undefined, bearer(clin));
    expect(doc.status).toBe(200);
    expect(doc.text.startsWith('%PDF')).toBe(true);
    const ended = await call(p, 'POST', `/api/programme/agreements/${a.body.id}/terminate`, {}, bearer(fa));
    expect(ended.status).toBe(200);
  });

  it('stores bridge-point checks per site; readiness = last successful check and last session', async () => {
    const clin = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.muongnhe });
    const bad = await call(
      p,
      'POST',
      '/api/programme/readiness',
      { camera: true, microphone: false, upKbps: 300, downKbps: 900, rttMs: 240, turn: true, ok: false },
      bearer(clin),
    );
    expect(bad.status).toBe(200);
    expect(bad.body.lastCheck).toMatchObject({ ok: false, microphone: false, turn: true, rttMs: 240 });
    expect(bad.body.lastSuccessfulCheck).toBeUndefined();
    const good = await call(
      p,
      'POST',
      '/api/programme/readiness',
      { camera: true, microphone: true, upKbps: 2000, downKbps: 8000, rttMs: 80, turn: false, ok: true },
      bearer(clin),
    );
    expect(good.body.lastSuccessfulCheck).toBe(good.body.lastCheck.at);
    // The analyst cannot record checks.
    expect((await call(p, 'POST', '/api/programme/readiness', { camera: true, microphone: true, turn: false, ok: true }, bearer(ministry))).status).toBe(403);
  });

  it('gives a site what its equipment check needs (ICE servers, an upload probe) and never stores a check without camera or microphone as successful', async () => {
    const org = demo.ids.organizations.muongnhe;
    const clin = await p.tokenFor('commune_clinician', { org });
    const ice = await call<{ iceServers: unknown[] }>(p, 'GET', '/api/programme/ice-servers', undefined, bearer(clin));
    expect(ice.status).toBe(200);
    expect(Array.isArray(ice.body.iceServers)).toBe(true);
    const probe = await call<{ bytes: number }>(p, 'POST', '/api/programme/readiness-probe', { pad: 'x'.repeat(256_000) }, bearer(clin));
    expect(probe.body).toEqual({ bytes: 256_000 });
    for (const url of ['/api/programme/ice-servers', '/api/programme/readiness-probe'])
      expect((await call(p, url.endsWith('probe') ? 'POST' : 'GET', url, url.endsWith('probe') ? { pad: 'x' } : undefined, bearer(ministry))).status).toBe(403);
    const before = (await call<ReadinessView>(p, 'GET', `/api/programme/readiness/${org}`, undefined, bearer(ministry))).body.lastSuccessfulCheck;
    // The page claims ok, but the microphone failed: stored as not successful; the TURN verdict is kept.
    const r = await call<ReadinessView>(
      p,
      'POST',
      '/api/programme/readiness',
      { camera: true, microphone: false, upKbps: 2000, downKbps: 8000, rttMs: 40, turn: true, ok: true },
      bearer(clin),
    );
    expect(r.body.lastCheck).toMatchObject({ ok: false, turn: true, upKbps: 2000, downKbps: 8000, rttMs: 40 });
    expect(r.body.lastSuccessfulCheck).toBe(before);
    // The Ministry (and any analyst) reads a site's readiness; the last real session comes from its meetings and examinations.
    const seen = await call<ReadinessView>(p, 'GET', `/api/programme/readiness/${org}`, undefined, bearer(ministry));
    expect(seen.body).toMatchObject({ organizationId: org, lastCheck: { ok: false, turn: true } });
  });
});
