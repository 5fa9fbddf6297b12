/**
 * The detection algorithms on generated series: a clear injected outbreak (4× baseline for two
 * weeks in one commune) is flagged by every algorithm, a flat series (Poisson noise around a
 * baseline) is not; and properties that hold for any series (fast-check).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ALGORITHMS, alarms, detect, history } from './detect.ts';
import { poisson } from './generate.ts';
import { prng } from '../seed/prng.ts';

const flat = (seed: number, mean: number, weeks: number) => {
  const rnd = prng(seed);
  return Array.from({ length: weeks }, () => poisson(rnd, mean));
};

describe('outbreak detection', () => {
  it.each(ALGORITHMS)('%s flags 4× baseline for two weeks in one commune', (a) => {
    const x = flat(17, 5, 30);
    x[24] = 20;
    x[25] = 20;
    const hits = alarms(a, x);
    expect(hits.some((t) => t === 24 || t === 25)).toBe(true);
  });

  it.each(ALGORITHMS)('%s stays quiet on a flat Poisson series (mean 5, 30 weeks)', (a) => {
    expect(alarms(a, flat(17, 5, 30))).toEqual([]);
  });

  const LIMIT = { 'ears-c1': 2, 'ears-c2': 2, 'ears-c3': 5, cusum: 2 } as const;
  it.each(ALGORITHMS)('%s: false alarms on flat series stay rare over 200 seeds (C3 < 5, others < 2 per 100 weeks)', (a) => {
    let weeks = 0;
    let hits = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const x = flat(seed, 3 + (seed % 10), 40);
      hits += alarms(a, x).length;
      weeks += 40 - history(a);
    }
    expect((hits / weeks) * 100).toBeLessThan(LIMIT[a]);
  });

  it('records the baseline, threshold and statistic it used', () => {
    const x = [2, 3, 2, 4, 3, 2, 3, 12];
    const r = detect('ears-c1', x)[7]!;
    expect(r.baseline).toEqual([2, 3, 2, 4, 3, 2, 3]);
    expect(r.expected).toBeCloseTo(19 / 7);
    expect(r.threshold).toBe(3);
    expect(r.alarm).toBe(true);
    expect(
      detect('ears-c1', x)
        .slice(0, 7)
        .every((v) => v === undefined),
    ).toBe(true);
  });

  it('one case in a commune that had none is not an EARS signal; an all-zero baseline keeps z finite', () => {
    const x = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    for (const a of ['ears-c1', 'ears-c2', 'ears-c3'] as const) expect(alarms(a, x)).toEqual([]);
    expect(Number.isFinite(detect('ears-c1', x)[10]!.statistic)).toBe(true);
  });

  it('refuses negative or non-finite counts', () => {
    expect(() => detect('cusum', [1, -1])).toThrow(RangeError);
  });

  const series = fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 14, maxLength: 40 });

  it('property: raising the last week never removes an alarm there (C1, C2, CUSUM)', () => {
    fc.assert(
      fc.property(series, fc.integer({ min: 1, max: 50 }), (x, extra) => {
        for (const a of ['ears-c1', 'ears-c2', 'cusum'] as const) {
          const before = detect(a, x).at(-1)!;
          const after = detect(a, [...x.slice(0, -1), x.at(-1)! + extra]).at(-1)!;
          if (before.alarm && !after.alarm) return false;
          if (after.statistic < before.statistic - 1e-9) return false;
        }
        return true;
      }),
    );
  });

  it('property: without the Poisson floor, EARS statistics do not change when every week gains the same number of cases', () => {
    fc.assert(
      fc.property(series, fc.integer({ min: 0, max: 30 }), (x, c) => {
        for (const a of ['ears-c1', 'ears-c2', 'ears-c3'] as const) {
          const s1 = detect(a, x, { poissonFloor: false }).map((r) => r?.statistic);
          const s2 = detect(
            a,
            x.map((v) => v + c),
            { poissonFloor: false },
          ).map((r) => r?.statistic);
          if (s1.some((v, i) => (v === undefined ? s2[i] !== undefined : Math.abs(v - s2[i]!) > 1e-9))) return false;
        }
        return true;
      }),
    );
  });

  it('property: every result has a baseline of the documented length and an alarm only above the threshold', () => {
    fc.assert(
      fc.property(series, (x) =>
        ALGORITHMS.every((a) =>
          detect(a, x).every((r, t) => {
            if (!r) return t < history(a);
            return r.baseline.length === (a === 'cusum' ? 10 : 7) && (!r.alarm || r.statistic > r.threshold) && r.observed === x[t];
          }),
        ),
      ),
    );
  });
});
