/**
 * The two media paths behind one API. Mesh: one RTCPeerConnection per other participant, with
 * "perfect negotiation" (the polite side yields when both offer at once), ICE restart when the
 * connection fails. SFU: one publishing connection to Janus and one receiving connection per
 * feed; Janus offers the feeds, we answer.
 */

export type Send = (msg: Record<string, unknown>) => void;

/** What both paths offer the call. */
export interface MediaLink {
  readonly pc: RTCPeerConnection;
  restartIce(): void;
  close(): void;
}

const healthy = (pc: RTCPeerConnection) => pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed';

/** Watches a connection and asks for an ICE restart when it fails or stays disconnected. */
function watchIce(pc: RTCPeerConnection, restart: () => void): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  pc.addEventListener('iceconnectionstatechange', () => {
    clearTimeout(timer);
    if (pc.iceConnectionState === 'failed') restart();
    else if (pc.iceConnectionState === 'disconnected') timer = setTimeout(() => !healthy(pc) && pc.connectionState !== 'closed' && restart(), 3000);
  });
}

export class MeshPeer implements MediaLink {
  readonly pc: RTCPeerConnection;
  private makingOffer = false;
  private ignoreOffer = false;

  constructor(
    readonly memberId: string,
    private readonly polite: boolean,
    iceServers: RTCIceServer[],
    tracks: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null; stream: MediaStream },
    private readonly send: Send,
    onTrack: (stream: MediaStream) => void,
  ) {
    this.pc = new RTCPeerConnection({ iceServers });
    // Fixed transceivers: audio first, video second, so replacing a track never renegotiates.
    this.pc.addTransceiver(tracks.audio ?? 'audio', { direction: 'sendrecv', streams: [tracks.stream] });
    this.pc.addTransceiver(tracks.video ?? 'video', { direction: 'sendrecv', streams: [tracks.stream] });
    this.pc.ontrack = (e) => onTrack(e.streams[0] ?? new MediaStream([e.track]));
    this.pc.onicecandidate = (e) => this.send({ type: 'signal', to: memberId, data: { candidate: e.candidate ? e.candidate.toJSON() : null } });
    this.pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await this.pc.setLocalDescription();
        this.send({ type: 'signal', to: memberId, data: { description: { type: this.pc.localDescription!.type, sdp: this.pc.localDescription!.sdp } } });
      } finally {
        this.makingOffer = false;
      }
    };
    watchIce(this.pc, () => this.restartIce());
  }

  async onSignal(data: { description?: RTCSessionDescriptionInit; candidate?: RTCIceCandidateInit | null; restart?: boolean }): Promise<void> {
    if (data.restart) return this.restartIce(false);
    if (data.description) {
      const collision = data.description.type === 'offer' && (this.makingOffer || this.pc.signalingState !== 'stable');
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      await this.pc.setRemoteDescription(data.description);
      if (data.description.type === 'offer') {
        await this.pc.setLocalDescription();
        this.send({ type: 'signal', to: this.memberId, data: { description: { type: this.pc.localDescription!.type, sdp: this.pc.localDescription!.sdp } } });
      }
    } else if (data.candidate !== undefined) {
      try {
        await this.pc.addIceCandidate(data.candidate ?? undefined);
      } catch (err) {
        if (!this.ignoreOffer) console.warn('ICE candidate refused', err);
      }
    }
  }

  /** restartIce() makes a new offer with fresh ICE credentials (through negotiationneeded). */
  restartIce(tellOther = true): void {
    if (this.pc.connectionState === 'closed') return;
    this.pc.restartIce();
    if (tellOther && this.polite) this.send({ type: 'signal', to: this.memberId, data: { restart: true } });
  }

  close(): void {
    this.pc.close();
  }
}

/** Our camera (or screen) published to Janus. */
export class SfuPublisher implements MediaLink {
  readonly pc: RTCPeerConnection;

  constructor(
    iceServers: RTCIceServer[],
    tracks: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null; stream: MediaStream },
    private readonly send: Send,
  ) {
    this.pc = new RTCPeerConnection({ iceServers });
    this.pc.addTransceiver(tracks.audio ?? 'audio', { direction: 'sendonly', streams: [tracks.stream] });
    this.pc.addTransceiver(tracks.video ?? 'video', { direction: 'sendonly', streams: [tracks.stream] });
    this.pc.onicecandidate = (e) => this.send({ type: 'trickle', target: 'pub', candidate: e.candidate ? e.candidate.toJSON() : null });
    watchIce(this.pc, () => this.restartIce());
  }

  async offer(iceRestart = false): Promise<void> {
    const offer = await this.pc.createOffer({ iceRestart });
    await this.pc.setLocalDescription(offer);
    this.send({ type: 'publish', jsep: { type: 'offer', sdp: offer.sdp } });
  }

  async onAnswer(jsep: RTCSessionDescriptionInit): Promise<void> {
    await this.pc.setRemoteDescription(jsep);
  }

  restartIce(): void {
    if (this.pc.connectionState !== 'closed' && this.pc.signalingState === 'stable') void this.offer(true);
  }

  close(): void {
    this.pc.close();
  }
}

/** One other participant's feed received from Janus. */
export class SfuSubscription implements MediaLink {
  readonly pc: RTCPeerConnection;

  constructor(
    readonly feed: number,
    readonly memberId: string,
    iceServers: RTCIceServer[],
    private readonly send: Send,
    onTrack: (stream: MediaStream) => void,
  ) {
    this.pc = new RTCPeerConnection({ iceServers });
    this.pc.ontrack = (e) => onTrack(e.streams[0] ?? new MediaStream([e.track]));
    this.pc.onicecandidate = (e) => this.send({ type: 'trickle', target: feed, candidate: e.candidate ? e.candidate.toJSON() : null });
    watchIce(this.pc, () => this.restartIce());
  }

  async onOffer(jsep: RTCSessionDescriptionInit): Promise<void> {
    await this.pc.setRemoteDescription(jsep);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.send({ type: 'sub-answer', feed: this.feed, jsep: { type: 'answer', sdp: answer.sdp } });
  }

  restartIce(): void {
    if (this.pc.connectionState !== 'closed') this.send({ type: 'sub-restart', feed: this.feed });
  }

  close(): void {
    this.pc.close();
    this.send({ type: 'unsubscribe', feed: this.feed });
  }
}

export { healthy };
