/**
 * Early warning of outbreaks as a plugin: the write listener that keeps the case, weekly-count
 * and signal tables in step with the record (listeners.ts), and the routes of the provincial
 * disease-control officer, the aggregates and the administrator's loads.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { surveillanceOnWrite } from './listeners.ts';
import { surveillanceRoutes } from './routes.ts';
import { SurveillanceService } from './service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    surveillance: SurveillanceService;
  }
}

async function surveillancePlugin(app: FastifyInstance): Promise<void> {
  app.store.onWrite('surveillance', surveillanceOnWrite);
  const service = new SurveillanceService(app.store);
  app.decorate('surveillance', service);
  await app.register(surveillanceRoutes, { service });
}

export default fp(surveillancePlugin, { name: 'surveillance', dependencies: ['events', 'fhir'] });
