/**
 * One person's side of a call: local camera and microphone, the room's members, chat, hands, host
 * controls, recording consent, quality and the send level, and reconnection. The connections
 * themselves (mesh or SFU) are in connections.ts, what a video sender carries in sending.ts. The
 * page renders the signals here; nothing here touches the DOM.
 */
import { signal } from '@preact/signals';
import type { ChatLine, PublicMember, RecordingState } from '../../../src/video/protocol.ts';
import { Connections, type LinkReport } from './connections.ts';
import type { MediaLink } from './peers.ts';
import { SendAdaptation } from './adaptation.ts';
import { inbound, receiveQuality, SIMULCAST_MIN_SEND, uplinkStats, WARM_UP_MS, type InboundSample, type Quality, type SendLevel } from './quality.ts';
import { applySendLevel } from './sending.ts';
import { Signalling, type LinkState, type ServerMessage } from './signalling.ts';

export type { LinkReport } from './connections.ts';

/** What the server tells of each participant (shared with the signalling server). */
export type Member = PublicMember;

export type CallState = 'connecting' | 'lobby' | 'in' | 'reconnecting' | 'ended' | 'refused' | 'left';

export class Call {
  readonly state = signal<CallState>('connecting');
  readonly message = signal<string | undefined>(undefined);
  readonly me = signal<{ id: string; host: boolean } | undefined>(undefined);
  readonly room = signal<{ id: string; title: string; mode: 'mesh' | 'sfu'; kind: string } | undefined>(undefined);
  readonly members = signal<Member[]>([]);
  readonly quality = signal<Record<string, Quality>>({});
  readonly chat = signal<ChatLine[]>([]);
  readonly recording = signal<RecordingState>({ state: 'off', consents: {} });
  readonly speaker = signal<string | undefined>(undefined);
  readonly sendLevel = signal<SendLevel>('full');
  /** Audio only for now, and the low level is on for a trial (see adaptation.ts). */
  readonly probing = signal(false);
  /** The last look at the uplink (estimate bit/s, reported loss, round trip s): support page and tests. */
  readonly uplink = signal<{ estimate?: number; loss?: number; rtt?: number; stalled?: boolean }>({});
  readonly audioOn = signal(true);
  readonly videoOn = signal(true);
  readonly screenOn = signal(false);
  readonly hand = signal(false);
  readonly notice = signal<string | undefined>(undefined);
  /** Data saver: other people's video in the smallest simulcast layer (SFU sessions). */
  readonly dataSaver = signal(false);

