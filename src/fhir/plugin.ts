/**
 * The FHIR REST API as a plugin (the store itself is part of the core: src/platform/core.ts), and
 * the store's statistics upkeep while the server runs (PGlite only; src/fhir/statistics.ts).
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { fhirRoutes } from './routes.ts';

async function fhirPlugin(app: FastifyInstance, opts: { software: { name: string; version: string } }): Promise<void> {
  await app.register(fhirRoutes, { store: app.store, software: opts.software });
  app.store.statistics.start((err) => app.log.warn({ err: { message: err.message } }, 'store statistics upkeep failed'));
  app.addHook('onClose', () => app.store.statistics.stop());
}

export default fp(fhirPlugin, { name: 'fhir', dependencies: ['auth'] });
