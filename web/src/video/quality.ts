/**
 * Connection quality from getStats: a badge per remote participant (loss, round trip, whether
 * video frames keep being decoded), the uplink's estimated bandwidth and what to send for it,
 * and who is speaking.
 */

export type Quality = 'good' | 'fair' | 'poor' | 'unknown';
/** What we send: full video, low resolution, or audio only. */
export type SendLevel = 'full' | 'low' | 'audio';

/** Below these estimated uplink rates (bit/s) we step down; we step up again only well above them. */
export const LOW_BELOW = 300_000;
export const AUDIO_ONLY_BELOW = 150_000;

export interface InboundSample {
  framesDecoded: number;
  audioPackets: number;
  videoPackets: number;
  videoLost: number;
  audioLevel: number;
  frameWidth: number;
  frameHeight: number;
  rtt?: number;
}

export async function inbound(pc: RTCPeerConnection): Promise<InboundSample> {
  const s: InboundSample = { framesDecoded: 0, audioPackets: 0, videoPackets: 0, videoLost: 0, audioLevel: 0, frameWidth: 0, frameHeight: 0 };
  (await pc.getStats()).forEach((r: any) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video') {
      s.framesDecoded += r.framesDecoded ?? 0;
      s.videoPackets += r.packetsReceived ?? 0;
      s.videoLost += Math.max(0, r.packetsLost ?? 0);
      s.frameWidth = Math.max(s.frameWidth, r.frameWidth ?? 0);
      s.frameHeight = Math.max(s.frameHeight, r.frameHeight ?? 0);
    }
    if (r.type === 'inbound-rtp' && r.kind === 'audio') {
      s.audioPackets += r.packetsReceived ?? 0;
      s.audioLevel = Math.max(s.audioLevel, r.audioLevel ?? 0);
    }
    if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded' && typeof r.currentRoundTripTime === 'number') s.rtt = r.currentRoundTripTime;
  });
  return s;
}

/**
 * The way media takes on a connection: the candidate types of the selected pair ('host' direct,
 * 'srflx' through NAT, 'relay' through TURN). Undefined until ICE has chosen.
 */
export async function mediaPath(pc: RTCPeerConnection): Promise<{ local: string; remote: string } | undefined> {
  const stats = await pc.getStats();
  let pair: any;
  stats.forEach((r: any) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
  });
  if (!pair) stats.forEach((r: any) => (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded' ? (pair = r) : undefined));
  const local = pair && stats.get(pair.localCandidateId)?.candidateType;
  const remote = pair && stats.get(pair.remoteCandidateId)?.candidateType;
  return local && remote ? { local, remote } : undefined;
}

/** Quality of what we receive from one participant, between two samples. */
export function receiveQuality(prev: InboundSample | undefined, now: InboundSample, expectVideo: boolean): Quality {
  if (!prev) return 'unknown';
  const packets = now.videoPackets - prev.videoPackets + (now.audioPackets - prev.audioPackets);
  if (packets <= 0) return 'poor';
  const lost = now.videoLost - prev.videoLost;
  const loss = lost / Math.max(1, lost + now.videoPackets - prev.videoPackets);
  const frozen = expectVideo && now.framesDecoded === prev.framesDecoded;
  const rtt = now.rtt ?? 0;
  if (frozen || loss > 0.08 || rtt > 0.6) return 'poor';
  if (loss > 0.02 || rtt > 0.3) return 'fair';
  return 'good';
}

/** The uplink's estimate: the congestion controller's available bitrate, within the user's own cap. */
export async function uplinkEstimate(pcs: RTCPeerConnection[], cap: number | null): Promise<number | undefined> {
  let best: number | undefined;
  for (const pc of pcs) {
    (await pc.getStats()).forEach((r: any) => {
      if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded' && typeof r.availableOutgoingBitrate === 'number') {
        best = best === undefined ? r.availableOutgoingBitrate : Math.min(best, r.availableOutgoingBitrate);
      }
    });
  }
  if (cap !== null) best = Math.min(best ?? cap, cap);
  return best;
}

/**
 * The congestion controller starts low and a join is a burst of CPU work: for this long after
 * media starts its estimate may lower the resolution but not turn video off (the person's own send
 * limit counts at once). Stepping down early also relieves a starved CPU while peers connect.
 */
export const WARM_UP_MS = 15_000;

const RANK = { audio: 0, low: 1, full: 2 } as const;

