/**
 * Citizens' remote examinations and personal health record as a plugin: services, slots,
 * bookings (what the workflow owns: a booking's Appointment and Slot, a visit's ChargeItem, the
 * e-prescription, the pre-visit answers — rules.ts), the visit note and e-prescription, charges,
 * the health record, and the routes.
 * Rules: builds on the family domain (who manages whose record) and the consult domain (the
 * Circular 30 eligibility list); the video domain, when the platform runs it, gives each visit
 * its room and the queue its waiting count (without it a visit has no room).
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
  const video = app.hasDecorator('rooms') ? { rooms: app.rooms, live: app.live } : undefined;
  await app.register(visitRoutes, { visits, record, video });
}

export default fp(visitsPlugin, { name: 'visits', dependencies: ['events', 'fhir', 'consult', 'family'] });
