/**
 * Case conferences (hội chẩn từ xa) as a plugin: the services, the triage-queue write listener,
 * what the workflow owns (its Task and ServiceRequest, signed Compositions and signatures, meeting
 * Appointments and Encounters), the rule that signed documents never change, and the routes.
 * Later domains use `app.consults` (video records a meeting's attendance) and `app.eligibility`
 * (visits check the Circular 30 list).
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { EligibilityService } from './eligibility.ts';
import { consultQueueOnWrite } from './queue.ts';
import { MeetingReminders } from './reminders.ts';
import { registerConsultRules } from './rules.ts';
import { consultRoutes } from './routes.ts';
import { ConsultService } from './service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    consults: ConsultService;
    eligibility: EligibilityService;
    meetingReminders: MeetingReminders;
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
  // Inbox reminders before each meeting (src/consult/reminders.ts): started when the server is ready, stopped on close.
  const reminders = new MeetingReminders(app.store, app.bus, app.log);
  app.decorate('meetingReminders', reminders);
  app.addHook('onReady', async () => reminders.start());
  app.addHook('onClose', async () => reminders.stop());
}

// Consult uses nothing of the family domain: it needs only the core plugins.
export default fp(consultPlugin, { name: 'consult', dependencies: ['events', 'fhir'] });
