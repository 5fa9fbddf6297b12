/**
 * Video rooms exist only for something on the record: a case-conference session, a visit
 * appointment, or an ad-hoc call a clinician starts with named colleagues. Who may enter is
 * decided here from the record (invited practitioners, staff of invited sites, the appointment's
 * participants), or by a one-time invitation link that lets a citizen into that one appointment's
 * room until it expires. Mesh (peer-to-peer) for up to MESH_LIMIT people; larger rooms go through
 * the SFU (Janus), spread over the configured instances.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Appointment, Location, Reference } from '@medplum/fhirtypes';
import type { Db } from '../db/db.ts';
import type { Actor } from '../auth/actor.ts';
import type { FhirService } from '../fhir/service.ts';
import { badRequest, notFound } from '../fhir/outcome.ts';
import { AccessDenied } from '../auth/access.ts';
import type { JanusInstance } from './janus.ts';

export const MESH_LIMIT = 4;

export interface Room {
  id: string;
  kind: 'session' | 'appointment' | 'adhoc';
  ref: string | null;
  title: string;
  mode: 'mesh' | 'sfu';
  created_by: string;
  invited: string[];
  janus_url: string | null;
  janus_room: number | null;
  created_at: Date;
  ended_at: Date | null;
}

export interface Entrant {
  accountId?: string;
  practitionerId?: string;
  patientId?: string;
  name: string;
  role: string;
  organizationId?: string;
  /** Staff of the room's record may admit others; citizens wait in the lobby. */
  staff: boolean;
}

export interface IceConfig {
  stunUrls: string[];
  turnUrls: string[];
  turnSecret?: string;
  turnTtlSeconds: number;
  /** 'relay': browsers use TURN candidates only. */
  policy?: 'all' | 'relay';
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const ref = (r: Reference | undefined, type: string) => (r?.reference?.startsWith(`${type}/`) ? r.reference.slice(type.length + 1) : undefined);

export class RoomService {
  private next = 0;

  constructor(
    private readonly db: Db,
    private readonly fhir: FhirService,
    readonly janus: JanusInstance[],
    private readonly ice: IceConfig,
    private readonly sfuUnavailableReason: string,
    private readonly secretKey: string,
    /** Where Janus writes recordings (one folder per room); recording is off without it. */
    readonly recordingsDir?: string,
  ) {}

  async get(id: string): Promise<Room> {
    const r = /^[A-Za-z0-9-]{1,64}$/.test(id) ? (await this.db.query<Room>('SELECT * FROM video_room WHERE id = $1', [id])).rows[0] : undefined;
    if (!r) throw notFound(`Không có phòng họp trực tuyến ${id} (no such room)`);
    return r;
  }

