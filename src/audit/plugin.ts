/**
 * The audit trail as a plugin: the sealer that links committed entries into the chain, the daily
 * retention job (src/audit/retention.ts, CAUYTE_AUDIT_RETENTION_DAYS), and the views.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Core } from '../platform/core.ts';
import { runDaily } from '../platform/daily.ts';
import { runAuditRetention } from './retention.ts';
import { auditRoutes } from './routes.ts';
import { officerAuditRoutes } from './officer-routes.ts';

async function auditPlugin(app: FastifyInstance, opts: { core: Core }): Promise<void> {
  const { audit } = opts.core;
  audit.start();
  app.addHook('onClose', async () => {
    await audit.stop();
    await audit.seal().catch(() => undefined);
  });
  runDaily(app, 'audit-retention', async () => {
    const r = await runAuditRetention(opts.core.db, audit, opts.core.config.CAUYTE_AUDIT_RETENTION_DAYS);
    if (r.problem) throw new Error(`audit retention stopped: ${r.problem}`);
    return r;
  });
  await app.register(auditRoutes, { db: opts.core.db, access: opts.core.store.access });
  await app.register(officerAuditRoutes, { db: opts.core.db });
}

export default fp(auditPlugin, { name: 'audit', dependencies: ['auth'] });
