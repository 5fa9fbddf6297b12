/**
 * What this device sends, decided from what its uplink really does: the congestion controller's
 * bandwidth estimate, the loss the far end reports and the round trip (getStats), within the
 * person's own send limit. Pure logic (no WebRTC, no clock of its own): call.ts feeds it a sample
 * every two seconds and applies the level it returns.
 *
 * Rules (issue #20, measured over emulated mountain links):
 * - Down one step at a time — full → low → audio only — after two bad samples in a row; never from
 *   full straight to audio only. Heavy loss or a round trip that keeps growing counts as one step
 *   lower than the estimate alone says.
 * - While nothing arrives at all (a blackout) the level is held: a blackout is not a bandwidth
 *   problem, and the numbers just after it are stale.
 * - Up from low to full after five samples well above the threshold — or by a trial like the one
 *   below: a low picture is application-limited too (the estimate stays near what it sends), so
 *   on a link that carries the low picture well the full one is tried after a pause.
 * - Up from audio only by probing: an audio-only sender sends ≈ 35 kbit/s, so the estimate can
 *   never reach the video threshold by itself. After a pause the low level is switched on for a
 *   trial; if the estimate then reaches the threshold without heavy loss, video stays; otherwise
 *   back to audio only and the next trial waits twice as long (up to PROBE_MAX_MS).
 * - The person's own limit applies at once (it is a choice, not a measurement): below the
 *   audio-only threshold nothing is probed.
 */
import { AUDIO_ONLY_BELOW, LOW_BELOW, type SendLevel } from './quality.ts';

/** One look at the uplink. */
export interface UplinkSample {
  /** Milliseconds on any monotonic clock (performance.now in the page). */
  at: number;
  /** The congestion controller's available outgoing bitrate (bit/s), if it has one. */
  estimate?: number;
  /** Fraction of what we send that the far end reports lost (0..1). */
  loss?: number;
  /** Round trip (s). */
  rtt?: number;
  /** Nothing at all arrived since the previous sample (no media, no reports): a blackout. */
  stalled?: boolean;
  /** The person's own send limit (bit/s), null for none. */
  cap: number | null;
  /** Media has run long enough for the estimate to be trusted to turn video off. */
  warm: boolean;
}

/** Samples in a row below the threshold before a step down. */
export const DOWN_AFTER = 2;
/** Samples in a row well above the threshold before a step up from low to full. */
export const UP_AFTER = 5;
/** Loss at or above this (reported by the far end) counts as one level lower. */
export const HEAVY_LOSS = 0.1;
/** A round trip above this (s) means queues are building: one level lower. */
export const SLOW_RTT = 1.2;
/** First trial of video after falling to audio only, and the longest pause between trials (ms). */
export const PROBE_FIRST_MS = 6_000;
export const PROBE_MAX_MS = 20_000;
/** How long a trial of the low level lasts before it is judged (ms). */
export const PROBE_TRIAL_MS = 8_000;
/** After a blackout ends, this long (ms) before the numbers are trusted again. */
export const SETTLE_MS = 4_000;

const RANK: Record<SendLevel, number> = { audio: 0, low: 1, full: 2 };
const LEVELS: SendLevel[] = ['audio', 'low', 'full'];
const lower = (l: SendLevel): SendLevel => LEVELS[Math.max(0, RANK[l] - 1)];

/** The highest level the person's own limit allows. */
export function ceilingFor(cap: number | null): SendLevel {
  return cap === null ? 'full' : cap < AUDIO_ONLY_BELOW ? 'audio' : cap < LOW_BELOW ? 'low' : 'full';
}

/** What the link supports by its estimate, loss and round trip. */
export function linkLevel(s: Pick<UplinkSample, 'estimate' | 'loss' | 'rtt'>): SendLevel | undefined {
  if (s.estimate === undefined) return undefined;
  const byRate: SendLevel = s.estimate < AUDIO_ONLY_BELOW ? 'audio' : s.estimate < LOW_BELOW ? 'low' : 'full';
  return (s.loss ?? 0) >= HEAVY_LOSS || (s.rtt ?? 0) >= SLOW_RTT ? lower(byRate) : byRate;
}

