/**
 * HTTP and WebSocket for video: open a room for a meeting, an appointment or an ad-hoc call,
 * invitation links for citizens, attendance, recordings, a bandwidth probe for the pre-call
 * check, and the signalling socket (`/api/video/rooms/:id/ws`). Bodies and responses follow
 * contract.ts; the socket's messages follow protocol.ts.
 *
 * Every route that names a room checks, through the asker's repository, that the room is one
 * they may enter (or, for an invitation link, the one room the link is for); the repository adds
 * patient reach and the audit entry. An app's token is held to its scopes.
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';
import send from '@fastify/send';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Appointment } from '@medplum/fhirtypes';
import { AccessDenied } from '../auth/access.ts';
import { tokenDomainRefusal } from '../auth/enforce.ts';
import { rightsKey } from '../auth/actor.ts';
import { actorFields } from '../auth/principal.ts';
import { SESSION_COOKIE } from '../auth/sessions.ts';
import { parseInput as parse } from '../http/input.ts';
import { invitationBody, openRoomBody, type InvitationLink, type PublicRoom, type RecordingList } from './contract.ts';
import type { LiveRooms } from './live-rooms.ts';
import type { Socket } from './members.ts';
import type { RecordingArchive } from './recordings.ts';
import { patientsOf, type Room, type RoomService } from './rooms.ts';
import { assertScopes, entrantOf, repoFor, signedIn, type Entrant, type Who } from './who.ts';

export { LiveRooms } from './live-rooms.ts';

type P<T = { id: string }> = FastifyRequest<{ Params: T; Querystring: Record<string, string | undefined> }>;

const PROBE = randomBytes(512 * 1024);
/** A player fetches one viewing in several byte ranges (start, index, each seek): one check and one audit entry per credential (and its rights) and recording in this window. */
const VIEW_WINDOW_MS = 10 * 60_000;

