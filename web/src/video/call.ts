/**
 * One person's side of a call: local camera and microphone, the media path the room uses (mesh or
 * SFU), the room's members, chat, hands, host controls, recording consent, quality and
 * reconnection. The page renders its signals; nothing here touches the DOM.
 */
import { signal } from '@preact/signals';
import type { ChatLine, PublicMember, RecordingState } from '../../../src/video/protocol.ts';
import { MeshPeer, SfuPublisher, SfuSubscription, healthy, type MediaLink } from './peers.ts';
import {
  activeLayers,
  floorFor,
  inbound,
  LayerChooser,
  mediaPath,
  receiveQuality,
  SIMULCAST_MIN_SEND,
  TOP_LAYER,
  SendLevelGovernor,
  uplinkEstimate,
  WARM_UP_MS,
  type InboundSample,
  type Quality,
  type SendLevel,
} from './quality.ts';
import { Signalling, type LinkState, type ServerMessage } from './signalling.ts';

/** What the server tells of each participant (shared with the signalling server). */
export type Member = PublicMember;

export type CallState = 'connecting' | 'lobby' | 'in' | 'reconnecting' | 'ended' | 'refused' | 'left';

export class Call {
  readonly state = signal<CallState>('connecting');
  readonly message = signal<string | undefined>(undefined);
  readonly me = signal<{ id: string; host: boolean } | undefined>(undefined);
  readonly room = signal<{ id: string; title: string; mode: 'mesh' | 'sfu'; kind: string } | undefined>(undefined);
  readonly members = signal<Member[]>([]);
  readonly streams = signal<Record<string, MediaStream>>({});
  readonly quality = signal<Record<string, Quality>>({});
  readonly chat = signal<ChatLine[]>([]);
  readonly recording = signal<RecordingState>({ state: 'off', consents: {} });
  readonly speaker = signal<string | undefined>(undefined);
  readonly sendLevel = signal<SendLevel>('full');
  readonly audioOn = signal(true);
  readonly videoOn = signal(true);
  readonly screenOn = signal(false);
  readonly hand = signal(false);
  readonly notice = signal<string | undefined>(undefined);
  /** Data saver: other people's video in the smallest simulcast layer (SFU sessions). */
  readonly dataSaver = signal(false);

  private readonly sig: Signalling;
  /** ICE servers (TURN credentials expire: renewed with every welcome) and the transport policy. */
  private ice: RTCConfiguration = {};
  private readonly mesh = new Map<string, MeshPeer>();
  private publisher?: SfuPublisher;
  private readonly subs = new Map<number, SfuSubscription>();
  private readonly subTries = new Map<number, number>();
  private screenTrack?: MediaStreamTrack;
  private readonly governor = new SendLevelGovernor();
  private sendCap: number | null = null;
  private readonly samples = new Map<string, InboundSample>();
  /** Per watched feed: the layer chooser and the layer last asked of the server. */
  private readonly layers = new Map<number, { chooser: LayerChooser; asked: number }>();
  private monitor?: ReturnType<typeof setInterval>;
  private pinger?: ReturnType<typeof setInterval>;
  /** When media last (re)started: the bandwidth estimate is not trusted just after. */
  private mediaSince?: number;

  constructor(
    roomId: string,
    invite: string | undefined,
    readonly local: MediaStream,
  ) {
    this.sig = new Signalling(
      roomId,
      invite,
      (m) => void this.onMessage(m).catch((e: Error) => console.warn('signalling', e)),
      (s, reason) => this.onLink(s, reason),
    );
  }

  start(): void {
    this.sig.open();
    this.monitor = setInterval(() => void this.sample(), 2000);
    this.pinger = setInterval(() => this.sig.send({ type: 'ping' }), 20_000);
  }

  private get audioTrack(): MediaStreamTrack | null {
    return this.local.getAudioTracks()[0] ?? null;
  }

  private get cameraTrack(): MediaStreamTrack | null {
    return this.local.getVideoTracks()[0] ?? null;
  }

