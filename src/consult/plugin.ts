/**
 * Case conferences (hội chẩn từ xa) as a plugin: the services, the triage-queue write listener,
 * what the workflow owns (its Task and ServiceRequest, signed Compositions and signatures), the
 * rule that signed documents never change, and the routes.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { EligibilityService } from './eligibility.ts';
import { consultQueueOnWrite } from './queue.ts';
import { registerConsultRules } from './rules.ts';
import { consultRoutes } from './routes.ts';
import { ConsultService } from './service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    consults: ConsultService;
    eligibility: EligibilityService;
  }
}

async function consultPlugin(app: FastifyInstance): Promise<void> {
  const eligibility = new EligibilityService(app.store);
  const consults = new ConsultService(app.store, app.bus, app.secret, app.config.CAUYTE_MAX_ATTACHMENT_BYTES);
  app.store.onWrite('consult', consultQueueOnWrite);
  registerConsultRules(app.store);
  app.decorate('consults', consults);
  app.decorate('eligibility', eligibility);
  await app.register(consultRoutes, { consults, eligibility });
}

export default fp(consultPlugin, { name: 'consult', dependencies: ['events', 'fhir', 'family'] });
