/**
 * Audio first on weak links: what the far end's description tells our Opus encoder, the codec
 * order of the audio transceiver, and the priority of the audio sender. Opus with in-band FEC (a
 * lost 20 ms frame is rebuilt from the next one), DTX (silence costs almost nothing) and a voice
 * bit rate that leaves room for video on a 120 kbit/s link. Applied to descriptions we receive, so
 * it governs what each side sends. Peer-to-peer calls also put Opus RED (RFC 2198, `audio/red`)
 * first: each packet carries the previous frame again, so a single lost packet costs nothing.
 * Rules: only reorder what the browser offers (never invent a codec), never fail the call over it.
 */

/** Opus voice at this average bit rate: clear speech, and room for the low picture on a weak link. */
export const OPUS_MAX_AVERAGE_BITRATE = 24_000;

/** The same description with FEC, DTX and the voice bit rate set on every Opus payload type. */
export function tuneOpus(sdp: string): string {
  const opus = new Set<string>();
  for (const m of sdp.matchAll(/^a=rtpmap:(\d+) opus\/48000/gim)) opus.add(m[1]);
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(eol);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (fmtp && opus.has(fmtp[1])) {
      out.push(`a=fmtp:${fmtp[1]} ${withParams(fmtp[2])}`);
      opus.delete(fmtp[1]);
      continue;
    }
    out.push(line);
    // An Opus payload without an fmtp line: add one after its rtpmap.
    const rtpmap = /^a=rtpmap:(\d+) opus\/48000/i.exec(line);
    if (rtpmap && !lines.some((l) => l.startsWith(`a=fmtp:${rtpmap[1]} `))) {
      out.push(`a=fmtp:${rtpmap[1]} ${withParams('')}`);
      opus.delete(rtpmap[1]);
    }
  }
  return out.join(eol);
}

function withParams(params: string): string {
  const kv = new Map<string, string>();
  for (const p of params
    .split(';')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [k, v = ''] = p.split('=');
    kv.set(k.trim(), v.trim());
  }
  kv.set('useinbandfec', '1');
  kv.set('usedtx', '1');
  if (!kv.has('maxaveragebitrate')) kv.set('maxaveragebitrate', String(OPUS_MAX_AVERAGE_BITRATE));
  return [...kv].map(([k, v]) => `${k}=${v}`).join(';');
}

/** A description as received, tuned (see tuneOpus). */
export function tuned<T extends { type: RTCSdpType; sdp?: string }>(d: T): T {
  return d.sdp ? { ...d, sdp: tuneOpus(d.sdp) } : d;
}

/**
 * The browser's audio codecs with `audio/red` first (it must be in the list: a browser without RED
 * gets undefined and keeps its own order). Everything else keeps its order, so Opus stays the codec
 * inside RED and the fall-back for a far end without RED.
 */
export function redFirst<T extends { mimeType: string }>(codecs: readonly T[] | undefined): T[] | undefined {
  if (!codecs) return undefined;
  const isRed = (c: T) => c.mimeType.toLowerCase() === 'audio/red';
  const red = codecs.filter(isRed);
  if (!red.length) return undefined;
  return [...red, ...codecs.filter((c) => !isRed(c))];
}

/** Asks for Opus RED on an audio transceiver when the browser has it; false when it could not. */
export function preferRed(t: RTCRtpTransceiver): boolean {
  if (typeof t.setCodecPreferences !== 'function' || typeof RTCRtpReceiver === 'undefined') return false;
  const codecs = redFirst(RTCRtpReceiver.getCapabilities?.('audio')?.codecs);
  if (!codecs) return false;
  try {
    t.setCodecPreferences(codecs);
    return true;
  } catch {
    return false;
  }
}

/** Audio goes out first when the link is full: high priority in the sender and on the network. */
export async function preferAudio(sender: RTCRtpSender): Promise<void> {
  const params = sender.getParameters();
  if (!params.encodings?.length) return;
  for (const e of params.encodings) {
    e.priority = 'high';
    e.networkPriority = 'high';
  }
  await sender.setParameters(params).catch(() => undefined);
}
