/**
 * The bridge-point check run from a site's room equipment (the same measures as the pre-call
 * check of a video room, plus what a site needs to know before a real session): camera and
 * microphone, download and upload bandwidth, round-trip time to the server, and whether a direct
 * path (host or server-reflexive ICE candidates) gets through or only the TURN relay does.
 *
 * TURN verdict (iceVerdict): ICE candidates are gathered with the ICE servers a call would use. A
 * server-reflexive (srflx) candidate means the STUN server answered over UDP: a direct path can be
 * tried, no relay needed. No srflx but a relay candidate: only TURN gets through (UDP blocked, or
 * only TCP/TLS to the relay) — TURN needed. Neither: with no STUN/TURN configured (a LAN
 * deployment) host candidates are all there is and do not need a relay; otherwise nothing got
 * out, the check fails. Gathering cannot see a symmetric NAT with one STUN server; the real call
 * falls back to the relay by itself then.
 *
 * Rules: measures only, nothing about patients; the result is sent to /api/programme/readiness
 * (the caller's own facility, decided by the server).
 */
import { apiGet, apiSend } from '../../api.ts';
import type { ReadinessInput } from '../../../../src/programme/contract.ts';

/** What a successful check needs (a 360p call each way, with room for audio and retransmissions). */
export const READY = { downKbps: 600, upKbps: 400, rttMs: 400 };

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

export function iceVerdict(types: Set<CandidateType>, serversConfigured: boolean): { turn: boolean; reachable: boolean } {
  const direct = types.has('srflx') || types.has('prflx');
  if (direct) return { turn: false, reachable: true };
  if (types.has('relay')) return { turn: true, reachable: true };
  return { turn: false, reachable: !serversConfigured && types.has('host') };
}

/** Whether the measures make a successful check (READY). */
export function checkOk(m: Omit<ReadinessInput, 'ok'> & { reachable: boolean }): boolean {
  return (
    m.camera &&
    m.microphone &&
    m.reachable &&
    (m.downKbps ?? 0) >= READY.downKbps &&
    (m.upKbps ?? 0) >= READY.upKbps &&
    m.rttMs !== undefined &&
    m.rttMs <= READY.rttMs
  );
}

/** The candidate types gathered with these servers (at most `timeoutMs`). */
export async function gatherCandidates(iceServers: RTCIceServer[], timeoutMs = 6000): Promise<Set<CandidateType>> {
  const pc = new RTCPeerConnection({ iceServers });
  const types = new Set<CandidateType>();
  try {
    pc.createDataChannel('probe');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      pc.onicecandidate = (e) => {
        if (!e.candidate) {
          clearTimeout(timer);
          resolve();
          return;
        }
        const type = (e.candidate.type ?? / typ (\w+)/.exec(e.candidate.candidate)?.[1]) as CandidateType | undefined;
        if (type) types.add(type);
      };
      void pc.createOffer().then((o) => pc.setLocalDescription(o));
    });
  } finally {
    pc.close();
  }
  return types;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Download: time a 512 KB download from our own server (as the pre-call check does). */
async function downloadKbps(): Promise<number> {
  const t0 = performance.now();
  const b = await (await fetch('/api/video/probe', { cache: 'no-store' })).arrayBuffer();
  return Math.round((b.byteLength * 8) / ((performance.now() - t0) / 1000) / 1000);
}

/** Upload: time a ~256 KB request body. */
async function uploadKbps(): Promise<number> {
  const body = { pad: 'x'.repeat(256_000) };
  const t0 = performance.now();
  await apiSend('POST', '/api/programme/readiness-probe', body);
  return Math.round((256_000 * 8) / ((performance.now() - t0) / 1000) / 1000);
}

/** Round trip: the median of three small requests; the last answer's ICE servers. */
async function rttAndIce(): Promise<{ rttMs: number; iceServers: RTCIceServer[] }> {
  const times: number[] = [];
  let iceServers: RTCIceServer[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    iceServers = (await apiGet<{ iceServers: RTCIceServer[] }>('/api/programme/ice-servers')).iceServers;
    times.push(performance.now() - t0);
  }
  return { rttMs: Math.round(median(times)), iceServers };
}

/** Camera and microphone: whether each gives a live track (released at once). */
async function devices(): Promise<{ camera: boolean; microphone: boolean }> {
  const one = async (c: MediaStreamConstraints) => {
    try {
      const s = await navigator.mediaDevices.getUserMedia(c);
      const live = s.getTracks().some((t) => t.readyState === 'live');
      s.getTracks().forEach((t) => t.stop());
      return live;
    } catch {
      return false;
    }
  };
  return { camera: await one({ video: true }), microphone: await one({ audio: true }) };
}

/** Runs every measure and sends the result; returns what was sent. */
export async function runBridgeCheck(): Promise<ReadinessInput> {
  const dev = await devices();
  const { rttMs, iceServers } = await rttAndIce();
  const downKbps = await downloadKbps().catch(() => 0);
  const upKbps = await uploadKbps().catch(() => 0);
  const ice = iceVerdict(await gatherCandidates(iceServers), iceServers.length > 0);
  const m = { ...dev, downKbps, upKbps, rttMs, turn: ice.turn };
  const input: ReadinessInput = { ...m, ok: checkOk({ ...m, reachable: ice.reachable }) };
  await apiSend('POST', '/api/programme/readiness', input);
  return input;
}
