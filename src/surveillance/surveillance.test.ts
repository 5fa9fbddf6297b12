/**
 * Early warning through the API (PGlite): coded diagnoses become weekly counts per commune
 * (distinct persons; a refuted or deleted diagnosis leaves the count), an injected dengue outbreak
 * raises signals with their algorithm, threshold and data; the province's disease-control officer
 * confirms one with a note (recorded, audited; a second decision is refused); a single Group-A case
 * raises a signal and an urgent notification to the province's centre only; aggregates are full for
 * the officer and suppressed (<5) for the analyst; the administrator loads a validated list version;
 * a person registered without an address counts in their commune once one is added.
 * Denials: clinician, citizen, another province's officer, the analyst on the officer's routes.
 */
import type { Condition, Organization, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, sessionFor, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import type { AggregateReport, DiseaseListInfo, SeriesView, SignalList } from './contract.ts';
import { addWeeks, weekOf } from './weeks.ts';
import { bundledList } from './diseases.ts';
import { patientKey } from './listeners.ts';

const json = { 'content-type': 'application/json' };
const bearer = (t: string) => ({ authorization: `Bearer ${t}`, ...json });
const LAO_CAI = 15;
const BAT_XAT = 2683;
const HOP_THANH = 2680;
const DIEN_BIEN = 11;

describe('early warning (surveillance) on pglite', () => {
  let p: TestPlatform;
  // The notifiable-disease lists, population and authorities are settings a person makes (no app token).
  let admin: Record<string, string>;
  let officer: string;
  let otherOfficer: string;
  let officerInbox: Record<string, string>;
  let otherOfficerInbox: Record<string, string>;
  let clinician: string;
  let citizen: string;
  let ministry: string;
  let laoCaiCdc: string;
  let patients: string[] = [];
  const thisWeek = weekOf(new Date());

  const patientIn = async (commune: number, n: number) =>
    p.fixtures.create<Patient>({
      resourceType: 'Patient',
      name: [{ family: 'Thử', given: [`Người ${n}`] }],
      address: [{ use: 'home', city: commune === BAT_XAT ? 'Xã Bát Xát' : 'Xã Hợp Thành', state: 'Tỉnh Lào Cai', country: 'VN' }],
    });
  const diagnose = (patient: string, code: string, week: string, extra: Partial<Condition> = {}) =>
    p.fixtures.create<Condition>({
      resourceType: 'Condition',
      subject: { reference: `Patient/${patient}` },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code }] },
      onsetDateTime: `${addWeeks(week, 0)}T08:00:00Z`,
      ...extra,
    });

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['programme', 'surveillance'] });
    admin = { ...(await sessionFor(p, 'system_admin')), ...json };
    ministry = await p.tokenFor('analyst');
    clinician = await p.tokenFor('commune_clinician');
    for (const [name, code] of [
      ['Trung tâm Kiểm soát bệnh tật tỉnh Lào Cai', LAO_CAI],
      ['Trung tâm Kiểm soát bệnh tật tỉnh Điện Biên', DIEN_BIEN],
    ] as const) {
      const org = await p.fixtures.create<Organization>({ resourceType: 'Organization', name, active: true });
      const r = await call(p, 'PUT', '/api/surveillance/authorities', { organizationId: org.id, provinceCode: code }, admin);
      expect(r.status).toBe(200);
      const t = await p.tokenFor('disease_control', { org: org.id });
      // The inbox is a signed-in person's (a session), not a token's.
      const inbox = await sessionFor(p, 'disease_control', { org: org.id! });
      if (code === LAO_CAI) {
        officer = t;
        officerInbox = inbox;
        laoCaiCdc = org.id!;
      } else {
        otherOfficer = t;
        otherOfficerInbox = inbox;
      }
    }
    // 30 people in Bát Xát, 10 in Hợp Thành.
    patients = [];
    for (let i = 0; i < 30; i++) patients.push((await patientIn(BAT_XAT, i)).id!);
    for (let i = 0; i < 10; i++) patients.push((await patientIn(HOP_THANH, 100 + i)).id!);
    citizen = await p.tokenFor('citizen', { patient: patients[0] });
    // Dengue in Bát Xát: 2–3 cases a week for 12 weeks, then 12 this week (a clear outbreak).
    const baseline = [2, 3, 2, 2, 3, 2, 3, 2, 2, 3, 2, 3];
    for (const [i, n] of baseline.entries()) for (let k = 0; k < n; k++) await diagnose(patients[(i * 3 + k) % 30], 'A91', addWeeks(thisWeek, i - 12));
    for (let k = 0; k < 12; k++) await diagnose(patients[k], 'A90', thisWeek);
    // Hợp Thành: one dengue case this week (a small count).
    await diagnose(patients[30], 'A90', thisWeek);
  }, 240_000);
  afterAll(async () => p?.close());

  it('counts distinct persons per commune and week; a refuted or deleted diagnosis leaves the count', async () => {
    // The same person diagnosed twice in a week counts once.
    await diagnose(patients[0], 'A91.0', thisWeek);
    const refuted = await diagnose(patients[20], 'A90', thisWeek, { verificationStatus: { coding: [{ code: 'refuted' }] } });
    const s = await call<SeriesView>(p, 'GET', `/api/surveillance/series?disease=dengue&commune=${BAT_XAT}&weeks=13`, undefined, bearer(officer));
    expect(s.status).toBe(200);
    expect(s.body.weeks.map((w) => w.cases)).toEqual([2, 3, 2, 2, 3, 2, 3, 2, 2, 3, 2, 3, 12]);
    const extra = await diagnose(patients[25], 'A90', thisWeek);
    const up = await call<SeriesView>(p, 'GET', `/api/surveillance/series?disease=dengue&commune=${BAT_XAT}&weeks=13`, undefined, bearer(officer));
    expect(up.body.weeks.at(-1)!.cases).toBe(13);
    await p.fixtures.delete('Condition', extra.id!);
    await p.fixtures.update({ ...refuted, verificationStatus: { coding: [{ code: 'refuted' }] } });
    const down = await call<SeriesView>(p, 'GET', `/api/surveillance/series?disease=dengue&commune=${BAT_XAT}&weeks=13`, undefined, bearer(officer));
    expect(down.body.weeks.at(-1)!.cases).toBe(12);
    const province = await call<SeriesView>(p, 'GET', '/api/surveillance/series?disease=dengue&weeks=13', undefined, bearer(officer));
    expect(province.body.weeks.at(-1)!.cases).toBe(13);
    expect(province.body.place.name).toBe('Tỉnh Lào Cai');
  });

  it('raises signals for the outbreak with algorithm, threshold and data; the officer confirms one with a note', async () => {
    const r = await call<SignalList>(p, 'GET', '/api/surveillance/signals', undefined, bearer(officer));
    expect(r.status).toBe(200);
    expect(r.body.province).toEqual({ code: LAO_CAI, name: 'Tỉnh Lào Cai' });
    expect(r.body.listVerified).toBe(false);
    const batXat = r.body.signals.filter((s) => s.disease.code === 'dengue' && s.place.communeCode === BAT_XAT && s.week === thisWeek);
    expect(batXat.map((s) => s.algorithm).sort()).toEqual(['cusum', 'ears-c1', 'ears-c2', 'ears-c3']);
    for (const s of batXat) {
      expect(s.statistic).toBeGreaterThan(s.threshold);
      expect(s.observed).toBe(12);
      expect(s.status).toBe('open');
    }
    // One case in Hợp Thành is not a signal.
    expect(r.body.signals.some((s) => s.place.communeCode === HOP_THANH && s.algorithm !== 'group-a')).toBe(false);
    const c1 = batXat.find((s) => s.algorithm === 'ears-c1')!;
    expect((await call(p, 'POST', `/api/surveillance/signals/${c1.id}/decision`, { decision: 'confirmed', note: '' }, bearer(officer))).status).toBe(400);
    const ok = await call(
      p,
      'POST',
      `/api/surveillance/signals/${c1.id}/decision`,
      { decision: 'confirmed', note: 'Đã xác minh tại trạm y tế xã' },
      bearer(officer),
    );
    expect(ok.status).toBe(200);
    expect((await call(p, 'POST', `/api/surveillance/signals/${c1.id}/decision`, { decision: 'dismissed', note: 'đổi ý' }, bearer(officer))).status).toBe(409);
    const after = await call<SignalList>(p, 'GET', '/api/surveillance/signals?status=confirmed', undefined, bearer(officer));
    expect(after.body.signals.map((s) => [s.id, s.note])).toEqual([[c1.id, 'Đã xác minh tại trạm y tế xã']]);
    expect(after.body.signals[0].decidedBy).toBeTruthy();
    const audit = await p.db.query<{ action: string }>("SELECT action FROM audit_log WHERE action = 'surveillance.confirm'");
    expect(audit.rows.length).toBe(1);
    // A confirmed signal keeps its decision when more cases arrive.
    await diagnose(patients[26], 'A90', thisWeek);
    const still = await call<SignalList>(p, 'GET', '/api/surveillance/signals?status=confirmed', undefined, bearer(officer));
    expect(still.body.signals[0].observed).toBe(12);
  });

  it('a single Group-A case raises a signal and an urgent notification to the province’s centre only', async () => {
    await diagnose(patients[31], 'A00.1', thisWeek);
    const r = await call<SignalList>(p, 'GET', '/api/surveillance/signals', undefined, bearer(officer));
    const alert = r.body.signals.find((s) => s.algorithm === 'group-a');
    expect(alert).toMatchObject({ disease: { code: 'cholera', group: 'A' }, observed: 1, place: { communeCode: HOP_THANH } });
    const n = await call<{ title: string; urgent: boolean; kind: string }[]>(p, 'GET', '/api/notifications', undefined, officerInbox);
    expect(n.body.filter((x) => x.kind === 'surveillance').map((x) => [x.urgent, /Tả/.test(x.title)])).toEqual([[true, true]]);
    const other = await call<{ kind: string }[]>(p, 'GET', '/api/notifications', undefined, otherOfficerInbox);
    expect(other.body.filter((x) => x.kind === 'surveillance')).toEqual([]);
    const rows = await p.db.query<{ organization_id: string }>("SELECT organization_id FROM notification WHERE kind = 'surveillance'");
    expect(rows.rows.map((x) => x.organization_id)).toEqual([laoCaiCdc]);
  });

  it('aggregates: full counts for the officer, counts under 5 suppressed for the analyst', async () => {
    const full = await call<AggregateReport>(p, 'GET', '/api/surveillance/aggregates?weeks=2', undefined, bearer(officer));
    expect(full.status).toBe(200);
    expect(full.body.suppressed).toBe(false);
    const hop = full.body.cells.find((c) => c.disease === 'dengue' && c.place.code === HOP_THANH && c.week === thisWeek);
    expect(hop?.cases).toBe(1);
    const sup = await call<AggregateReport>(p, 'GET', '/api/surveillance/aggregates?weeks=2', undefined, bearer(ministry));
    expect(sup.body.suppressed).toBe(true);
    expect(sup.body.scope).toBe('national');
    const laoCai = sup.body.cells.filter((c) => c.place.code === LAO_CAI && c.week === thisWeek);
    // Bát Xát 13 (12 + one after the confirmation) and Hợp Thành 1.
    expect(laoCai.find((c) => c.disease === 'dengue')?.cases).toBe(14);
    expect(laoCai.find((c) => c.disease === 'cholera')?.cases).toBeNull();
    expect(sup.body.cells.every((c) => c.cases === null || c.cases >= 5)).toBe(true);
    // The officer may not look at another province.
    expect((await call(p, 'GET', `/api/surveillance/aggregates?province=${DIEN_BIEN}`, undefined, bearer(officer))).status).toBe(403);
  });

  it('refuses the officer’s routes to a clinician, a citizen, an analyst and another province’s officer', async () => {
    const signal = (await call<SignalList>(p, 'GET', '/api/surveillance/signals?status=open', undefined, bearer(officer))).body.signals[0];
    const decision = { decision: 'dismissed', note: 'không phải ổ dịch' };
    for (const t of [clinician, citizen, ministry]) {
      expect((await call(p, 'GET', '/api/surveillance/signals', undefined, bearer(t))).status).toBe(403);
      expect((await call(p, 'GET', '/api/surveillance/series?disease=dengue', undefined, bearer(t))).status).toBe(403);
      expect((await call(p, 'POST', `/api/surveillance/signals/${signal.id}/decision`, decision, bearer(t))).status).toBe(403);
    }
    for (const t of [clinician, citizen]) expect((await call(p, 'GET', '/api/surveillance/aggregates', undefined, bearer(t))).status).toBe(403);
    // Another province's officer: sees none of Lào Cai's signals, cannot decide them (404, no existence leak), nor read a Lào Cai commune.
    const theirs = await call<SignalList>(p, 'GET', '/api/surveillance/signals', undefined, bearer(otherOfficer));
    expect(theirs.body.province.code).toBe(DIEN_BIEN);
    expect(theirs.body.signals).toEqual([]);
    expect((await call(p, 'POST', `/api/surveillance/signals/${signal.id}/decision`, decision, bearer(otherOfficer))).status).toBe(404);
    expect((await call(p, 'GET', `/api/surveillance/series?disease=dengue&commune=${BAT_XAT}`, undefined, bearer(otherOfficer))).status).toBe(403);
    // The officer cannot load lists or register centres.
    expect((await call(p, 'GET', '/api/surveillance/disease-lists', undefined, bearer(officer))).status).toBe(403);
    expect((await call(p, 'PUT', '/api/surveillance/authorities', { organizationId: laoCaiCdc, provinceCode: DIEN_BIEN }, bearer(officer))).status).toBe(403);
    expect((await call(p, 'PUT', '/api/surveillance/population', { rows: [] }, bearer(officer))).status).toBe(403);
  });

  it('the administrator loads a validated, versioned disease list (the newest in force) and population denominators', async () => {
    const base = bundledList().list;
    const bad = await call(p, 'POST', '/api/surveillance/disease-lists', { ...base, version: 'bad', diseases: [{ ...base.diseases[0], group: 'D' }] }, admin);
    expect(bad.status).toBe(400);
    const dup = await call(p, 'POST', '/api/surveillance/disease-lists', { ...base, version: 'dup', diseases: [base.diseases[0], base.diseases[0]] }, admin);
    expect(dup.status).toBe(400);
    const official = { ...base, version: 'qd-1965-2026', diseases: base.diseases.map((d) => (d.code === 'cholera' ? { ...d, verified: true } : d)) };
    const ok = await call(p, 'POST', '/api/surveillance/disease-lists', official, admin);
    expect(ok.status).toBe(201);
    expect((await call(p, 'POST', '/api/surveillance/disease-lists', official, admin)).status).toBe(409);
    const info = await call<DiseaseListInfo>(p, 'GET', '/api/surveillance/disease-lists', undefined, admin);
    expect(info.body.inForce).toMatchObject({ version: 'qd-1965-2026', unverified: base.diseases.length - 1 });
    const pop = await call(
      p,
      'PUT',
      '/api/surveillance/population',
      { rows: [{ provinceCode: LAO_CAI, communeCode: BAT_XAT, year: 2025, population: 20_000, source: 'test figure' }] },
      admin,
    );
    expect(pop.status).toBe(200);
    expect(
      (
        await call(
          p,
          'PUT',
          '/api/surveillance/population',
          { rows: [{ provinceCode: LAO_CAI, communeCode: 3127, year: 2025, population: 5, source: 'x y z' }] },
          admin,
        )
      ).status,
    ).toBe(400);
    const s = await call<SeriesView>(p, 'GET', `/api/surveillance/series?disease=dengue&commune=${BAT_XAT}&weeks=4`, undefined, bearer(officer));
    expect(s.body.population?.value).toBe(20_000);
    expect(s.body.weeks.at(-1)!.ratePer100k).toBeCloseTo((13 * 100_000) / 20_000);
  });

  it('counts an encounter reason (ICD-10) and a positive lab result (LOINC), not a negative one', async () => {
    const at = `${thisWeek}T09:00:00Z`;
    await p.fixtures.create({
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: `Patient/${patients[32]}` },
      period: { start: at },
      reasonCode: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'A90' }] }],
    });
    const lab = (patient: string, positive: boolean) =>
      p.fixtures.create({
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '75377-2' }] },
        subject: { reference: `Patient/${patient}` },
        effectiveDateTime: at,
        interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: positive ? 'POS' : 'NEG' }] }],
      });
    await lab(patients[33], true);
    await lab(patients[34], false);
    const s = await call<SeriesView>(p, 'GET', `/api/surveillance/series?disease=dengue&commune=${HOP_THANH}&weeks=4`, undefined, bearer(officer));
    expect(s.body.weeks.at(-1)!.cases).toBe(3);
  });

  it('a person registered without an address is counted in their commune once one is added', async () => {
    const hopThanh = async () =>
      (await call<SeriesView>(p, 'GET', `/api/surveillance/series?disease=dengue&commune=${HOP_THANH}&weeks=13`, undefined, bearer(officer))).body.weeks.at(-1)!
        .cases;
    const before = await hopThanh();
    const person = await p.fixtures.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Thử', given: ['Chưa có địa chỉ'] }] });
    // A new Patient with no place writes no place row (nothing to record).
    const rows = async () =>
      (await p.db.query<{ n: number }>('SELECT count(*)::int AS n FROM surveillance_patient_place WHERE patient_key = $1', [patientKey(person.id!)])).rows[0].n;
    expect(await rows()).toBe(0);
    await diagnose(person.id!, 'A90', thisWeek);
    expect(await hopThanh()).toBe(before);
    await p.fixtures.update<Patient>({ ...person, address: [{ use: 'home', city: 'Xã Hợp Thành', state: 'Tỉnh Lào Cai', country: 'VN' }] });
    expect(await rows()).toBe(1);
    expect(await hopThanh()).toBe(before + 1);
  });
});
