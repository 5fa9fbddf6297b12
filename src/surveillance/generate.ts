/**
 * Generated weekly counts for tests and the benchmark: a seeded PRNG (mulberry32), Poisson
 * draws (Knuth for small means, normal approximation above 50), and places with injected
 * outbreaks (a multiple of the baseline for some weeks). No I/O.
 */
import { prng } from '../seed/prng.ts';

export function poisson(rnd: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) {
    const u = Math.max(rnd(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rnd();
  } while (p > l);
  return k - 1;
}

export interface Place {
  series: number[];
  /** The outbreak's weeks (start inclusive, end exclusive), if one was injected. */
  outbreak?: { start: number; end: number };
}

/**
 * Places with a baseline mean drawn from [minMean, maxMean] and a yearly seasonal swing; in a share
 * of them an outbreak multiplies the expected count by `factor` for `length` weeks.
 */
export function generatePlaces(opts: {
  seed: number;
  places: number;
  weeks: number;
  minMean: number;
  maxMean: number;
  outbreakShare: number;
  factor: number;
  length: number;
  /** No outbreak starts before this week (the algorithms need a baseline). */
  earliest: number;
}): Place[] {
  const rnd = prng(opts.seed);
  return Array.from({ length: opts.places }, () => {
    const mean = opts.minMean + rnd() * (opts.maxMean - opts.minMean);
    const phase = rnd() * 52;
    const outbreak =
      rnd() < opts.outbreakShare
        ? (() => {
            const start = opts.earliest + Math.floor(rnd() * (opts.weeks - opts.earliest - opts.length));
            return { start, end: start + opts.length };
          })()
        : undefined;
    const series = Array.from({ length: opts.weeks }, (_, t) => {
      const seasonal = mean * (1 + 0.2 * Math.sin((2 * Math.PI * (t + phase)) / 52));
      const m = outbreak && t >= outbreak.start && t < outbreak.end ? seasonal * opts.factor : seasonal;
      return poisson(rnd, m);
    });
    return { series, outbreak };
  });
}
