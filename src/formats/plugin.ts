/**
 * The national exchange formats at the platform's edge, as a plugin: insurance claims (QĐ 130
 * XML, signed, sent through a queue to the BHXH gateway). Facility secrets come from
 * CAUYTE_FACILITY_CREDENTIALS; the gateway from CAUYTE_BHXH_GATEWAY_URL (unset: claims are built
 * and signed, not sent).
 * Rules: builds on the visits domain (the visits it claims for); the queue runs on a timer and
 * stops with the app.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { ClaimService } from './claims.ts';
import { CredentialStore } from './credentials.ts';
import { BhxhGateway } from './gateway/bhxh.ts';
import { ClaimQueue } from './gateway/queue.ts';
import { formatsRoutes } from './routes.ts';

declare module 'fastify' {
  interface FastifyInstance {
    claims: ClaimService;
    claimQueue: ClaimQueue;
  }
}

async function formatsPlugin(app: FastifyInstance): Promise<void> {
  const credentials = CredentialStore.fromFile(app.config.CAUYTE_FACILITY_CREDENTIALS);
  const claims = new ClaimService(app.store, credentials);
  const gateway = app.config.CAUYTE_BHXH_GATEWAY_URL ? new BhxhGateway(app.config.CAUYTE_BHXH_GATEWAY_URL) : undefined;
  const queue = new ClaimQueue(app.store, gateway, credentials);
  app.decorate('claims', claims);
  app.decorate('claimQueue', queue);
  await app.register(formatsRoutes, { claims });
  if (gateway) {
    const timer = setInterval(() => void queue.runOnce().catch(() => undefined), app.config.CAUYTE_GATEWAY_QUEUE_SECONDS * 1000);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await queue.runOnce(new Date(0)).catch(() => undefined); // let a running pass finish
    });
  }
}

export default fp(formatsPlugin, { name: 'formats', dependencies: ['fhir', 'visits'] });
