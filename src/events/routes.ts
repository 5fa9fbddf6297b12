/**
 * A person's notifications (the inbox: list, unread count, mark read) and live events
 * (Server-Sent Events): status changes and invitations for this person, their practitioner
 * record or their facility. The answers have the contract's types (contract.ts).
 *
 * Rules: who sees a notification is decided here, in SQL, on every request: one addressed to the
 * account or to its practitioner; one addressed to a facility only by clinical staff of that
 * facility (roles that reach patients through care, not administrators, analysts or data-protection
 * officers), and a disease-control centre's officers its surveillance notices only; a notice whose
 * kind is a role's business whatever its reach (NOTICE_AUDIENCE: a telemedicine unit's declaration)
 * reaches the holders of that business at the facility. Read state
 * is per account (`notification_read`), so a facility-wide notice is read by each person on
 * their own. Marking read a notification one may not see is a 404, as if it did not exist.
 * The live stream follows the same rule (`facilityWide`) for events addressed to a facility.
 * The inbox and the stream are the signed-in person's (a session): an app's token, however
 * scoped, is refused (403) — they hold notices about patients its scopes do not reach. An open
 * stream checks its session again every RECHECK_MS (without touching its idle clock) and ends
 * when the session is over, the account disabled, or its role or facility changed.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { sessionActor } from '../auth/enforce.ts';
import { SESSION_COOKIE } from '../auth/sessions.ts';
import { domainAllowed, POLICY, type DomainAction } from '../auth/policy.ts';
import type { Db } from '../db/db.ts';
import { parseInput as parse } from '../http/input.ts';
import { iso, isoOrNull } from '../http/json.ts';
import { problem } from '../http/problem.ts';
import { eventIsFor } from './bus.ts';
import type { NotificationCount, NotificationItem } from './contract.ts';

/** A notification row as the database gives it. */
type NotificationRow = Omit<NotificationItem, 'created_at' | 'read_at'> & { created_at: Date; read_at: Date | null };

const listQuery = z.object({ unread: z.enum(['true', 'false']).optional() }).strict();
const idParam = z.string().regex(/^\d{1,18}$/, 'a notification number');

/** How often an open live stream checks its session again. */
const RECHECK_MS = 10_000;

/**
 * What an actor receives of what is addressed to its facility: everything (clinical staff, who
 * reach patients through care), surveillance notices only (a disease-control centre's officers:
 * its Group-A alerts), or nothing (administrators, analysts, data-protection officers, citizens).
 */
export function facilityWide(a: Actor): 'all' | 'surveillance' | 'none' {
  if (!a.role || !a.organizationId) return 'none';
  if (POLICY[a.role].clinicalReach === 'relationship') return 'all';
  return a.role === 'disease_control' ? 'surveillance' : 'none';
}

/**
 * Notices addressed to a facility that are a role's business whatever its reach to patients: their
 * kind → the domain capabilities (policy.ts) whose holders at that facility receive them.
 */
const NOTICE_AUDIENCE: Record<string, DomainAction[]> = {
  // Submitted to the provincial department (its reviewers); decided, back to the facility (who declared).
  'programme.declaration': ['programme.declare', 'programme.review'],
};

/** The kinds of facility notices an actor receives beyond those of `facilityWide`. */
function noticeKindsFor(a: Actor): string[] {
  if (!a.role || !a.organizationId) return [];
  const role = a.role;
  return Object.entries(NOTICE_AUDIENCE)
    .filter(([, domains]) => domains.some((d) => domainAllowed(role, d)))
    .map(([kind]) => kind);
}

/**
 * The visibility predicate and its parameters ($1 account, $2 practitioner, $3 facility whose notices
 * it receives, $4 its facility, $5 the audience-bound kinds it receives there, $6 every audience-bound
 * kind: those go to their audience only, not to all the facility's clinical staff).
 */
function visibleTo(a: Actor): { where: string; params: (string | string[])[] } {
  const wide = facilityWide(a);
  return {
    where: `(n.account_id = $1 OR n.practitioner_id = $2
             OR (n.organization_id = $3 AND $3 <> '' AND n.kind <> ALL($6::text[])${wide === 'surveillance' ? " AND n.kind = 'surveillance'" : ''})
             OR (n.organization_id = $4 AND $4 <> '' AND n.kind = ANY($5::text[])))`,
    params: [
      a.accountId ?? '~',
      a.practitionerId ?? '~',
      wide === 'none' ? '' : (a.organizationId ?? ''),
      a.organizationId ?? '',
      noticeKindsFor(a),
      Object.keys(NOTICE_AUDIENCE),
    ],
  };
}

