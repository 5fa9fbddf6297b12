/**
 * The FHIR REST API as a plugin (the store itself is part of the core: src/platform/core.ts), and
 * the store's statistics upkeep while the server runs (where no autovacuum runs: PGlite, or
 * PostgreSQL with autovacuum off; src/fhir/statistics.ts).
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { fhirRoutes } from './routes.ts';

async function fhirPlugin(app: FastifyInstance, opts: { software: { name: string; version: string } }): Promise<void> {
  await app.register(fhirRoutes, { store: app.store, software: opts.software });
  await app.store.statistics.start((err) => app.log.warn({ err: { message: err.message } }, 'store statistics upkeep failed'));
  if (app.store.statistics.replacesAutovacuum)
    app.log.warn('autovacuum is off on this PostgreSQL server: the record store analyses its own tables as they grow');
  app.addHook('onClose', () => app.store.statistics.stop());
}

export default fp(fhirPlugin, { name: 'fhir', dependencies: ['auth'] });