  /** Finds or makes the room for a session or an appointment; makes an ad-hoc room. */
  async open(actor: Actor, input: { kind: Room['kind']; appointmentId?: string; title?: string; invitePractitionerIds?: string[]; large?: boolean }): Promise<Room> {
    // Clinicians open rooms; a citizen may open the room of a visit they are on (checked below).
    if (!actor.practitionerId && actor.via !== 'test' && !(input.kind === 'appointment' && actor.role === 'citizen')) throw new AccessDenied('Chỉ nhân viên y tế mở phòng họp (only clinicians open rooms)');
    let title = input.title ?? 'Cuộc gọi';
    let expected = (input.invitePractitionerIds?.length ?? 0) + 1;
    let refText: string | null = null;
    if (input.kind !== 'adhoc') {
      if (!input.appointmentId) throw badRequest('appointmentId is required for session and appointment rooms');
      const existing = (await this.db.query<Room>('SELECT * FROM video_room WHERE ref = $1 AND ended_at IS NULL', [`Appointment/${input.appointmentId}`])).rows[0];
      if (existing) {
        await this.assertMayEnter(existing, this.entrantOf(actor));
        return existing;
      }
      const a = (await this.fhir.repo.tryRead<Appointment>('Appointment', input.appointmentId)) as Appointment | undefined;
      if (!a) throw notFound(`Không có lịch hẹn ${input.appointmentId}`);
      title = a.description ?? title;
      expected = a.participant.filter((p) => !p.actor?.reference?.startsWith('HealthcareService/')).length;
      refText = `Appointment/${a.id}`;
      // Only someone who may enter may make the room.
      await this.assertMayEnter({ id: '', kind: input.kind, ref: refText, title, mode: 'mesh', created_by: actor.accountId ?? '', invited: [], janus_url: null, janus_room: null, created_at: new Date(), ended_at: null }, this.entrantOf(actor));
    } else {
      for (const p of input.invitePractitionerIds ?? []) if (!(await this.fhir.repo.tryRead('Practitioner', p))) throw badRequest(`Không có người được mời ${p}`);
    }
    const mode: Room['mode'] = input.large || expected > MESH_LIMIT ? 'sfu' : 'mesh';
    if (mode === 'sfu' && this.janus.length === 0) throw badRequest(this.sfuUnavailableReason);
    const id = randomUUID();
    let janusUrl: string | null = null;
    let janusRoom: number | null = null;
    if (mode === 'sfu') {
      // Spread rooms over the instances, the way a province outgrows one media server.
      const instance = this.janus[this.next++ % this.janus.length];
      janusRoom = 100_000 + Math.floor(Math.random() * 900_000_000);
      janusUrl = instance.url;
      await instance.createRoom(janusRoom, 100, this.roomSecret(id), this.recordingsDir ? `${this.recordingsDir}/${id}` : undefined);
    }
    const room = (await this.db.query<Room>(
      'INSERT INTO video_room (id, kind, ref, title, mode, created_by, invited, janus_url, janus_room) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *',
      [id, input.kind, refText, title.slice(0, 300), mode, actor.accountId ?? 'system', input.invitePractitionerIds ?? [], janusUrl, janusRoom],
    )).rows[0];
    if (input.kind !== 'adhoc') await this.assertMayEnter(room, this.entrantOf(actor));
    return room;
  }

  /** The Janus room's admin secret: keyed by the platform secret, so it cannot be guessed from the id. */
  roomSecret(roomId: string): string {
    return createHmac('sha256', this.secretKey).update(`janus-room:${roomId}`).digest('hex').slice(0, 32);
  }

  instanceFor(room: Room): JanusInstance {
    const i = this.janus.find((j) => j.url === room.janus_url);
    if (!i) throw new Error(`Máy chủ truyền hình ${room.janus_url} không còn trong cấu hình (the room's media server is gone from JANUS_URL)`);
    return i;
  }

  async end(roomId: string): Promise<void> {
    const room = await this.get(roomId);
    await this.db.query('UPDATE video_room SET ended_at = now() WHERE id = $1 AND ended_at IS NULL', [roomId]);
    await this.db.query('UPDATE video_attendance SET left_at = now() WHERE room_id = $1 AND left_at IS NULL', [roomId]);
    if (room.mode === 'sfu' && room.janus_room) await this.instanceFor(room).destroyRoom(room.janus_room, this.roomSecret(roomId)).catch(() => undefined);
  }

  entrantOf(actor: Actor): Entrant {
    return { accountId: actor.accountId, practitionerId: actor.practitionerId, patientId: actor.patientId, name: actor.displayName ?? actor.username ?? 'Người dùng', role: actor.role ?? 'citizen', organizationId: actor.organizationId, staff: !!actor.practitionerId || actor.via === 'test' };
  }

  /** Throws 403 unless this person may enter the room. */
  async assertMayEnter(room: Room, e: Entrant): Promise<void> {
    if (room.ended_at) throw new AccessDenied('Cuộc gọi đã kết thúc (the call has ended)');
    await this.assertInvited(room, e);
  }

