/**
 * A call's media connections: one RTCPeerConnection per other participant (mesh), or the
 * publishing connection and one subscription per watched feed (SFU); which simulcast layer each
 * feed is asked for; the streams received; ICE restarts and fresh TURN credentials; and what each
 * connection reports. The call (call.ts) decides when; this file holds and changes the connections.
 */
import { signal } from '@preact/signals';
import type { Jsep, PublicMember, SignalData } from '../../../src/video/protocol.ts';
import { MeshPeer, SfuPublisher, SfuSubscription, healthy, type MediaLink, type Send } from './peers.ts';
import { inbound, LayerChooser, mediaPath, TOP_LAYER, transportOf, type InboundSample, type Quality, type TransportSample } from './quality.ts';

/** What the connections ask of the call they belong to. */
export interface CallSide {
  send: Send;
  /** This person in the room (known after the server's welcome). */
  me(): { id: string } | undefined;
  /** The room's media path (known after the server's welcome). */
  mode(): 'mesh' | 'sfu' | undefined;
  /** What this device sends now. */
  outgoing(): { audio: MediaStreamTrack | null; video: MediaStreamTrack | null; stream: MediaStream };
  /** Data saver: other people's video in the smallest simulcast layer. */
  dataSaver(): boolean;
  /** A video sender appeared or renegotiated: the send level must be applied to it. */
  sendersChanged(): void;
  /** Connects again to the members as last announced (a failed subscription is asked for again). */
  resync(): void;
  /** Tells the person something went wrong that retrying did not mend. */
  tell(text: string): void;
}

/** A failed subscription is asked for again this many times, each a little later. */
const SUBSCRIBE_TRIES = 5;
/** ... then the feed rests this long and gets a fresh series of tries (a long meeting never loses someone for good). */
const GAVE_UP_REST_MS = 60_000;

/** One connection's state, for support and for tests that must say why media did not flow. */
export interface LinkReport {
  kind: 'mesh' | 'publish' | 'subscribe';
  member?: string;
  feed?: number;
  ice: RTCIceConnectionState;
  /** ICE and DTLS together: 'failed' with ICE 'connected' is a DTLS handshake that never finished. */
  connection: RTCPeerConnectionState;
  signaling: RTCSignalingState;
  /** Candidate types of the pair in use: 'relay' means through TURN. */
  path?: { local: string; remote: string };
  inbound: InboundSample;
  transport: TransportSample;
}

export class Connections {
  /** What is received from each member, by member id. */
  readonly streams = signal<Record<string, MediaStream>>({});
  /** ICE servers (TURN credentials expire: renewed with every welcome) and the transport policy. */
  ice: RTCConfiguration = {};
  private readonly mesh = new Map<string, MeshPeer>();
  private publisher?: SfuPublisher;
  private readonly subs = new Map<number, SfuSubscription>();
  private readonly subTries = new Map<number, number>();
  /** Feeds resting after SUBSCRIBE_TRIES failures in a row (for GAVE_UP_REST_MS, or until the SFU side starts over). */
  private readonly gaveUp = new Set<number>();
  /** Per watched feed: the layer chooser and the layer last asked of the server. */
  private readonly layers = new Map<number, { chooser: LayerChooser; asked: number }>();

  constructor(private readonly call: CallSide) {}

  /** Connects to each member in the call not yet connected; closes connections of those gone. */
  sync(list: PublicMember[]): void {
    const me = this.call.me()!.id;
    const present = new Set(list.filter((x) => x.state === 'in').map((x) => x.id));
    if (this.call.mode() === 'mesh') {
      for (const x of list) if (x.id !== me && x.state === 'in' && !this.mesh.has(x.id)) this.meshPeer(x.id);
    } else {
      for (const x of list) {
        if (x.id === me || x.state !== 'in' || x.feed === null) continue;
        if (!this.subs.has(x.feed) && !this.gaveUp.has(x.feed)) this.subscribe(x.feed, x.id);
      }
      for (const [feed, sub] of this.subs) if (!list.some((x) => x.feed === feed)) this.closeSub(feed, sub);
    }
    for (const id of [...this.mesh.keys()]) if (!present.has(id)) this.drop(id);
  }

  /** A mesh signalling message from another member. */
  onSignal(from: string, data: SignalData): Promise<void> | undefined {
    return this.meshPeer(from)?.onSignal(data);
  }

