/**
 * The receiving (hub) facility's part of a concluded case conference as an insurance claim,
 * through the HTTP API, on both databases: a case run through the consult workflow (submitted by
 * the commune station, accepted and concluded by the hub's specialist); its check-in and
 * envelope parsed back with fast-xml-parser and checked column by column; the consultation in
 * XML3 with the specialist as ordering and performing doctor; no XML2 (the hub dispenses
 * nothing); signatures verified by xmlsec1, one changed field breaks them; a case whose hub has no
 * consultation service listed with what is missing and never signed; a case not yet concluded
 * refused; only the hub's billing staff (not the requesting station's, not a clinician, not a
 * citizen); queued and sent once through the same queue to the fake BHXH gateway, the
 * transaction code kept on the row and on the case's Task.
 */
import { randomUUID } from 'node:crypto';
import type { Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { seedFormatsDemo } from '../seed/formats.ts';
import type { TestCertificate } from '../testing/certificates.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { startFacilityGateway, type FakeBhxh } from '../testing/fake-bhxh.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { consultationService } from '../testing/consults.ts';
import { checkTable, parser, xmlsecVerifies } from '../testing/xml130.ts';
import { BHXH_TRANSACTION_SYSTEM } from './model.ts';
import { TABLES } from './xml130/spec.ts';

describe.each(DB_KINDS)('the hub’s insurance claim for a case conference on %s', (kind) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let cert: TestCertificate;
  let fake: FakeBhxh;
  let commune: Record<string, string>;
  let specialist: Record<string, string>;
  let citizen: Record<string, string>;
  let hubAdmin: Record<string, string>;
  let stationAdmin: Record<string, string>;
  const json = { 'content-type': 'application/json' };
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const as = (h: Record<string, string>, method: string, url: string, body?: unknown) => call(p, method, url, body, body === undefined ? h : { ...h, ...json });

  beforeAll(async () => {
    let env: Record<string, string>;
    ({ cert, fake, env } = await startFacilityGateway('01001', { username: 'bv-bachmai', province: '01' }));
    p = await startTestPlatform(kind, env, undefined, { domains: ['family', 'consult', 'visits', 'formats'] });
    demo = await seedDemo(p.store, 8);
    const accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    await seedFormatsDemo(p.store, demo);
    commune = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    specialist = await signIn(p, 'bs.bachmai', accounts.get('bs.bachmai')!.totpSecret);
    citizen = await signIn(p, 'nguoidan');
    hubAdmin = bearer(await p.tokenFor('facility_admin', { org: demo.ids.organizations.bachmai }));
    stationAdmin = bearer(await p.tokenFor('facility_admin', { org: demo.ids.organizations.batxat }));
  }, 180_000);
  afterAll(async () => {
    await p?.close();
    await fake?.close();
  });

  /** A case from Bát Xát to Bạch Mai, accepted; concluded (signed by the one specialist) unless told not to. */
  async function concludedCase(patientId = demo.ids.patients[0], conclude = true): Promise<string> {
    const res = await as(commune, 'POST', '/api/consults', {
      clientId: randomUUID(),
      patientId,
      receivingOrganizationId: demo.ids.organizations.bachmai,
      specialty: { code: 'oncology', display: 'Ung bướu' },
      urgency: 'urgent',
      reason: 'Khối u vú phải, nghi ung thư',
      icd10: { code: 'C50.9', display: 'U ác của vú' },
      summary: { history: 'Khối u 3 tháng', findings: 'Khối 4 cm', vitals: 'HA 120/80', treatment: 'Chưa', question: 'Giai đoạn?' },
      attachmentIds: [],
      submit: true,
    });
    expect(res.status, res.text).toBe(201);
    const caseId = res.body.caseId as string;
    const accepted = await as(specialist, 'POST', `/api/consults/${caseId}/triage`, { action: 'accept', specialistIds: [demo.ids.practitioners[0]] });
    expect(accepted.status, accepted.text).toBe(200);
    const drafted = await as(specialist, 'PUT', `/api/consults/${caseId}/conclusion`, {
      assessment: 'Viêm tuyến vú',
      diagnosis: { code: 'N61', display: 'Viêm vú' },
      recommendations: 'Kháng sinh 7 ngày, siêu âm lại sau 2 tuần',
      transfer: false,
      actionUrgency: 'routine',
    });
    expect(drafted.status, drafted.text).toBe(200);
    if (conclude) {
      const signed = await as(specialist, 'POST', `/api/consults/${caseId}/conclusion/sign`, {});
      expect(signed.status, signed.text).toBe(200);
      expect(signed.body.final).toBe(true);
    }
    return caseId;
  }

  it('without a consultation service at the hub: listed with what is missing, never signed; a case not concluded is refused', async () => {
    const caseId = await concludedCase();
    const view = await as(hubAdmin, 'GET', `/api/claims/consults/${caseId}`);
    expect(view.status, view.text).toBe(200);
    expect(view.body.ready).toBe(false);
    expect(view.body.problems).toEqual([
      { table: 'XML3', row: 1, column: 'MA_DICH_VU', problem: 'missing', detail: expect.stringMatching(/no consultation service/) },
    ]);
    expect((await as(hubAdmin, 'GET', `/api/claims/consults/${caseId}/xml`)).status).toBe(422);
    expect((await as(hubAdmin, 'POST', `/api/claims/consults/${caseId}/submit`)).status).toBe(422);
    const open = await concludedCase(demo.ids.patients[0], false);
    expect((await as(hubAdmin, 'GET', `/api/claims/consults/${open}`)).status).toBe(409);
  });

  it('a concluded case: check-in, XML1 and XML3 with the consultation read back column by column, signed, verified by xmlsec1, tamper-evident; sent once through the queue', async () => {
    // The hub's consultation service (test values; no teleconsultation DVKT code is published).
    await p.fixtures.create(consultationService(demo.ids.organizations.bachmai));
    await p.fixtures.create({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
      subject: { reference: `Patient/${demo.ids.patients[0]}` },
      effectiveDateTime: new Date(Date.now() - 86_400_000).toISOString(),
      valueQuantity: { value: 54.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    } as never);
    const caseId = await concludedCase();
    const view = await as(hubAdmin, 'GET', `/api/claims/consults/${caseId}`);
    expect(view.status, view.text).toBe(200);
    expect(view.body.problems).toEqual([]);
    expect(view.body.ready).toBe(true);
    expect(view.body.facilityCode).toBe('01001');
    expect(view.body.tables).toEqual(['XML0', 'XML1', 'XML3']);

    const env = await as(hubAdmin, 'GET', `/api/claims/consults/${caseId}/xml`);
    expect(env.status, env.text).toBe(200);
    expect(xmlsecVerifies(env.text, cert, `consult-env-${kind}.xml`)).toBe(true);
    const g = parser.parse(env.text).GIAMDINHHS;
    expect(g.THONGTINDONVI.MACSKCB).toBe('01001');
    const files = g.THONGTINHOSO.DANHSACHHOSO.HOSO[0].FILEHOSO as { LOAIHOSO: string; NOIDUNGFILE: string }[];
    expect(files.map((f) => f.LOAIHOSO)).toEqual(['XML1', 'XML3']);
    const t: Record<string, Record<string, string>[]> = {};
    for (const f of files)
      t[f.LOAIHOSO] = checkTable(TABLES[f.LOAIHOSO as keyof typeof TABLES], parser.parse(Buffer.from(f.NOIDUNGFILE, 'base64').toString('utf8')));
    const x1 = t.XML1[0];
    expect(x1.MA_LK).toBe(caseId);
    expect(x1.MA_CSKCB).toBe('01001');
    expect(x1.HO_TEN).toBe('Nguyễn Văn An');
    expect(x1.MA_BENH_CHINH).toBe('N61');
    expect(x1.MA_DOITUONG_KCB).toBe('9'); // the service is not BHYT-listed: self-paid
    expect(x1.CAN_NANG).toBe('54.50');
    expect(x1.NGAY_VAO).toMatch(/^\d{12}$/);
    expect(x1.GHI_CHU).toMatch(/theo yêu cầu của cơ sở 10010/);
    expect(x1.T_TONGCHI_BV).toBe('200000');
    expect(x1.T_BNTT).toBe('200000');
    const [x3] = t.XML3;
    expect(t.XML3).toHaveLength(1);
    expect(x3.MA_DICH_VU).toBe('02.9999');
    expect(x3.TEN_DICH_VU).toBe('Hội chẩn từ xa chuyên khoa');
    expect(x3.MA_BAC_SI).toBe('CCHN-1001'); // the higher-level doctor who concluded
    expect(x3.NGUOI_THUC_HIEN).toBe('CCHN-1001');
    expect(x3.DON_GIA_BV).toBe('200000');
    const checkIn = await as(hubAdmin, 'GET', `/api/claims/consults/${caseId}/xml?doc=checkin`);
    expect(xmlsecVerifies(checkIn.text, cert, `consult-checkin-${kind}.xml`)).toBe(true);
    expect(checkTable(TABLES.XML0, parser.parse(checkIn.text))[0].MA_DICH_VU).toBe('02.9999');

    // One changed field (the service's price in XML3) put back into the envelope: the signature breaks.
    const xml3 = files.find((f) => f.LOAIHOSO === 'XML3')!.NOIDUNGFILE;
    const forged = Buffer.from(
      Buffer.from(xml3, 'base64').toString('utf8').replace('<DON_GIA_BV>200000</DON_GIA_BV>', '<DON_GIA_BV>900000</DON_GIA_BV>'),
    ).toString('base64');
    expect(forged).not.toBe(xml3);
    expect(xmlsecVerifies(env.text.replace(xml3, forged), cert, `consult-tampered-${kind}.xml`)).toBe(false);

    // Only the hub's billing staff: not the requesting station's, not the specialist, not a citizen, not anonymous.
    expect((await as(stationAdmin, 'GET', `/api/claims/consults/${caseId}`)).status).toBe(403);
    expect((await as(stationAdmin, 'GET', `/api/claims/consults/${caseId}/xml`)).status).toBe(403);
    expect((await as(stationAdmin, 'POST', `/api/claims/consults/${caseId}/submit`)).status).toBe(403);
    expect((await as(specialist, 'GET', `/api/claims/consults/${caseId}`)).status).toBe(403);
    expect((await as(citizen, 'GET', `/api/claims/consults/${caseId}/xml`)).status).toBe(403);
    expect((await call(p, 'GET', `/api/claims/consults/${caseId}`)).status).toBe(403);

    // The same queue: queued once, sent once, the transaction code on the row and on the case's Task.
    const queued = await as(hubAdmin, 'POST', `/api/claims/consults/${caseId}/submit`);
    expect(queued.status, queued.text).toBe(202);
    expect((await as(hubAdmin, 'POST', `/api/claims/consults/${caseId}/submit`)).status).toBe(409);
    fake.dropNext(1);
    expect(await p.claimQueue.runOnce()).toEqual({ sent: 0, retried: 1, rejected: 0, failed: 0 });
    expect(await p.claimQueue.runOnce(new Date(Date.now() + 60_000))).toEqual({ sent: 1, retried: 0, rejected: 0, failed: 0 });
    expect(fake.accepted.get(caseId)).toBe(1);
    const s = (await as(hubAdmin, 'GET', `/api/claims/consults/${caseId}`)).body.submission;
    expect(s.status).toBe('sent');
    expect(s.transactionCode).toMatch(/^GD\d{8}$/);
    const task = (await p.fixtures.search<Task>('Task', { focus: `ServiceRequest/${caseId}` }))[0];
    expect(task.identifier).toContainEqual({ system: BHXH_TRANSACTION_SYSTEM, value: s.transactionCode });
  });
});