  /** What the video sender should carry now: screen, camera, or nothing (audio only / camera off). */
  private get outgoingVideo(): MediaStreamTrack | null {
    if (this.screenTrack) return this.screenTrack;
    if (!this.videoOn.value || this.sendLevel.value === 'audio') return null;
    return this.cameraTrack;
  }

  private onLink(s: LinkState, reason?: string): void {
    if (s === 'reconnecting' && (this.state.value === 'in' || this.state.value === 'lobby' || this.state.value === 'reconnecting'))
      this.state.value = 'reconnecting';
    if (s === 'closed' && !['ended', 'refused', 'left'].includes(this.state.value)) {
      this.state.value = 'refused';
      this.message.value ??= reason || 'Mất kết nối với phòng (disconnected from the room)';
      this.teardown();
    }
  }

  private async onMessage(m: ServerMessage): Promise<void> {
    switch (m.type) {
      case 'welcome': {
        this.ice = { iceServers: m.iceServers, iceTransportPolicy: m.iceTransportPolicy === 'relay' ? 'relay' : 'all' };
        this.me.value = { id: m.you.id, host: m.you.host };
        this.room.value = m.room;
        this.recording.value = m.recording;
        if (m.chat.length || !m.resumed) this.chat.value = m.chat;
        this.state.value = m.you.state === 'in' ? 'in' : 'lobby';
        this.setMembers(m.members);
        if (m.resumed) this.afterResume();
        else if (m.you.state === 'in') await this.enterMedia();
        this.announceMedia();
        return;
      }
      case 'admitted':
        this.state.value = 'in';
        this.chat.value = m.chat;
        this.recording.value = m.recording;
        await this.enterMedia();
        this.announceMedia();
        return;
      case 'members':
        return this.setMembers(m.members);
      case 'left':
        return this.dropMember(m.id);
      case 'signal': {
        const peer = this.meshPeer(m.from);
        return peer?.onSignal(m.data);
      }
      case 'ice':
        // Fresh TURN credentials: for the connections to come and for ICE restarts of these.
        this.ice = { ...this.ice, iceServers: m.iceServers };
        this.updateIceServers();
        return;
      case 'pub-answer':
        return this.publisher?.onAnswer(m.jsep);
      case 'sub-offer': {
        let sub = this.subs.get(m.feed);
        if (!sub) {
          sub = new SfuSubscription(
            m.feed,
            m.member,
            this.ice,
            (x) => this.sig.send(x),
            (s) => this.addStream(m.member, s),
          );
          this.subs.set(m.feed, sub);
        }
        await sub.onOffer(m.jsep);
        this.layers.delete(m.feed); // a new subscription starts at the full layer
        if (this.dataSaver.value) this.chooseLayer(m.feed, 'unknown');
        return;
      }
      case 'sub-failed': {
        const sub = this.subs.get(m.feed);
        if (!sub) return;
        sub.pc.close();
        this.subs.delete(m.feed);
        const tries = (this.subTries.get(m.feed) ?? 0) + 1;
        this.subTries.set(m.feed, tries);
        if (tries <= 5) setTimeout(() => this.setMembers(this.members.value), 500 * tries);
        else this.notice.value = m.message;
        return;
      }
      case 'chat':
        this.chat.value = [...this.chat.value, { from: m.from, name: m.name, text: m.text, at: m.at }];
        return;
      case 'muted':
        this.setAudio(false);
        this.notice.value = `${m.by} đã tắt micrô của bạn (a host muted you)`;
        return;
      case 'recording':
        this.recording.value = m.recording;
        return;
      case 'notice':
        this.notice.value = m.text;
        return;
      case 'ended':
        this.state.value = 'ended';
        this.message.value = `Cuộc gọi đã kết thúc (${m.by})`;
        this.teardown();
        return;
      case 'refused':
        this.state.value = 'refused';
        this.message.value = m.message;
        this.teardown();
        return;
      case 'error':
        this.notice.value = m.message;
        return;
    }
  }

