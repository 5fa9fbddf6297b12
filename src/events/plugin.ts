/**
 * Live events and notifications as a plugin: the event bus (NOTIFY across nodes), the email/SMS
 * outbox worker, and the notification and SSE routes.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Core } from '../platform/core.ts';
import { OutboxWorker, type Sender } from './outbox.ts';
import { eventRoutes } from './routes.ts';

declare module 'fastify' {
  interface FastifyInstance {
    outbox: OutboxWorker;
  }
}

async function eventsPlugin(app: FastifyInstance, opts: { core: Core; senders: Record<'email' | 'sms', Sender> }): Promise<void> {
  const { bus, db } = opts.core;
  await bus.start();
  const outbox = new OutboxWorker(db, opts.senders);
  outbox.start();
  app.decorate('outbox', outbox);
  // Closed after the domains (onClose runs in reverse order of registration).
  app.addHook('onClose', async () => {
    await outbox.stop();
    await bus.stop();
  });
  await app.register(eventRoutes, { db });
}

export default fp(eventsPlugin, { name: 'events', dependencies: ['auth'] });
