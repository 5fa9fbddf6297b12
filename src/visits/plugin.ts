/**
 * Citizens' remote examinations and personal health record as a plugin: services, slots,
 * bookings (what the workflow owns: a booking's Appointment and Slot, a visit's ChargeItem),
 * the visit note and e-prescription, charges, the health record, and the routes.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { HealthRecordService } from './record.ts';
import { registerVisitRules } from './rules.ts';
import { visitRoutes } from './routes.ts';
import { VisitService } from './service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    visits: VisitService;
    record: HealthRecordService;
  }
}

async function visitsPlugin(app: FastifyInstance): Promise<void> {
  const visits = new VisitService(app.store, app.bus, app.eligibility, app.family, app.config.baseUrl);
  const record = new HealthRecordService(app.store);
  registerVisitRules(app.store);
  app.decorate('visits', visits);
  app.decorate('record', record);
  await app.register(visitRoutes, { visits, record, consults: app.consults, rooms: app.rooms, live: app.live });
}

export default fp(visitsPlugin, { name: 'visits', dependencies: ['events', 'fhir', 'consult', 'video', 'family'] });
