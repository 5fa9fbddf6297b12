/**
 * Template validation of device Observations (templates.ts, observations.ts) gives the same verdict
 * as the full write-path check on every resource: Observations of every kind of reading with
 * ordinary and odd slot values (message ids with spaces, markup or control characters, ids that
 * are not ids, times that are not instants, numbers that are tiny, huge or not finite), and
 * deterministic mutations of the fixed parts. "Same verdict" means: vouched for ⇒ the full check
 * accepts it; not vouched for ⇒ the store runs the full check anyway. Also: the store does not
 * validate a vouched Observation again, and a vouched Observation cannot be changed afterwards.
 */
import { randomUUID } from 'node:crypto';
import type { Observation, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { prng } from '../../seed/prng.ts';
import { FhirError } from '../../fhir/outcome.ts';
import { isVouched, vouchByTemplate } from '../../fhir/templates.ts';
import { assertValidResource } from '../../fhir/validate.ts';
import { mutate } from '../../fhir/validator-mutants.ts';
import { checkReading } from '../readings.ts';
import type { Accepted } from './checks.ts';
import { buildObservations, DEVICE_MESSAGE_SYSTEM, slotsOf } from './observations.ts';

const READINGS: unknown[] = [
  { type: 'bp', systolic: 135, diastolic: 85, unit: 'mm[Hg]' },
  { type: 'bp', systolic: 300, diastolic: 20.5, unit: 'mm[Hg]' },
  { type: 'hr', value: 72, unit: '/min' },
  { type: 'spo2', value: 96.5, unit: '%' },
  { type: 'temp', value: 37.25, unit: 'Cel' },
  { type: 'weight', value: 0.3, unit: 'kg' },
  { type: 'glucose', value: 6.1, unit: 'mmol/L' },
  { type: 'glucose', value: 110, unit: 'mg/dL' },
];
const IDS = ['p1', randomUUID(), 'a'.repeat(64), 'A-b.9', 'bad id', '', '../x', 'a'.repeat(65), 'ü'];
const MSG_IDS = ['m1', randomUUID(), 'r1-b5', 'a b', ' lead', '<script>alert(1)</script>', 'ü', 'x'.repeat(100), 'a\tb', 'a\u0001b', ':::', '', 'a\u00a0b'];
const TIMES = [
  '2026-11-25T01:30:00.000Z',
  '1900-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '0000-01-01T00:00:00.000Z',
  '2026-02-30T00:00:00.000Z',
  '2026-11-25T08:30:00+07:00',
  '2026-11-25',
  '2026-11-25T01:30:00Z',
];
const NUMBERS: unknown[] = [0, -0, 1e-7, 1e-6, 123456789012345, 1e15, 1e21, -5, 0.1 + 0.2, Number.NaN, Number.POSITIVE_INFINITY, '96', null];

/** The full check, as the store runs it on a new resource (with the id and meta it sets). */
function fullVerdict(o: Resource): boolean {
  try {
    assertValidResource({ ...o, id: randomUUID(), meta: { versionId: '1', lastUpdated: new Date().toISOString() } });
    return true;
  } catch (err) {
    // A few mutants make the full check throw a TypeError (identifier: [null]): refused all the same.
    if (!(err instanceof FhirError) && !(err instanceof TypeError)) throw err;
    return false;
  }
}

/** An Observation as buildObservations makes it, not yet vouched for (so odd values can be put in). */
function observation(reading: unknown, deviceId: string, msgId: string, patientId: string, time: string): Observation {
  const c = checkReading(reading);
  if (!('observation' in c)) throw new Error(`test reading refused: ${JSON.stringify(c)}`);
  return structuredClone({
    ...c.observation,
    identifier: [{ system: DEVICE_MESSAGE_SYSTEM, value: `${deviceId}:${msgId}:0` }],
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: time,
    device: { reference: `Device/${deviceId}` },
  }) as Observation;
}

describe('device Observations validated by template', () => {
  it('give the full check’s verdict on generated and mutated Observations', () => {
    const rnd = prng(6);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
    const counts = { vouched: 0, notVouched: 0, fullInvalid: 0, cases: 0 };
    const disagreements: string[] = [];
    const judge = (o: Observation) => {
      const full = fullVerdict(o);
      const v = vouchByTemplate(o, slotsOf(o));
      counts.cases++;
      if (v) counts.vouched++;
      else counts.notVouched++;
      if (!full) counts.fullInvalid++;
      // Vouched for means valid; not vouched for means the store checks in full (same verdict by construction).
      if (v && !full) disagreements.push(JSON.stringify(o));
    };
    for (let i = 0; i < 2500; i++) {
      const o = observation(pick(READINGS), pick(IDS), pick(MSG_IDS), pick(IDS), pick(TIMES));
      if (rnd() < 0.3) {
        const slots = slotsOf(o).filter((s) => s.kind === 'decimal');
        let parent = o as unknown as Record<string | number, unknown>;
        const s = pick(slots);
        for (const k of s.path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
        parent[s.path[s.path.length - 1]] = pick(NUMBERS);
      }
      judge(o);
    }
    // The fixed parts mutated (wrong codes, types, cardinalities, extra elements …): each a new template.
    for (let i = 0; i < 1500; i++) {
      const base = observation(pick(READINGS), 'dev-1', `m${i}`, 'p1', TIMES[0]);
      judge(structuredClone(mutate(base, rnd)) as Observation);
    }
    expect(disagreements.slice(0, 3)).toEqual([]);
    // The comparison is not vacuous: many vouched for, and many the full check refuses.
    expect(counts.vouched).toBeGreaterThan(400);
    expect(counts.fullInvalid).toBeGreaterThan(400);
    expect(counts.notVouched).toBeGreaterThan(counts.fullInvalid);
  });

  it('an invalid template is never vouched for, whatever its slot values', () => {
    const o = observation(READINGS[2], 'dev-1', 'm1', 'p1', TIMES[0]);
    (o as { status: string }).status = 'bogus';
    expect(fullVerdict(o)).toBe(false);
    expect(vouchByTemplate(o, slotsOf(o))).toBe(false);
    expect(isVouched(o)).toBe(false);
  });

  it('buildObservations vouches for ordinary readings, which then cannot change', () => {
    const readings = READINGS.map((r) => checkReading(r)).filter((c) => 'observation' in c);
    const a = { i: 0, deviceId: 'dev-1', msgId: 'm-1', patientId: 'p-1', limits: {}, time: TIMES[0], readings, problems: [] } as unknown as Accepted;
    const obs = buildObservations(a);
    expect(obs.every((o) => isVouched(o))).toBe(true);
    expect(obs.every((o) => fullVerdict(o))).toBe(true);
    expect(() => {
      (obs[0].subject as { reference: string }).reference = 'Patient/other';
    }).toThrow(TypeError);
    // An odd message id: not vouched for (the store checks it in full).
    expect(buildObservations({ ...a, msgId: 'a b' }).some((o) => isVouched(o))).toBe(false);
  });
});
