/**
 * A room while people are in it: members (lobby or in), their media state, chat, raised hands,
 * host controls, recording consent, and the relay of signalling for the mesh or the SFU.
 *
 * Every message is checked when it arrives: the sender's credential is still valid, the room has
 * not ended, the sender is still a member (not removed), the message is well-formed and allowed
 * for the sender's state and role, and any target is an admitted member of the same room.
 *
 * A dropped connection does not leave the room at once: the member keeps their place for
 * GRACE_MS and resumes with a secret resume token (ICE restart does the media side).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Appointment, Communication, Consent, Organization } from '@medplum/fhirtypes';
import type { AuditLog } from '../audit/audit.ts';
import { RECORDING_CONSENT } from '../auth/access.ts';
import type { Actor } from '../auth/actor.ts';
import type { ConsultService } from '../consult/service.ts';
import type { FhirService } from '../fhir/service.ts';
import { clientMessage, HOST_ONLY, LOBBY_ALLOWED, type ClientMessage, type MediaState, type PublicMember } from './protocol.ts';
import type { Entrant, Room, RoomService } from './rooms.ts';
import { MESH_LIMIT } from './rooms.ts';
import type { RecordingArchive } from './recordings.ts';
import { SfuPeer } from './sfu.ts';

export const GRACE_MS = 30_000;

/** The socket as the room needs it (a `ws` WebSocket in production). */
export interface Socket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

interface Member {
  id: string;
  /** Who this is across connections: the account, or the invitation link. */
  identity: string;
  resume: string;
  entrant: Entrant;
  actor?: Actor;
  site: string;
  host: boolean;
  state: 'lobby' | 'in';
  socket?: Socket;
  hand: boolean;
  media: MediaState;
  attendanceRow?: number;
  grace?: NodeJS.Timeout;
  sfu?: SfuPeer;
  /** Checks the member's credential (session or invitation) again. */
  stillValid: () => Promise<boolean>;
  queue: Promise<void>;
  /** Token bucket against message floods. */
  tokens: number;
  refilledAt: number;
}

export interface ChatLine {
  from: string;
  name: string;
  text: string;
  at: string;
}

type Recording = { state: 'off' | 'asking' | 'on'; consents: Record<string, boolean>; note?: string };

export interface LiveDeps {
  rooms: RoomService;
  fhir: FhirService;
  audit: AuditLog;
  consults: ConsultService;
  /** Makes recordings playable and lists them in the record; recording is refused without it. */
  recordings?: RecordingArchive;
  log?: { warn(obj: object, msg: string): void };
}

export class LiveRoom {
  private readonly members = new Map<string, Member>();
  /** Accounts and invitations removed by a host: they cannot come back to this room. */
  private readonly banned = new Set<string>();
  private readonly chat: ChatLine[] = [];
  private recording: Recording = { state: 'off', consents: {} };
  ended = false;
  private appointment?: Appointment;

  constructor(
    readonly room: Room,
    private readonly deps: LiveDeps,
    private readonly onEmpty: () => void,
  ) {}