  private readonly sig: Signalling;
  private readonly conns = new Connections({
    send: (x) => this.sig.send(x),
    me: () => this.me.value,
    mode: () => this.room.value?.mode,
    outgoing: () => ({ audio: this.audioTrack, video: this.outgoingVideo, stream: this.local }),
    dataSaver: () => this.dataSaver.value,
    sendersChanged: () => void this.applySendLevel(),
    resync: () => this.setMembers(this.members.value),
    tell: (text) => (this.notice.value = text),
  });
  /** What is received from each member, by member id. */
  readonly streams = this.conns.streams;
  private screenTrack?: MediaStreamTrack;
  private readonly adaptation = new SendAdaptation();
  /** Packets received from everyone at the last sample: none new means the link is out. */
  private receivedBefore = -1;
  private sendCap: number | null = null;
  private readonly samples = new Map<string, InboundSample>();
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
        this.conns.ice = { iceServers: m.iceServers, iceTransportPolicy: m.iceTransportPolicy === 'relay' ? 'relay' : 'all' };
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
      case 'signal':
        return this.conns.onSignal(m.from, m.data);
      case 'ice':
        // Fresh TURN credentials: for the connections to come and for ICE restarts of these.
        this.conns.ice = { ...this.conns.ice, iceServers: m.iceServers };
        this.conns.updateIceServers();
        return;
      case 'renegotiate':
        // The room's media moved (a lost Janus, or another node took the room over): new SFU connections, no reload.
        if (this.state.value !== 'in' && this.state.value !== 'reconnecting') return;
        this.conns.resetSfu();
        await this.enterMedia();
        this.announceMedia();
        return;
      case 'pub-answer':
        return this.conns.onPublishAnswer(m.jsep);
      case 'sub-offer':
        return this.conns.onSubscribeOffer(m.feed, m.jsep, m.ref);
      case 'sub-failed':
        // The publisher may be renegotiating, or Janus lost the subscription: asked for again.
        return this.conns.subscriptionFailed(m.feed, m.message, m.ref);
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
    this.conns.sync(list);
  }

  private dropMember(id: string): void {
    this.conns.drop(id);
  }

  private async enterMedia(): Promise<void> {
    this.mediaSince = performance.now();
    await this.conns.publish(this.sendCap === null || this.sendCap >= SIMULCAST_MIN_SEND);
    this.setMembers(this.members.value);
  }

  /** Back after a drop: restart ICE on every connection that is not healthy. */
  private afterResume(): void {
    this.mediaSince = performance.now();
    // Fresh TURN credentials first: an ICE restart after a long call must not use expired ones.
    this.conns.updateIceServers();
    this.state.value = this.members.value.find((x) => x.id === this.me.value?.id)?.state === 'lobby' ? 'lobby' : 'in';
    this.conns.restartUnhealthy();
    this.setMembers(this.members.value);
  }

  /** Every media connection of the call (support and tests). */
  links(): MediaLink[] {
    return this.conns.links();
  }

  /** Applies the send level and the user's cap to every video sender. */
  private async applySendLevel(): Promise<void> {
    await applySendLevel(this.conns.videoSenders(), { track: this.outgoingVideo, level: this.sendLevel.value, cap: this.sendCap, screen: !!this.screenTrack });
  }

  /** Data saver on or off: applies to every feed at once. */
  setDataSaver(on: boolean): void {
    this.dataSaver.value = on;
    this.conns.rechooseLayers();
  }

  /** The user's own limit on what this device sends (bit/s), e.g. on a metered 3G link. */
  setSendCap(bps: number | null): void {
    this.sendCap = bps;
    const level = this.adaptation.update({ at: performance.now(), cap: bps, warm: false });
    if (level !== this.sendLevel.value) {
      this.sendLevel.value = level;
      this.announceMedia();
    }
    void this.applySendLevel();
  }

  private async sample(): Promise<void> {
    if (this.state.value !== 'in' && this.state.value !== 'reconnecting') return;
    const q: Record<string, Quality> = {};
    let loudest: { id: string; level: number } | undefined;
    for (const [id, pc] of this.conns.receivers()) {
      const now = await inbound(pc);
      const member = this.members.value.find((x) => x.id === id);
      q[id] = receiveQuality(this.samples.get(id), now, !!member && member.media.video && !member.media.audioOnly);
      this.samples.set(id, now);
      if (now.audioLevel > 0.05 && (!loudest || now.audioLevel > loudest.level)) loudest = { id, level: now.audioLevel };
    }
    this.quality.value = q;
    if (loudest) this.speaker.value = loudest.id;
    this.conns.chooseLayers(q);
    const warm = this.mediaSince !== undefined && performance.now() - this.mediaSince > WARM_UP_MS;
    const received = [...this.samples.values()].reduce((n, x) => n + x.audioPackets + x.videoPackets, 0);
    const stalled = this.samples.size > 0 && received === this.receivedBefore;
    this.receivedBefore = received;
    const uplink = await uplinkStats(this.conns.sending());
    this.uplink.value = { ...uplink, stalled };
    const before = this.sendLevel.value;
    const level = this.adaptation.update({ at: performance.now(), ...uplink, stalled, cap: this.sendCap, warm });
    this.probing.value = this.adaptation.trialFrom === 'audio';
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
      level: this.sendLevel.value,
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
    this.adaptation.reset();
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
    this.conns.close();
    this.screenTrack?.stop();
    for (const t of this.local.getTracks()) t.stop();
  }

  /** Numbers for the support page and the tests: what each connection receives. */
  async stats(): Promise<Record<string, InboundSample>> {
    const out: Record<string, InboundSample> = {};
    for (const [id, pc] of this.conns.receivers()) out[id] = await inbound(pc);
    return out;
  }

  /** What our video senders encode now, per simulcast layer (rid; none without simulcast): frame width and whether it is on. */
  async sent(): Promise<{ rid?: string; frameWidth: number; active: boolean }[]> {
    const out: { rid?: string; frameWidth: number; active: boolean }[] = [];
    for (const pc of this.conns.sending()) {
      (await pc.getStats()).forEach((r: any) => {
        if (r.type === 'outbound-rtp' && r.kind === 'video') out.push({ rid: r.rid, frameWidth: r.frameWidth ?? 0, active: r.active !== false });
      });
    }
    return out;
  }

  /**
   * What our audio senders send: the negotiated send codec ('audio/red' is Opus with redundancy;
   * getStats names only the Opus inside) and the average bytes per packet so far.
   */
  async audioSent(): Promise<{ codec?: string; bytesPerPacket: number }[]> {
    const out: { codec?: string; bytesPerPacket: number }[] = [];
    for (const pc of this.conns.sending()) {
      const sender = pc.getTransceivers().find((t) => t.sender.track?.kind === 'audio' || t.receiver.track.kind === 'audio')?.sender;
      let bytes = 0;
      let packets = 0;
      (await pc.getStats()).forEach((r: any) => {
        if (r.type === 'outbound-rtp' && r.kind === 'audio') [bytes, packets] = [bytes + (r.bytesSent ?? 0), packets + (r.packetsSent ?? 0)];
      });
      out.push({ codec: sender?.getParameters().codecs?.[0]?.mimeType, bytesPerPacket: packets ? bytes / packets : 0 });
    }
    return out;
  }

  /** Every connection's ICE and signalling state with what it received. */
  report(): Promise<LinkReport[]> {
    return this.conns.report();
  }
}

const rank = (q: Quality) => ({ poor: 0, fair: 1, unknown: 2, good: 3 })[q];
