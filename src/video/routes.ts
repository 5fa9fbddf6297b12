/**
 * HTTP and WebSocket for video: open a room for a session, an appointment or an ad-hoc call,
 * invitation links for citizens, attendance, a bandwidth probe for the pre-call check, and the
 * signalling socket (`/api/video/rooms/:id/ws`).
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';
import send from '@fastify/send';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AccessDenied } from '../auth/access.ts';
import { parseInput as parse } from '../http/input.ts';
import type { AccountService } from '../auth/accounts.ts';
import { SESSION_COOKIE, type SessionService } from '../auth/sessions.ts';
import type { Actor } from '../auth/actor.ts';
import type { AuditLog } from '../audit/audit.ts';
import { actorFields } from '../auth/principal.ts';
import type { LiveDeps, Socket } from './live.ts';
import { LiveRoom } from './live.ts';
import type { RecordingArchive } from './recordings.ts';
import type { Entrant, Room, RoomService } from './rooms.ts';

type P<T = { id: string }> = FastifyRequest<{ Params: T; Querystring: Record<string, string | undefined> }>;

const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');
const PROBE = randomBytes(512 * 1024);

/** The live rooms of this node (a room's members must reach the same node: route by room id). */
export class LiveRooms {
  private readonly rooms = new Map<string, LiveRoom>();
  private readonly iceRefresh?: ReturnType<typeof setInterval>;

  constructor(private readonly deps: LiveDeps) {
    // TURN credentials expire: everyone in a room gets fresh ones at half their lifetime, so a
    // newcomer's connection or an ICE restart late in a long session still gets through.
    const every = deps.rooms.iceRefreshMs;
    if (every) {
      this.iceRefresh = setInterval(() => this.refreshIce(), every);
      this.iceRefresh.unref();
    }
  }

  get(room: Room): LiveRoom {
    let live = this.rooms.get(room.id);
    if (!live || live.ended) {
      live = new LiveRoom(room, this.deps, () => {
        if (this.rooms.get(room.id) === live) this.rooms.delete(room.id);
      });
      this.rooms.set(room.id, live);
    }
    return live;
  }

  /** Fresh TURN credentials to everyone in every live room of this node. */
  refreshIce(): void {
    for (const r of this.rooms.values()) r.refreshIce();
  }

  /** People waiting in the lobby of the live room for this record (e.g. Appointment/123); 0 when none is open here. */
  waitingFor(ref: string): number {
    for (const r of this.rooms.values()) if (r.room.ref === ref && !r.ended) return r.waiting;
    return 0;
  }

  async close(): Promise<void> {
    clearInterval(this.iceRefresh);
    for (const r of this.rooms.values()) await r.close();
    this.rooms.clear();
  }
}