  /** The patients of the room's appointment (none for an ad-hoc call). */
  async patientsOf(room: Room): Promise<string[]> {
    if (!room.ref?.startsWith('Appointment/')) return [];
    const a = (await this.fhir.repo.tryRead<Appointment>('Appointment', room.ref.slice(12))) as Appointment | undefined;
    return (a?.participant ?? []).map((p) => p.actor?.reference ?? '').filter((r) => r.startsWith('Patient/')).map((r) => r.slice(8));
  }

  /** Throws 403 unless this person is one the room is for (whether or not the call has ended). */
  async assertInvited(room: Room, e: Entrant): Promise<void> {
    if (room.kind === 'adhoc') {
      if (e.accountId === room.created_by || (e.practitionerId && room.invited.includes(e.practitionerId))) return;
      throw new AccessDenied('Bạn không được mời vào cuộc gọi này (you are not invited to this call)');
    }
    const a = (await this.fhir.repo.tryRead<Appointment>('Appointment', room.ref!.split('/')[1])) as Appointment | undefined;
    if (!a) throw notFound('Lịch hẹn của phòng họp không còn (the room’s appointment is gone)');
    const actors = a.participant.map((p) => p.actor?.reference ?? '');
    if (e.practitionerId && actors.includes(`Practitioner/${e.practitionerId}`)) return;
    if (e.patientId && actors.includes(`Patient/${e.patientId}`)) return;
    // A citizen managing a family member's record (a child, an elderly parent) goes with them.
    const patients = actors.filter((x) => x.startsWith('Patient/')).map((x) => x.slice(8));
    if (e.patientId && patients.length && e.role === 'citizen') {
      const managed = await this.db.query('SELECT 1 FROM family_link WHERE manager_patient_id = $1 AND patient_id = ANY($2::text[]) AND revoked_at IS NULL', [e.patientId, patients]);
      if (managed.rows.length) return;
    }
    if (e.organizationId && e.staff) {
      for (const p of a.participant) {
        const loc = ref(p.actor, 'Location');
        if (!loc) continue;
        const l = (await this.fhir.repo.tryRead<Location>('Location', loc)) as Location | undefined;
        if (l?.managingOrganization?.reference === `Organization/${e.organizationId}`) return; // staff of an invited site (điểm cầu)
      }
    }
    throw new AccessDenied('Bạn không được mời vào phòng họp này (you are not invited to this room)');
  }

  /** A link a citizen can open without an account, for this appointment's room only, until it expires. */
  async invite(actor: Actor, roomId: string, input: { patientId: string; label: string; validMinutes: number }): Promise<{ token: string; expiresAt: Date }> {
    const room = await this.get(roomId);
    if (room.kind !== 'appointment') throw badRequest('Chỉ mời người dân vào phòng khám từ xa (invitations are for visit rooms)');
    await this.assertMayEnter(room, this.entrantOf(actor));
    const a = (await this.fhir.repo.read<Appointment>('Appointment', room.ref!.split('/')[1])) as Appointment;
    if (!a.participant.some((p) => p.actor?.reference === `Patient/${input.patientId}`)) throw badRequest('Người bệnh này không có trong lịch hẹn (patient is not on the appointment)');
    const token = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + input.validMinutes * 60_000);
    await this.db.query('INSERT INTO video_invite (token_hash, room_id, patient_id, label, expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)', [sha(token), roomId, input.patientId, input.label.slice(0, 100), expiresAt, actor.accountId ?? 'system']);
    return { token, expiresAt };
  }

  async entrantFromInvite(roomId: string, token: string): Promise<Entrant> {
    const r = (await this.db.query<{ room_id: string; patient_id: string | null; label: string; expires_at: Date }>('SELECT room_id, patient_id, label, expires_at FROM video_invite WHERE token_hash = $1', [sha(token)])).rows[0];
    if (!r || r.room_id !== roomId) throw new AccessDenied('Đường dẫn mời không hợp lệ cho phòng này (invalid invitation link)', 401);
    if (r.expires_at < new Date()) throw new AccessDenied('Đường dẫn mời đã hết hạn (the invitation link has expired)', 401);
    return { patientId: r.patient_id ?? undefined, name: r.label, role: 'citizen', staff: false };
  }

