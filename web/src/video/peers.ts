/**
 * The two media paths behind one API. Mesh: one RTCPeerConnection per other participant, with
 * "perfect negotiation" (the polite side yields when both offer at once), ICE restart when the
 * connection fails. SFU: one publishing connection to Janus and one receiving connection per
 * feed; Janus offers the feeds, we answer.
 */
import type { ClientMessage, IceCandidate, Jsep, SignalData } from '../../../src/video/protocol.ts';
import { SIMULCAST_LAYERS } from './quality.ts';
import { preferAudio, preferRed, tuned } from './sdp.ts';
import { NOT_CONNECTED_MS, giveUpReason, iceUp } from './unconnected.ts';

/** Audio's sender: high priority in the sender and on the network (weak links: audio first). */
const AUDIO_FIRST: RTCRtpEncodingParameters[] = [{ priority: 'high', networkPriority: 'high' }];

/** Sends one message of the signalling protocol (src/video/protocol.ts). */
export type Send = (msg: ClientMessage) => void;

/** A local ICE candidate as the protocol carries it (null: gathering is complete). */
const candidateOf = (c: RTCIceCandidate | null): IceCandidate => (c ? (c.toJSON() as NonNullable<IceCandidate>) : null);
/** A local description as the protocol carries it. */
const jsepOf = (d: { type: RTCSdpType; sdp?: string }): Jsep => ({ type: d.type as Jsep['type'], sdp: d.sdp ?? '' });

/** What both paths offer the call. */
export interface MediaLink {
  readonly pc: RTCPeerConnection;
  restartIce(): void;
  close(): void;
}

const healthy = (pc: RTCPeerConnection) => iceUp(pc.iceConnectionState);

/** Watches a connection and asks for an ICE restart when it fails or stays disconnected. */
function watchIce(pc: RTCPeerConnection, restart: () => void): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  pc.addEventListener('iceconnectionstatechange', () => {
    clearTimeout(timer);
    if (pc.iceConnectionState === 'failed') restart();
    else if (pc.iceConnectionState === 'disconnected') timer = setTimeout(() => !healthy(pc) && pc.connectionState !== 'closed' && restart(), 3000);
  });
}

/**
 * Mesh: the member with the smaller id offers; the other answers, sending on the transceivers the
 * offer created. One fixed offerer means no glare, and ICE restarts come from the offerer (the
 * answerer asks for one).
 */
export class MeshPeer implements MediaLink {
  readonly pc: RTCPeerConnection;
  private readonly pending: RTCIceCandidateInit[] = [];
  private chain = Promise.resolve();

  constructor(
    readonly memberId: string,
    private readonly offerer: boolean,
    rtc: RTCConfiguration,
    private readonly tracks: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null; stream: MediaStream },
    private readonly send: Send,
    onTrack: (stream: MediaStream) => void,
    /** Called when this side's senders exist (the offerer at once, the answerer after answering). */
    private readonly onSenders: () => void,
  ) {
    this.pc = new RTCPeerConnection(rtc);
    this.pc.ontrack = (e) => onTrack(e.streams[0] ?? new MediaStream([e.track]));
    this.pc.onicecandidate = (e) => this.send({ type: 'signal', to: memberId, data: { candidate: candidateOf(e.candidate) } });
    if (offerer) {
      // Audio first, video second: replacing a track later never renegotiates.
      // Opus RED first (sdp.ts): on a lossy link a lost packet's frame arrives again in the next one.
      preferRed(this.pc.addTransceiver(tracks.audio ?? 'audio', { direction: 'sendrecv', streams: [tracks.stream], sendEncodings: AUDIO_FIRST }));
      this.pc.addTransceiver(tracks.video ?? 'video', { direction: 'sendrecv', streams: [tracks.stream] });
      this.pc.onnegotiationneeded = () => void this.offer();
    }
    watchIce(this.pc, () => this.restartIce());
  }

  private async offer(): Promise<void> {
    await this.pc.setLocalDescription();
    const desc = this.pc.localDescription!;
    this.send({ type: 'signal', to: this.memberId, data: { description: jsepOf(desc) } });
  }

  /** Signals are applied one after another, in the order they arrived. */
  onSignal(data: SignalData): Promise<void> {
    this.chain = this.chain.then(() => this.apply(data)).catch((err) => console.warn('signal', err));
    return this.chain;
  }

  private async apply(data: SignalData): Promise<void> {
    if (data.restart) return this.restartIce();
    if (data.description) {
      await this.pc.setRemoteDescription(tuned(data.description));
      if (data.description.type === 'offer') {
        // Send our media on the transceivers the offer made (audio, then video).
        for (const t of this.pc.getTransceivers()) {
          const kind = t.receiver.track.kind;
          if (t.direction === 'recvonly') t.direction = 'sendrecv';
          if (!t.sender.track) await t.sender.replaceTrack(kind === 'audio' ? this.tracks.audio : this.tracks.video);
          t.sender.setStreams(this.tracks.stream);
          if (kind === 'audio') {
            await preferAudio(t.sender);
            preferRed(t);
          }
        }
        await this.pc.setLocalDescription();
        const desc = this.pc.localDescription!;
        this.send({ type: 'signal', to: this.memberId, data: { description: jsepOf(desc) } });
      }
      this.onSenders();
      for (const c of this.pending.splice(0)) await this.pc.addIceCandidate(c).catch(() => undefined);
    } else if (data.candidate !== undefined) {
      // A candidate can overtake the description it belongs to: keep it until that arrives.
      if (!this.pc.remoteDescription) {
        if (data.candidate) this.pending.push(data.candidate);
        return;
      }
      await this.pc.addIceCandidate(data.candidate ?? undefined).catch((err) => console.warn('ICE candidate refused', err));
    }
  }

  /** The video transceiver, whichever side created it. */
  get videoSender(): RTCRtpSender | undefined {
    return this.pc.getTransceivers().find((t) => t.receiver.track.kind === 'video')?.sender;
  }

  restartIce(): void {
    if (this.pc.connectionState === 'closed') return;
    if (this.offerer) this.pc.restartIce();
    else this.send({ type: 'signal', to: this.memberId, data: { restart: true } });
  }

  close(): void {
    this.pc.close();
  }
}

