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
  /** Audio samples the receiver had to make up for lost packets (not silence it was told of), and all it played. */
  audioConcealed: number;
  audioSamples: number;
  frameWidth: number;
  frameHeight: number;
  rtt?: number;
}

export async function inbound(pc: RTCPeerConnection): Promise<InboundSample> {
  const s: InboundSample = {
    framesDecoded: 0,
    audioPackets: 0,
    videoPackets: 0,
    videoLost: 0,
    audioLevel: 0,
    audioConcealed: 0,
    audioSamples: 0,
    frameWidth: 0,
    frameHeight: 0,
  };
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
      s.audioConcealed += Math.max(0, (r.concealedSamples ?? 0) - (r.silentConcealedSamples ?? 0));
      s.audioSamples += r.totalSamplesReceived ?? 0;
    }
    if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded' && typeof r.currentRoundTripTime === 'number') s.rtt = r.currentRoundTripTime;
  });
  return s;
}

/** The DTLS side of a connection and the ICE checks of its chosen pair (a diagnostic for a connection stuck 'connecting'). */
export interface TransportSample {
  dtls?: string;
  role?: string;
  bytesSent?: number;
  bytesReceived?: number;
  /** ICE checks of the selected (or else the nominated) pair: sent, answered, received, answered by us. */
  checks?: [number, number, number, number];
}

export async function transportOf(pc: RTCPeerConnection): Promise<TransportSample> {
  const stats = await pc.getStats();
  const out: TransportSample = {};
  stats.forEach((r: any) => {
    if (r.type === 'transport') Object.assign(out, { dtls: r.dtlsState, role: r.dtlsRole, bytesSent: r.bytesSent, bytesReceived: r.bytesReceived });
  });
  // A stuck connection's nominated pair may never have 'succeeded': any nominated one will do here.
  const pair = selectedPair(stats, false);
  if (pair) out.checks = [pair.requestsSent ?? 0, pair.responsesReceived ?? 0, pair.requestsReceived ?? 0, pair.responsesSent ?? 0];
  return out;
}

/** The candidate pair the transport selected, or else a nominated one (`succeeded`: only one whose checks succeeded). */
function selectedPair(stats: RTCStatsReport, succeeded: boolean): any {
  let pair: any;
  stats.forEach((r: any) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
  });
  if (!pair) stats.forEach((r: any) => (r.type === 'candidate-pair' && r.nominated && (!succeeded || r.state === 'succeeded') ? (pair = r) : undefined));
  return pair;
}

/**
 * The way media takes on a connection: the candidate types of the selected pair ('host' direct,
 * 'srflx' through NAT, 'relay' through TURN). Undefined until ICE has chosen.
 */
export async function mediaPath(pc: RTCPeerConnection): Promise<{ local: string; remote: string } | undefined> {
  const stats = await pc.getStats();
  const pair = selectedPair(stats, true);
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

/**
 * The uplink as the adaptation (adaptation.ts) sees it: the congestion controller's estimate, the
 * loss the far end reports of what we send (RTCP receiver reports), and the round trip (ICE).
 */
export async function uplinkStats(pcs: RTCPeerConnection[]): Promise<{ estimate?: number; loss?: number; rtt?: number }> {
  const out: { estimate?: number; loss?: number; rtt?: number } = {};
  for (const pc of pcs) {
    (await pc.getStats()).forEach((r: any) => {
      if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') {
        if (typeof r.availableOutgoingBitrate === 'number') out.estimate = Math.min(out.estimate ?? Infinity, r.availableOutgoingBitrate);
        if (typeof r.currentRoundTripTime === 'number') out.rtt = Math.max(out.rtt ?? 0, r.currentRoundTripTime);
      }
      // The round trip from ICE consent checks only: an SFU's receiver reports can carry a
      // round trip of seconds on loopback (seen with Janus on a starved machine).
      if (r.type === 'remote-inbound-rtp' && typeof r.fractionLost === 'number') out.loss = Math.max(out.loss ?? 0, r.fractionLost);
    });
  }
  return out;
}

/**
 * The congestion controller starts low and a join is a burst of CPU work: for this long after
 * media starts its estimate may lower the resolution but not turn video off (the person's own send
 * limit counts at once; see adaptation.ts). Stepping down early also relieves a starved CPU while peers connect.
 */
export const WARM_UP_MS = 15_000;

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
