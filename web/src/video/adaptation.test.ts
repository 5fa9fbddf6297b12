/**
 * The send adaptation as pure logic: steps down one level at a time, holds through a blackout,
 * probes upward from audio only (the bug of issue #20: an audio-only sender never came back), and
 * obeys the person's own limit. Property tests over random sample sequences check the invariants.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DOWN_AFTER, PROBE_FIRST_MS, PROBE_MAX_MS, PROBE_TRIAL_MS, SendAdaptation, UP_AFTER, ceilingFor, type UplinkSample } from './adaptation.ts';

const STEP = 2000;
/** Feeds samples every 2 s from `t0`; returns the levels seen. */
function run(a: SendAdaptation, t0: number, samples: Partial<UplinkSample>[]): { levels: string[]; t: number } {
  let t = t0;
  const levels = samples.map((s) => {
    t += STEP;
    return a.update({ at: t, cap: null, warm: true, ...s });
  });
  return { levels, t };
}
const times = <T>(n: number, x: T): T[] => Array.from({ length: n }, () => x);

describe('send adaptation', () => {
  it('steps down full → low → audio one step at a time, even when the estimate falls straight to audio-only levels', () => {
    const a = new SendAdaptation();
    const { levels } = run(a, 0, times(4, { estimate: 60_000 }));
    expect(levels).toEqual(['full', 'low', 'low', 'audio']);
  });

  it('ignores a single dip; heavy loss or a long round trip count as one level lower', () => {
    const a = new SendAdaptation();
    expect(run(a, 0, [{ estimate: 200_000 }, { estimate: 800_000 }, { estimate: 200_000 }]).levels).toEqual(['full', 'full', 'full']);
    const b = new SendAdaptation();
    expect(run(b, 0, times(2, { estimate: 800_000, loss: 0.15 })).levels).toEqual(['full', 'low']);
    const c = new SendAdaptation();
    expect(run(c, 0, times(2, { estimate: 800_000, rtt: 1.5 })).levels).toEqual(['full', 'low']);
  });

  it('before media has warmed up, may lower the picture but never turns video off', () => {
    const a = new SendAdaptation();
    expect(run(a, 0, times(8, { estimate: 50_000, warm: false })).levels.at(-1)).toBe('low');
  });

  it('holds the level through a blackout, and waits for the link to settle after it', () => {
    const a = new SendAdaptation();
    const { t } = run(a, 0, times(3, { stalled: true }));
    expect(a.level).toBe('full');
    // Just after: stale, lossy numbers do not count yet.
    expect(run(a, t, [{ estimate: 80_000, loss: 0.5 }]).levels).toEqual(['full']);
  });

  it('from audio only, probes with the low level after a pause; keeps video when the estimate reaches the threshold', () => {
    const a = new SendAdaptation();
    let { t } = run(a, 0, times(4, { estimate: 60_000 }));
    expect(a.level).toBe('audio');
    // Audio alone: the estimate stays low. The trial starts after PROBE_FIRST_MS anyway.
    ({ t } = run(a, t, times(PROBE_FIRST_MS / STEP, { estimate: 90_000 })));
    expect(a.level).toBe('low');
    expect(a.probeSince).toBeDefined();
    // With video on, the estimator sees more traffic and its estimate rises.
    ({ t } = run(a, t, [{ estimate: 120_000 }, { estimate: 180_000 }, { estimate: 260_000 }]));
    expect(a.level).toBe('low');
    expect(a.probeSince).toBeUndefined();
    // And on to full once clearly above the low threshold.
    const up = run(a, t, times(UP_AFTER, { estimate: 900_000 }));
    expect(up.levels.at(-1)).toBe('full');
  });

  it('a failed trial goes back to audio only, and the next one waits twice as long (at most PROBE_MAX_MS)', () => {
    const a = new SendAdaptation();
    let { t } = run(a, 0, times(4, { estimate: 60_000 }));
    const probeStarts: number[] = [];
    for (let i = 0; i < 60; i++) {
      t += STEP;
      const before = a.probeSince;
      a.update({ at: t, estimate: 100_000, cap: null, warm: true });
      if (before === undefined && a.probeSince !== undefined) probeStarts.push(t);
    }
    expect(probeStarts.length).toBeGreaterThanOrEqual(3);
    const gaps = probeStarts.slice(1).map((x, i) => x - probeStarts[i] - PROBE_TRIAL_MS);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(PROBE_MAX_MS + 2 * STEP);
  });

  it('at low on a link that carries it, tries the full picture after a pause (the low picture alone keeps the estimate low)', () => {
    const a = new SendAdaptation();
    let { t } = run(a, 0, times(2, { estimate: 200_000 }));
    expect(a.level).toBe('low');
    // The estimate stays where the low picture puts it: below the full threshold, above audio's.
    ({ t } = run(a, t, times(PROBE_FIRST_MS / STEP, { estimate: 220_000 })));
    expect([a.level, a.trialFrom]).toEqual(['full', 'low']);
    // Sending the full picture, the estimator finds the room: the full picture stays.
    run(a, t, times(2, { estimate: 700_000 }));
    expect([a.level, a.trialFrom, a.probeSince]).toEqual(['full', undefined, undefined]);
    // On a link that cannot carry it, the trial ends back at low.
    const b = new SendAdaptation();
    ({ t } = run(b, 0, times(2, { estimate: 200_000 })));
    run(b, t, times(PROBE_FIRST_MS / STEP + PROBE_TRIAL_MS / STEP + 1, { estimate: 220_000 }));
    expect(b.level).toBe('low');
  });

  it('a trial that hurts the link (heavy loss) ends early', () => {
    const a = new SendAdaptation();
    let { t } = run(a, 0, times(4, { estimate: 60_000 }));
    ({ t } = run(a, t, times(PROBE_FIRST_MS / STEP, { estimate: 90_000 })));
    expect(a.level).toBe('low');
    expect(run(a, t, times(DOWN_AFTER, { estimate: 90_000, loss: 0.3 })).levels.at(-1)).toBe('audio');
  });

  it("the person's own limit applies at once, and below the audio-only threshold nothing is probed", () => {
    const a = new SendAdaptation();
    expect(run(a, 0, [{ estimate: 900_000, cap: 100_000 }]).levels).toEqual(['audio']);
    const { levels } = run(a, 0, times(40, { estimate: 900_000, cap: 100_000 }));
    expect(new Set(levels)).toEqual(new Set(['audio']));
    expect(ceilingFor(250_000)).toBe('low');
    a.reset();
    expect(a.level).toBe('full');
  });

  const sample = fc.record({
    estimate: fc.option(fc.integer({ min: 0, max: 3_000_000 }), { nil: undefined }),
    loss: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    rtt: fc.option(fc.double({ min: 0, max: 3, noNaN: true }), { nil: undefined }),
    stalled: fc.boolean(),
    cap: fc.constantFrom(null, 100_000, 250_000, 1_000_000),
    warm: fc.boolean(),
  });

  it('property: never skips the low level on the way down, never exceeds the cap, never turns video off before warm-up', () => {
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 80 }), (samples) => {
        const a = new SendAdaptation();
        let prev = a.level;
        let t = 0;
        for (const s of samples) {
          t += STEP;
          const level = a.update({ ...s, at: t });
          const ceiling = ceilingFor(s.cap);
          const rank = { audio: 0, low: 1, full: 2 };
          expect(rank[level]).toBeLessThanOrEqual(rank[ceiling]);
          // Full → audio in one sample only when the person's own limit says so.
          if (prev === 'full' && level === 'audio') expect(ceiling).toBe('audio');
          // Off only when warm, or by the person's limit, or it already was.
          if (level === 'audio' && prev !== 'audio') expect(s.warm || ceiling === 'audio').toBe(true);
          prev = level;
        }
      }),
    );
  });

  it('property: once the link is good again, the full picture is back within two pauses and two trials, whatever came before', () => {
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 60 }), (bad) => {
        const a = new SendAdaptation();
        let t = 0;
        for (const s of bad) a.update({ ...s, at: (t += STEP), cap: null });
        const start = t;
        // A good link seen by an application-limited estimator: about 2.5 times what is sent.
        const estimate = { audio: 90_000, low: 250_000, full: 900_000 };
        while (t - start <= 2 * (PROBE_MAX_MS + PROBE_TRIAL_MS + 3 * STEP)) {
          t += STEP;
          a.update({ at: t, estimate: estimate[a.level], loss: 0, rtt: 0.05, cap: null, warm: true });
          if (a.level === 'full' && a.probeSince === undefined) return;
        }
        throw new Error(`still ${a.level} after ${t - start} ms on a good link`);
      }),
    );
  });
});