/** Our camera (or screen) published to Janus. */
export class SfuPublisher implements MediaLink {
  readonly pc: RTCPeerConnection;

  constructor(
    rtc: RTCConfiguration,
    tracks: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null; stream: MediaStream },
    private readonly send: Send,
    /** Send three layers (see SIMULCAST_LAYERS) so each viewer gets the size their link carries. */
    readonly simulcast = false,
  ) {
    this.pc = new RTCPeerConnection(rtc);
    this.pc.addTransceiver(tracks.audio ?? 'audio', { direction: 'sendonly', streams: [tracks.stream], sendEncodings: AUDIO_FIRST });
    this.pc.addTransceiver(tracks.video ?? 'video', {
      direction: 'sendonly',
      streams: [tracks.stream],
      ...(simulcast ? { sendEncodings: SIMULCAST_LAYERS.map((x) => ({ ...x })) } : {}),
    });
    this.pc.onicecandidate = (e) => this.send({ type: 'trickle', target: 'pub', candidate: candidateOf(e.candidate) });
    watchIce(this.pc, () => this.restartIce());
  }

  get videoSender(): RTCRtpSender | undefined {
    return this.pc.getTransceivers().find((t) => t.receiver.track.kind === 'video')?.sender;
  }

  async offer(iceRestart = false): Promise<void> {
    const offer = await this.pc.createOffer({ iceRestart });
    await this.pc.setLocalDescription(offer);
    this.send({ type: 'publish', jsep: jsepOf(offer) });
  }

  async onAnswer(jsep: Jsep): Promise<void> {
    await this.pc.setRemoteDescription(tuned(jsep));
  }

  restartIce(): void {
    if (this.pc.connectionState !== 'closed' && this.pc.signalingState === 'stable') void this.offer(true);
  }

  close(): void {
    this.pc.close();
  }
}

/** How long after its answer a subscription may go without a single packet before it is asked for again. */
export const NO_MEDIA_MS = 10_000;
/**
 * How long a subscription waits for Janus's offer (or the server's refusal) before it is asked for
 * again: the server answers every request within its Janus timeout (10 s), but a request or its
 * answer may be lost (a socket resumed, a message over the rate limit).
 */
export const NO_OFFER_MS = 20_000;
/** ... and it must have been connected this long (packets follow the connection, not at once). */
const CONNECTED_GRACE_MS = 3_000;

/** What a subscription tells the connections it belongs to. */
export interface SubscriptionEvents {
  onTrack(stream: MediaStream): void;
  /** It cannot be mended by an ICE restart: close it and ask for a new one. */
  lost(why: string): void;
  /** Media came: earlier failures of this feed are forgotten. */
  flowing(): void;
}

let lastRef = 0;

/**
 * One other participant's feed received from Janus, numbered (`ref`) so that a late offer or
 * failure of a subscription already replaced is not taken for this one's. ICE trouble is mended by
 * an ICE restart; a subscription that cannot be mended that way — no offer came NO_OFFER_MS after
 * it was asked for, its offer could not be applied, DTLS failed, not connected as `giveUpReason`
 * (unconnected.ts) says, or connected and not one packet came NO_MEDIA_MS after its answer — is `lost`.
 */
