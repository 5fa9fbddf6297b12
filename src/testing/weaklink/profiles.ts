/**
 * Named link conditions for the weak-link emulator, drawn from what commune stations report
 * (issue #20 and the product notes in docs/weak-links.md): rate in each direction, one-way delay
 * (half the round trip), jitter, random loss, blackout. Data only; the emulator (link.ts) applies them.
 */

export interface LinkConditions {
  /** Rate in each direction (kbit/s), shaped by `tc tbf`; null: as fast as the wire copies. */
  rateKbps: number | null;
  /** One-way delay added in each direction (ms): half the round trip. */
  delayMs: number;
  /** Each frame's delay varies by up to this much (ms), without reordering. */
  jitterMs: number;
  /** Fraction of frames dropped at random in each direction (0..1). */
  loss: number;
  /** Nothing gets through at all. */
  blackout: boolean;
}

export type ProfileName = 'good' | 'commune-3g' | 'mountain-edge' | 'satellite' | 'imaging-1m' | 'blackout';

export const PROFILES: Record<ProfileName, LinkConditions> = {
  /** A perfect link: no shaping, no delay (the "back on a good link" step of the tests). */
  good: { rateKbps: null, delayMs: 0, jitterMs: 0, loss: 0, blackout: false },
  /** A commune health station on 3G: ≈ 400 kbit/s, 300 ms round trip, 1 % loss. */
  'commune-3g': { rateKbps: 400, delayMs: 150, jitterMs: 20, loss: 0.01, blackout: false },
  /** The edge of coverage in the mountains (EDGE/weak 3G): ≈ 120 kbit/s, 600 ms round trip, 3 % loss. */
  'mountain-edge': { rateKbps: 120, delayMs: 300, jitterMs: 40, loss: 0.03, blackout: false },
  /** An island or border post on a geostationary satellite link: ≈ 1 Mbit/s, 700 ms round trip. */
  satellite: { rateKbps: 1000, delayMs: 350, jitterMs: 10, loss: 0.005, blackout: false },
  /** The imaging benchmark's link (issue #15): 1 Mbit/s, 300 ms round trip; the issue names no loss, so none. */
  'imaging-1m': { rateKbps: 1000, delayMs: 150, jitterMs: 0, loss: 0, blackout: false },
  /** The link is down (power cut at the relay mast, rain fade): 100 % loss. */
  blackout: { rateKbps: null, delayMs: 0, jitterMs: 0, loss: 1, blackout: true },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];