  private setMembers(list: Member[]): void {
    this.members.value = list;
    if (this.state.value !== 'in' && this.state.value !== 'reconnecting') return;
    const me = this.me.value!.id;
    const present = new Set(list.filter((x) => x.state === 'in').map((x) => x.id));
    if (this.room.value?.mode === 'mesh') {
      for (const x of list) if (x.id !== me && x.state === 'in' && !this.mesh.has(x.id)) this.meshPeer(x.id);
    } else {
      for (const x of list) {
        if (x.id === me || x.state !== 'in' || x.feed === null) continue;
        const sub = this.subs.get(x.feed);
        if (!sub) this.subscribe(x.feed, x.id);
      }
      for (const [feed, sub] of this.subs) if (!list.some((x) => x.feed === feed)) this.closeSub(feed, sub);
    }
    for (const id of [...this.mesh.keys()]) if (!present.has(id)) this.dropMember(id);
  }

  private subscribe(feed: number, memberId: string): void {
    // Placeholder until Janus offers: keeps us from asking twice.
    this.subs.set(
      feed,
      new SfuSubscription(
        feed,
        memberId,
        this.ice,
        (x) => this.sig.send(x),
        (s) => this.addStream(memberId, s),
      ),
    );
    this.sig.send({ type: 'subscribe', feed });
  }

  private closeSub(feed: number, sub: SfuSubscription): void {
    sub.close();
    this.subs.delete(feed);
    this.layers.delete(feed);
    this.removeStream(sub.memberId);
  }

  private meshPeer(id: string): MeshPeer | undefined {
    if (this.room.value?.mode !== 'mesh' || !this.me.value) return undefined;
    let p = this.mesh.get(id);
    if (!p) {
      const me = this.me.value.id;
      p = new MeshPeer(
        id,
        me < id,
        this.ice,
        { audio: this.audioTrack, video: this.outgoingVideo, stream: this.local },
        (x) => this.sig.send(x),
        (s) => this.addStream(id, s),
        () => void this.applySendLevel(),
      );
      this.mesh.set(id, p);
      void this.applySendLevel();
    }
    return p;
  }

