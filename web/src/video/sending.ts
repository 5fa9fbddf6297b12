/**
 * What a video sender carries: the track (screen, camera or none), and for the send level and the
 * person's own cap, which simulcast layers are on, or the one encoding's size, frame rate and bit
 * rate. Failures are ignored: a sender that is closing keeps what it had.
 */
import { activeLayers, type SendLevel } from './quality.ts';

export interface SendSettings {
  /** The video track to send (null: audio only, or the camera is off). */
  track: MediaStreamTrack | null;
  level: SendLevel;
  /** The person's limit on what this device sends (bit/s), null for none. */
  cap: number | null;
  /** A screen is shared: never scaled down. */
  screen: boolean;
}

/** Applies the settings to every video sender (a mesh peer's, or the SFU publisher's). */
export async function applySendLevel(senders: (RTCRtpSender | undefined)[], { track, level, cap: sendCap, screen }: SendSettings): Promise<void> {
  for (const sender of senders) {
    if (!sender) continue;
    if (sender.track !== track) await sender.replaceTrack(track).catch(() => undefined);
    const params = sender.getParameters();
    if (!params.encodings?.length) continue;
    if (params.encodings.length > 1) {
      // Simulcast: keep the layers the limit pays for; each keeps its own size and rate.
      const on = activeLayers(level, sendCap);
      params.encodings.forEach((e, i) => {
        e.active = on[i] ?? true;
        e.maxFramerate = level === 'low' ? 15 : 30;
      });
      await sender.setParameters(params).catch(() => undefined);
      continue;
    }
    const enc = params.encodings[0];
    enc.scaleResolutionDownBy = level === 'low' && !screen ? 2 : 1;
    enc.maxFramerate = level === 'low' ? 15 : 30;
    const cap = sendCap === null ? undefined : Math.max(30_000, sendCap - 40_000); // leave room for audio
    if (cap === undefined) delete enc.maxBitrate;
    else enc.maxBitrate = cap;
    await sender.setParameters(params).catch(() => undefined);
  }
}
