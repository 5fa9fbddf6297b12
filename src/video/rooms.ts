/**
 * Video rooms exist only for something on the record: a case-conference meeting (an Appointment
 * with a chair), a visit appointment, or an ad-hoc call a clinician starts with named colleagues.
 * Who may enter is decided here from the record (invited practitioners, staff of invited sites,
 * the appointment's participants, a citizen managing a family member on it), or by a one-time
 * invitation link that lets a citizen into that one appointment's room until it expires. The
 * record is read through the person's repository (patient reach, audit); the rooms, links and
 * attendance are the video domain's own tables (its repository's `sql`). Mesh (peer-to-peer) for
 * up to MESH_LIMIT people; larger rooms go through the SFU (Janus), spread over the instances.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Appointment, AppointmentParticipant, Location, Reference } from '@medplum/fhirtypes';
import type { DomainSql } from '../db/domain-sql.ts';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import { managesAny } from '../family/links.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { badRequest, notFound } from '../fhir/outcome.ts';
import type { AttendanceReport, OpenRoomBody } from './contract.ts';
import type { JanusInstance } from './janus.ts';
import type { IceServer } from './protocol.ts';
import { assertScopes, entrantOf, type Entrant } from './who.ts';

export type { Entrant } from './who.ts';

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

/** The chair of a case-conference meeting (primary performer). */
export const isChair = (p: AppointmentParticipant) => !!p.type?.some((t) => t.coding?.some((c) => c.code === 'PPRF'));

/** An Appointment with a chair is a meeting, hosted by its chair; one without is a visit, hosted by its clinicians. */
export function roomKindOf(a: Appointment): 'session' | 'appointment' {
  return a.participant.some(isChair) ? 'session' : 'appointment';
}

/** The patients on an appointment (none for a meeting that names only cases). */
export function patientsOf(a: Appointment | undefined): string[] {
  return (a?.participant ?? []).map((p) => ref(p.actor, 'Patient')).filter((x): x is string => !!x);
}

/** The Appointment id of a room tied to the record. */
export const appointmentIdOf = (room: Room) => (room.ref?.startsWith('Appointment/') ? room.ref.slice(12) : undefined);

export class RoomService {
  private next = 0;
  /** Whether an instance answers (janus-watch.ts); new rooms go to those that do. */
  janusUp: (url: string) => boolean = () => true;

  constructor(
    private readonly store: FhirStore,
    readonly janus: JanusInstance[],
    private readonly ice: IceConfig,
    private readonly sfuUnavailableReason: string,
    private readonly secretKey: string,
    /** Where Janus writes recordings (one folder per room); recording is off without it. */
    readonly recordingsDir?: string,
  ) {}

  /** The room (the video domain's own table: any video repository, no access to the record). */
  async get(repo: Repository, id: string): Promise<Room> {
    const r = /^[A-Za-z0-9-]{1,64}$/.test(id) ? (await repo.sql.query<Room>('SELECT * FROM video_room WHERE id = $1', [id])).rows[0] : undefined;
    if (!r) throw notFound(`Không có phòng họp trực tuyến ${id} (no such room)`);
    return r;
  }

