/**
 * Every indicator against values computed by hand on a small fixed dataset (six facilities, seven
 * cases with known times, five meetings, seven remote examinations, five prescriptions, three
 * approved units), on both databases; the FHIR MeasureReport, the CSV and the XLSX give the same
 * numbers as the JSON the screen shows; small cells are suppressed; the scope of each analyst is
 * enforced and an analyst reaches no identifiable record. The incremental aggregate equals a full
 * recomputation from the FHIR resources.
 */
import ExcelJS from 'exceljs';
import type { Encounter, Organization, Patient, Practitioner, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../testing/databases.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { CONSULT_CATEGORY, CONSULT_ID_SYSTEM, SPECIALTY_SYSTEM, STATE_SYSTEM, param } from '../consult/model.ts';
import type { FacilityView, IndicatorReport } from './contract.ts';
import { DECLARATION } from './test-data.ts';
import { recomputeConsultMonths } from './recompute.ts';

const json = { 'content-type': 'application/json' };
const bearer = (t: string) => ({ authorization: `Bearer ${t}`, ...json });
const at = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();
const PERIOD = 'from=2026-01&to=2026-03&asOf=2026-03-31';
/** 01:30 on 1 April 2026 in Việt Nam, still 31 March in UTC. */
const EDGE = '2026-03-31T18:30:00.000Z';

describe.each(DB_KINDS)('indicators on %s', (kind) => {
  let p: TestPlatform;
  let admin: string;
  let ministry: string;
  let dept15: string;
  let dept11: string;
  const f: Record<string, FacilityView> = {};
  let patientId: string;
  let practitionerId: string;

  /** A case: its ServiceRequest and the Task versions at the given minutes after the request (with the conclusion's advice and the follow-up outcome, as the workflow writes them). */
  async function consult(
    n: number,
    from: string,
    to: string,
    specialty: string,
    priority: 'routine' | 'urgent',
    requested: string,
    steps: { state: string; after: number; specialist?: boolean; transferAdvised?: boolean; outcome?: string }[],
  ) {
    const sr = await p.fixtures.create<ServiceRequest>({
      resourceType: 'ServiceRequest',
      identifier: [{ system: CONSULT_ID_SYSTEM, value: `fixed-${n}` }],
      status: 'active',
      intent: 'order',
      category: [{ coding: [CONSULT_CATEGORY] }],
      code: { coding: [{ system: SPECIALTY_SYSTEM, code: specialty }] },
      priority,
      subject: { reference: `Patient/${patientId}` },
      authoredOn: requested,
      performer: [{ reference: `Organization/${to}` }],
    });
    const state = (code: string) => ({ coding: [{ system: STATE_SYSTEM, code }] });
    let task = await p.fixtures.create<Task>({
      resourceType: 'Task',
      identifier: [{ system: CONSULT_ID_SYSTEM, value: `fixed-${n}` }],
      status: 'requested',
      businessStatus: state('submitted'),
      intent: 'order',
      priority,
      focus: { reference: `ServiceRequest/${sr.id}` },
      for: { reference: `Patient/${patientId}` },
      authoredOn: requested,
      lastModified: requested,
      requester: { reference: `Organization/${from}` },
      owner: { reference: `Organization/${to}` },
    });
    for (const s of steps) {
      const input = s.specialist
        ? [...(task.input ?? []), { type: param('specialist', 'Chuyên gia'), valueReference: { reference: `Practitioner/${practitionerId}` } }]
        : task.input;
      const output = [
        ...(task.output ?? []),
        ...(s.transferAdvised !== undefined ? [{ type: param('transfer-advised', 'Đề nghị chuyển tuyến'), valueBoolean: s.transferAdvised }] : []),
        ...(s.outcome ? [{ type: param('outcome', 'Kết quả theo dõi'), valueCode: s.outcome }] : []),
      ];
      task = await p.fixtures.update<Task>({
        ...task,
        businessStatus: state(s.state),
        lastModified: at(requested, s.after),
        ...(input ? { input } : {}),
        ...(output.length ? { output } : {}),
      });
    }
  }

  beforeAll(async () => {
    p = await startTestPlatform(kind);
    admin = await p.tokenFor('system_admin');
    ministry = await p.tokenFor('analyst');
    const fac = async (key: string, level: string, owner: string, provinceCode: number, communeCode: number) => {
      const r = await call<FacilityView>(
        p,
        'POST',
        '/api/programme/facilities',
        { code: `${key}0001`, name: `Cơ sở ${key}`, level, owner, provinceCode, communeCode },
        bearer(admin),
      );
      expect(r.status).toBe(201);
      f[key] = r.body;
    };
    await fac('H', 'provincial', 'public', 15, 2647);
    await fac('A', 'commune', 'public', 15, 2680);
    await fac('B', 'commune', 'public', 15, 2683);
    await fac('C', 'commune', 'public', 15, 2686);
    await fac('D', 'commune', 'public', 11, 3158);
    await fac('X', 'private', 'private', 15, 2695);
    for (const [code, set] of [
      [15, (t: string) => (dept15 = t)],
      [11, (t: string) => (dept11 = t)],
    ] as const) {
      const org = await p.fixtures.create<Organization>({ resourceType: 'Organization', name: `Sở Y tế ${code}`, active: true });
      await call(p, 'PUT', '/api/programme/authorities', { organizationId: org.id, provinceCode: code }, bearer(admin));
      set(await p.tokenFor('analyst', { org: org.id }));
    }
    for (const k of ['A', 'B', 'C']) {
      const fa = await p.tokenFor('facility_admin', { org: f[k].id });
      expect((await call(p, 'POST', `/api/programme/declarations/${f[k].id}`, DECLARATION, bearer(fa))).status).toBe(200);
      expect((await call(p, 'POST', `/api/programme/declarations/${f[k].id}/review`, { decision: 'approve' }, bearer(dept15))).status).toBe(200);
    }
    practitionerId = (await p.fixtures.create<Practitioner>({ resourceType: 'Practitioner', name: [{ family: 'Trần', given: ['Chuyên', 'Gia'] }] })).id!;
    patientId = (await p.fixtures.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Lò', given: ['Văn', 'Thử'] }] })).id!;
    // Five routine cardiology cases from A to H in January: accepted after 10–50 min, specialist after 60–100, three concluded:
    // local treatment advised for the first two (followed up: improved, then transferred after all), transfer for the third (stable).
    const followUps = [
      { transferAdvised: false, outcome: 'improved' },
      { transferAdvised: false, outcome: 'transferred' },
      { transferAdvised: true, outcome: 'stable' },
    ];
    for (let i = 0; i < 5; i++) {
      const steps = [
        { state: 'accepted', after: 10 * (i + 1) },
        { state: 'accepted', after: 60 + 10 * i, specialist: true },
        ...(i < 3
          ? [
              { state: 'concluded', after: 1000 * (i + 1), transferAdvised: followUps[i].transferAdvised },
              { state: 'acknowledged', after: 1000 * (i + 1) + 60, outcome: followUps[i].outcome },
            ]
          : []),
      ];
      await consult(i, f.A.id, f.H.id, 'cardiology', 'routine', `2026-01-0${i + 5}T08:00:00.000Z`, steps);
    }
    await consult(5, f.A.id, f.H.id, 'oncology', 'routine', '2026-01-20T08:00:00.000Z', [{ state: 'declined', after: 600 }]);
    await consult(6, f.B.id, f.H.id, 'cardiology', 'urgent', '2026-02-10T08:00:00.000Z', []);
    // Five meetings in February, H and A joined for an hour each.
    for (let i = 1; i <= 5; i++) {
      const start = `2026-02-0${i}T03:00:00.000Z`;
      const end = `2026-02-0${i}T04:00:00.000Z`;
      await p.fixtures.create<Encounter>({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
        serviceType: { coding: [CONSULT_CATEGORY] },
        period: { start, end },
        location: [f.H, f.A].map((x) => ({ location: { reference: `Location/${x.locationId}` }, status: 'completed' as const, period: { start, end } })),
      });
    }
    // Remote examinations at B in March: five for I10 (each with a prescription), two for E11.
    const visit = async (day: string, icd: string) =>
      p.fixtures.create<Encounter>({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
        subject: { reference: `Patient/${patientId}` },
        period: { start: `${day}T02:00:00.000Z`, end: `${day}T02:30:00.000Z` },
        reasonCode: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: icd }] }],
        serviceProvider: { reference: `Organization/${f.B.id}` },
      });
    for (let i = 0; i < 5; i++) {
      const e = await visit(`2026-03-1${i}`, 'I10');
      await p.fixtures.create({
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        groupIdentifier: { system: 'https://fhir.cauyte.vn/sid/prescription', value: `RX${i}` },
        medicationCodeableConcept: { text: 'Amlodipin 5 mg' },
        subject: { reference: `Patient/${patientId}` },
        encounter: { reference: `Encounter/${e.id}` },
        authoredOn: `2026-03-1${i}T02:30:00.000Z`,
      });
    }
    await visit('2026-03-20', 'E11');
    await visit('2026-03-21', 'E11');
    // At C, 01:30 on 1 April in Việt Nam (18:30 UTC on 31 March): a case to H, a meeting with H, an
    // examination with its prescription. All of it is April's (the March report above does not see it).
    await consult(7, f.C.id, f.H.id, 'cardiology', 'routine', EDGE, [{ state: 'accepted', after: 10 }]);
    await p.fixtures.create<Encounter>({
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
      serviceType: { coding: [CONSULT_CATEGORY] },
      period: { start: EDGE, end: at(EDGE, 60) },
      location: [f.H, f.C].map((x) => ({ location: { reference: `Location/${x.locationId}` }, status: 'completed' as const })),
    });
    const edgeVisit = await p.fixtures.create<Encounter>({
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
      subject: { reference: `Patient/${patientId}` },
      period: { start: EDGE, end: at(EDGE, 20) },
      serviceProvider: { reference: `Organization/${f.C.id}` },
    });
    await p.fixtures.create({
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      groupIdentifier: { system: 'https://fhir.cauyte.vn/sid/prescription', value: 'RX-EDGE' },
      medicationCodeableConcept: { text: 'Amlodipin 5 mg' },
      subject: { reference: `Patient/${patientId}` },
      encounter: { reference: `Encounter/${edgeVisit.id}` },
      authoredOn: '2026-04-01T01:45:00+07:00',
    });
  }, 180_000);
  afterAll(async () => p?.close());

  const report = async (token: string, q = PERIOD) => {
    const r = await call<IndicatorReport>(p, 'GET', `/api/programme/indicators?${q}`, undefined, bearer(token));
    expect(r.status).toBe(200);
    return r.body;
  };

  it('computes every indicator as computed by hand, with cells under 5 suppressed', async () => {
    const r = await report(dept15);
    expect(r.scope).toMatchObject({ kind: 'province', provinceCode: 15, label: 'Tỉnh Lào Cai' });
    expect(r.consults).toEqual({ requested: 7, accepted: 5, concluded: null });
    // February's 1 is suppressed, and so is January's 6 beside it: 7 − 6 would give it back (secondary suppression).
    expect(r.consultsByMonth).toEqual([
      { month: '2026-01', requested: null, accepted: 5, concluded: null },
      { month: '2026-02', requested: null, accepted: 0, concluded: 0 },
      { month: '2026-03', requested: 0, accepted: 0, concluded: 0 },
    ]);
    expect(r.consultsBySpecialty).toEqual([
      { specialty: 'cardiology', requested: null, accepted: 5, concluded: null },
      { specialty: 'oncology', requested: null, accepted: 0, concluded: 0 },
    ]);
    const d = (metric: string, urgency: string) => r.durations.find((x) => x.metric === metric && x.urgency === urgency);
    // Triage of the six routine cases: 10, 20, 30, 40, 50, 600 min → median 30, P90 600, all within 24 h.
    expect(d('triage', 'routine')).toEqual({
      urgency: 'routine',
      metric: 'triage',
      n: 6,
      medianMinutes: 30,
      p90Minutes: 600,
      targetMinutes: 1440,
      withinTarget: 6,
      shareWithinTarget: 1,
    });
    // Assignment of the five: 60–100 min → median 80, P90 100.
    expect(d('assignment', 'routine')).toMatchObject({ n: 5, medianMinutes: 80, p90Minutes: 100, withinTarget: 5, shareWithinTarget: 1 });
    // Three conclusions: suppressed.
    expect(d('conclusion', 'routine')).toMatchObject({ n: null, medianMinutes: null, p90Minutes: null, withinTarget: null });
    // The urgent case is not triaged yet: no duration.
    expect(d('triage', 'urgent')).toMatchObject({ n: 0, medianMinutes: null });
    expect(r.meetings).toEqual({ held: 5, sitesJoined: 10, hours: 10 });
    expect(r.visitsByCondition).toEqual([
      { condition: 'I10', visits: 5 },
      { condition: 'E11', visits: null },
    ]);
    expect(r.prescriptions).toBe(5);
    expect(r.coverage).toMatchObject({ publicFacilities: 4, approvedUnits: 3, share: 0.75, goal2030: 1 });
    // Silent on 31 March: C never active (90 days), A last active on 5 February (30 days).
    expect(r.silent.map((s) => [s.code, s.window, s.lastActivity, s.daysSilent])).toEqual([
      ['C0001', 90, null, null],
      ['A0001', 30, '2026-02-05', 54],
    ]);
    expect(r.provinces).toEqual([
      {
        provinceCode: 15,
        provinceName: 'Tỉnh Lào Cai',
        facilities: 5,
        publicFacilities: 4,
        approvedUnits: 3,
        coverage: 0.75,
        requested: 7,
        accepted: 5,
        concluded: null,
        meetingsJoined: 10,
        visits: 7,
        silent90: 1,
      },
    ]);
    // Drill-down: the province's facilities. B's 1 request is suppressed, and A's 6 beside it (the province row says 7).
    const a = r.facilities.find((x) => x.code === 'A0001')!;
    expect(r.facilities.find((x) => x.code === 'B0001')).toMatchObject({ requested: null });
    expect(a).toMatchObject({ requested: null, received: 0, meetingsJoined: 5, visits: 0, unitStatus: 'approved', lastActivity: '2026-02-05' });
    expect(r.facilities.find((x) => x.code === 'H0001')).toMatchObject({ requested: 0, received: 7, meetingsJoined: 5 });
  });

  it('counts by Vietnamese days and months: 01:30 on 1 April in Hà Nội is April, whatever UTC says', async () => {
    const sql = p.store.system('test: Vietnamese days', 'programme').sql;
    const day = (q: string) => sql.query<{ d: string }>(`SELECT to_char(d, 'YYYY-MM-DD') AS d FROM (${q}) x(d)`, [f.C.id]);
    expect((await day('SELECT agg_month FROM programme_consult WHERE requesting_org = $1')).rows).toEqual([{ d: '2026-04-01' }]);
    expect((await day('SELECT requested_day FROM programme_consult WHERE requesting_org = $1')).rows).toEqual([{ d: '2026-04-01' }]);
    expect((await day('SELECT day FROM programme_visit WHERE org_id = $1')).rows).toEqual([{ d: '2026-04-01' }]);
    expect((await day('SELECT day FROM programme_meeting_site WHERE org_id = $1')).rows).toEqual([{ d: '2026-04-01' }]);
    expect((await day("SELECT day FROM programme_prescription WHERE org_id = $1 AND rx_key LIKE '%RX-EDGE'")).rows).toEqual([{ d: '2026-04-01' }]);
    const month = await sql.query(
      `SELECT to_char(month, 'YYYY-MM') AS month, sent, meeting_sites, visits, prescriptions, to_char(last_day, 'YYYY-MM-DD') AS last_day
         FROM programme_activity_month WHERE org_id = $1`,
      [f.C.id],
    );
    expect(month.rows).toEqual([{ month: '2026-04', sent: 1, meeting_sites: 1, visits: 1, prescriptions: 1, last_day: '2026-04-01' }]);
    // Through the report: March (above) has none of it; on 1 April C has been active that day.
    const april = await report(dept15, 'from=2026-04&to=2026-04&asOf=2026-04-01');
    expect(april.facilities.find((x) => x.code === 'C0001')).toMatchObject({ lastActivity: '2026-04-01' });
    expect(april.silent.map((s) => s.code)).not.toContain('C0001');
    // A unit approved at that instant counts in the coverage trend from April.
    const ev = await p.store
      .system('test: Vietnamese days', 'programme')
      .sql.query<{ id: number }>(
        "INSERT INTO programme_declaration_event (org_id, response_id, status, actor, at) VALUES ($1, 'edge', 'approved', 'test', $2) RETURNING id",
        [f.D.id, EDGE],
      );
    try {
      const trend = (await report(ministry, 'from=2026-03&to=2026-04&asOf=2026-04-01')).coverage.trend;
      expect(trend.map((t) => [t.month, t.approvedUnits])).toEqual([
        ['2026-03', 0],
        ['2026-04', 1],
      ]);
    } finally {
      await p.store.system('test: Vietnamese days', 'programme').sql.query('DELETE FROM programme_declaration_event WHERE id = $1', [ev.rows[0].id]);
    }
    // The facility's own view (per-case rows, not the monthly aggregate) files the case in April too.
    const c = await report(await p.tokenFor('analyst', { org: f.C.id }), 'from=2026-03&to=2026-04&asOf=2026-04-01');
    expect(c.consultsByMonth.map((m) => [m.month, m.requested])).toEqual([
      ['2026-03', 0],
      ['2026-04', null], // one case: a small cell
    ]);
  });

  it('gives the Ministry every province, and the coverage trend by month', async () => {
    const r = await report(ministry);
    expect(r.provinces.map((x) => [x.provinceCode, x.publicFacilities, x.approvedUnits, x.coverage])).toEqual([
      [11, 1, 0, 0],
      [15, 4, 3, 0.75],
    ]);
    expect(r.coverage).toMatchObject({ publicFacilities: 5, approvedUnits: 3, share: 0.6 });
    // The units were approved today: the trend counts them from this month on.
    const now = new Date().toISOString().slice(0, 7);
    const trend = (await report(ministry, `to=${now}`)).coverage.trend;
    expect(trend.at(-1)).toEqual({ month: now, approvedUnits: 3, share: 0.6 });
    expect(trend.at(-2)!.approvedUnits).toBe(0);
  });

  it('answers the same numbers as a FHIR MeasureReport, CSV and XLSX', async () => {
    const r = await report(dept15);
    const mr = await call(
      p,
      'GET',
      `/fhir/R4/Measure/consult-requested/$evaluate-measure?periodStart=2026-01&periodEnd=2026-03-31&subject=15`,
      undefined,
      bearer(dept15),
    );
    expect(mr.status).toBe(200);
    expect(mr.body.resourceType).toBe('MeasureReport');
    expect(mr.body.group[0].population[0].count).toBe(r.consults.requested);
    expect(mr.body.group[0].stratifier[0].stratum.map((s: { population: { count?: number }[] }) => s.population[0].count ?? null)).toEqual(
      r.consultsByMonth.map((m) => m.requested),
    );
    const cov = await call(
      p,
      'GET',
      `/fhir/R4/Measure/coverage/$evaluate-measure?periodStart=2026-01&periodEnd=2026-03-31&subject=15`,
      undefined,
      bearer(dept15),
    );
    expect(cov.body.group[0].population.map((x: { count: number }) => x.count)).toEqual([3, 4]);
    expect(cov.body.group[0].measureScore.value).toBe(0.75);
    const concluded = await call(
      p,
      'GET',
      `/fhir/R4/Measure/consult-concluded/$evaluate-measure?periodStart=2026-01&periodEnd=2026-03-31`,
      undefined,
      bearer(dept15),
    );
    expect(concluded.body.group[0].population[0]).toMatchObject({ extension: [{ valueCode: 'masked' }] });
    expect(concluded.body.group[0].population[0].count).toBeUndefined();

    const csv = await call(p, 'GET', `/api/programme/indicators.csv?${PERIOD}`, undefined, bearer(dept15));
    expect(csv.status).toBe(200);
    expect(csv.text).toContain('consults.requested,tổng,7\r\n');
    expect(csv.text).toContain('consults.concluded,tổng,<5\r\n');
    expect(csv.text).toContain('time.medianMinutes,triage routine,30\r\n');
    expect(csv.text).toContain('coverage.share,hiện tại,75.0%\r\n');

    const x = await p.app.inject({ method: 'GET', url: `/api/programme/indicators.xlsx?${PERIOD}`, headers: { authorization: `Bearer ${dept15}` } });
    expect(x.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(x.rawPayload as never);
    const rows = wb.getWorksheet('Chỉ số')!.getSheetValues().slice(2) as unknown as [unknown, string, string, string][];
    const value = (ind: string, dim: string) => rows.find((row) => row[1] === ind && row[2] === dim)?.[3];
    expect(value('consults.requested', 'tổng')).toBe('7');
    expect(value('meetings.held', 'tổng')).toBe('5');
    expect(value('visits', 'ICD-10 E11')).toBe('<5');

    const pdf = await p.app.inject({ method: 'GET', url: `/api/programme/report.pdf?${PERIOD}`, headers: { authorization: `Bearer ${dept15}` } });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('keeps each analyst to their scope and away from identifiable records', async () => {
    expect((await call(p, 'GET', `/api/programme/indicators?province=15&${PERIOD}`, undefined, bearer(dept11))).status).toBe(403);
    expect((await call(p, 'GET', `/api/programme/indicators?facility=${f.A.id}&${PERIOD}`, undefined, bearer(dept11))).status).toBe(403);
    // A facility administrator sees their facility only.
    const faA = await p.tokenFor('facility_admin', { org: f.A.id });
    const own = await report(faA);
    expect(own.scope).toMatchObject({ kind: 'facility', facilityId: f.A.id });
    expect(own.consults.requested).toBe(6);
    expect(own.provinces).toEqual([]);
    expect((await call(p, 'GET', `/api/programme/indicators?facility=${f.B.id}&${PERIOD}`, undefined, bearer(faA))).status).toBe(403);
    // Clinicians and citizens have no indicators.
    expect(
      (await call(p, 'GET', `/api/programme/indicators?${PERIOD}`, undefined, bearer(await p.tokenFor('commune_clinician', { org: f.A.id })))).status,
    ).toBe(403);
    // No identifier of a patient, case or encounter in the answers.
    const text = JSON.stringify(await report(ministry)) + (await call(p, 'GET', `/api/programme/indicators.csv?${PERIOD}`, undefined, bearer(ministry))).text;
    expect(text).not.toContain(patientId);
    expect(text).not.toContain('fixed-');
    // The analyst reaches no record: FHIR reads and searches of clinical data are refused.
    for (const url of [`/fhir/R4/Patient/${patientId}`, '/fhir/R4/Patient', '/fhir/R4/Encounter', '/fhir/R4/ServiceRequest', '/fhir/R4/Task']) {
      expect((await call(p, 'GET', url, undefined, bearer(ministry))).status).toBe(403);
    }
  });

  it('keeps the monthly aggregate equal to a full recomputation from the FHIR resources', async () => {
    const sql = p.store.system('test: recompute', 'programme').sql;
    const kept = await sql.query(
      `SELECT to_char(month, 'YYYY-MM') AS month, province_code, level, specialty, urgency, requested, accepted, concluded,
              followed_up, improved, stable, transferred, died, local_advised, transfers_avoided
         FROM programme_consult_month WHERE requested <> 0 OR accepted <> 0 OR concluded <> 0 ORDER BY 1, 2, 3, 4, 5`,
    );
    const fresh = await recomputeConsultMonths(p.store);
    expect(fresh).toEqual(kept.rows);
    expect(fresh.length).toBeGreaterThan(0);
  });

  it('counts outcomes at follow-up and transfers avoided (local treatment advised, not transferred); small cells suppressed', async () => {
    const sql = p.store.system('test: outcomes', 'programme').sql;
    const sums = await sql.query(
      `SELECT sum(followed_up)::int AS followed_up, sum(improved)::int AS improved, sum(stable)::int AS stable, sum(transferred)::int AS transferred,
              sum(died)::int AS died, sum(local_advised)::int AS local_advised, sum(transfers_avoided)::int AS transfers_avoided
         FROM programme_consult_month WHERE province_code = 15`,
    );
    // Three followed up: improved (local advice: avoided), transferred (local advice: not avoided), stable (transfer advised).
    expect(sums.rows[0]).toEqual({ followed_up: 3, improved: 1, stable: 1, transferred: 1, died: 0, local_advised: 2, transfers_avoided: 1 });
    const r = await report(dept15);
    expect(r.outcomes).toEqual({
      followedUp: null,
      improved: null,
      stable: null,
      transferred: null,
      died: 0,
      localTreatmentAdvised: null,
      transfersAvoided: null,
    });
    const csv = (await call(p, 'GET', `/api/programme/indicators.csv?${PERIOD}`, undefined, bearer(dept15))).text;
    expect(csv).toContain('outcomes.transfersAvoided,tổng,<5');
  });
});
