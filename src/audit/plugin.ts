/** The audit trail as a plugin: the sealer that links committed entries into the chain, and the views. */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Core } from '../platform/core.ts';
import { auditRoutes } from './routes.ts';

async function auditPlugin(app: FastifyInstance, opts: { core: Core }): Promise<void> {
  const { audit } = opts.core;
  audit.start();
  app.addHook('onClose', async () => {
    await audit.stop();
    await audit.seal().catch(() => undefined);
  });
  await app.register(auditRoutes, { db: opts.core.db, access: opts.core.store.access });
}

export default fp(auditPlugin, { name: 'audit', dependencies: ['auth'] });