export class SfuSubscription implements MediaLink {
  readonly pc: RTCPeerConnection;
  readonly ref = ++lastRef;
  private watchdog?: ReturnType<typeof setTimeout>;
  private connectedAt?: number;
  private answeredAt?: number;
  /** When an ICE restart was last asked for. */
  private restartedAt?: number;
  /** Since when it has not been connected (from its first answer, or since it last dropped). */
  private downSince?: number;

  constructor(
    readonly feed: number,
    readonly memberId: string,
    rtc: RTCConfiguration,
    private readonly send: Send,
    private readonly events: SubscriptionEvents,
  ) {
    this.pc = new RTCPeerConnection(rtc);
    this.pc.ontrack = (e) => events.onTrack(e.streams[0] ?? new MediaStream([e.track]));
    this.pc.onicecandidate = (e) => this.send({ type: 'trickle', target: feed, candidate: candidateOf(e.candidate) });
    watchIce(this.pc, () => this.restartIce());
    this.pc.addEventListener('connectionstatechange', () => {
      const state = this.pc.connectionState;
      this.connectedAt = state === 'connected' ? (this.connectedAt ?? Date.now()) : undefined;
      if (state === 'connected') this.downSince = undefined;
      else this.downSince ??= Date.now();
      // Dropped after its media was checked: watched again until it is back (or given up).
      if (state !== 'connected' && state !== 'closed' && this.watchdog === undefined)
        this.watchdog = setTimeout(() => void this.checkMedia(), NOT_CONNECTED_MS / 3);
      // ICE up and the connection failed: DTLS, which an ICE restart does not redo.
      if (state === 'failed' && healthy(this.pc)) this.lose('DTLS failed');
    });
  }

  /** Asks the server for this subscription (Janus then offers the feed). */
  request(): void {
    this.send({ type: 'subscribe', feed: this.feed, ref: this.ref });
    this.watchdog = setTimeout(() => this.lose('no offer'), NO_OFFER_MS);
  }

  async onOffer(jsep: Jsep): Promise<void> {
    const first = !this.pc.remoteDescription;
    let answer: RTCSessionDescriptionInit;
    try {
      await this.pc.setRemoteDescription(jsep);
      answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
    } catch (err) {
      // An offer that cannot be applied leaves nothing to wait for: made again.
      return this.lose(`offer not applied (${(err as Error).message})`);
    }
    if (first) {
      // The first offer: now the media watchdog (below) takes over from the offer's.
      clearTimeout(this.watchdog);
      this.watchdog = undefined;
    }
    this.send({ type: 'sub-answer', feed: this.feed, jsep: jsepOf(answer), ref: this.ref });
    this.answeredAt = Date.now();
    if (this.pc.connectionState !== 'connected') this.downSince ??= this.answeredAt;
    this.watchdog ??= setTimeout(() => void this.checkMedia(), NO_MEDIA_MS);
  }

  restartIce(): void {
    if (this.pc.connectionState === 'closed') return;
    this.restartedAt = Date.now();
    this.send({ type: 'sub-restart', feed: this.feed, ref: this.ref });
  }

  close(): void {
    clearTimeout(this.watchdog);
    this.pc.close();
    this.send({ type: 'unsubscribe', feed: this.feed });
  }

  /**
   * NO_MEDIA_MS after the answer (later while the connection is not up, or only just): a
   * connected subscription must have received at least one packet, audio or video.
   */
  private async checkMedia(): Promise<void> {
    const state = this.pc.connectionState;
    if (state === 'closed') return;
    const now = Date.now();
    const connectedFor = this.connectedAt === undefined ? -1 : now - this.connectedAt;
    if (state !== 'connected') {
      const why = giveUpReason({
        connection: state,
        ice: this.pc.iceConnectionState,
        sinceAnswer: now - (this.answeredAt ?? now),
        sinceTry: now - Math.max(this.answeredAt ?? now, this.restartedAt ?? 0),
        down: now - (this.downSince ?? now),
      });
      if (why) return this.lose(why);
    }
    if (state !== 'connected' || connectedFor < CONNECTED_GRACE_MS) {
      this.watchdog = setTimeout(() => void this.checkMedia(), state === 'connected' ? CONNECTED_GRACE_MS - connectedFor : NOT_CONNECTED_MS / 3);
      return;
    }
    let packets = 0;
    (await this.pc.getStats()).forEach((r: { type: string; packetsReceived?: number }) => {
      if (r.type === 'inbound-rtp') packets += r.packetsReceived ?? 0;
    });
    this.watchdog = undefined;
    if (packets > 0) this.events.flowing();
    else this.lose('no media');
  }

  /** Reported once: the call closes this subscription (every subscription it drops is closed) and asks for a new one. */
  private lose(why: string): void {
    if (this.pc.connectionState === 'closed') return;
    clearTimeout(this.watchdog);
    this.events.lost(why);
  }
}

export { healthy };