  /**
   * Finds or makes the room of a meeting or an appointment; makes an ad-hoc room. Clinicians open
   * rooms (as hosts); a citizen may open the room of a visit they are on (to wait in its lobby).
   */
  async open(ctx: AccessContext, input: OpenRoomBody): Promise<Room> {
    const actor = ctx.actor;
    const clinician = !!actor.practitionerId;
    if (!clinician && !(input.kind === 'appointment' && actor.role === 'citizen'))
      throw new AccessDenied('Chỉ nhân viên y tế mở phòng họp (only clinicians open rooms)');
    assertScopes(actor, input.kind === 'adhoc' ? [['read', 'Practitioner']] : [['read', 'Appointment']]);
    const entrant = entrantOf(actor);
    const repo = this.store.as(ctx, clinician ? 'video.host' : 'video.join');
    const id = randomUUID();
    const made = await repo.transaction(async (tx) => {
      let title = input.title ?? 'Cuộc gọi';
      let expected = (input.invitePractitionerIds?.length ?? 0) + 1;
      let refText: string | null = null;
      let appointment: Appointment | undefined;
      if (input.kind !== 'adhoc') {
        if (!input.appointmentId) throw badRequest('appointmentId is required for session and appointment rooms');
        const a = await tx.tryRead<Appointment>('Appointment', input.appointmentId);
        if (!a) throw notFound(`Không có lịch hẹn ${input.appointmentId}`);
        // The kind follows the record: who hosts depends on it (a meeting's chair, a visit's clinicians).
        const kind = roomKindOf(a);
        if (kind !== input.kind) {
          throw badRequest(
            kind === 'session'
              ? 'Lịch hẹn này là phiên hội chẩn có chủ trì: mở phòng loại "session" (this appointment has a chair: it is a case-conference meeting)'
              : 'Lịch hẹn này không có chủ trì nên không phải phiên hội chẩn: mở phòng loại "appointment" (this appointment has no chair: it is not a meeting)',
          );
        }
        appointment = a;
        refText = `Appointment/${a.id}`;
        const existing = (await tx.sql.query<Room>('SELECT * FROM video_room WHERE ref = $1 AND ended_at IS NULL ORDER BY created_at LIMIT 1', [refText]))
          .rows[0];
        // Only someone who may enter may find or make the room.
        await this.assertInvited(tx, existing ?? draft(input.kind, refText, a.description ?? title, entrant), entrant);
        if (existing) {
          await tx.record({
            action: 'video.open',
            resourceType: 'Appointment',
            resourceId: a.id,
            patientIds: patientsOf(a),
            detail: { room: existing.id, existing: true },
          });
          return existing;
        }
        title = a.description ?? title;
        expected = a.participant.filter((p) => p.status !== 'declined' && !p.actor?.reference?.startsWith('HealthcareService/')).length;
      } else {
        for (const p of input.invitePractitionerIds ?? []) if (!(await tx.tryRead('Practitioner', p))) throw badRequest(`Không có người được mời ${p}`);
      }
      const mode: Room['mode'] = input.large || expected > MESH_LIMIT ? 'sfu' : 'mesh';
      if (mode === 'sfu' && this.janus.length === 0) throw badRequest(this.sfuUnavailableReason);
      // Spread rooms over the instances, the way a province outgrows one media server.
      const up = this.janus.filter((j) => this.janusUp(j.url));
      const pool = up.length ? up : this.janus;
      const instance = mode === 'sfu' ? pool[this.next++ % pool.length] : undefined;
      const janusRoom = instance ? 100_000 + Math.floor(Math.random() * 900_000_000) : null;
      const room = (
        await tx.sql.query<Room>(
          'INSERT INTO video_room (id, kind, ref, title, mode, created_by, invited, janus_url, janus_room) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *',
          [
            id,
            input.kind,
            refText,
            title.slice(0, 300),
            mode,
            actor.accountId ?? 'system',
            input.kind === 'adhoc' ? (input.invitePractitionerIds ?? []) : [],
            instance?.url ?? null,
            janusRoom,
          ],
        )
      ).rows[0];
      await tx.record({
        action: 'video.open',
        ...(appointment ? { resourceType: 'Appointment', resourceId: appointment.id, patientIds: patientsOf(appointment) } : {}),
        detail: { room: room.id, kind: room.kind, mode },
      });
      return room;
    });
    if (made.id !== id || made.mode !== 'sfu') return made;
    try {
      await this.instanceFor(made).createRoom(made.janus_room!, 100, this.roomSecret(id), this.recordingsDir ? `${this.recordingsDir}/${id}` : undefined);
    } catch (err) {
      // No media room, no call: the room row is closed so nobody is sent into it.
      await repo.sql.query('UPDATE video_room SET ended_at = now() WHERE id = $1', [id]);
      throw err;
    }
    return made;
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

  /** Ends the room on the record (in the caller's unit of work); everyone's stay ends with it. */
  async end(sql: DomainSql, roomId: string): Promise<void> {
    await sql.query('UPDATE video_room SET ended_at = now() WHERE id = $1 AND ended_at IS NULL', [roomId]);
    await sql.query('UPDATE video_attendance SET left_at = now() WHERE room_id = $1 AND left_at IS NULL', [roomId]);
    await sql.query('UPDATE video_member SET left_at = now() WHERE room_id = $1 AND left_at IS NULL', [roomId]);
  }

  /** Frees the room's media server room (after it ended). */
  async releaseMedia(room: Room): Promise<void> {
    if (room.mode === 'sfu' && room.janus_room)
      await this.instanceFor(room)
        .destroyRoom(room.janus_room, this.roomSecret(room.id))
        .catch(() => undefined);
  }

  /**
   * Throws 403 unless this person is one the room is for (whether or not the call has ended);
   * returns the room's appointment, read through the person's repository.
   */
  async assertInvited(repo: Repository, room: Room, e: Entrant): Promise<Appointment | undefined> {
    if (room.kind === 'adhoc') {
      if ((e.accountId && e.accountId === room.created_by) || (e.practitionerId && room.invited.includes(e.practitionerId))) return undefined;
      throw new AccessDenied('Bạn không được mời vào cuộc gọi này (you are not invited to this call)');
    }
    let a: Appointment | undefined;
    try {
      a = await repo.tryRead<Appointment>('Appointment', appointmentIdOf(room)!);
    } catch (err) {
      // The record's own rule (care relationship, consent): nobody invited is kept out by it but
      // for a patient's explicit refusal, which the message then names.
      if (err instanceof AccessDenied)
        throw new AccessDenied(
          `Bạn không được mời vào phòng họp này, hoặc không được xem hồ sơ của người bệnh (you are not invited to this room, or may not see the patient’s record): ${err.message}`,
          err.status,
          err.breakGlassPossible,
          err.patientId,
        );
      throw err;
    }
    if (!a) throw notFound('Lịch hẹn của phòng họp không còn (the room’s appointment is gone)');
    if (await this.invitedTo(repo, a, e)) return a;
    throw new AccessDenied('Bạn không được mời vào phòng họp này (you are not invited to this room)', 403, false, patientsOf(a)[0]);
  }

  private async invitedTo(repo: Repository, a: Appointment, e: Entrant): Promise<boolean> {
    // A participant who declined (e.g. withdrew from a training course) is no longer invited.
    const actors = a.participant.filter((p) => p.status !== 'declined').map((p) => p.actor?.reference ?? '');
    if (e.practitionerId && actors.includes(`Practitioner/${e.practitionerId}`)) return true;
    if (e.patientId && actors.includes(`Patient/${e.patientId}`)) return true;
    // A citizen managing a family member's record (a child, an elderly parent) goes with them —
    // signed in themselves, like the record's own rule (an app's token acts for its one patient).
    if (e.patientId && e.familyManager && (await managesAny(repo.sql, e.patientId, patientsOf(a)))) return true;
    if (e.organizationId && e.staff) {
      for (const p of a.participant.filter((x) => x.status !== 'declined')) {
        const loc = ref(p.actor, 'Location');
        if (!loc) continue;
        const l = await repo.tryRead<Location>('Location', loc);
        if (l?.managingOrganization?.reference === `Organization/${e.organizationId}`) return true; // staff of an invited site (điểm cầu)
      }
    }
    return false;
  }

  /** A link a citizen can open without an account, for this appointment's room only, until it expires. */
  async invite(
    ctx: AccessContext,
    roomId: string,
    input: { patientId: string; label: string; validMinutes: number },
  ): Promise<{ token: string; expiresAt: Date }> {
    assertScopes(ctx.actor, [['read', 'Appointment']]);
    return this.store.as(ctx, 'video.host').transaction(async (tx) => {
      const room = await this.get(tx, roomId);
      if (room.kind !== 'appointment') throw badRequest('Chỉ mời người dân vào phòng khám từ xa (invitations are for visit rooms)');
      if (room.ended_at) throw new AccessDenied('Cuộc gọi đã kết thúc (the call has ended)');
      const a = (await this.assertInvited(tx, room, entrantOf(ctx.actor)))!;
      if (!patientsOf(a).includes(input.patientId)) throw badRequest('Người bệnh này không có trong lịch hẹn (patient is not on the appointment)');
      const token = randomBytes(24).toString('base64url');
      const expiresAt = new Date(Date.now() + input.validMinutes * 60_000);
      await tx.sql.query('INSERT INTO video_invite (token_hash, room_id, patient_id, label, expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)', [
        sha(token),
        roomId,
        input.patientId,
        input.label.slice(0, 100),
        expiresAt,
        ctx.actor.accountId ?? 'system',
      ]);
      await tx.record({
        action: 'video.invite',
        resourceType: 'Appointment',
        resourceId: a.id,
        patientIds: [input.patientId],
        detail: { room: room.id, expiresAt: expiresAt.toISOString() },
      });
      return { token, expiresAt };
    });
  }

  /** The person an invitation link stands for, in this room only and until it expires (401 otherwise). */
  async entrantFromInvite(sql: DomainSql, roomId: string, token: string): Promise<Entrant> {
    const r = (
      await sql.query<{ room_id: string; patient_id: string | null; label: string; expires_at: Date }>(
        'SELECT room_id, patient_id, label, expires_at FROM video_invite WHERE token_hash = $1',
        [sha(token)],
      )
    ).rows[0];
    if (!r || r.room_id !== roomId) throw new AccessDenied('Đường dẫn mời không hợp lệ cho phòng này (invalid invitation link)', 401);
    if (new Date(r.expires_at) < new Date()) throw new AccessDenied('Đường dẫn mời đã hết hạn (the invitation link has expired)', 401);
    return { patientId: r.patient_id ?? undefined, name: r.label, role: 'citizen', staff: false, familyManager: false };
  }

  /** A stay in the room begins (in the caller's unit of work); returns the row that ends it. */
  async joined(sql: DomainSql, roomId: string, e: Entrant): Promise<number> {
    return (
      await sql.query<{ id: number }>(
        'INSERT INTO video_attendance (room_id, account_id, display_name, role, organization_id) VALUES ($1, $2, $3, $4, $5) RETURNING id',
        [roomId, e.accountId ?? null, e.name, e.role, e.organizationId ?? null],
      )
    ).rows[0].id;
  }

  async left(sql: DomainSql, rowId: number | undefined): Promise<void> {
    if (rowId) await sql.query('UPDATE video_attendance SET left_at = now() WHERE id = $1 AND left_at IS NULL', [rowId]);
  }

  /** Who was there, when, from which site: per entry, per person and per site (training hours). */
  async attendanceReport(sql: DomainSql, roomId: string): Promise<AttendanceReport> {
    const rows = (
      await sql.query<{
        account_id: string | null;
        display_name: string;
        role: string | null;
        organization_id: string | null;
        joined_at: Date;
        left_at: Date | null;
      }>('SELECT account_id, display_name, role, organization_id, joined_at, left_at FROM video_attendance WHERE room_id = $1 ORDER BY joined_at, id', [roomId])
    ).rows;
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
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    return {
      entries: rows.map((r) => ({
        name: r.display_name,
        role: r.role,
        organizationId: r.organization_id,
        joinedAt: iso(r.joined_at)!,
        leftAt: iso(r.left_at),
      })),
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
  iceServers(userId: string): IceServer[] {
    const out: IceServer[] = this.ice.stunUrls.length ? [{ urls: this.ice.stunUrls }] : [];
    if (this.hasTurn && this.ice.turnSecret) {
      const username = `${Math.floor(Date.now() / 1000) + this.ice.turnTtlSeconds}:${userId}`;
      const credential = createHmac('sha1', this.ice.turnSecret).update(username).digest('base64');
      out.push({ urls: this.ice.turnUrls, username, credential });
    }
    return out;
  }
}

/** The room a person would make, to ask whether they may enter it before it exists. */
function draft(kind: Room['kind'], refText: string, title: string, e: Entrant): Room {
  return {
    id: '',
    kind,
    ref: refText,
    title,
    mode: 'mesh',
    created_by: e.accountId ?? '',
    invited: [],
    janus_url: null,
    janus_room: null,
    created_at: new Date(),
    ended_at: null,
  };
}