export class SendAdaptation {
  level: SendLevel = 'full';
  /** A trial of the low level is running (since when). */
  probeSince: number | undefined;
  /** The level a trial started from (audio: video is being tried again; low: the full picture). */
  trialFrom: SendLevel | undefined;
  /** When the next trial may start (below the person's ceiling). */
  nextProbeAt: number | undefined;
  private pause = PROBE_FIRST_MS;
  private bad = 0;
  private good = 0;
  private settleUntil = 0;

  /** Takes one sample; returns the level to send now. */
  update(s: UplinkSample): SendLevel {
    const ceiling = ceilingFor(s.cap);
    if (RANK[this.level] > RANK[ceiling]) {
      // The person's own limit: at once, and no trials above it.
      this.level = ceiling;
      this.probeSince = this.trialFrom = undefined;
      this.bad = this.good = 0;
      if (ceiling === 'audio') this.nextProbeAt = s.at + this.pause;
      return this.level;
    }
    if (s.stalled) {
      this.bad = this.good = 0;
      this.settleUntil = s.at + SETTLE_MS;
      if (this.probeSince !== undefined) this.probeSince = s.at; // the trial starts over once the link is back
      return this.level;
    }
    if (s.at < this.settleUntil) return this.level;
    const target = linkLevel(s);
    if (this.probeSince !== undefined) return this.judgeTrial(s, target);
    if (this.level === 'audio') return this.maybeProbe(s, ceiling);
    if (target === undefined) return this.level;
    // Before the estimate is trusted it may lower the picture but not turn video off.
    const floor: SendLevel = s.warm ? 'audio' : 'low';
    if (RANK[target] < RANK[this.level] && RANK[this.level] > RANK[floor]) {
      this.good = 0;
      if (++this.bad >= DOWN_AFTER) {
        this.bad = 0;
        this.level = lower(this.level);
        this.pause = PROBE_FIRST_MS;
        this.nextProbeAt = s.at + this.pause;
      }
    } else if (this.level === 'low' && ceiling === 'full' && target === 'full' && (s.estimate ?? 0) > LOW_BELOW * 1.5) {
      this.bad = 0;
      if (++this.good >= UP_AFTER) {
        this.good = 0;
        this.level = 'full';
      }
    } else {
      this.bad = this.good = 0;
      // At low with a link that carries it: the estimate of a low picture stays near what it
      // sends, so the full picture is tried the same way as video after audio only.
      if (this.level === 'low' && target === 'low') return this.maybeProbe(s, ceiling);
    }
    return this.level;
  }

  private maybeProbe(s: UplinkSample, ceiling: SendLevel): SendLevel {
    if (RANK[ceiling] <= RANK[this.level] || !s.warm) return this.level;
    this.nextProbeAt ??= s.at + this.pause;
    if (s.at < this.nextProbeAt) return this.level;
    this.trialFrom = this.level;
    this.level = this.level === 'audio' ? 'low' : 'full';
    this.probeSince = s.at;
    this.bad = this.good = 0;
    return this.level;
  }

  private judgeTrial(s: UplinkSample, target: SendLevel | undefined): SendLevel {
    const since = this.probeSince!;
    if (target !== undefined && RANK[target] >= RANK[this.level]) {
      // The estimate reached the tried level's threshold without heavy loss: twice in a row keeps it.
      if (++this.good >= 2) {
        this.probeSince = this.trialFrom = undefined;
        this.nextProbeAt = undefined;
        this.pause = PROBE_FIRST_MS;
        this.good = this.bad = 0;
      }
      return this.level;
    }
    this.good = 0;
    if ((s.loss ?? 0) >= 2 * HEAVY_LOSS) this.bad++;
    // Judged at the end of the trial (the estimator needs time to see the video), or early when
    // the trial itself is clearly hurting the link.
    if (s.at - since >= PROBE_TRIAL_MS || this.bad >= DOWN_AFTER) {
      this.level = this.trialFrom ?? lower(this.level);
      this.probeSince = this.trialFrom = undefined;
      this.bad = 0;
      this.pause = Math.min(PROBE_MAX_MS, this.pause * 2);
      this.nextProbeAt = s.at + this.pause;
    }
    return this.level;
  }

  /** The person asked for video back (e.g. after moving to a better signal). */
  reset(): void {
    this.level = 'full';
    this.probeSince = this.nextProbeAt = this.trialFrom = undefined;
    this.pause = PROBE_FIRST_MS;
    this.bad = this.good = this.settleUntil = 0;
  }
}
