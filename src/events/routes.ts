/**
 * A person's notifications (in-app list) and live events (Server-Sent Events): status changes and
 * invitations for this person, their practitioner record or their facility. The answers have the
 * contract's types (contract.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/db.ts';
import { iso, isoOrNull } from '../http/json.ts';
import { eventIsFor } from './bus.ts';
import type { NotificationItem } from './contract.ts';

/** A notification row as the database gives it. */
type NotificationRow = Omit<NotificationItem, 'created_at' | 'read_at'> & { created_at: Date; read_at: Date | null };

export async function eventRoutes(app: FastifyInstance, opts: { db: Db }): Promise<void> {
  const { bus } = app;

  app.get('/api/notifications', { config: { access: { domain: 'account.self' } } }, async (req): Promise<NotificationItem[]> => {
    const a = req.ctx.actor;
    const r = await opts.db.query<NotificationRow>(
      `SELECT id, kind, title, link, created_at, read_at FROM notification
       WHERE account_id = $1 OR practitioner_id = $2 OR organization_id = $3 ORDER BY id DESC LIMIT 100`,
      [a.accountId ?? '', a.practitionerId ?? '', a.organizationId ?? ''],
    );
    return r.rows.map((n) => ({ ...n, created_at: iso(n.created_at), read_at: isoOrNull(n.read_at) }));
  });

  app.get('/api/events', { config: { access: 'authenticated' } }, (req, reply) => {
    const who = { accountId: req.ctx.actor.accountId, practitionerId: req.ctx.actor.practitionerId, organizationId: req.ctx.actor.organizationId };
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.write(': connected\n\n');
    const unsubscribe = bus.subscribe((e) => {
      if (eventIsFor(e, who)) reply.raw.write(`event: ${e.kind}\ndata: ${JSON.stringify(e.data)}\n\n`);
    });
    const ping = setInterval(() => reply.raw.write(': ping\n\n'), 25_000);
    req.raw.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  });
}
