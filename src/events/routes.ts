/**
 * A person's notifications (in-app list) and live events (Server-Sent Events): status changes and
 * invitations for this person, their practitioner record or their facility.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/db.ts';
import { eventIsFor } from './bus.ts';

export async function eventRoutes(app: FastifyInstance, opts: { db: Db }): Promise<void> {
  const { bus } = app;

  app.get('/api/notifications', { config: { access: { domain: 'account.self' } } }, async (req) => {
    const a = req.ctx.actor;
    const r = await opts.db.query(
      `SELECT id, kind, title, link, created_at, read_at FROM notification
       WHERE account_id = $1 OR practitioner_id = $2 OR organization_id = $3 ORDER BY id DESC LIMIT 100`,
      [a.accountId ?? '', a.practitionerId ?? '', a.organizationId ?? ''],
    );
    return r.rows;
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
