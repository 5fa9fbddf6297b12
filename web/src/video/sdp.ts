/**
 * Audio first on weak links: what the far end's description tells our Opus encoder, and the
 * priority of the audio sender. Opus with in-band FEC (a lost 20 ms frame is rebuilt from the
 * next one), DTX (silence costs almost nothing) and a voice bit rate that leaves room for video on
 * a 120 kbit/s link. Applied to descriptions we receive, so it governs what each side sends.
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