  /** The SFU's answer to our publishing offer. */
  onPublishAnswer(jsep: Jsep): Promise<void> | undefined {
    return this.publisher?.onAnswer(jsep);
  }

  /** The SFU offers a feed we asked for: answer it (a new subscription starts at the full layer). */
  async onSubscribeOffer(feed: number, jsep: Jsep, ref?: number): Promise<void> {
    const sub = this.current(feed, ref);
    if (!sub) return; // given up or replaced meanwhile
    await sub.onOffer(jsep);
    this.layers.delete(feed); // a new subscription starts at the full layer
    if (this.call.dataSaver()) this.chooseLayer(feed, 'unknown');
  }

  /**
   * A subscription failed — the server could not make, start or restart it, or Janus hung it up,
   * or it connected and no media came: it is closed and asked for again, a little later each time.
   * After SUBSCRIBE_TRIES in a row the feed is given up for GAVE_UP_REST_MS and the person told, unless
   * no media was the reason (a participant may send nothing at all); then a fresh series begins. A failure of a subscription already replaced
   * (`ref` of another) is ignored.
   */
  subscriptionFailed(feed: number, message: string, ref?: number, told = true): void {
    const sub = this.current(feed, ref);
    if (!sub) return;
    // For support (and tests that must say why media did not flow): which feed, why, which try. No names.
    console.info(`video: subscription to feed ${feed} (#${sub.ref}) given up: ${message}`);
    this.closeSub(feed, sub);
    const tries = (this.subTries.get(feed) ?? 0) + 1;
    this.subTries.set(feed, tries);
    if (tries <= SUBSCRIBE_TRIES) {
      setTimeout(() => this.call.resync(), 500 * tries);
      return;
    }
    this.gaveUp.add(feed);
    if (told) this.call.tell(message);
    setTimeout(() => {
      if (!this.gaveUp.delete(feed)) return; // the SFU side started over meanwhile
      this.subTries.delete(feed);
      this.call.resync();
    }, GAVE_UP_REST_MS);
  }

  /** In an SFU room, starts publishing (once). */
  async publish(simulcast: boolean): Promise<void> {
    if (this.call.mode() !== 'sfu' || this.publisher) return;
    this.publisher = new SfuPublisher(this.ice, this.call.outgoing(), this.call.send, simulcast);
    await this.publisher.offer();
    this.call.sendersChanged();
  }

  /** The SFU side starts over (the room's media moved): closes the publisher and every subscription. */
  resetSfu(): void {
    this.publisher?.pc.close();
    this.publisher = undefined;
    for (const [feed, sub] of [...this.subs]) this.closeSub(feed, sub);
    this.subTries.clear();
    this.gaveUp.clear();
  }

  /** Closes everything of this member (they left). */
  drop(id: string): void {
    this.mesh.get(id)?.close();
    this.mesh.delete(id);
    for (const [feed, sub] of this.subs) if (sub.memberId === id) this.closeSub(feed, sub);
    this.removeStream(id);
  }

  /** Back after a drop: restart ICE on every connection that is not healthy. */
  restartUnhealthy(): void {
    for (const p of this.mesh.values()) if (!healthy(p.pc)) p.restartIce();
    if (this.publisher && !healthy(this.publisher.pc)) this.publisher.restartIce();
    for (const s of this.subs.values()) if (!healthy(s.pc)) s.restartIce();
  }

  /** Puts the current ICE servers (fresh TURN credentials) into every connection, for its next ICE restart. */
  updateIceServers(): void {
    for (const link of this.links()) {
      try {
        link.pc.setConfiguration({ ...link.pc.getConfiguration(), iceServers: this.ice.iceServers });
      } catch {
        // A closed connection: it is replaced, not restarted.
      }
    }
  }

  links(): MediaLink[] {
    return [...this.mesh.values(), ...(this.publisher ? [this.publisher] : []), ...this.subs.values()];
  }

  /** The connections that send (for the uplink estimate). */
  sending(): RTCPeerConnection[] {
    return this.links()
      .filter((l) => !(l instanceof SfuSubscription))
      .map((l) => l.pc);
  }

