/**
 * A room while people are in it: who is in (the lobby, admission, presence on the record), the
 * intake of every message, leaving, ending. The parts of a room live beside it: the media relay
 * (media.ts), chat and host controls (controls.ts), recording with consent (consent.ts).
 *
 * Every message is checked when it arrives: the sender's credential is still valid, the room has
 * not ended, the sender is still a member (not removed), the message is well-formed and allowed
 * for the sender's state and role, and any target is an admitted member of the same room.
 *
 * Presence is on the record: each stay is an attendance row and an audit entry, written in one
 * unit of work by the person (or, for an invitation link, by the platform for the link).
 *
 * A dropped connection does not leave the room at once: the member keeps their place for
 * GRACE_MS and resumes with a secret resume token (ICE restart does the media side).
 *
 * Taking a room over (takeover.ts): admitted members are kept on the record too, so when the node
 * holding a room is lost the first connection on another node rebuilds the room from the database
 * (members as dropped, with their grace period; who was removed); a member resuming there keeps
 * their id, host role and stay, and in an SFU room publishes and subscribes again.
 * A lost Janus (janus-watch.ts): the room's media moves to another and everyone renegotiates.
 */
import { randomBytes } from 'node:crypto';
import type { Appointment, Organization } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.ts';
import { RecordingConsent, isRecordingMessage } from './consent.ts';
import { RoomControls, isControlMessage } from './controls.ts';
import { MediaRelay, isMediaMessage } from './media.ts';
import { inRoom, publicMembers, refuse, send, type LiveDeps, type Member, type RoomCore, type Socket } from './members.ts';
import { clientMessage, HOST_ONLY, LOBBY_ALLOWED, type ChatLine, type RecordingState, type ServerMessage } from './protocol.ts';
import { appointmentIdOf, isChair, MESH_LIMIT, patientsOf, type Room } from './rooms.ts';
import { announceWaiting } from './waiting.ts';
import { invitationDetail, repoFor, type Entrant, type VideoAction, type Who } from './who.ts';
import { memberLeft, restoredMember, resumeHash, saveMember, savedRoom, TAKEOVER_REASON } from './takeover.ts';

export type { LiveDeps, Socket } from './members.ts';

export const GRACE_MS = 30_000;

export class LiveRoom implements RoomCore {
  readonly members = new Map<string, Member>();
  /** Accounts and invitations removed by a host: they cannot come back to this room. */
  private readonly banned = new Set<string>();
  readonly chat: ChatLine[] = [];
  recording: RecordingState = { state: 'off', consents: {} };
  ended = false;
  appointment?: Appointment;
  private readonly media: MediaRelay;
  private readonly controls: RoomControls;
  private readonly consent: RecordingConsent;
  /** The room rebuilt from the record (members of a lost node, bans), once, before the first connection. */
  private ready?: Promise<void>;

  constructor(
    readonly room: Room,
    readonly deps: LiveDeps,
    private readonly onEmpty: () => void,
  ) {
    this.media = new MediaRelay(this);
    this.controls = new RoomControls(this);
    this.consent = new RecordingConsent(this, this.media);
  }