export async function videoRoutes(app: FastifyInstance, opts: { rooms: RoomService; live: LiveRooms; sessions: SessionService; accounts: AccountService; audit: AuditLog; recordings: RecordingArchive }): Promise<void> {
  const { rooms, live, sessions, accounts, audit, recordings } = opts;
  const host = { config: { access: { domain: 'video.host' as const } } };

  /** Who is asking: a signed-in person with a right to the room, or the holder of an invitation link. */
  async function entrantFor(req: FastifyRequest, room: Room, invite: string | undefined): Promise<{ entrant: Entrant; actor?: Actor; inviteKey?: string }> {
    const actor = req.ctx.actor;
    if (actor.role && !actor.mfaPending) {
      const entrant = rooms.entrantOf(actor);
      await rooms.assertMayEnter(room, entrant);
      return { entrant, actor };
    }
    if (invite) return { entrant: await rooms.entrantFromInvite(room.id, invite), inviteKey: invite.slice(0, 12) };
    throw new AccessDenied('Cần đăng nhập hoặc đường dẫn mời (sign in or use your invitation link)', 401);
  }

  app.post('/api/video/rooms', host, async (req, reply) => {
    const body = parse(
      z.object({ kind: z.enum(['session', 'appointment', 'adhoc']), appointmentId: id.optional(), title: z.string().trim().min(1).max(300).optional(), invitePractitionerIds: z.array(id).max(200).optional(), large: z.boolean().optional() }).strict(),
      req.body,
    );
    const room = await rooms.open(req.ctx.actor, body);
    return reply.code(201).send(publicRoom(room));
  });

  app.get('/api/video/rooms/:id', { config: { access: 'public' } }, async (req: P) => {
    const room = await rooms.get(req.params.id);
    await entrantFor(req, room, req.query.invite);
    return publicRoom(room);
  });

  app.post('/api/video/rooms/:id/invitations', host, async (req: P, reply) => {
    const body = parse(z.object({ patientId: id, label: z.string().trim().min(1).max(100), validMinutes: z.number().int().min(5).max(7 * 24 * 60).default(120) }).strict(), req.body);
    const r = await rooms.invite(req.ctx.actor, req.params.id, body);
    // The link is shown once: only its hash is kept.
    return reply.code(201).header('cache-control', 'no-store').send({ url: `/call/${req.params.id}?invite=${r.token}`, token: r.token, expiresAt: r.expiresAt.toISOString() });
  });

  app.get('/api/video/rooms/:id/attendance', host, async (req: P) => {
    const room = await rooms.get(req.params.id);
    await rooms.assertMayEnter(room, rooms.entrantOf(req.ctx.actor));
    return rooms.attendanceReport(room.id);
  });

  // Recordings: for the people who may enter the room (every participant agreed to them). Each
  // look is audited like any access to the record.
  const watch = { config: { access: { domain: 'video.recordings' as const } } };
  async function recordingsRoom(req: P<{ id: string }>): Promise<{ room: Room; patients: string[] }> {
    const room = await rooms.get(req.params.id);
    await rooms.assertInvited(room, rooms.entrantOf(req.ctx.actor));
    return { room, patients: await rooms.patientsOf(room) };
  }
  app.get('/api/video/rooms/:id/recordings', watch, async (req: P) => {
    const { room, patients } = await recordingsRoom(req);
    const items = await recordings.list(room.id);
    await audit.record({ ...actorFields(req.ctx), action: 'video.recordings.list', outcome: 'success', patientIds: patients, detail: { room: room.id, count: items.length } });
    return { items, processing: await recordings.processing(room.id) };
  });
  // A player fetches one viewing in several byte ranges (start, index, each seek): one audit entry
  // per person and recording every ten minutes covers them all, without flooding the access log.
  const viewed = new Map<string, number>();
  const VIEW_WINDOW_MS = 10 * 60_000;
  const firstLookIn = (key: string): boolean => {
    const now = Date.now();
    for (const [k, at] of viewed) if (now - at > VIEW_WINDOW_MS) viewed.delete(k);
    if (viewed.has(key)) return false;
    viewed.set(key, now);
    return true;
  };
  const problem = (reply: FastifyReply, status: number, title: string) => reply.code(status).type('application/problem+json').send({ type: 'about:blank', title, status });
  app.get('/api/video/rooms/:id/recordings/:key', watch, async (req: P<{ id: string; key: string }>, reply) => {
    const { room, patients } = await recordingsRoom(req);
    const listed = (await recordings.list(room.id)).find((r) => r.key === req.params.key);
    const file = listed ? await recordings.file(room.id, listed.key) : undefined;
    if (!listed || !file) return problem(reply, 404, 'Không có bản ghi này (no such recording)');
    // Byte ranges (a player seeking asks for them), ETag and If-Range handled by @fastify/send.
    const sent = await send(req.raw, basename(file.path), { root: dirname(file.path), acceptRanges: true, cacheControl: false, index: false, dotfiles: 'deny' });
    if (sent.statusCode === 416) return problem(reply.header('content-range', `bytes */${file.size}`), 416, 'Khoảng byte không hợp lệ (range not satisfiable)');
    if (sent.statusCode === 412) return problem(reply, 412, 'Bản ghi đã thay đổi (precondition failed)');
    if (sent.type !== 'file') {
      const err = sent.type === 'error' ? sent.metadata.error : undefined;
      if (sent.statusCode === 404) return problem(reply, 404, 'Không có bản ghi này (no such recording)');
      req.log.error({ err: err?.message, status: sent.statusCode }, 'recording could not be read');
      return problem(reply, 500, 'Không đọc được bản ghi (the recording could not be read)');
    }
    if (firstLookIn(`${req.ctx.actor.accountId ?? req.ip}:${room.id}:${listed.key}`)) {
      await audit.record({ ...actorFields(req.ctx), action: 'video.recordings.read', outcome: 'success', resourceType: 'DocumentReference', resourceId: listed.documentReference.split('/')[1], patientIds: patients, detail: { room: room.id } });
    }
    return reply
      .code(sent.statusCode)
      .headers(sent.headers)
      .type(listed.contentType)
      .header('content-disposition', `inline; filename="${listed.key}.webm"`)
      .header('cache-control', 'private, no-store')
      .send(sent.stream);
  });

  // The pre-call check downloads this to estimate the link's bandwidth.
  app.get('/api/video/probe', { config: { access: 'public', rateLimit: { max: 30, timeWindow: '1 minute' } } }, async (_req, reply) =>
    reply.header('cache-control', 'no-store').type('application/octet-stream').send(PROBE),
  );

  app.get('/api/video/rooms/:id/ws', { websocket: true, config: { access: 'public' } }, async (socket, req: P) => {
    const ws = socket as unknown as Socket & { on(ev: string, fn: (...a: unknown[]) => void): void };
    let memberId: string | undefined;
    let liveRoom: LiveRoom | undefined;
    const pending: string[] = [];
    ws.on('message', (data: unknown) => {
      const text = String(data);
      if (liveRoom && memberId) liveRoom.receive(memberId, text);
      else if (pending.length < 20) pending.push(text);
    });
    ws.on('close', () => {
      if (liveRoom && memberId) liveRoom.disconnected(memberId, ws);
    });
    try {
      const room = await rooms.get(req.params.id);
      const who = await entrantFor(req, room, req.query.invite);
      const cookie = req.cookies?.[SESSION_COOKIE];
      const stillValid = async () => {
        if (room.ended_at) return false;
        if (!who.actor || who.actor.via !== 'session' || !cookie) return true; // invitation holders stay until they leave or the call ends
        const s = await sessions.get(cookie);
        if (!s) return false;
        const a = await accounts.get(s.accountId);
        return !!a && !a.disabled;
      };
      liveRoom = live.get(room);
      await liveRoom.connect(ws, who.entrant, { actor: who.actor, inviteKey: who.inviteKey, resume: req.query.resume, stillValid });
      memberId = liveRoom.memberBySocket(ws);
      for (const t of pending.splice(0)) if (memberId) liveRoom.receive(memberId, t);
    } catch (err) {
      const status = err instanceof AccessDenied ? err.status : (err as { statusCode?: number }).statusCode ?? 500;
      const message = (err as Error).message;
      req.log.info({ room: req.params.id, status }, 'video room refused');
      await audit.record({ ...actorFields(req.ctx), action: 'video.join', outcome: status === 401 || status === 403 ? 'denied' : 'failure', detail: { room: req.params.id, status, message: message.slice(0, 300) } }).catch(() => undefined);
      ws.send(JSON.stringify({ type: 'refused', code: 4000 + status, message }));
      ws.close(4000 + status, 'refused');
    }
  });
}

function publicRoom(r: Room) {
  return { id: r.id, kind: r.kind, title: r.title, mode: r.mode, ref: r.ref, createdAt: r.created_at, endedAt: r.ended_at };
}