  async attendance(roomId: string, e: Entrant, event: 'join' | 'leave', rowId?: number): Promise<number | undefined> {
    if (event === 'join') {
      return (await this.db.query<{ id: number }>('INSERT INTO video_attendance (room_id, account_id, display_name, role, organization_id) VALUES ($1, $2, $3, $4, $5) RETURNING id', [roomId, e.accountId ?? null, e.name, e.role, e.organizationId ?? null])).rows[0].id;
    }
    if (rowId) await this.db.query('UPDATE video_attendance SET left_at = now() WHERE id = $1 AND left_at IS NULL', [rowId]);
    return rowId;
  }

  /** Who was there, when, from which site: per entry, per person and per site (training hours). */
  async attendanceReport(roomId: string) {
    const rows = (await this.db.query<{ account_id: string | null; display_name: string; role: string | null; organization_id: string | null; joined_at: Date; left_at: Date | null }>(
      'SELECT account_id, display_name, role, organization_id, joined_at, left_at FROM video_attendance WHERE room_id = $1 ORDER BY joined_at, id',
      [roomId],
    )).rows;
    const now = Date.now();
    const minutes = (r: (typeof rows)[number]) => Math.max(0, ((r.left_at ? new Date(r.left_at).getTime() : now) - new Date(r.joined_at).getTime()) / 60_000);
    const people = new Map<string, { name: string; role: string | null; organizationId: string | null; minutes: number }>();
    const sites = new Map<string, number>();
    for (const r of rows) {
      const key = r.account_id ?? `guest:${r.display_name}`;
      const p = people.get(key) ?? { name: r.display_name, role: r.role, organizationId: r.organization_id, minutes: 0 };
      p.minutes += minutes(r);
      people.set(key, p);
      if (r.organization_id) sites.set(r.organization_id, (sites.get(r.organization_id) ?? 0) + minutes(r));
    }
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      entries: rows.map((r) => ({ name: r.display_name, role: r.role, organizationId: r.organization_id, joinedAt: r.joined_at, leftAt: r.left_at })),
      people: [...people.values()].map((p) => ({ ...p, minutes: round(p.minutes), hours: round(p.minutes / 60) })),
      sites: [...sites].map(([organizationId, m]) => ({ organizationId, minutes: round(m) })),
    };
  }

  private get hasTurn(): boolean {
    return this.ice.turnUrls.length > 0 && !!this.ice.turnSecret;
  }

  /** How often to hand out fresh TURN credentials (half their lifetime); undefined without TURN. */
  get iceRefreshMs(): number | undefined {
    return this.hasTurn ? (this.ice.turnTtlSeconds * 1000) / 2 : undefined;
  }

  /** 'relay' when every call must go through TURN (set with TURN configured). */
  get iceTransportPolicy(): 'all' | 'relay' {
    return this.ice.policy ?? 'all';
  }

  /** STUN/TURN for the browser; TURN credentials in the coturn REST format (time-limited). */
  iceServers(userId: string): RTCIceServerLike[] {
    const out: RTCIceServerLike[] = this.ice.stunUrls.length ? [{ urls: this.ice.stunUrls }] : [];
    if (this.hasTurn && this.ice.turnSecret) {
      const username = `${Math.floor(Date.now() / 1000) + this.ice.turnTtlSeconds}:${userId}`;
      const credential = createHmac('sha1', this.ice.turnSecret).update(username).digest('base64');
      out.push({ urls: this.ice.turnUrls, username, credential });
    }
    return out;
  }
}

export interface RTCIceServerLike {
  urls: string[];
  username?: string;
  credential?: string;
}
