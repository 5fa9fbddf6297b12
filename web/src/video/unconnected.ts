/**
 * When a Janus subscription that is not connected is given up and made again (a new Janus handle
 * and ICE agent), and when it is left to ICE. Pure, so that the rules can be tested without a
 * browser; `SfuSubscription` (peers.ts) feeds it its connection's states and timings.
 *
 * Rules: waiting mends neither ICE up with no DTLS nor ICE that never began; an ICE restart that
 * did not mend a failure in NOT_CONNECTED_MS will not; and whatever ICE says, GIVE_UP_MS down is
 * too long. Anything else (ICE checking, or only just disconnected) is ICE's to mend.
 */

/**
 * How long after an answer (the first, or an ICE restart's) a subscription may stay unconnected
 * while its ICE is up: Janus's ICE agent (libnice 0.1.21) can stay 'connecting' for good while the
 * browser answers all its checks, and then never starts DTLS (seen with six pages on two cores: the
 * browser's DTLS client sends hellos into silence). Not shorter: on a starved machine a healthy
 * connection can take many seconds, and each subscription made again adds to the load.
 */
export const NOT_CONNECTED_MS = 20_000;

/**
 * However its ICE looks, a subscription not connected this long is made again (seen on two cores
 * in CI: 'failed' with ICE 'disconnected' and DTLS 'new' for good, the ICE restart changing nothing).
 */
export const GIVE_UP_MS = 3 * NOT_CONNECTED_MS;

/** A subscription's connection as the watchdog sees it (times in ms up to now). */
export interface Unconnected {
  connection: RTCPeerConnectionState;
  ice: RTCIceConnectionState;
  /** Since its latest answer (first or ICE restart). */
  sinceAnswer: number;
  /** Since its latest answer or ICE restart request, whichever came last. */
  sinceTry: number;
  /** Since it was last connected (or, never connected, since its first answer). */
  down: number;
}

/** ICE up: connected or completed (peers.ts `healthy` asks it of a connection). */
export const iceUp = (ice: RTCIceConnectionState) => ice === 'connected' || ice === 'completed';

/** Why it is given up, or undefined while it is left to ICE (a connected one is never given up here). */
export function giveUpReason(s: Unconnected): string | undefined {
  if (s.connection === 'connected' || s.connection === 'closed') return undefined;
  const where = `${s.connection}, ICE ${s.ice}`;
  if ((iceUp(s.ice) || s.ice === 'new') && s.sinceAnswer >= NOT_CONNECTED_MS) return `not connected (${where})`;
  const failing = s.connection === 'failed' || s.ice === 'failed' || s.ice === 'disconnected';
  if (failing && s.sinceTry >= NOT_CONNECTED_MS) return `not mended by an ICE restart (${where})`;
  if (s.down >= GIVE_UP_MS) return `not connected for ${GIVE_UP_MS / 1000} s (${where})`;
  return undefined;
}