  private dropMember(id: string): void {
    this.mesh.get(id)?.close();
    this.mesh.delete(id);
    for (const [feed, sub] of this.subs) if (sub.memberId === id) this.closeSub(feed, sub);
    this.removeStream(id);
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

  private async enterMedia(): Promise<void> {
    this.mediaSince = performance.now();
    if (this.room.value?.mode === 'sfu' && !this.publisher) {
      const simulcast = this.sendCap === null || this.sendCap >= SIMULCAST_MIN_SEND;
      this.publisher = new SfuPublisher(
        this.ice,
        { audio: this.audioTrack, video: this.outgoingVideo, stream: this.local },
        (x) => this.sig.send(x),
        simulcast,
      );
      await this.publisher.offer();
      void this.applySendLevel();
    }
    this.setMembers(this.members.value);
  }

  /** Back after a drop: restart ICE on every connection that is not healthy. */
  private afterResume(): void {
    this.mediaSince = performance.now();
    // Fresh TURN credentials first: an ICE restart after a long call must not use expired ones.
    this.updateIceServers();
    this.state.value = this.members.value.find((x) => x.id === this.me.value?.id)?.state === 'lobby' ? 'lobby' : 'in';
    for (const p of this.mesh.values()) if (!healthy(p.pc)) p.restartIce();
    if (this.publisher && !healthy(this.publisher.pc)) this.publisher.restartIce();
    for (const s of this.subs.values()) if (!healthy(s.pc)) s.restartIce();
    this.setMembers(this.members.value);
  }

  private updateIceServers(): void {
    for (const link of this.links()) {
      try {
        link.pc.setConfiguration({ ...link.pc.getConfiguration(), iceServers: this.ice.iceServers });
      } catch {
        // A closed connection: it is replaced, not restarted.
      }
    }
  }

  private links(): MediaLink[] {
    return [...this.mesh.values(), ...(this.publisher ? [this.publisher] : []), ...this.subs.values()];
  }

  /** Applies the send level and the user's cap to every video sender. */
  private async applySendLevel(): Promise<void> {
    const level = this.sendLevel.value;
    const track = this.outgoingVideo;
    const senders = this.room.value?.mode === 'sfu' ? [this.publisher?.videoSender] : [...this.mesh.values()].map((p) => p.videoSender);
    for (const sender of senders) {
      if (!sender) continue;
      if (sender.track !== track) await sender.replaceTrack(track).catch(() => undefined);
      const params = sender.getParameters();
      if (!params.encodings?.length) continue;
      if (params.encodings.length > 1) {
        // Simulcast: keep the layers the limit pays for; each keeps its own size and rate.
        const on = activeLayers(level, this.sendCap);
        params.encodings.forEach((e, i) => {
          e.active = on[i] ?? true;
          e.maxFramerate = level === 'low' ? 15 : 30;
        });
        await sender.setParameters(params).catch(() => undefined);
        continue;
      }
      const enc = params.encodings[0];
      enc.scaleResolutionDownBy = level === 'low' && !this.screenTrack ? 2 : 1;
      enc.maxFramerate = level === 'low' ? 15 : 30;
      const cap = this.sendCap === null ? undefined : Math.max(30_000, this.sendCap - 40_000); // leave room for audio
      if (cap === undefined) delete enc.maxBitrate;
      else enc.maxBitrate = cap;
      await sender.setParameters(params).catch(() => undefined);
    }
  }

  /** Asks the server for the layer of this feed the chooser wants, when it differs from the last ask. */
  private chooseLayer(feed: number, quality: Quality): void {
    let l = this.layers.get(feed);
    if (!l) this.layers.set(feed, (l = { chooser: new LayerChooser(), asked: TOP_LAYER }));
    const want = l.chooser.update(quality, this.dataSaver.value);
    if (want === l.asked) return;
    l.asked = want;
    this.sig.send({ type: 'layer', feed, substream: want });
  }

  /** Data saver on or off: applies to every feed at once. */
  setDataSaver(on: boolean): void {
    this.dataSaver.value = on;
    for (const feed of this.subs.keys()) this.chooseLayer(feed, 'unknown');
  }

  /** The user's own limit on what this device sends (bit/s), e.g. on a metered 3G link. */
  setSendCap(bps: number | null): void {
    this.sendCap = bps;
    void this.applySendLevel();
  }

  private async sample(): Promise<void> {
    if (this.state.value !== 'in' && this.state.value !== 'reconnecting') return;
    const q: Record<string, Quality> = {};
    let loudest: { id: string; level: number } | undefined;
    const receivers: [string, RTCPeerConnection][] =
      this.room.value?.mode === 'sfu' ? [...this.subs.values()].map((s) => [s.memberId, s.pc]) : [...this.mesh.values()].map((p) => [p.memberId, p.pc]);
    for (const [id, pc] of receivers) {
      const now = await inbound(pc);
      const member = this.members.value.find((x) => x.id === id);
      q[id] = receiveQuality(this.samples.get(id), now, !!member && member.media.video && !member.media.audioOnly);
      this.samples.set(id, now);
      if (now.audioLevel > 0.05 && (!loudest || now.audioLevel > loudest.level)) loudest = { id, level: now.audioLevel };
    }
    this.quality.value = q;
    if (loudest) this.speaker.value = loudest.id;
    for (const [feed, sub] of this.subs) if (q[sub.memberId]) this.chooseLayer(feed, q[sub.memberId]);
    const warm = this.mediaSince !== undefined && performance.now() - this.mediaSince > WARM_UP_MS;
    const uplink = await uplinkEstimate(
      this.links()
        .filter((l) => !(l instanceof SfuSubscription))
        .map((l) => l.pc),
      this.sendCap,
    );
    const before = this.sendLevel.value;
    const level = this.governor.update(uplink, floorFor(warm, this.sendCap));
    if (level !== before) {
      this.sendLevel.value = level;
      await this.applySendLevel();
      this.announceMedia();
    }
  }

  private announceMedia(): void {
    if (this.state.value !== 'in') return;
    const worst = Object.values(this.quality.value).reduce<Quality>((a, b) => (rank(b) < rank(a) ? b : a), 'good');
    this.sig.send({
      type: 'media',
      audio: this.audioOn.value,
      video: this.videoOn.value,
      screen: this.screenOn.value,
      audioOnly: this.sendLevel.value === 'audio',
      quality: Object.keys(this.quality.value).length ? worst : 'unknown',
    });
  }

  setAudio(on: boolean): void {
    this.audioOn.value = on;
    for (const t of this.local.getAudioTracks()) t.enabled = on;
    this.announceMedia();
  }

  setVideo(on: boolean): void {
    this.videoOn.value = on;
    void this.applySendLevel();
    this.announceMedia();
  }

  /** Back to video after an automatic fall-back (the person moved to a better signal). */
  retryVideo(): void {
    this.governor.reset();
    this.sendLevel.value = 'full';
    void this.applySendLevel();
    this.announceMedia();
  }

  async shareScreen(on: boolean): Promise<void> {
    if (on) {
      const display = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 10 }, audio: false });
      this.screenTrack = display.getVideoTracks()[0];
      this.screenTrack.contentHint = 'detail'; // imaging and slides: keep it sharp rather than smooth
      this.screenTrack.onended = () => void this.shareScreen(false);
    } else {
      this.screenTrack?.stop();
      this.screenTrack = undefined;
    }
    this.screenOn.value = !!this.screenTrack;
    await this.applySendLevel();
    this.announceMedia();
  }

  raiseHand(up: boolean): void {
    this.hand.value = up;
    this.sig.send({ type: 'hand', up });
  }

  sendChat(text: string): void {
    this.sig.send({ type: 'chat', text });
  }

  host(action: 'admit' | 'deny' | 'mute' | 'remove', id: string): void {
    this.sig.send({ type: action, id });
  }

  end(): void {
    this.sig.send({ type: 'end' });
  }

  askToRecord(): void {
    this.sig.send({ type: 'record-request' });
  }

  stopRecording(): void {
    this.sig.send({ type: 'record-stop' });
  }

  consentToRecording(agree: boolean): void {
    this.sig.send({ type: 'record-consent', agree });
  }

  leave(): void {
    this.state.value = 'left';
    this.sig.close();
    this.teardown();
  }

  private teardown(): void {
    clearInterval(this.monitor);
    clearInterval(this.pinger);
    for (const l of this.links()) l.pc.close();
    this.mesh.clear();
    this.subs.clear();
    this.publisher = undefined;
    this.screenTrack?.stop();
    for (const t of this.local.getTracks()) t.stop();
    this.streams.value = {};
  }

  /** Numbers for the support page and the tests: what each connection receives. */
  async stats(): Promise<Record<string, InboundSample>> {
    const out: Record<string, InboundSample> = {};
    const receivers: [string, RTCPeerConnection][] =
      this.room.value?.mode === 'sfu' ? [...this.subs.values()].map((s) => [s.memberId, s.pc]) : [...this.mesh.values()].map((p) => [p.memberId, p.pc]);
    for (const [id, pc] of receivers) out[id] = await inbound(pc);
    return out;
  }

  /** Every connection's ICE and signalling state with what it received. */
  async report(): Promise<LinkReport[]> {
    const row = async (kind: LinkReport['kind'], pc: RTCPeerConnection, member?: string, feed?: number): Promise<LinkReport> => ({
      kind,
      member,
      feed,
      ice: pc.iceConnectionState,
      signaling: pc.signalingState,
      path: await mediaPath(pc),
      inbound: await inbound(pc),
    });
    const out: LinkReport[] = [];
    for (const p of this.mesh.values()) out.push(await row('mesh', p.pc, p.memberId));
    if (this.publisher) out.push(await row('publish', this.publisher.pc));
    for (const s of this.subs.values()) out.push(await row('subscribe', s.pc, s.memberId, s.feed));
    return out;
  }
}

/** One connection's state, for support and for tests that must say why media did not flow. */
export interface LinkReport {
  kind: 'mesh' | 'publish' | 'subscribe';
  member?: string;
  feed?: number;
  ice: RTCIceConnectionState;
  signaling: RTCSignalingState;
  /** Candidate types of the pair in use: 'relay' means through TURN. */
  path?: { local: string; remote: string };
  inbound: InboundSample;
}

const rank = (q: Quality) => ({ poor: 0, fair: 1, unknown: 2, good: 3 })[q];