/** The lowest level the estimate may push to now: `low` while warming up, unless the person's own limit is below audio-only. */
export function floorFor(warm: boolean, cap: number | null): SendLevel {
  return warm || (cap !== null && cap < AUDIO_ONLY_BELOW) ? 'audio' : 'low';
}

/**
 * Steps down after two low samples in a row (never below `floor`); steps up only after five
 * samples well above the threshold (an unstable link should not flap between video and audio).
 */
export class SendLevelGovernor {
  level: SendLevel = 'full';
  private low = 0;
  private high = 0;

  update(estimate: number | undefined, floor: SendLevel = 'audio'): SendLevel {
    if (estimate === undefined) return this.level;
    let target: SendLevel = estimate < AUDIO_ONLY_BELOW ? 'audio' : estimate < LOW_BELOW ? 'low' : 'full';
    if (RANK[target] < RANK[floor]) target = floor;
    if (RANK[target] < RANK[this.level]) {
      this.high = 0;
      if (++this.low >= 2) {
        this.level = target;
        this.low = 0;
      }
    } else if (RANK[target] > RANK[this.level] && estimate > (this.level === 'audio' ? AUDIO_ONLY_BELOW : LOW_BELOW) * 1.5) {
      this.low = 0;
      if (++this.high >= 5) {
        this.level = this.level === 'audio' ? 'low' : 'full';
        this.high = 0;
      }
    } else {
      this.low = 0;
      this.high = 0;
    }
    return this.level;
  }

  /** The person asked for video back (e.g. after moving to a better signal). */
  reset(): void {
    this.level = 'full';
    this.low = 0;
    this.high = 0;
  }
}

/**
 * Simulcast through the SFU: each publisher sends three layers ('h' full, 'm' half, 'l' quarter
 * size) and Janus forwards to each viewer the one that viewer asked for. Only for publishers
 * whose own link allows it (without a send limit, or one of at least this much).
 */
export const SIMULCAST_MIN_SEND = 500_000;
export const SIMULCAST_LAYERS: RTCRtpEncodingParameters[] = [
  { rid: 'h', maxBitrate: 900_000 },
  { rid: 'm', maxBitrate: 300_000, scaleResolutionDownBy: 2 },
  { rid: 'l', maxBitrate: 100_000, scaleResolutionDownBy: 4 },
];
/** Janus numbers the layers from the smallest (0) to the full picture (2). */
export type Layer = 0 | 1 | 2;
export const TOP_LAYER: Layer = 2;

/**
 * Which layer of one publisher a viewer asks for: the smallest with data saver on (the full one
 * again when it is turned off); otherwise one
 * step down after two poor samples in a row, and one step up after ten good ones (about 20 s:
 * a viewer on a weak island link should not flap between sizes).
 */
export class LayerChooser {
  layer: Layer = TOP_LAYER;
  private poor = 0;
  private good = 0;
  private saving = false;

  update(quality: Quality, dataSaver: boolean): Layer {
    if (dataSaver || this.saving) {
      // Data saver on: the smallest; turned off: straight back to the full picture.
      this.poor = this.good = 0;
      this.saving = dataSaver;
      return (this.layer = dataSaver ? 0 : TOP_LAYER);
    }
    if (quality === 'poor') {
      this.good = 0;
      if (++this.poor >= 2 && this.layer > 0) {
        this.layer = (this.layer - 1) as Layer;
        this.poor = 0;
      }
    } else if (quality === 'good') {
      this.poor = 0;
      if (++this.good >= 10 && this.layer < TOP_LAYER) {
        this.layer = (this.layer + 1) as Layer;
        this.good = 0;
      }
    } else {
      this.poor = this.good = 0;
    }
    return this.layer;
  }
}

/**
 * Which simulcast layers to keep sending: none of them above the person's own send limit (after
 * room for audio), and not the full one at the low send level. The smallest always stays on.
 */
export function activeLayers(level: SendLevel, cap: number | null): boolean[] {
  let budget = cap === null ? Infinity : cap - 40_000;
  return SIMULCAST_LAYERS.map((_, i, all) => all[all.length - 1 - i])
    .map((enc, i) => {
      const on = i === 0 || ((enc.maxBitrate ?? 0) <= budget && !(level === 'low' && enc.rid === 'h'));
      if (on) budget -= enc.maxBitrate ?? 0;
      return on;
    })
    .reverse();
}