export async function eventRoutes(app: FastifyInstance, opts: { db: Db }): Promise<void> {
  const { bus } = app;
  // account.self: a person's own, refused to any app token (TOKEN_DOMAIN_RULES in src/auth/policy.ts).
  const self = { config: { access: { domain: 'account.self' as const } } };

  app.get('/api/notifications', self, async (req): Promise<NotificationItem[]> => {
    const unread = parse(listQuery, req.query).unread === 'true';
    const v = visibleTo(req.ctx.actor);
    const r = await opts.db.query<NotificationRow>(
      `SELECT n.id, n.kind, n.title, n.link, n.urgent, n.created_at, r.read_at
       FROM notification n LEFT JOIN notification_read r ON r.notification_id = n.id AND r.account_id = $1
       WHERE ${v.where} ${unread ? 'AND r.read_at IS NULL' : ''} ORDER BY n.id DESC LIMIT 100`,
      v.params,
    );
    return r.rows.map((n) => ({ ...n, id: Number(n.id), created_at: iso(n.created_at), read_at: isoOrNull(n.read_at) }));
  });

  app.get('/api/notifications/count', self, async (req): Promise<NotificationCount> => {
    const v = visibleTo(req.ctx.actor);
    const r = await opts.db.query<{ unread: string; urgent: string }>(
      `SELECT count(*) AS unread, count(*) FILTER (WHERE n.urgent) AS urgent
       FROM notification n WHERE ${v.where}
       AND NOT EXISTS (SELECT 1 FROM notification_read r WHERE r.notification_id = n.id AND r.account_id = $1)`,
      v.params,
    );
    return { unread: Number(r.rows[0].unread), urgent: Number(r.rows[0].urgent) };
  });

  app.post('/api/notifications/:id/read', self, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const id = parse(idParam, req.params.id);
    const v = visibleTo(req.ctx.actor);
    const r = await opts.db.query(
      `INSERT INTO notification_read (notification_id, account_id)
       SELECT n.id, $1 FROM notification n WHERE n.id = $7 AND ${v.where}
       ON CONFLICT DO NOTHING RETURNING notification_id`,
      [...v.params, id],
    );
    if (r.rowCount === 0) {
      const already = await opts.db.query('SELECT 1 FROM notification_read WHERE notification_id = $1 AND account_id = $2', [id, v.params[0]]);
      if (!already.rowCount) return reply.code(404).type('application/problem+json').send(problem(404, 'Không có thông báo này (no such notification)'));
    }
    return { status: 'ok' as const };
  });

  app.post('/api/notifications/read-all', self, async (req) => {
    const v = visibleTo(req.ctx.actor);
    await opts.db.query(
      `INSERT INTO notification_read (notification_id, account_id)
       SELECT n.id, $1 FROM notification n WHERE ${v.where} ON CONFLICT DO NOTHING`,
      v.params,
    );
    return { status: 'ok' as const };
  });

  // 'person': the stream is a signed-in person's (a session), never an app token's.
  app.get('/api/events', { config: { access: 'person' } }, (req, reply) => {
    const a = req.ctx.actor;
    const cookie = req.cookies?.[SESSION_COOKIE] ?? '';
    const wide = facilityWide(a);
    // Events carry no notice kind: a facility's events reach only those who receive all its notices.
    const who = { accountId: a.accountId, practitionerId: a.practitionerId, organizationId: wide === 'all' ? a.organizationId : undefined };
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.write(': connected\n\n');
    let open = true;
    const unsubscribe = bus.subscribe((e) => {
      if (open && eventIsFor(e, who)) reply.raw.write(`event: ${e.kind}\ndata: ${JSON.stringify(e.data)}\n\n`);
    });
    const ping = setInterval(() => reply.raw.write(': ping\n\n'), 25_000);
    const end = () => {
      if (!open) return;
      open = false;
      clearInterval(ping);
      clearInterval(recheck);
      unsubscribe();
      reply.raw.end();
    };
    // The caller as the stream began must still be who the session says, or the stream ends.
    const recheck = setInterval(() => {
      void sessionActor(cookie, app, { peek: true }).then(
        (now) => {
          const same =
            !!now &&
            !now.mfaPending &&
            now.accountId === a.accountId &&
            now.role === a.role &&
            now.organizationId === a.organizationId &&
            now.practitionerId === a.practitionerId;
          if (!same) end();
        },
        () => undefined, // the database is away: try again at the next check
      );
    }, RECHECK_MS);
    req.raw.on('close', end);
  });
}