  /** How many people wait in the lobby for a host (the clinician's queue shows it). */
  get waiting(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.state === 'lobby' && m.socket) n++;
    return n;
  }

  repo(m: Member, action: VideoAction = 'video.join'): Repository {
    return repoFor(this.deps.store, m.who, action);
  }

  private identity(who: Who, e: Entrant): string {
    return who.kind === 'invitation' ? `invite:${who.key}` : `acct:${e.accountId ?? e.patientId ?? e.name}`;
  }

  /**
   * A new connection, after the route checked that this person may enter: a resume of a member
   * who dropped, or a new member (in at once for clinicians, the lobby for citizens).
   * `appointment` is the room's appointment as the person's own repository read it.
   */
  async connect(
    socket: Socket,
    entrant: Entrant,
    opts: { who: Who; appointment?: Appointment; resume?: string; stillValid: () => Promise<boolean> },
  ): Promise<void> {
    await (this.ready ??= this.restore());
    const identity = this.identity(opts.who, entrant);
    if (this.ended) return refuse(socket, 4410, 'Cuộc gọi đã kết thúc (the call has ended)');
    if (this.banned.has(identity)) return refuse(socket, 4403, 'Chủ trì đã mời bạn ra khỏi phòng (a host removed you from this room)');
    if (opts.appointment) this.appointment = opts.appointment;
    const token = opts.resume;
    const resumed = token
      ? [...this.members.values()].find((m) => m.identity === identity && (m.resume === token || (m.restored && m.resumeHash === resumeHash(token))))
      : undefined;
    if (resumed) {
      const takenOver = !!resumed.restored;
      if (takenOver) Object.assign(resumed, { restored: false, resume: token, who: opts.who, entrant });
      clearTimeout(resumed.grace);
      resumed.grace = undefined;
      const old = resumed.socket;
      resumed.socket = socket;
      resumed.stillValid = opts.stillValid;
      if (old && old !== socket) old.close(4409, 'resumed elsewhere');
      this.welcome(resumed, true);
      // The lost node's Janus sessions went with it: publish and subscribe again through ours.
      if (takenOver && this.room.mode === 'sfu') send(resumed, { type: 'renegotiate', reason: 'takeover' });
      this.broadcastMembers();
      return;
    }
    // One place per person: a second tab takes over the first.
    for (const m of [...this.members.values()]) if (m.identity === identity) await this.leave(m, 'replaced');
    if (this.room.mode === 'mesh' && inRoom(this.members).length >= MESH_LIMIT) {
      return refuse(
        socket,
        4429,
        `Phòng gọi trực tiếp tối đa ${MESH_LIMIT} người (a peer-to-peer call holds at most ${MESH_LIMIT}); chủ trì cần mở phiên qua máy chủ truyền hình`,
      );
    }
    const m: Member = {
      id: `m-${randomBytes(12).toString('base64url')}`,
      identity,
      resume: randomBytes(24).toString('base64url'),
      entrant,
      who: opts.who,
      site: '',
      host: this.hosts(entrant),
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
    if (m.state === 'in') await this.present(m);
    this.members.set(m.id, m);
    this.welcome(m, false);
    this.broadcastMembers();
    // A citizen waiting for their remote visit: the station's clinicians on duty are told (inbox + live).
    if (m.state === 'lobby' && this.room.kind === 'appointment' && this.appointment)
      await announceWaiting(this.repo(m), this.appointment, this.deps.bus).catch((err) =>
        this.deps.log?.warn({ err, room: this.room.id }, 'could not announce a waiting patient'),
      );
  }

  /**
   * Hosts: the one who started an ad-hoc call; a meeting's chair; a visit's clinicians. A
   * citizen who opened their own visit's room, staff of an invited site, or a clinician's
   * read-only app token (`hostControls`) are not hosts.
   */
  private hosts(e: Entrant): boolean {
    if (!e.staff || e.hostControls === false) return false;
    if (this.room.kind === 'adhoc') return !!e.accountId && e.accountId === this.room.created_by;
    const mine = this.appointment?.participant.filter((p) => !!e.practitionerId && p.actor?.reference === `Practitioner/${e.practitionerId}`) ?? [];
    return this.room.kind === 'appointment' ? mine.length > 0 : mine.some(isChair);
  }

  private welcome(m: Member, resumed: boolean): void {
    send(m, {
      type: 'welcome',
      resumed,
      you: { id: m.id, resume: m.resume, host: m.host, state: m.state },
      room: { id: this.room.id, title: this.room.title, mode: this.room.mode, kind: this.room.kind },
      iceServers: this.deps.rooms.iceServers(m.id),
      iceTransportPolicy: this.deps.rooms.iceTransportPolicy,
      members: publicMembers(this.members, m),
      // Someone still in the lobby learns nothing of the call (who asked to record, who agreed).
      chat: m.state === 'in' ? this.chat : [],
      recording: m.state === 'in' ? this.recording : { state: this.recording.state, consents: {} },
    });
  }

  broadcastMembers(): void {
    for (const m of this.members.values()) if (m.socket) send(m, { type: 'members', members: publicMembers(this.members, m) });
  }

  broadcast(msg: ServerMessage, except?: Member): void {
    for (const m of this.members.values()) if (m.state === 'in' && m !== except) send(m, msg);
  }

  target(id: string): Member {
    const t = this.members.get(id);
    if (!t) throw new Error('Không có người này trong phòng (no such member in this room)');
    return t;
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
    // Removed by a host, or the call ended, while the sign-in was checked: the message is not acted on.
    if (this.members.get(m.id) !== m || this.ended) return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new Error('Tin nhắn không phải JSON (the message is not JSON)');
    }
    const parsed = clientMessage.safeParse(json);
    if (!parsed.success)
      throw new Error(
        `Tin nhắn không hợp lệ (invalid message): ${parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')}`,
      );
    const msg = parsed.data;
    if (m.state === 'lobby' && !LOBBY_ALLOWED.has(msg.type)) throw new Error('Đang chờ chủ trì cho vào phòng (waiting for the host to admit you)');
    if (HOST_ONLY.has(msg.type) && !m.host) throw new Error('Chỉ chủ trì được làm việc này (only a host can do this)');
    if (isMediaMessage(msg)) return this.media.handle(m, msg);
    if (isRecordingMessage(msg)) return this.consent.handle(m, msg);
    if (isControlMessage(msg)) return this.controls.handle(m, msg);
  }

  async admit(_by: Member, t: Member): Promise<void> {
    if (this.room.mode === 'mesh' && inRoom(this.members).length >= MESH_LIMIT)
      throw new Error(`Phòng gọi trực tiếp tối đa ${MESH_LIMIT} người (the call is full)`);
    t.state = 'in'; // at once: a second host admitting meanwhile finds them in
    try {
      await this.present(t);
    } catch (err) {
      t.state = 'lobby';
      throw err;
    }
    send(t, { type: 'admitted', chat: this.chat, recording: this.recording });
    await this.consent.admitted(t);
    this.broadcastMembers();
  }

  /** A stay begins: site, attendance row and audit entry in one unit of work (the person's, or the platform's for a link). */
  private async present(m: Member): Promise<void> {
    const org = m.entrant.staff ? m.entrant.organizationId : undefined;
    await this.repo(m).transaction(async (tx) => {
      if (org) m.site = (await tx.tryRead<Organization>('Organization', org))?.name ?? '';
      m.attendanceRow = await this.deps.rooms.joined(tx.sql, this.room.id, m.entrant);
      await saveMember(tx.sql, this.room.id, m);
      await tx.record(this.presence(m, 'video.join'));
    });
    await this.siteAttendance(m, 'join');
  }

  private presence(m: Member, action: string) {
    const appointmentId = appointmentIdOf(this.room);
    return {
      action,
      ...(appointmentId ? { resourceType: 'Appointment', resourceId: appointmentId } : {}),
      patientIds: patientsOf(this.appointment),
      detail: { room: this.room.id, member: m.id, ...invitationDetail(m.who) },
    };
  }

  /** Meetings also record each bridge point's presence on the meeting's Encounter (the case-conference domain's). */
  private async siteAttendance(m: Member, event: 'join' | 'leave'): Promise<void> {
    const meetingId = appointmentIdOf(this.room);
    const org = m.entrant.organizationId;
    if (this.room.kind !== 'session' || !meetingId || m.who.kind !== 'actor' || !org || !this.deps.consults) return;
    const others = inRoom(this.members).filter((x) => x !== m && x.entrant.organizationId === org);
    if (others.length > 0) return; // the site is already (still) present
    await this.deps.consults.attendance(m.who.ctx, meetingId, { organizationId: org, event }).catch(() => undefined); // a site not invited as a bridge point has no place on the Encounter
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

  async leave(m: Member, why: string, by?: Member): Promise<void> {
    if (this.members.get(m.id) !== m) return;
    this.members.delete(m.id);
    if (why === 'removed') this.banned.add(m.identity);
    clearTimeout(m.grace);
    if (m.socket && why !== 'removed') m.socket.close(1000, why);
    await m.sfu?.close();
    if (m.state === 'in') {
      // Removed: the host's act, on the host's record; otherwise the person's own leaving.
      const repo = by ? this.repo(by, 'video.host') : this.repo(m);
      await repo.transaction(async (tx) => {
        await this.deps.rooms.left(tx.sql, m.attendanceRow);
        await memberLeft(tx.sql, this.room.id, m.id, why === 'removed');
        const entry = this.presence(m, by ? 'video.remove' : 'video.leave');
        await tx.record(by ? { ...entry, detail: { ...entry.detail, removed: m.entrant.accountId ?? m.entrant.name } } : entry);
      });
      await this.siteAttendance(m, 'leave');
      if (by) send(by, { type: 'notice', text: `Đã mời ${m.entrant.name} ra khỏi phòng` });
    }
    this.consent.forget(m);
    this.broadcast({ type: 'left', id: m.id });
    this.broadcastMembers();
    this.checkEmpty();
  }

  private checkEmpty(): void {
    if (this.members.size !== 0) return;
    this.consent.stopWhenEmpty();
    this.onEmpty();
  }

  async end(by: Member): Promise<void> {
    this.ended = true;
    if (this.recording.state === 'on') await this.consent.set('off', 'Cuộc gọi kết thúc');
    // Ended on the record first, so nobody can come back in while the others are told.
    const everyone = [...this.members.values()];
    await this.repo(by, 'video.host').transaction(async (tx) => {
      await this.deps.rooms.end(tx.sql, this.room.id);
      await tx.record({ ...this.presence(by, 'video.end'), detail: { room: this.room.id, members: everyone.length } });
    });
    await this.deps.rooms.releaseMedia(this.room);
    for (const m of everyone) {
      send(m, { type: 'ended', by: by.entrant.name });
      this.members.delete(m.id);
      clearTimeout(m.grace);
      m.socket?.close(1000, 'ended');
      await m.sfu?.close();
      if (m.state !== 'in') continue;
      await this.repo(m).record(this.presence(m, 'video.leave'));
      await this.siteAttendance(m, 'leave'); // the last of each site closes the site's presence
    }
    this.checkEmpty();
  }

  /** Fresh ICE servers (TURN credentials) for everyone connected. */
  refreshIce(): void {
    for (const m of this.members.values()) if (m.socket) send(m, { type: 'ice', iceServers: this.deps.rooms.iceServers(m.id) });
  }

  /**
   * Closes everything (server shutdown). The stays go on: the pages reconnect (1001) through the
   * load balancer to the node that takes the room over, which ends the stays of those who do not.
   */
  async close(): Promise<void> {
    for (const m of [...this.members.values()]) {
      clearTimeout(m.grace);
      m.socket?.close(1001, 'server shutting down');
      await m.sfu?.close();
    }
    this.members.clear();
  }

  /**
   * The room as the record has it, when this node did not hold it before: members still in the
   * call (as dropped: they resume within GRACE_MS or leave, by the platform) and who was removed.
   * An SFU room's recording does not survive the lost node's Janus sessions: it is stopped.
   */
  private async restore(): Promise<void> {
    // A room opened on a Janus lost since: its media moves before anyone publishes.
    const media = this.deps.media;
    if (this.room.mode === 'sfu' && media && !media.isUp(this.room.janus_url)) {
      const moved = await media.move(this.room);
      if (moved) Object.assign(this.room, { janus_url: moved.janus_url, janus_room: moved.janus_room });
    }
    const repo = this.deps.store.system(TAKEOVER_REASON, 'video');
    const saved = await savedRoom(repo.sql, this.room.id);
    for (const identity of saved.banned) this.banned.add(identity);
    if (saved.members.length === 0) return;
    for (const s of saved.members) {
      const m = restoredMember(s);
      m.grace = setTimeout(
        () => void this.leave(m, 'dropped').catch((err: Error) => this.deps.log?.warn({ err: err.message }, 'video: leave failed')),
        GRACE_MS,
      );
      m.grace.unref();
      this.members.set(m.id, m);
    }
    const appointmentId = appointmentIdOf(this.room);
    await repo.record({
      action: 'video.takeover',
      ...(appointmentId ? { resourceType: 'Appointment', resourceId: appointmentId } : {}),
      detail: { room: this.room.id, members: saved.members.length },
    });
    if (this.room.mode === 'sfu' && this.room.janus_room)
      await this.deps.rooms
        .instanceFor(this.room)
        .setRecording(this.room.janus_room, this.deps.rooms.roomSecret(this.room.id), false)
        .catch(() => undefined);
  }

  /**
   * The room's Janus was lost and the room now has a VideoRoom room on another (`moved`, already
   * on the record): every member's Janus session is dropped and everyone is told to renegotiate.
   */
  mediaMoved(moved: Room): void {
    Object.assign(this.room, { janus_url: moved.janus_url, janus_room: moved.janus_room });
    for (const m of this.members.values()) {
      const old = m.sfu;
      m.sfu = undefined;
      void old?.close().catch(() => undefined);
    }
    this.consent.mediaMoved('Máy chủ truyền hình thay đổi: cần hỏi lại để ghi (the media server changed: ask again to record)');
    this.broadcastMembers();
    for (const m of this.members.values()) if (m.state === 'in') send(m, { type: 'renegotiate', reason: 'media-server' });
  }
}
