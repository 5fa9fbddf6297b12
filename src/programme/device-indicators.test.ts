/**
 * The device-programme indicators (device-indicators.ts) against values computed by hand on a
 * small fixed dataset, on both databases: people enrolled in home monitoring (Patients and home
 * Devices written through the record, so the write listener fills the source tables) and alerts
 * answered within the target (alert episodes with known opening and acknowledgement times). The
 * JSON the screen shows, the FHIR MeasureReport, the CSV and the XLSX agree; cells under 5 are
 * suppressed; each analyst keeps to their scope.
 */
import ExcelJS from 'exceljs';
import type { Device, Organization, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../testing/databases.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import type { FacilityView, IndicatorReport } from './contract.ts';

const json = { 'content-type': 'application/json' };
const bearer = (t: string) => ({ authorization: `Bearer ${t}`, ...json });
const ALERTS = 'from=2026-01&to=2026-03&asOf=2026-03-31';
const at = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

describe.each(DB_KINDS)('device-programme indicators on %s', (kind) => {
  let p: TestPlatform;
  let ministry: string;
  let dept15: string;
  let dept11: string;
  let faA: string;
  const f: Record<string, FacilityView> = {};
  const now = new Date().toISOString().slice(0, 7);
  const prev = (() => {
    const d = new Date();
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
  })();
  const ENROLMENT = `from=${prev}&to=${now}`;

  beforeAll(async () => {
    p = await startTestPlatform(kind);
    const admin = await p.tokenFor('system_admin');
    ministry = await p.tokenFor('analyst');
    for (const [key, prov, commune] of [
      ['A', 15, 2680],
      ['B', 15, 2683],
      ['D', 11, 3158],
    ] as const) {
      const r = await call<FacilityView>(
        p,
        'POST',
        '/api/programme/facilities',
        { code: `${key}0001`, name: `Trạm Y tế ${key}`, level: 'commune', owner: 'public', provinceCode: prov, communeCode: commune },
        bearer(admin),
      );
      expect(r.status).toBe(201);
      f[key] = r.body;
    }
    for (const [code, set] of [
      [15, (t: string) => (dept15 = t)],
      [11, (t: string) => (dept11 = t)],
    ] as const) {
      const org = await p.fixtures.create<Organization>({ resourceType: 'Organization', name: `Sở Y tế ${code}`, active: true });
      await call(p, 'PUT', '/api/programme/authorities', { organizationId: org.id, provinceCode: code }, bearer(admin));
      set(await p.tokenFor('analyst', { org: org.id }));
    }
    faA = await p.tokenFor('facility_admin', { org: f.A.id });

    // Enrolment (today): A — six people, one with two devices, one whose device is returned today
    // (it was in use today: counted), one more whose device was entered in error (not counted);
    // B — two people; D — five; one person managed by no facility (not counted).
    const person = async (org?: string) =>
      (
        await p.fixtures.create<Patient>({
          resourceType: 'Patient',
          name: [{ family: 'Thử', given: ['Người'] }],
          ...(org ? { managingOrganization: { reference: `Organization/${org}` } } : {}),
        })
      ).id!;
    const device = (patient: string, status: Device['status'] = 'active') =>
      p.fixtures.create<Device>({
        resourceType: 'Device',
        status,
        deviceName: [{ name: 'Máy đo huyết áp', type: 'user-friendly-name' }],
        patient: { reference: `Patient/${patient}` },
      });
    const a = [];
    for (let i = 0; i < 6; i++) a.push(await person(f.A.id));
    for (const x of a) await device(x);
    await device(a[0]);
    const returned = await device(a[5], 'active');
    await p.fixtures.update<Device>({ ...returned, status: 'inactive' });
    const wrong = await person(f.A.id);
    const d = await device(wrong);
    await p.fixtures.update<Device>({ ...d, status: 'entered-in-error' });
    for (let i = 0; i < 2; i++) await device(await person(f.B.id));
    for (let i = 0; i < 5; i++) await device(await person(f.D.id));
    await device(await person());

    // Alerts (fixed times): A in January — acknowledged after 2, 5, 10, 14, 15 (on the target), 16
    // and 40 minutes (escalated first), and one never (escalated); A in February — one after 3
    // minutes, opened at 01:30 on 1 February in Việt Nam (still 31 January in UTC: February's);
    // B in January — three after 1 minute; D in January — five after 1 minute.
    const sql = p.store.system('test: alert episodes', 'devices').sql;
    const alert = (org: string, opened: string, ackAfter: number | null, escalated = false) =>
      sql.query(
        `INSERT INTO alert_episode (patient_id, metric, severity, flag_id, organization_id, opened_at, last_reading_at, last_value, acknowledged_at, acknowledged_by, escalated_at, closed_at)
         VALUES ($1, 'bp', 'high', 'flag', $2, $3, $3, '{}', $4, $5, $6, $3)`,
        [
          `p-${org}-${opened}`,
          org,
          opened,
          ackAfter === null ? null : at(opened, ackAfter),
          ackAfter === null ? null : 'dd.an',
          escalated ? at(opened, 15) : null,
        ],
      );
    const ackA = [2, 5, 10, 14, 15, 16, 40, null];
    for (let i = 0; i < ackA.length; i++) await alert(f.A.id, `2026-01-1${i}T03:00:00.000Z`, ackA[i], i >= 6);
    await alert(f.A.id, '2026-01-31T18:30:00.000Z', 3);
    for (let i = 0; i < 3; i++) await alert(f.B.id, `2026-01-2${i}T03:00:00.000Z`, 1);
    for (let i = 0; i < 5; i++) await alert(f.D.id, `2026-01-2${i}T03:00:00.000Z`, 1);
    await alert('not-in-register', '2026-01-05T03:00:00.000Z', 1); // no facility in the register: not counted
  }, 180_000);
  afterAll(async () => p?.close());

  const report = async (token: string, q: string) => {
    const r = await call<IndicatorReport>(p, 'GET', `/api/programme/indicators?${q}`, undefined, bearer(token));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.devices;
  };

  it('counts alerts answered within 15 minutes as computed by hand, with cells under 5 suppressed', async () => {
    const r = await report(dept15, ALERTS);
    // Province 15: A 8 + 1, B 3 = 12 alerts; acknowledged 7 + 1 + 3 = 11; within 15 min 5 + 1 + 3 = 9 → 75 %; escalated 2 (suppressed).
    expect(r).toMatchObject({ alerts: 12, acknowledged: 11, answeredInTime: 9, shareInTime: 0.75, targetMinutes: 15, escalated: null });
    expect(r.byMonth.map((m) => [m.month, m.alerts, m.answeredInTime, m.shareInTime])).toEqual([
      ['2026-01', 11, 8, 8 / 11],
      ['2026-02', null, null, null],
      ['2026-03', 0, 0, null],
    ]);
    expect(r.provinces.map((x) => [x.provinceCode, x.alerts, x.answeredInTime])).toEqual([[15, 12, 9]]);
    // Drill-down: A 9 alerts, 6 in time (2/3); B 3 (suppressed, and so its share).
    expect(r.facilities.map((x) => [x.code, x.alerts, x.acknowledged, x.answeredInTime, x.shareInTime])).toEqual([
      ['A0001', 9, 8, 6, 6 / 9],
      ['B0001', null, null, null, null],
    ]);
    // The Ministry: D adds five, all in time.
    const all = await report(ministry, ALERTS);
    expect(all).toMatchObject({ alerts: 17, answeredInTime: 14 });
    expect(all.provinces.map((x) => [x.provinceCode, x.alerts, x.answeredInTime, x.shareInTime])).toEqual([
      [11, 5, 5, 1],
      [15, 12, 9, 0.75],
    ]);
    expect(all.facilities).toEqual([]);
    // A facility administrator: their facility only.
    expect(await report(faA, ALERTS)).toMatchObject({ alerts: 9, acknowledged: 8, answeredInTime: 6, provinces: [] });
  });

  it('counts people enrolled in home monitoring once each, filed under the facility that manages them', async () => {
    const r = await report(dept15, ENROLMENT);
    expect(r).toMatchObject({ enrolled: 8, newlyEnrolled: 8 });
    expect(r.byMonth.map((m) => [m.month, m.enrolled, m.newlyEnrolled])).toEqual([
      [prev, 0, 0],
      [now, 8, 8],
    ]);
    expect(r.facilities.map((x) => [x.code, x.enrolled, x.newlyEnrolled])).toEqual([
      ['A0001', 6, 6],
      ['B0001', null, null],
    ]);
    const all = await report(ministry, ENROLMENT);
    expect(all.enrolled).toBe(13);
    expect(all.provinces.map((x) => [x.provinceCode, x.enrolled])).toEqual([
      [11, 5],
      [15, 8],
    ]);
    // Nobody was enrolled in the alerts' months.
    expect((await report(ministry, ALERTS)).enrolled).toBe(0);
  });

  it('answers the same numbers as the FHIR MeasureReports, the CSV and the XLSX', async () => {
    const r = await report(dept15, ALERTS);
    const mr = await call(p, 'GET', '/fhir/R4/Measure/alerts-answered/$evaluate-measure?periodStart=2026-01&periodEnd=2026-03-31', undefined, bearer(dept15));
    expect(mr.status).toBe(200);
    expect(mr.body.group[0].population.map((x: { count?: number }) => x.count)).toEqual([r.answeredInTime, r.alerts]);
    expect(mr.body.group[0].measureScore.value).toBe(0.75);
    const feb = mr.body.group[0].stratifier[0].stratum.find((s: { value: { text: string } }) => s.value.text === '2026-02');
    expect(feb.population[0]).toMatchObject({ extension: [{ valueCode: 'masked' }] });
    const en = await call(p, 'GET', `/fhir/R4/Measure/device-enrolment/$evaluate-measure?periodStart=${now}&periodEnd=${now}`, undefined, bearer(dept15));
    expect(en.body.group[0].population[0].count).toBe(8);

    const csv = (await call(p, 'GET', `/api/programme/indicators.csv?${ALERTS}`, undefined, bearer(dept15))).text;
    expect(csv).toContain('alerts.opened,tổng,12\r\n');
    expect(csv).toContain('alerts.answeredInTime,tổng,9\r\n');
    expect(csv).toContain('alerts.shareInTime,tổng,75.0%\r\n');
    expect(csv).toContain('alerts.targetMinutes,tổng,15\r\n');
    expect(csv).toContain('alerts.opened,cơ sở B0001 Trạm Y tế B,<5\r\n');
    const x = await p.app.inject({ method: 'GET', url: `/api/programme/indicators.xlsx?${ENROLMENT}`, headers: { authorization: `Bearer ${dept15}` } });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(x.rawPayload as never);
    const rows = wb.getWorksheet('Chỉ số')!.getSheetValues().slice(2) as unknown as [unknown, string, string, string][];
    expect(rows.find((row) => row[1] === 'devices.enrolled' && row[2] === 'tổng')?.[3]).toBe('8');
    expect(rows.find((row) => row[1] === 'devices.enrolled' && row[2] === 'cơ sở B0001 Trạm Y tế B')?.[3]).toBe('<5');
  });

  it('keeps analysts to their scope and names no person', async () => {
    expect((await call(p, 'GET', `/api/programme/indicators?province=15&${ALERTS}`, undefined, bearer(dept11))).status).toBe(403);
    expect((await call(p, 'GET', `/api/programme/indicators?facility=${f.B.id}&${ALERTS}`, undefined, bearer(faA))).status).toBe(403);
    const text = JSON.stringify(await report(ministry, ALERTS)) + JSON.stringify(await report(ministry, ENROLMENT));
    expect(text).not.toContain('p-');
    expect(text).not.toContain('Patient');
    expect(text).not.toContain('Device');
  });
});
