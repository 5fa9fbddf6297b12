/** The officer's audit viewer: filters, readable labels, paging, CSV export (itself audited), denied rows explained; nobody else reads it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, sessionFor, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import type { OfficerAuditPage } from './officer-contract.ts';

describe('officer audit viewer', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let dpo: Record<string, string>;
  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: [] });
    demo = await seedDemo(p.store, 6);
    await createDemoAccounts(p.db, p.accounts, demo);
    dpo = await sessionFor(p, 'dpo');
    // A refused read of a patient (another facility's clinician) and an emergency access.
    const outsider = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.bachmai });
    await call(p, 'GET', `/fhir/R4/Patient/${demo.ids.patients[0]}`, undefined, { authorization: `Bearer ${outsider}` });
    const glassBody = { patientId: demo.ids.patients[0], reason: 'Cấp cứu: người bệnh bất tỉnh tại khoa' };
    // Emergency access is the doctor's own statement: an app holding the doctor's token cannot make it.
    const doctorsApp = await p.tokenFor('specialist', { org: demo.ids.organizations.bachmai });
    const byApp = await call(p, 'POST', '/api/break-glass', glassBody, { authorization: `Bearer ${doctorsApp}`, 'content-type': 'application/json' });
    expect(byApp.status).toBe(403);
    const doctor = await sessionFor(p, 'specialist', { org: demo.ids.organizations.bachmai });
    const glass = await call(p, 'POST', '/api/break-glass', glassBody, { ...doctor, 'content-type': 'application/json' });
    expect(glass.status, glass.text).toBe(200);
    await call(p, 'GET', `/fhir/R4/Patient/${demo.ids.patients[0]}`, undefined, doctor);
    await p.audit.seal();
  });
  afterAll(async () => {
    await p?.close();
  });

  it('explains denied rows in words and names the patient', async () => {
    const r = await call<OfficerAuditPage>(p, 'GET', '/api/audit/search?outcome=denied', undefined, dpo);
    expect(r.status).toBe(200);
    const row = r.body.items.find((i) => i.resourceType === 'Patient')!;
    expect(row.actionLabel.vi).toBe('Bị từ chối');
    expect(row.denied?.vi).toBe('xem Người bệnh — hồ sơ (FHIR)');
    expect(row.roleLabel?.vi).toBe('Bác sĩ tuyến xã');
    expect(row.patients[0].name).toBe('Nguyễn Văn An');
  });

  it('filters by patient name, emergency access, action area and date; pages', async () => {
    const glass = await call<OfficerAuditPage>(p, 'GET', `/api/audit/search?patient=${encodeURIComponent('nguyen van an')}&breakGlass=true`, undefined, dpo);
    expect(glass.body.items.length).toBeGreaterThan(0);
    expect(glass.body.items.every((i) => i.breakGlass)).toBe(true);
    expect(glass.body.items.some((i) => i.reason?.startsWith('Cấp cứu'))).toBe(true);
    const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
    const dated = await call<OfficerAuditPage>(p, 'GET', `/api/audit/search?from=${today}&to=${today}&limit=5`, undefined, dpo);
    expect(dated.body.items.length).toBe(5);
    expect(dated.body.next).toBeDefined();
    const next = await call<OfficerAuditPage>(p, 'GET', `/api/audit/search?from=${today}&to=${today}&limit=5&before=${dated.body.next}`, undefined, dpo);
    expect(Math.max(...next.body.items.map((i) => i.id))).toBeLessThan(Math.min(...dated.body.items.map((i) => i.id)));
    const past = await call<OfficerAuditPage>(p, 'GET', '/api/audit/search?to=2020-01-01', undefined, dpo);
    expect(past.body.items).toEqual([]);
    const area = await call<OfficerAuditPage>(p, 'GET', '/api/audit/search?action=break-glass', undefined, dpo);
    expect(area.body.items.every((i) => i.action.startsWith('break-glass'))).toBe(true);
  });

  it('exports CSV (UTF-8 with BOM, Vietnamese labels); the export is audited', async () => {
    const r = await call(p, 'GET', '/api/audit/export.csv?outcome=denied', undefined, dpo);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/csv/);
    expect(r.text.charCodeAt(0)).toBe(0xfeff);
    const lines = r.text.slice(1).trim().split('\r\n');
    expect(lines[0]).toContain('Thời gian,Tài khoản,Họ tên,Vai trò,Cơ sở,Hành động');
    expect(lines.some((l) => l.includes('Bị từ chối') && l.includes('Nguyễn Văn An'))).toBe(true);
    expect(lines[1]).toMatch(/,\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2},/);
    const logged = (await p.db.query("SELECT detail FROM audit_log WHERE action = 'audit.export'")).rows;
    expect(logged.length).toBe(1);
  });

  it('an officer’s look at a patient’s entries, by any route, shows in that patient’s own access log', async () => {
    const patient = demo.ids.patients[0];
    const before = (await p.db.query<{ id: number }>('SELECT max(id)::int AS id FROM audit_log')).rows[0].id;
    const fhirSearch = await call(p, 'GET', `/fhir/R4/AuditEvent?patient=Patient/${patient}&_count=5`, undefined, dpo);
    expect(fhirSearch.status).toBe(200);
    const one = fhirSearch.body.entry[0].resource.id as string;
    for (const url of [`/api/audit?patientId=${patient}&limit=5`, `/fhir/R4/AuditEvent/${one}`])
      expect((await call(p, 'GET', url, undefined, dpo)).status, url).toBe(200);
    const looks = await p.db.query<{ detail: { fhir?: boolean; filter?: unknown } }>(
      "SELECT detail FROM audit_log WHERE id > $2 AND action = 'audit.read' AND patient_ids @> ARRAY[$1]::text[] ORDER BY id",
      [patient, before],
    );
    expect(looks.rows.map((r) => (r.detail.filter ? 'list' : 'fhir'))).toEqual(['fhir', 'list', 'fhir']);
  });

  it('refuses an AuditEvent search parameter it does not apply, rather than answer everyone’s entries', async () => {
    for (const q of ['entity=Patient/x', 'agent=Practitioner/y', 'subtype=read', 'patient:missing=true']) {
      const r = await call(p, 'GET', `/fhir/R4/AuditEvent?${q}`, undefined, dpo);
      expect(r.status, q).toBe(400);
      expect(r.body.resourceType, q).toBe('OperationOutcome');
    }
    expect((await call(p, 'GET', '/fhir/R4/AuditEvent?_count=2&_format=json', undefined, dpo)).status).toBe(200);
  });

  it('records a look at the emergency accesses with the patients it shows', async () => {
    const before = (await p.db.query<{ id: number }>('SELECT max(id)::int AS id FROM audit_log')).rows[0].id;
    // An app holding the officer's token reads neither the emergency accesses nor closes their reviews.
    const dposApp = { authorization: `Bearer ${await p.tokenFor('dpo')}`, 'content-type': 'application/json' };
    expect((await call(p, 'GET', '/api/break-glass', undefined, dposApp)).status).toBe(403);
    const list = await call(p, 'GET', '/api/break-glass', undefined, dpo);
    expect(list.status, list.text).toBe(200);
    expect((await call(p, 'POST', `/api/break-glass/${list.body[0].id}/review`, { note: 'đã xem' }, dposApp)).status).toBe(403);
    expect(list.body.length).toBeGreaterThan(0);
    const rows = await p.db.query<{ patient_ids: string[] }>("SELECT patient_ids FROM audit_log WHERE id > $1 AND action = 'break-glass.list'", [before]);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0].patient_ids).toContain(demo.ids.patients[0]);
  });

  it('only the officer reads it', async () => {
    for (const role of ['commune_clinician', 'system_admin', 'facility_admin', 'integration'] as const) {
      const token = await p.tokenFor(role, { org: demo.ids.organizations.laocai });
      expect((await call(p, 'GET', '/api/audit/search', undefined, { authorization: `Bearer ${token}` })).status, role).toBe(403);
      expect((await call(p, 'GET', '/api/audit/export.csv', undefined, { authorization: `Bearer ${token}` })).status, role).toBe(403);
    }
  });
});