  /** How many people wait in the lobby for a host (the clinician's queue shows it). */
  get waiting(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.state === 'lobby' && m.socket) n++;
    return n;
  }

  private async loadAppointment(): Promise<Appointment | undefined> {
    if (!this.room.ref) return undefined;
    this.appointment ??= (await this.deps.fhir.repo.tryRead<Appointment>('Appointment', this.room.ref.split('/')[1])) as Appointment | undefined;
    return this.appointment;
  }

  private identity(e: Entrant, inviteKey?: string): string {
    return e.accountId ? `acct:${e.accountId}` : `invite:${inviteKey ?? e.patientId ?? e.name}`;
  }

  /** A new connection: a resume of a member who dropped, or a new member (lobby or in). */
  async connect(socket: Socket, entrant: Entrant, opts: { actor?: Actor; inviteKey?: string; resume?: string; stillValid: () => Promise<boolean> }): Promise<void> {
    const identity = this.identity(entrant, opts.inviteKey);
    if (this.ended) return refuse(socket, 4410, 'Cuộc gọi đã kết thúc (the call has ended)');
    if (this.banned.has(identity)) return refuse(socket, 4403, 'Chủ trì đã mời bạn ra khỏi phòng (a host removed you from this room)');
    const resumed = opts.resume ? [...this.members.values()].find((m) => m.resume === opts.resume && m.identity === identity) : undefined;
    if (resumed) {
      clearTimeout(resumed.grace);
      resumed.grace = undefined;
      const old = resumed.socket;
      resumed.socket = socket;
      if (old && old !== socket) old.close(4409, 'resumed elsewhere');
      this.welcome(resumed, true);
      this.broadcastMembers();
      return;
    }
    // One place per person: a second tab takes over the first.
    for (const m of [...this.members.values()]) if (m.identity === identity) await this.leave(m, 'replaced');
    const admitted = [...this.members.values()].filter((m) => m.state === 'in');
    if (this.room.mode === 'mesh' && admitted.length >= MESH_LIMIT) {
      return refuse(socket, 4429, `Phòng gọi trực tiếp tối đa ${MESH_LIMIT} người (a peer-to-peer call holds at most ${MESH_LIMIT}); chủ trì cần mở phiên qua máy chủ truyền hình`);
    }
    const a = await this.loadAppointment();
    // A citizen who opened their own visit's room is not its host: only staff admit people.
    const host = (entrant.staff && entrant.accountId === this.room.created_by) || (!!entrant.practitionerId && !!a?.participant.some((p) => p.actor?.reference === `Practitioner/${entrant.practitionerId}` && (this.room.kind === 'appointment' || p.type?.some((t) => t.coding?.some((c) => c.code === 'PPRF')))));
    const m: Member = {
      id: `m-${randomBytes(12).toString('base64url')}`,
      identity,
      resume: randomBytes(24).toString('base64url'),
      entrant,
      actor: opts.actor,
      site: await this.siteOf(entrant),
      host,
      // Staff with a right to the room enter; citizens wait for a host to admit them.
      state: entrant.staff ? 'in' : 'lobby',
      socket,
      hand: false,
      media: { audio: true, video: true, screen: false, audioOnly: false, quality: 'unknown' },
      stillValid: opts.stillValid,
      queue: Promise.resolve(),
      tokens: 200,
      refilledAt: Date.now(),
    };
    this.members.set(m.id, m);
    if (m.state === 'in') await this.admitted(m);
    this.welcome(m, false);
    this.broadcastMembers();
  }

  private async siteOf(e: Entrant): Promise<string> {
    if (!e.staff) return 'Tại nhà (at home)';
    if (!e.organizationId) return '';
    const org = (await this.deps.fhir.repo.tryRead<Organization>('Organization', e.organizationId)) as Organization | undefined;
    return org?.name ?? '';
  }

  private welcome(m: Member, resumed: boolean): void {
    send(m, {
      type: 'welcome',
      resumed,
      you: { id: m.id, resume: m.resume, host: m.host, state: m.state },
      room: { id: this.room.id, title: this.room.title, mode: this.room.mode, kind: this.room.kind },
      iceServers: this.deps.rooms.iceServers(m.id),
      iceTransportPolicy: this.deps.rooms.iceTransportPolicy,
      members: this.publicMembers(m),
      chat: m.state === 'in' ? this.chat : [],
      recording: this.recording,
    });
  }

  private publicMembers(viewer: Member): PublicMember[] {
    // People in the lobby are visible to hosts only (to admit them).
    return [...this.members.values()]
      .filter((m) => m.state === 'in' || viewer.host || m === viewer)
      .map((m) => ({ id: m.id, name: m.entrant.name, role: m.entrant.role, site: m.site, host: m.host, state: m.state, connected: !!m.socket, hand: m.hand, media: m.media, feed: m.sfu?.live ? (m.sfu.feed ?? null) : null }));
  }

  private broadcastMembers(): void {
    for (const m of this.members.values()) if (m.state === 'in' || m.host || m.socket) send(m, { type: 'members', members: this.publicMembers(m) });
  }

  private broadcast(msg: unknown, except?: Member): void {
    for (const m of this.members.values()) if (m.state === 'in' && m !== except) send(m, msg);
  }

  /** A message from a member's socket: checked, then handled in order. */
  receive(memberId: string, raw: string): void {
    const m = this.members.get(memberId);
    if (!m) return;
    m.queue = m.queue.then(() => this.process(m, raw)).catch((err: Error) => send(m, { type: 'error', message: err.message }));
  }

  memberBySocket(socket: Socket): string | undefined {
    for (const m of this.members.values()) if (m.socket === socket) return m.id;
    return undefined;
  }

  private async process(m: Member, raw: string): Promise<void> {
    if (this.members.get(m.id) !== m) return; // removed meanwhile
    if (this.ended) return refuse(m.socket, 4410, 'Cuộc gọi đã kết thúc (the call has ended)');
    const now = Date.now();
    m.tokens = Math.min(200, m.tokens + ((now - m.refilledAt) / 1000) * 50);
    m.refilledAt = now;
    if (--m.tokens < 0) {
      send(m, { type: 'error', message: 'Quá nhiều tin nhắn (too many messages)' });
      return;
    }
    if (!(await m.stillValid())) {
      refuse(m.socket, 4401, 'Phiên đăng nhập đã hết hạn (your sign-in has expired)');
      await this.leave(m, 'expired');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new Error('Tin nhắn không phải JSON (the message is not JSON)');
    }
    const parsed = clientMessage.safeParse(json);
    if (!parsed.success) throw new Error(`Tin nhắn không hợp lệ (invalid message): ${parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')}`);
    const msg = parsed.data;
    if (m.state === 'lobby' && !LOBBY_ALLOWED.has(msg.type)) throw new Error('Đang chờ chủ trì cho vào phòng (waiting for the host to admit you)');
    if (HOST_ONLY.has(msg.type) && !m.host) throw new Error('Chỉ chủ trì được làm việc này (only a host can do this)');
    await this.handle(m, msg);
  }

  private target(id: string): Member {
    const t = this.members.get(id);
    if (!t) throw new Error('Không có người này trong phòng (no such member in this room)');
    return t;
  }

  private async handle(m: Member, msg: ClientMessage): Promise<void> {
    switch (msg.type) {
      case 'ping':
        return send(m, { type: 'pong' });
      case 'signal': {
        if (this.room.mode !== 'mesh') throw new Error('signal is for peer-to-peer rooms');
        const t = this.target(msg.to);
        if (t.state !== 'in') throw new Error('Người này chưa vào phòng (not admitted)');
        return send(t, { type: 'signal', from: m.id, data: msg.data });
      }
      case 'publish': {
        const sfu = await this.sfuOf(m);
        const hadFeed = sfu.feed;
        const jsep = await sfu.publish(msg.jsep);
        send(m, { type: 'pub-answer', jsep });
        if (hadFeed === undefined && sfu.live) this.broadcastMembers();
        return;
      }
      case 'subscribe': {
        const owner = this.ownerOf(msg.feed);
        try {
          const jsep = await (await this.sfuOf(m)).subscribe(msg.feed);
          return send(m, { type: 'sub-offer', feed: msg.feed, member: owner.id, jsep });
        } catch (err) {
          // The publisher may be renegotiating: the page tries again.
          return send(m, { type: 'sub-failed', feed: msg.feed, message: (err as Error).message });
        }
      }
      case 'sub-answer': {
        const owner = this.ownerOf(msg.feed);
        await (await this.sfuOf(m)).start(msg.feed, msg.jsep);
        await owner.sfu?.requestKeyframe();
        return;
      }
      case 'sub-restart': {
        const owner = this.ownerOf(msg.feed);
        const jsep = await (await this.sfuOf(m)).restartSubscription(msg.feed);
        return send(m, { type: 'sub-offer', feed: msg.feed, member: owner.id, jsep });
      }
      case 'unsubscribe':
        return m.sfu?.unsubscribe(msg.feed);
      case 'layer':
        return m.sfu?.chooseLayer(msg.feed, msg.substream as 0 | 1 | 2);
      case 'trickle':
        return m.sfu?.trickle(msg.target, msg.candidate);
      case 'chat':
        return this.saveChat(m, msg.text);
      case 'hand':
        m.hand = msg.up;
        return this.broadcastMembers();
      case 'media':
        m.media = { audio: msg.audio, video: msg.video, screen: msg.screen, audioOnly: msg.audioOnly, quality: msg.quality };
        return this.broadcastMembers();
      case 'leave':
        return this.leave(m, 'left');
      case 'admit': {
        const t = this.target(msg.id);
        if (t.state === 'in') return;
        if (this.room.mode === 'mesh' && [...this.members.values()].filter((x) => x.state === 'in').length >= MESH_LIMIT) throw new Error(`Phòng gọi trực tiếp tối đa ${MESH_LIMIT} người (the call is full)`);
        t.state = 'in';
        await this.admitted(t);
        send(t, { type: 'admitted', chat: this.chat, recording: this.recording });
        await this.recordingNeedsConsent(t);
        return this.broadcastMembers();
      }
      case 'deny': {
        const t = this.target(msg.id);
        if (t.state !== 'lobby') throw new Error('Người này đã ở trong phòng (already admitted)');
        refuse(t.socket, 4403, 'Chủ trì không cho vào phòng (the host did not admit you)');
        this.members.delete(t.id);
        return this.broadcastMembers();
      }
      case 'mute':
        // Muting is done by the person's own browser: nobody can turn a microphone on remotely.
        return send(this.target(msg.id), { type: 'muted', by: m.entrant.name });
      case 'remove': {
        const t = this.target(msg.id);
        if (t === m) throw new Error('Không thể tự mời mình ra (use leave)');
        this.banned.add(t.identity);
        refuse(t.socket, 4403, `Chủ trì ${m.entrant.name} đã mời bạn ra khỏi phòng (a host removed you)`);
        await this.leave(t, 'removed', m);
        return;
      }
      case 'end':
        return this.end(m);
      case 'record-request':
        return this.askRecording(m);
      case 'record-stop':
        return this.setRecording('off', `${m.entrant.name} đã dừng ghi hình`);
      case 'record-consent':
        return this.consentToRecording(m, msg.agree);
    }
  }

  private ownerOf(feed: number): Member {
    for (const x of this.members.values()) if (x.state === 'in' && x.sfu?.live && x.sfu.feed === feed) return x;
    throw new Error('Không có luồng hình này trong phòng (no such feed in this room)');
  }

  private async sfuOf(m: Member): Promise<SfuPeer> {
    if (this.room.mode !== 'sfu' || !this.room.janus_room) throw new Error('Phòng này gọi trực tiếp, không qua máy chủ (this room is peer-to-peer)');
    m.sfu ??= await SfuPeer.open(this.deps.rooms.instanceFor(this.room), this.room.janus_room, m.id, () => this.broadcastMembers());
    return m.sfu;
  }

  private async admitted(m: Member): Promise<void> {
    m.attendanceRow = await this.deps.rooms.attendance(this.room.id, m.entrant, 'join');
    await this.auditPresence(m, 'video.join');
    await this.siteAttendance(m, 'join');
  }

  /** Case-conference sessions also record each bridge point's presence on the session Encounter. */
  private async siteAttendance(m: Member, event: 'join' | 'leave'): Promise<void> {
    if (this.room.kind !== 'session' || !m.actor || !m.entrant.organizationId) return;
    const org = m.entrant.organizationId;
    const others = [...this.members.values()].filter((x) => x !== m && x.state === 'in' && x.entrant.organizationId === org);
    if (others.length > 0) return; // the site is already (still) present
    await this.deps.consults.attendance({ actor: m.actor }, this.room.ref!.split('/')[1], { organizationId: org, event }).catch(() => undefined); // a site not invited as a bridge point has no place on the Encounter
  }

  private async auditPresence(m: Member, action: string): Promise<void> {
    const a = await this.loadAppointment();
    const patients = (a?.participant ?? []).map((p) => p.actor?.reference).filter((r): r is string => !!r?.startsWith('Patient/')).map((r) => r.slice(8));
    await this.deps.audit.record({
      accountId: m.entrant.accountId,
      role: m.entrant.role,
      organizationId: m.entrant.organizationId,
      action,
      outcome: 'success',
      resourceType: this.room.ref ? 'Appointment' : undefined,
      resourceId: this.room.ref?.split('/')[1],
      patientIds: patients,
      detail: { room: this.room.id, member: m.id, ...(m.entrant.accountId ? {} : { invitation: m.entrant.name }) },
    });
  }

  /** The socket closed: keep the place for GRACE_MS so the page can reconnect. */
  disconnected(memberId: string, socket: Socket): void {
    const m = this.members.get(memberId);
    if (!m || m.socket !== socket) return;
    m.socket = undefined;
    if (m.state === 'lobby') {
      this.members.delete(m.id);
      this.broadcastMembers();
      this.checkEmpty();
      return;
    }
    this.broadcastMembers();
    m.grace = setTimeout(() => void this.leave(m, 'dropped'), GRACE_MS);
    m.grace.unref();
  }

  private async leave(m: Member, why: string, by?: Member): Promise<void> {
    if (this.members.get(m.id) !== m) return;
    this.members.delete(m.id);
    clearTimeout(m.grace);
    if (m.socket && why !== 'removed') m.socket.close(1000, why);
    await m.sfu?.close();
    if (m.state === 'in') {
      await this.deps.rooms.attendance(this.room.id, m.entrant, 'leave', m.attendanceRow);
      await this.auditPresence(m, why === 'removed' ? 'video.remove' : 'video.leave');
      await this.siteAttendance(m, 'leave');
      if (by) send(by, { type: 'notice', text: `Đã mời ${m.entrant.name} ra khỏi phòng` });
    }
    delete this.recording.consents[m.id];
    this.broadcast({ type: 'left', id: m.id });
    this.broadcastMembers();
    this.checkEmpty();
  }

  private checkEmpty(): void {
    if (this.members.size !== 0) return;
    // Everyone left while recording: Janus closed each person's files as they went.
    if (this.recording.state === 'on') {
      this.recording = { state: 'off', consents: {} };
      void this.archiveRecordings();
    }
    this.onEmpty();
  }

  private async end(by: Member): Promise<void> {
    this.ended = true;
    if (this.recording.state === 'on') await this.setRecording('off', 'Cuộc gọi kết thúc');
    // Ended on the record first, so nobody can come back in while the others are told.
    const everyone = [...this.members.values()];
    await this.deps.rooms.end(this.room.id);
    for (const m of everyone) {
      send(m, { type: 'ended', by: by.entrant.name });
      this.members.delete(m.id);
      clearTimeout(m.grace);
      m.socket?.close(1000, 'ended');
      await m.sfu?.close();
      if (m.state !== 'in') continue;
      await this.auditPresence(m, 'video.leave');
      await this.siteAttendance(m, 'leave'); // the last of each site closes the site's presence
    }
    this.checkEmpty();
  }

  /** Chat is part of the record: a Communication linked to the room's appointment and its cases. */
  private async saveChat(m: Member, text: string): Promise<void> {
    const a = await this.loadAppointment();
    const patient = a?.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference;
    const sender = m.entrant.practitionerId ? `Practitioner/${m.entrant.practitionerId}` : m.entrant.patientId ? `Patient/${m.entrant.patientId}` : undefined;
    const at = new Date().toISOString();
    await this.deps.fhir.repo.create({
      resourceType: 'Communication',
      status: 'completed',
      category: [{ text: 'Trò chuyện trong cuộc gọi video (video call chat)' }],
      ...(patient ? { subject: { reference: patient } } : {}),
      ...(a?.basedOn?.length ? { basedOn: a.basedOn } : {}),
      ...(this.room.ref ? { about: [{ reference: this.room.ref }] } : {}),
      sent: at,
      sender: sender ? { reference: sender, display: m.entrant.name } : { display: m.entrant.name },
      payload: [{ contentString: text }],
    } as Communication);
    const line = { from: m.id, name: m.entrant.name, text, at };
    this.chat.push(line);
    if (this.chat.length > 500) this.chat.shift();
    this.broadcast({ type: 'chat', ...line });
  }

  // ------------------------------------------------------------------ recording with consent

  private async askRecording(by: Member): Promise<void> {
    if (this.room.mode !== 'sfu' || !this.deps.rooms.recordingsDir || !this.deps.recordings) throw new Error('Chỉ ghi hình được phiên qua máy chủ truyền hình (recording needs an SFU session)');
    const missing = this.deps.recordings.missingTools();
    if (missing) throw new Error(missing);
    this.recording = { state: 'asking', consents: {}, note: `${by.entrant.name} đề nghị ghi hình` };
    this.broadcast({ type: 'recording', recording: this.recording });
  }

  private async recordingNeedsConsent(m: Member): Promise<void> {
    if (this.recording.state === 'off') return;
    // Someone new: recording pauses until they too agree.
    if (this.recording.state === 'on') await this.setRecording('asking', `Chờ ${m.entrant.name} đồng ý ghi hình`);
    else this.broadcast({ type: 'recording', recording: this.recording });
  }

  private async consentToRecording(m: Member, agree: boolean): Promise<void> {
    if (this.recording.state !== 'asking') throw new Error('Không có đề nghị ghi hình nào (no recording was asked for)');
    const a = await this.loadAppointment();
    const patient = m.entrant.patientId ?? a?.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference?.slice(8);
    const performer = m.entrant.practitionerId ? `Practitioner/${m.entrant.practitionerId}` : m.entrant.patientId ? `Patient/${m.entrant.patientId}` : undefined;
    await this.deps.fhir.repo.create({
      resourceType: 'Consent',
      status: agree ? 'active' : 'rejected',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [RECORDING_CONSENT] }],
      ...(patient ? { patient: { reference: `Patient/${patient}` } } : {}),
      dateTime: new Date().toISOString(),
      ...(performer ? { performer: [{ reference: performer, display: m.entrant.name }] } : {}),
      policyRule: { text: 'Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân' },
      provision: { type: agree ? 'permit' : 'deny', ...(this.room.ref ? { data: [{ meaning: 'related', reference: { reference: this.room.ref } }] } : {}) },
    } as Consent);
    this.recording.consents[m.id] = agree;
    if (!agree) return this.setRecording('off', `${m.entrant.name} không đồng ý ghi hình — không ghi`);
    const everyone = [...this.members.values()].filter((x) => x.state === 'in');
    if (everyone.every((x) => this.recording.consents[x.id] === true)) return this.setRecording('on', 'Mọi người đã đồng ý — đang ghi hình');
    this.broadcast({ type: 'recording', recording: this.recording });
  }

  private async setRecording(state: Recording['state'], note: string): Promise<void> {
    const wasOn = this.recording.state === 'on';
    this.recording = { state, consents: state === 'off' ? {} : this.recording.consents, note };
    if (this.room.janus_room && wasOn !== (state === 'on')) {
      // Janus names its files by feed: note who is who before it starts writing.
      if (state === 'on') await this.deps.recordings?.remember(this.room.id, this.recordedFeeds());
      await this.deps.rooms.instanceFor(this.room).setRecording(this.room.janus_room, this.deps.rooms.roomSecret(this.room.id), state === 'on');
      if (state === 'on') void this.keyframesForRecording();
      if (wasOn) void this.archiveRecordings();
    }
    this.broadcast({ type: 'recording', recording: this.recording });
  }

  /**
   * A simulcast recording starts at a keyframe of the layer Janus records (the best one arriving;
   * it falls back to a smaller one within a moment when the full one is not sent yet, and then needs
   * that layer's keyframe). Janus asks publishers for keyframes only every 10 s, which a short
   * recording may never see: ask every publisher now and a few times while the layers settle.
   */
  private async keyframesForRecording(): Promise<void> {
    for (const wait of [0, 700, 1_500, 3_000]) {
      await delay(wait);
      if (this.recording.state !== 'on') return;
      for (const m of this.members.values()) await m.sfu?.requestKeyframe();
    }
  }

  private recordedFeeds(): { feed: number; name: string; reference?: string }[] {
    const out = [];
    for (const m of this.members.values()) {
      if (m.state !== 'in' || m.sfu?.feed === undefined) continue;
      const reference = m.entrant.practitionerId ? `Practitioner/${m.entrant.practitionerId}` : m.entrant.patientId ? `Patient/${m.entrant.patientId}` : undefined;
      out.push({ feed: m.sfu.feed, name: m.entrant.name, ...(reference ? { reference } : {}) });
    }
    return out;
  }

  /**
   * In the background: the call goes on (or ends) while the files are processed. Tried three times
   * (Janus may still be closing a dump); what still fails stays on disk for the next start.
   */
  private async archiveRecordings(): Promise<void> {
    if (!this.deps.recordings) return;
    for (const [attempt, wait] of [0, 2_000, 5_000].entries()) {
      await delay(wait);
      try {
        const a = await this.loadAppointment();
        const patient = a?.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor?.reference;
        await this.deps.recordings.archive(this.room.id, { patient, related: this.room.ref ?? undefined });
        return;
      } catch (err) {
        this.deps.log?.warn({ room: this.room.id, attempt: attempt + 1, err: (err as Error).message }, 'recording could not be archived');
      }
    }
  }

  /** Fresh ICE servers (TURN credentials) for everyone connected. */
  refreshIce(): void {
    for (const m of this.members.values()) if (m.socket) send(m, { type: 'ice', iceServers: this.deps.rooms.iceServers(m.id) });
  }

  /** Closes everything (server shutdown). */
  async close(): Promise<void> {
    for (const m of [...this.members.values()]) {
      clearTimeout(m.grace);
      m.socket?.close(1001, 'server shutting down');
      await m.sfu?.close();
      if (m.state === 'in') await this.deps.rooms.attendance(this.room.id, m.entrant, 'leave', m.attendanceRow).catch(() => undefined);
    }
    this.members.clear();
  }
}

function send(m: Member | undefined, msg: unknown): void {
  try {
    m?.socket?.send(JSON.stringify(msg));
  } catch {
    // the socket is closing; the member will resume or time out
  }
}

function refuse(socket: Socket | undefined, code: number, reason: string): void {
  try {
    socket?.send(JSON.stringify({ type: 'refused', code, message: reason }));
    // Close reasons are limited to 123 bytes: the message above carries the full text.
    socket?.close(code, Buffer.from(reason).subarray(0, 120).toString('utf8').replace(/\uFFFD$/, ''));
  } catch {
    // already closed
  }
}