export async function videoRoutes(app: FastifyInstance, opts: { rooms: RoomService; live: LiveRooms; recordings: RecordingArchive }): Promise<void> {
  const { rooms, live, recordings } = opts;
  const host = { config: { access: { domain: 'video.host' as const } } };
  const watch = { config: { access: { domain: 'video.recordings' as const } } };

  /**
   * Who is asking to enter (a signed-in person with a right to the room, or the holder of an
   * invitation link for it), checked in one unit of work: an open room, theirs to enter.
   */
  async function enter(
    req: FastifyRequest,
    roomId: string,
    invite: string | undefined,
    socket: boolean,
  ): Promise<{ room: Room; entrant: Entrant; who: Who; appointment?: Appointment }> {
    const actor = req.ctx.actor;
    let who: Who;
    if (signedIn(actor)) who = { kind: 'actor', ctx: req.ctx };
    else if (invite) who = { kind: 'invitation', key: invite.slice(0, 12), label: '' };
    else throw new AccessDenied('Cần đăng nhập hoặc đường dẫn mời (sign in or use your invitation link)', 401);
    return repoFor(app.store, who, 'video.join').transaction(async (tx) => {
      const room = await rooms.get(tx, roomId);
      if (room.ended_at) throw new AccessDenied('Cuộc gọi đã kết thúc (the call has ended)');
      if (who.kind === 'invitation') {
        const entrant = await rooms.entrantFromInvite(tx.sql, room.id, invite!);
        return { room, entrant, who: { ...who, label: entrant.name } };
      }
      // An app's token in a call: being in one is reading its Appointment (TOKEN_DOMAIN_RULES
      // 'video.join'), for any room — the route is public, so the route rule never ran.
      if (actor.via === 'bearer') {
        const refusal = tokenDomainRefusal(actor.scopes ?? [], 'video.join', 'GET');
        if (refusal) throw new AccessDenied(refusal, 403);
      }
      // What the room shows: its appointment, and in the call its chat.
      assertScopes(actor, [...(room.ref ? [['read', 'Appointment'] as const] : []), ...(socket ? [['read', 'Communication'] as const] : [])]);
      const entrant = entrantOf(actor);
      const appointment = await rooms.assertInvited(tx, room, entrant);
      if (appointment)
        await tx.record({
          action: 'video.room',
          resourceType: 'Appointment',
          resourceId: appointment.id,
          patientIds: patientsOf(appointment),
          detail: { room: room.id },
        });
      return { room, entrant, who, appointment };
    });
  }

  app.post('/api/video/rooms', host, async (req, reply) => {
    const room = await rooms.open(req.ctx, parse(openRoomBody, req.body));
    return reply.code(201).send(publicRoom(room));
  });

  app.get('/api/video/rooms/:id', { config: { access: 'public' } }, async (req: P): Promise<PublicRoom> => {
    const { room } = await enter(req, req.params.id, req.query.invite, false);
    return publicRoom(room);
  });

  app.post('/api/video/rooms/:id/invitations', host, async (req: P, reply) => {
    const r = await rooms.invite(req.ctx, req.params.id, parse(invitationBody, req.body));
    // The link is shown once: only its hash is kept.
    const link: InvitationLink = { url: `/call/${req.params.id}?invite=${r.token}`, token: r.token, expiresAt: r.expiresAt.toISOString() };
    return reply.code(201).header('cache-control', 'no-store').send(link);
  });

  // Attendance: for the staff the room is for, during and after the call (training hours).
  app.get('/api/video/rooms/:id/attendance', host, async (req: P) =>
    app.store.as(req.ctx, 'video.host').transaction(async (tx) => {
      const room = await rooms.get(tx, req.params.id);
      if (room.ref) assertScopes(req.ctx.actor, [['read', 'Appointment']]);
      const a = await rooms.assertInvited(tx, room, entrantOf(req.ctx.actor));
      const report = await rooms.attendanceReport(tx.sql, room.id);
      await tx.record({
        action: 'video.attendance',
        ...(a ? { resourceType: 'Appointment', resourceId: a.id } : {}),
        patientIds: patientsOf(a),
        detail: { room: room.id, entries: report.entries.length },
      });
      return report;
    }),
  );

  // Recordings: for the people the room is for (every participant agreed to them), as their
  // repository may see them. Each look is audited like any access to the record.
  app.get('/api/video/rooms/:id/recordings', watch, async (req: P): Promise<RecordingList> => {
    assertScopes(req.ctx.actor, [['read', 'DocumentReference']]);
    const { room, items } = await app.store.as(req.ctx, 'video.recordings').transaction(async (tx) => {
      const room = await rooms.get(tx, req.params.id);
      const a = await rooms.assertInvited(tx, room, entrantOf(req.ctx.actor));
      const items = await recordings.list(tx, room.id);
      await tx.record({
        action: 'video.recordings.list',
        ...(a ? { resourceType: 'Appointment', resourceId: a.id } : {}),
        patientIds: patientsOf(a),
        detail: { room: room.id, count: items.length },
      });
      return { room, items };
    });
    return { items, processing: await recordings.processing(room.id) };
  });

  // One viewing: checked and audited at its first request; the player's further byte ranges in
  // the next ten minutes are served on that decision (without flooding the access log).
  const viewing = new Map<string, { at: number; path: string; size: number; contentType: string; key: string }>();
  const viewingOf = (k: string) => {
    const now = Date.now();
    for (const [x, v] of viewing) if (now - v.at > VIEW_WINDOW_MS) viewing.delete(x);
    return viewing.get(k);
  };
  const problem = (reply: FastifyReply, status: number, title: string) =>
    reply.code(status).type('application/problem+json').send({ type: 'about:blank', title, status });
  app.get('/api/video/rooms/:id/recordings/:key', watch, async (req: P<{ id: string; key: string }>, reply) => {
    assertScopes(req.ctx.actor, [['read', 'DocumentReference']]);
    // Per credential and its rights, not per account: another token of the same person (a SMART app
    // confined to another patient, fewer scopes) is checked and audited on its own.
    const viewer = JSON.stringify([rightsKey(req.ctx.actor), req.params.id, req.params.key]);
    let view = viewingOf(viewer);
    if (!view) {
      view = await app.store.as(req.ctx, 'video.recordings').transaction(async (tx) => {
        const room = await rooms.get(tx, req.params.id);
        const a = await rooms.assertInvited(tx, room, entrantOf(req.ctx.actor));
        const listed = (await recordings.list(tx, room.id)).find((r) => r.key === req.params.key);
        const file = listed ? await recordings.file(room.id, listed.key) : undefined;
        const detail = { room: room.id, key: req.params.key };
        if (!listed || !file) {
          await tx.record({
            action: 'video.recordings.list',
            ...(a ? { resourceType: 'Appointment', resourceId: a.id } : {}),
            patientIds: patientsOf(a),
            detail: { ...detail, found: false },
          });
          return undefined;
        }
        await tx.record({
          action: 'video.recordings.read',
          resourceType: 'DocumentReference',
          resourceId: listed.documentReference.split('/')[1],
          patientIds: patientsOf(a),
          detail,
        });
        return { at: Date.now(), path: file.path, size: file.size, contentType: listed.contentType, key: listed.key };
      });
      if (!view) return problem(reply, 404, 'Không có bản ghi này (no such recording)');
      viewing.set(viewer, view);
    }
    // Byte ranges (a player seeking asks for them), ETag and If-Range handled by @fastify/send.
    const sent = await send(req.raw, basename(view.path), {
      root: dirname(view.path),
      acceptRanges: true,
      cacheControl: false,
      index: false,
      dotfiles: 'deny',
    });
    if (sent.statusCode === 416) return problem(reply.header('content-range', `bytes */${view.size}`), 416, 'Khoảng byte không hợp lệ (range not satisfiable)');
    if (sent.statusCode === 412) return problem(reply, 412, 'Bản ghi đã thay đổi (precondition failed)');
    if (sent.type !== 'file') {
      const err = sent.type === 'error' ? sent.metadata.error : undefined;
      if (sent.statusCode === 404) return problem(reply, 404, 'Không có bản ghi này (no such recording)');
      req.log.error({ err: err?.message, status: sent.statusCode }, 'recording could not be read');
      return problem(reply, 500, 'Không đọc được bản ghi (the recording could not be read)');
    }
    return reply
      .code(sent.statusCode)
      .headers(sent.headers)
      .type(view.contentType)
      .header('content-disposition', `inline; filename="${view.key}.webm"`)
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
    let liveRoom: ReturnType<LiveRooms['get']> | undefined;
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
      const { room, entrant, who, appointment } = await enter(req, req.params.id, req.query.invite, true);
      liveRoom = live.get(room);
      await liveRoom.connect(ws, entrant, { who, appointment, resume: req.query.resume, stillValid: credentialCheck(app, req, who) });
      memberId = liveRoom.memberBySocket(ws);
      for (const t of pending.splice(0)) if (memberId) liveRoom.receive(memberId, t);
    } catch (err) {
      const status =
        err instanceof AccessDenied ? err.status : ((err as { statusCode?: number; status?: number }).statusCode ?? (err as { status?: number }).status ?? 500);
      const message = (err as Error).message;
      req.log.info({ room: req.params.id, status }, 'video room refused');
      // A refusal happens outside any unit of work: it goes to the audit trail on its own.
      await app.audit
        .record({
          ...actorFields(req.ctx),
          action: 'video.join',
          outcome: status === 401 || status === 403 ? 'denied' : 'failure',
          patientIds: err instanceof AccessDenied && err.patientId ? [err.patientId] : [],
          detail: { room: req.params.id, status, message: message.slice(0, 300) },
        })
        .catch(() => undefined);
      ws.send(JSON.stringify({ type: 'refused', code: 4000 + status, message }));
      ws.close(4000 + status, 'refused');
    }
  });
}

/**
 * Checks a member's credential again at each message: the session (signed out, account
 * disabled) or the app's token (expired); an invitation holder stays until they leave or the
 * call ends.
 */
function credentialCheck(app: FastifyInstance, req: FastifyRequest, who: Who): () => Promise<boolean> {
  if (who.kind !== 'actor') return async () => who.kind === 'invitation';
  const actor = who.ctx.actor;
  if (actor.via === 'bearer') {
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    return async () => !!(await app.tokens.verify(token));
  }
  const cookie = req.cookies?.[SESSION_COOKIE];
  return async () => {
    if (!cookie) return false;
    const s = await app.sessions.get(cookie);
    if (!s || s.accountId !== actor.accountId) return false;
    const a = await app.accounts.get(s.accountId);
    return !!a && !a.disabled;
  };
}

function publicRoom(r: Room): PublicRoom {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return { id: r.id, kind: r.kind, title: r.title, mode: r.mode, ref: r.ref, createdAt: iso(r.created_at)!, endedAt: iso(r.ended_at) };
}
