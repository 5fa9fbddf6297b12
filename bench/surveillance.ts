/**
 * Suite `surveillance`: the outbreak-detection algorithms on generated weekly counts (no database).
 * Per replicate: 300 places × 104 weeks, baseline means 1–15 cases/week with a yearly swing of
 * ±20 %, half the places with one injected outbreak of 2 weeks at 2×, 3× or 4× the expected count.
 * Per algorithm and outbreak size: sensitivity (outbreaks with an alarm in an outbreak week),
 * detection delay (weeks from the outbreak's first week to its first alarm, detected outbreaks),
 * false alarms per 100 place-weeks (alarms outside outbreak weeks, over the weeks the algorithm
 * can test), and detection time per place-year. Medians over 5 seeded replicates.
 */
import { performance } from 'node:perf_hooks';
import { ALGORITHMS, alarms, history, type Algorithm } from '../src/surveillance/detect.ts';
import { generatePlaces } from '../src/surveillance/generate.ts';
import { fmt, median, rows } from './lib.ts';

interface Score {
  sensitivity: number;
  delay: number;
  falsePer100: number;
  msPerPlaceYear: number;
}

function score(algorithm: Algorithm, seed: number, factor: number, places: number): Score {
  const weeks = 104;
  const data = generatePlaces({ seed, places, weeks, minMean: 1, maxMean: 15, outbreakShare: 0.5, factor, length: 2, earliest: 20 });
  let outbreaks = 0;
  let detected = 0;
  const delays: number[] = [];
  let falseAlarms = 0;
  let quietWeeks = 0;
  const t0 = performance.now();
  const hits = data.map((p) => alarms(algorithm, p.series));
  const ms = performance.now() - t0;
  for (const [i, p] of data.entries()) {
    const inside = (t: number) => !!p.outbreak && t >= p.outbreak.start && t < p.outbreak.end;
    for (const t of hits[i]) if (!inside(t)) falseAlarms++;
    quietWeeks += weeks - history(algorithm) - (p.outbreak ? p.outbreak.end - p.outbreak.start : 0);
    if (!p.outbreak) continue;
    outbreaks++;
    const first = hits[i].find(inside);
    if (first !== undefined) {
      detected++;
      delays.push(first - p.outbreak.start);
    }
  }
  return {
    sensitivity: detected / outbreaks,
    delay: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : NaN,
    falsePer100: (falseAlarms / quietWeeks) * 100,
    msPerPlaceYear: (ms / places / (weeks / 52)) * 1,
  };
}

export async function benchSurveillance(quick: boolean, log: (m: string) => void): Promise<void> {
  const places = quick ? 100 : 300;
  const seeds = [11, 22, 33, 44, 55];
  for (const factor of [2, 3, 4]) {
    for (const a of ALGORITHMS) {
      const s = seeds.map((seed) => score(a, seed * 1000 + factor, factor, places));
      const m = (f: (x: Score) => number) => median(s.map(f));
      log(`surveillance ${a} ${factor}×: sensitivity ${fmt(m((x) => x.sensitivity) * 100, 1)} %`);
      const note = `${places} places × 104 weeks, outbreaks 2 weeks at ${factor}×; median of ${seeds.length} replicates`;
      rows.push({ benchmark: `surveillance ${a} sensitivity (${factor}×)`, db: '-', value: fmt(m((x) => x.sensitivity) * 100, 1), unit: '%', note });
      rows.push({
        benchmark: `surveillance ${a} detection delay (${factor}×)`,
        db: '-',
        value: fmt(
          m((x) => x.delay),
          2,
        ),
        unit: 'weeks',
        note: 'mean over detected outbreaks; 0 = the first outbreak week',
      });
      rows.push({
        benchmark: `surveillance ${a} false alarms (${factor}×)`,
        db: '-',
        value: fmt(
          m((x) => x.falsePer100),
          2,
        ),
        unit: 'per 100 place-weeks',
        note: 'alarms outside outbreak weeks',
      });
    }
  }
  for (const a of ALGORITHMS) {
    const s = seeds.map((seed) => score(a, seed, 3, places));
    rows.push({
      benchmark: `surveillance ${a} detection time`,
      db: '-',
      value: fmt(median(s.map((x) => x.msPerPlaceYear * 1000)), 1),
      unit: 'µs per place-year',
      note: 'pure function, one core',
    });
  }
}
