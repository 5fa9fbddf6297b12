/**
 * Attacker's review of the programme dashboard (2026-11-30), kept as tests. Each `it` asserts the
 * secure behaviour and failed on the code as reviewed.
 *
 * A5. Small-cell suppression undone by subtraction inside one report: the total of consults was
 *     shown next to its breakdowns (by month, specialty, level, province) in which a single cell
 *     of 1–4 was suppressed — total minus the shown cells gave it back (7 requested; January 6,
 *     February "<5" → February 1; cardiology 6, oncology "<5" → oncology 1). Secondary
 *     suppression: once a breakdown hides a cell, it hides at least two, adding up to 5 or more.
 */
import type { Organization, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { CONSULT_CATEGORY, CONSULT_ID_SYSTEM, SPECIALTY_SYSTEM, STATE_SYSTEM } from '../consult/model.ts';
import type { Cell, FacilityView, IndicatorReport } from './contract.ts';
import { SMALL_CELL } from './indicators.ts';

const json = { 'content-type': 'application/json' };
const bearer = (t: string) => ({ authorization: `Bearer ${t}`, ...json });

/** What subtraction from the shown total tells about the hidden cells: undefined when nothing. */
function recovered(total: Cell, parts: Cell[]): string | undefined {
  if (total === null) return undefined;
  const hidden = parts.filter((c) => c === null).length;
  if (!hidden) return undefined;
  const rest = total - parts.reduce<number>((a, c) => a + (c ?? 0), 0);
  if (hidden === 1) return `the one hidden cell is ${rest}`;
  if (rest < SMALL_CELL) return `the ${hidden} hidden cells add up to ${rest}`;
  return undefined;
}

describe('attack review: programme indicators', () => {
  let p: TestPlatform;
  let dept: string;
  let ministry: string;
  const f: Record<string, FacilityView> = {};

  beforeAll(async () => {
    p = await startTestPlatform('pglite');
    const admin = await p.tokenFor('system_admin');
    for (const [key, level, commune] of [
      ['H', 'provincial', 2647],
      ['A', 'commune', 2680],
      ['D', 'commune', 3158],
    ] as const) {
      const r = await call<FacilityView>(
        p,
        'POST',
        '/api/programme/facilities',
        { code: `${key}0001`, name: `Cơ sở ${key}`, level, owner: 'public', provinceCode: key === 'D' ? 11 : 15, communeCode: commune },
        bearer(admin),
      );
      expect(r.status, r.text).toBe(201);
      f[key] = r.body;
    }
    const org = await p.fixtures.create<Organization>({ resourceType: 'Organization', name: 'Sở Y tế 15', active: true });
    await call(p, 'PUT', '/api/programme/authorities', { organizationId: org.id, provinceCode: 15 }, bearer(admin));
    dept = await p.tokenFor('analyst', { org: org.id });
    ministry = await p.tokenFor('analyst');
    const patientId = (await p.fixtures.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Lò', given: ['Văn', 'Thử'] }] })).id!;
    // Six cardiology cases in January, one oncology case in February: A → H (province 15); one from D (province 11) → H.
    const cases: [string, string, string][] = [
      ...Array.from({ length: 6 }, (_, i) => ['cardiology', `2026-01-0${i + 2}T08:00:00.000Z`, 'A'] as [string, string, string]),
      ['oncology', '2026-02-10T08:00:00.000Z', 'A'],
      ['cardiology', '2026-01-20T08:00:00.000Z', 'D'],
    ];
    for (const [n, [specialty, requested, from]] of cases.entries()) {
      const sr = await p.fixtures.create<ServiceRequest>({
        resourceType: 'ServiceRequest',
        identifier: [{ system: CONSULT_ID_SYSTEM, value: `atk-${n}` }],
        status: 'active',
        intent: 'order',
        category: [{ coding: [CONSULT_CATEGORY] }],
        code: { coding: [{ system: SPECIALTY_SYSTEM, code: specialty }] },
        priority: 'routine',
        subject: { reference: `Patient/${patientId}` },
        authoredOn: requested,
        performer: [{ reference: `Organization/${f.H.id}` }],
      });
      await p.fixtures.create<Task>({
        resourceType: 'Task',
        identifier: [{ system: CONSULT_ID_SYSTEM, value: `atk-${n}` }],
        status: 'requested',
        businessStatus: { coding: [{ system: STATE_SYSTEM, code: 'submitted' }] },
        intent: 'order',
        priority: 'routine',
        focus: { reference: `ServiceRequest/${sr.id}` },
        for: { reference: `Patient/${patientId}` },
        authoredOn: requested,
        lastModified: requested,
        requester: { reference: `Organization/${f[from].id}` },
        owner: { reference: `Organization/${f.H.id}` },
      });
    }
  }, 180_000);
  afterAll(async () => p?.close());

  it('A5. no suppressed cell of a breakdown can be recovered by subtracting the shown ones from the shown total', async () => {
    for (const q of ['from=2026-01&to=2026-03&asOf=2026-03-31', `from=2026-01&to=2026-03&asOf=2026-03-31&facility=${f.A.id}`]) {
      const res = await call<IndicatorReport>(p, 'GET', `/api/programme/indicators?${q}`, undefined, bearer(dept));
      expect(res.status, res.text).toBe(200);
      const r = res.body;
      expect(r.consults.requested, 'the dataset is there').toBe(7);
      const leaks: string[] = [];
      for (const metric of ['requested', 'accepted', 'concluded'] as const) {
        const check = (name: string, parts: Cell[]) => {
          const why = recovered(r.consults[metric], parts);
          if (why) leaks.push(`${q.includes('facility') ? 'facility ' : ''}${metric} by ${name}: ${why}`);
        };
        check(
          'month',
          r.consultsByMonth.map((x) => x[metric]),
        );
        check(
          'specialty',
          r.consultsBySpecialty.map((x) => x[metric]),
        );
        check(
          'level',
          r.consultsByLevel.map((x) => x[metric]),
        );
      }
      expect(leaks).toEqual([]);
    }
  });

  it('A5. nor a province row from the national total', async () => {
    const res = await call<IndicatorReport>(p, 'GET', '/api/programme/indicators?from=2026-01&to=2026-03&asOf=2026-03-31', undefined, bearer(ministry));
    expect(res.status, res.text).toBe(200);
    const r = res.body;
    expect(r.consults.requested).toBe(8);
    const leaks = (['requested', 'accepted', 'concluded'] as const).flatMap((m) => {
      const why = recovered(
        r.consults[m],
        r.provinces.map((x) => x[m]),
      );
      return why ? [`${m} by province: ${why}`] : [];
    });
    expect(leaks).toEqual([]);
  });

  it('A6. a facility user comparing periods gets only their own facility’s numbers for each period (JSON, CSV and $evaluate-measure), never another facility’s or province’s', async () => {
    const own = await p.tokenFor('facility_admin', { org: f.A.id });
    const get = (q: string) => call<IndicatorReport>(p, 'GET', `/api/programme/indicators?${q}`, undefined, bearer(own));
    // January: A sent 6, D (another province) 1 — the national view says 7; February: A's one oncology case.
    for (const [q, requested] of [
      ['from=2026-01&to=2026-01&asOf=2026-03-31', 6],
      ['from=2026-02&to=2026-02&asOf=2026-03-31', null],
      ['from=2026-01&to=2026-02&asOf=2026-03-31', 7],
    ] as const) {
      const r = await get(q);
      expect(r.status, r.text).toBe(200);
      expect(r.body.scope).toMatchObject({ kind: 'facility', facilityId: f.A.id });
      expect(r.body.consults.requested, q).toBe(requested);
      expect(r.body.provinces).toEqual([]);
      expect(r.body.facilities.map((x) => x.id)).toEqual([f.A.id]);
    }
    const national = await call<IndicatorReport>(p, 'GET', '/api/programme/indicators?from=2026-01&to=2026-01&asOf=2026-03-31', undefined, bearer(ministry));
    expect(national.body.consults.requested).toBe(7);
    // Asking for the other periods of another facility or province is refused, whatever the format.
    for (const q of [`facility=${f.D.id}`, `facility=${f.H.id}`, 'province=11']) expect((await get(`from=2026-01&to=2026-02&${q}`)).status, q).toBe(403);
    expect((await call(p, 'GET', `/api/programme/indicators.csv?from=2026-01&to=2026-01&facility=${f.D.id}`, undefined, bearer(own))).status).toBe(403);
    const measure = (subject: string) =>
      call(p, 'GET', `/fhir/R4/Measure/consult-requested/$evaluate-measure?periodStart=2026-01&periodEnd=2026-01&subject=${subject}`, undefined, bearer(own));
    expect((await measure(`Organization/${f.D.id}`)).status).toBe(403);
    expect((await measure('11')).status).toBe(403);
  });
});