  /** The video senders the send level applies to. */
  videoSenders(): (RTCRtpSender | undefined)[] {
    return this.call.mode() === 'sfu' ? [this.publisher?.videoSender] : [...this.mesh.values()].map((p) => p.videoSender);
  }

  /** The receiving connections, by member id. */
  receivers(): [string, RTCPeerConnection][] {
    return this.call.mode() === 'sfu' ? [...this.subs.values()].map((s) => [s.memberId, s.pc]) : [...this.mesh.values()].map((p) => [p.memberId, p.pc]);
  }

  /** Asks for each watched feed the layer its quality calls for. */
  chooseLayers(quality: Record<string, Quality>): void {
    for (const [feed, sub] of this.subs) if (quality[sub.memberId]) this.chooseLayer(feed, quality[sub.memberId]);
  }

  /** Data saver turned on or off: applies to every feed at once. */
  rechooseLayers(): void {
    for (const feed of this.subs.keys()) this.chooseLayer(feed, 'unknown');
  }

  close(): void {
    for (const l of this.links()) l.pc.close();
    this.mesh.clear();
    this.subs.clear();
    this.publisher = undefined;
    this.streams.value = {};
  }

  /** Every connection's ICE and signalling state with what it received. */
  async report(): Promise<LinkReport[]> {
    const row = async (kind: LinkReport['kind'], pc: RTCPeerConnection, member?: string, feed?: number): Promise<LinkReport> => ({
      kind,
      member,
      feed,
      ice: pc.iceConnectionState,
      connection: pc.connectionState,
      signaling: pc.signalingState,
      path: await mediaPath(pc),
      inbound: await inbound(pc),
      transport: await transportOf(pc),
    });
    const out: LinkReport[] = [];
    for (const p of this.mesh.values()) out.push(await row('mesh', p.pc, p.memberId));
    if (this.publisher) out.push(await row('publish', this.publisher.pc));
    for (const s of this.subs.values()) out.push(await row('subscribe', s.pc, s.memberId, s.feed));
    return out;
  }

  private meshPeer(id: string): MeshPeer | undefined {
    const me = this.call.me();
    if (this.call.mode() !== 'mesh' || !me) return undefined;
    let p = this.mesh.get(id);
    if (!p) {
      p = new MeshPeer(
        id,
        me.id < id,
        this.ice,
        this.call.outgoing(),
        this.call.send,
        (s) => this.addStream(id, s),
        () => this.call.sendersChanged(),
      );
      this.mesh.set(id, p);
      this.call.sendersChanged();
    }
    return p;
  }

  /** Asks for a feed; the subscription waits for Janus's offer (and keeps us from asking twice). */
  private subscribe(feed: number, memberId: string): void {
    const sub: SfuSubscription = new SfuSubscription(feed, memberId, this.ice, this.call.send, {
      onTrack: (s) => this.addStream(memberId, s),
      lost: (why) => this.subscriptionFailed(feed, why, sub.ref, false),
      flowing: () => this.subTries.delete(feed),
    });
    this.subs.set(feed, sub);
    sub.request();
  }

  /** The feed's subscription, if `ref` names it (a server message without `ref`: the feed's). */
  private current(feed: number, ref: number | undefined): SfuSubscription | undefined {
    const sub = this.subs.get(feed);
    return sub && (ref === undefined || ref === sub.ref) ? sub : undefined;
  }

  private closeSub(feed: number, sub: SfuSubscription): void {
    sub.close();
    this.subs.delete(feed);
    this.layers.delete(feed);
    this.removeStream(sub.memberId);
  }

  /** Asks the server for the layer of this feed the chooser wants, when it differs from the last ask. */
  private chooseLayer(feed: number, quality: Quality): void {
    let l = this.layers.get(feed);
    if (!l) this.layers.set(feed, (l = { chooser: new LayerChooser(), asked: TOP_LAYER }));
    const want = l.chooser.update(quality, this.call.dataSaver());
    if (want === l.asked) return;
    l.asked = want;
    this.call.send({ type: 'layer', feed, substream: want });
  }

  private addStream(id: string, s: MediaStream): void {
    this.streams.value = { ...this.streams.value, [id]: s };
  }

  private removeStream(id: string): void {
    if (!(id in this.streams.value)) return;
    const next = { ...this.streams.value };
    delete next[id];
    this.streams.value = next;
  }
}
