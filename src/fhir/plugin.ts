/** The FHIR REST API as a plugin (the store itself is part of the core: src/platform/core.ts). */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { fhirRoutes } from './routes.ts';

async function fhirPlugin(app: FastifyInstance, opts: { software: { name: string; version: string } }): Promise<void> {
  await app.register(fhirRoutes, { store: app.store, software: opts.software });
}

export default fp(fhirPlugin, { name: 'fhir', dependencies: ['auth'] });
