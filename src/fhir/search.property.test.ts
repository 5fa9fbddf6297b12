/**
 * Property: for every supported parameter, a search returns exactly the resources that a direct
 * filter over the stored set returns. The filters below are written from the FHIR search rules
 * in the plainest way (string prefixes of day-precision dates, arithmetic on numbers), not with
 * the store's code.
 */
import fc from 'fast-check';
import type { Bundle, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../testing/databases.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

const FAMILIES = ['Nguyễn', 'Nguyên', 'Đặng', 'Dương', 'Lê', 'Lò', 'Hồ', 'Hoàng', 'Trần', 'Smith'];
const GIVENS = ['An', 'Ánh', 'Anh', 'Đức', 'Dũng', 'Hà', 'Hải', 'Lan', 'Lân', 'Minh', 'Thị', 'Văn'];
const CODES = ['8867-4', '59408-5', '8310-5', '29463-7'];
const SYSTEMS = ['urn:a', 'urn:b'];

/** The folding a Vietnamese user expects: no tone or vowel marks, đ = d, any case. */
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/gi, 'd').toLowerCase();

/** Dates on the edges of years and months, where off-by-one mistakes in range logic show. */
const EDGE_DAYS = ['1989-12-31', '1990-01-01', '1990-06-30', '1990-07-01', '1990-12-31', '1991-01-01', '2000-02-29'];
const dayArb = (min: string, max: string) =>
  fc.oneof(
    fc.constantFrom(...EDGE_DAYS),
    fc.date({ min: new Date(min), max: new Date(max), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  );

const patientArb = fc.record({
  family: fc.constantFrom(...FAMILIES),
  given: fc.array(fc.constantFrom(...GIVENS), { minLength: 1, maxLength: 2 }),
  gender: fc.constantFrom('male', 'female', 'other', undefined),
  birthDate: fc.option(dayArb('1930-01-01', '2020-12-31'), { nil: undefined }),
  identifier: fc.option(fc.record({ system: fc.constantFrom(...SYSTEMS), value: fc.constantFrom('X1', 'X2', 'Y1') }), { nil: undefined }),
  deleted: fc.boolean(),
});

const obsArb = fc.record({
  patient: fc.nat(),
  code: fc.constantFrom(...CODES),
  effective: fc.date({ min: new Date('2024-01-01'), max: new Date('2026-12-31'), noInvalidDate: true }).map((d) => `${d.toISOString().slice(0, 19)}Z`),
  value: fc.integer({ min: 0, max: 2000 }).map((n) => n / 10),
});

type DateOp = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb';
const DATE_OPS: DateOp[] = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'];

/** Day- or second-precision value vs a query at year/month/day precision, by string prefix order. */
function dateMatches(value: string | undefined, op: DateOp, q: string): boolean {
  if (!value) return false;
  const v = value.slice(0, q.length);
  switch (op) {
    case 'eq':
      return v === q;
    case 'ne':
      return v !== q;
    case 'gt':
    case 'sa':
      return v > q;
    case 'lt':
    case 'eb':
      return v < q;
    case 'ge':
      return v >= q;
    case 'le':
      return v <= q;
  }
}

const queryArb = fc.oneof(
  fc.record({
    kind: fc.constant('name' as const),
    param: fc.constantFrom('name', 'family', 'given'),
    text: fc.constantFrom(...FAMILIES, ...GIVENS, 'nguyen', 'ng', 'd', 'đ', 'lan', 'an', 'hoang an', 'nguyen van'),
    modifier: fc.constantFrom('', ':contains', ':exact'),
  }),
  fc.record({ kind: fc.constant('gender' as const), value: fc.constantFrom('male', 'female', 'other', 'unknown'), not: fc.boolean() }),
  fc.record({ kind: fc.constant('identifier' as const), system: fc.constantFrom(...SYSTEMS, ''), value: fc.constantFrom('X1', 'X2', 'Y1') }),
  fc.record({
    kind: fc.constant('birthdate' as const),
    op: fc.constantFrom(...DATE_OPS),
    date: dayArb('1930-01-01', '2020-12-31'),
    precision: fc.constantFrom(4, 7, 10),
  }),
  fc.record({ kind: fc.constant('missing' as const), param: fc.constantFrom('birthdate', 'gender', 'identifier'), missing: fc.boolean() }),
  fc.record({ kind: fc.constant('code' as const), code: fc.constantFrom(...CODES), withSystem: fc.boolean() }),
  fc.record({
    kind: fc.constant('obsdate' as const),
    op: fc.constantFrom(...DATE_OPS),
    date: fc.date({ min: new Date('2024-01-01'), max: new Date('2026-12-31'), noInvalidDate: true }),
    precision: fc.constantFrom(4, 7, 10),
  }),
  fc.record({
    kind: fc.constant('quantity' as const),
    op: fc.constantFrom('eq', 'ne', 'gt', 'lt', 'ge', 'le'),
    value: fc.integer({ min: 0, max: 2000 }).map((n) => n / 10),
  }),
  fc.record({ kind: fc.constant('subject' as const), patient: fc.nat() }),
);

describe.each(DB_KINDS)('search equals a direct filter (property, %s)', (kind) => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: [] });
  });
  afterAll(async () => p?.close());

  it('for every supported parameter', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(patientArb, { minLength: 1, maxLength: 15 }),
        fc.array(obsArb, { maxLength: 25 }),
        fc.array(queryArb, { minLength: 5, maxLength: 12 }),
        async (pats, obs, queries) => {
          await p.db.exec('TRUNCATE resource, resource_version, idx_string, idx_token, idx_reference, idx_date, idx_quantity, idx_uri');
          const stored: Patient[] = [];
          for (const gp of pats) {
            const r = await p.fixtures.create({
              resourceType: 'Patient',
              name: [{ family: gp.family, given: gp.given }],
              ...(gp.gender ? { gender: gp.gender } : {}),
              ...(gp.birthDate ? { birthDate: gp.birthDate } : {}),
              ...(gp.identifier ? { identifier: [gp.identifier] } : {}),
            } as Patient);
            stored.push(r as Patient);
          }
          const storedObs: Observation[] = [];
          for (const go of obs) {
            const subject = stored[go.patient % stored.length];
            storedObs.push(
              (await p.fixtures.create({
                resourceType: 'Observation',
                status: 'final',
                code: { coding: [{ system: 'http://loinc.org', code: go.code }] },
                subject: { reference: `Patient/${subject.id}` },
                effectiveDateTime: go.effective,
                valueQuantity: { value: go.value, system: 'http://unitsofmeasure.org', code: 'x' },
              } as Observation)) as Observation,
            );
          }
          const live = stored.filter((_, i) => !pats[i].deleted);
          for (const [i, r] of stored.entries()) if (pats[i].deleted) await p.fixtures.delete('Patient', r.id!);

          for (const q of queries) {
            let type: 'Patient' | 'Observation';
            let qs: string;
            let expected: Resource[];
            switch (q.kind) {
              case 'name': {
                type = 'Patient';
                qs = `${q.param}${q.modifier}=${encodeURIComponent(q.text)}`;
                const parts = (r: Patient) => {
                  const n = r.name![0];
                  const given = n.given ?? [];
                  if (q.param === 'family') return [n.family!];
                  if (q.param === 'given') return given;
                  return [n.family!, ...given, [n.family!, ...given].join(' '), [...given, n.family!].join(' ')];
                };
                const test = (s: string) =>
                  q.modifier === ':exact'
                    ? s === q.text.normalize('NFC')
                    : q.modifier === ':contains'
                      ? fold(s).includes(fold(q.text))
                      : fold(s).startsWith(fold(q.text));
                expected = live.filter((r) => parts(r).some(test));
                break;
              }
              case 'gender':
                type = 'Patient';
                qs = `gender${q.not ? ':not' : ''}=${q.value}`;
                expected = live.filter((r) => (q.not ? r.gender !== q.value : r.gender === q.value));
                break;
              case 'identifier':
                type = 'Patient';
                qs = `identifier=${encodeURIComponent(q.system ? `${q.system}|${q.value}` : q.value)}`;
                expected = live.filter((r) => r.identifier?.some((id) => id.value === q.value && (!q.system || id.system === q.system)));
                break;
              case 'birthdate': {
                type = 'Patient';
                const d = q.date.slice(0, q.precision);
                qs = `birthdate=${q.op}${d}`;
                expected = live.filter((r) => dateMatches(r.birthDate, q.op, d));
                break;
              }
              case 'missing':
                type = 'Patient';
                qs = `${q.param}:missing=${q.missing}`;
                expected = live.filter((r) => (r[q.param === 'birthdate' ? 'birthDate' : q.param] === undefined) === q.missing);
                break;
              case 'code':
                type = 'Observation';
                qs = `code=${encodeURIComponent(q.withSystem ? `http://loinc.org|${q.code}` : q.code)}`;
                expected = storedObs.filter((o) => o.code.coding![0].code === q.code);
                break;
              case 'obsdate': {
                type = 'Observation';
                const d = q.date.toISOString().slice(0, q.precision);
                qs = `date=${q.op}${d}`;
                expected = storedObs.filter((o) => dateMatches(o.effectiveDateTime, q.op, d));
                break;
              }
              case 'quantity': {
                type = 'Observation';
                qs = `value-quantity=${q.op}${q.value}`;
                const decimals = String(q.value).split('.')[1]?.length ?? 0;
                const half = 0.5 * 10 ** -decimals;
                const v = (o: Observation) => o.valueQuantity!.value!;
                const pred = {
                  eq: (o: Observation) => v(o) >= q.value - half && v(o) < q.value + half,
                  ne: (o: Observation) => !(v(o) >= q.value - half && v(o) < q.value + half),
                  gt: (o: Observation) => v(o) > q.value,
                  lt: (o: Observation) => v(o) < q.value,
                  ge: (o: Observation) => v(o) >= q.value,
                  le: (o: Observation) => v(o) <= q.value,
                }[q.op];
                expected = storedObs.filter(pred);
                break;
              }
              case 'subject': {
                type = 'Observation';
                const target = stored[q.patient % stored.length];
                qs = `subject=Patient/${target.id}`;
                expected = storedObs.filter((o) => o.subject!.reference === `Patient/${target.id}`);
                break;
              }
            }
            const res = await call<Bundle>(p, 'GET', `/fhir/R4/${type}?${qs}&_count=1000`);
            expect(res.status, `${type}?${qs}: ${res.text.slice(0, 300)}`).toBe(200);
            const got = (res.body.entry ?? []).map((e) => e.resource!.id!).sort();
            expect(got, `${type}?${qs}`).toEqual(expected.map((r) => r.id!).sort());
            if (got.length > 0) nonEmpty++;
          }
        },
      ),
      { numRuns: 50, endOnFailure: true },
    );
    // The property must have been exercised with queries that found something.
    expect(nonEmpty).toBeGreaterThan(25);
  });
});
